"""The engine layer: the only module that names DuckDB or PySpark.

Session-level work (parsing, cleaning, per-user aggregation, handset counts) is written as Ibis
expressions; this module hands out a backend for them and the few engine-specific services
(reading raw files, materializing intermediate tables).
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from .errors import ConfigError

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")
# DuckDB's working memory; the per-user tables and models live beside it in Python.
DUCKDB_MEMORY_LIMIT = "3GB"


def connect(engine: str = "duckdb", *, workdir: Path | None = None,
            spark_master: str | None = None, cores: int | None = None) -> Any:
    """An Ibis backend. With a `workdir`, DuckDB keeps its tables in a file there and spills
    to it, so data larger than memory runs out of core (memory bounded by memory_limit).
    `cores`: the threads the engine may use (the runner passes the cores available to the
    process); None leaves the engine's own default."""
    if engine == "duckdb":
        config: dict[str, Any] = {
            "preserve_insertion_order": "false",  # every result is ordered explicitly
            "memory_limit": os.environ.get("TELCO_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT),
            # hand freed memory back to the system after each large task: the per-user
            # tables and models live beside the engine in the same process (at 10M users
            # RSS after the per-user step fell from 5.7 to 3.5 GB, for the same data)
            "allocator_background_threads": "true",
            "allocator_flush_threshold": "64MB",
        }
        if cores is not None:
            config["threads"] = cores
        if workdir is None:
            return ibis.duckdb.connect(**config)
        Path(workdir).mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(Path(workdir) / "spill")
        return ibis.duckdb.connect(str(Path(workdir) / "engine.duckdb"), **config)
    if engine == "spark":
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "engine 'spark' needs PySpark: pip install 'telco-analytics[spark]'"
            ) from exc
        builder = SparkSession.builder.appName("telco-analytics").master(
            spark_master or f"local[{cores or '*'}]"
        ).config("spark.sql.session.timeZone", "UTC").config(
            "spark.sql.ansi.enabled", "false"
        ).config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session)
    raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")


def engine_name(con: Any) -> str:
    return "spark" if con.name == "pyspark" else con.name


def is_local(con: Any) -> bool:
    """Whether the engine runs in this process on this machine (DuckDB), so that bringing a
    column to Python is cheap; Spark keeps its work on the cluster."""
    return engine_name(con) == "duckdb"


def read_csv_text(con: Any, paths: list[str]) -> ibis.Table:
    """Every column as text (the raw format needs our own parsing); '' and \\N are null."""
    if engine_name(con) == "duckdb":
        return con.read_csv(
            paths, all_varchar=True, header=True, nullstr=["", "\\N"],
            union_by_name=len(paths) > 1,
        )
    return con.read_csv(paths, header=True, inferSchema=False, nullValue="\\N",
                        emptyValue=None)


def read_csv_typed(con: Any, paths: list[str], numeric: list[str]) -> ibis.Table:
    """DuckDB: the `numeric` columns (by header name) parsed as DOUBLE while the file is read,
    the others as text; '' and \\N are null. A value that does not parse makes computing the
    table raise (a conversion error): the caller then falls back to read_csv_text, whose
    checks name the column and the value. Parsing while reading saves casting every column
    of an all-text copy afterwards."""
    return con.read_csv(
        paths, all_varchar=True, types=dict.fromkeys(numeric, "DOUBLE"), header=True,
        nullstr=["", "\\N"], union_by_name=len(paths) > 1,
    )


def copy_to_parquet(con: Any, expr: ibis.Table, path: Path, metadata: dict[str, str]) -> None:
    """DuckDB: write a table to one Parquet file with DuckDB's parallel writer and key-value
    `metadata` in the footer (the ingest cache; rows may come in any order).

    Snappy without dictionaries: at 1.5M sessions the cheapest to write of those tried
    (zstd, zstd level 1, snappy, lz4, uncompressed; DuckDB's and pyarrow's writers), about
    3.5 CPU-s for 0.32 GB, a sixth of the CSV's size; zstd saved a third of the size for
    1.5-2x the CPU."""
    kv = ", ".join(f"{_sql_text(k)}: {_sql_text(v)}" for k, v in metadata.items())
    con.con.execute(
        f"COPY ({con.compile(expr)}) TO {_sql_text(str(path))} (FORMAT parquet, "
        f"COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1, KV_METADATA {{{kv}}})"
    ).fetchall()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_parquet(con: Any, paths: list[str]) -> ibis.Table:
    if engine_name(con) == "duckdb":
        return con.read_parquet(paths, union_by_name=len(paths) > 1)
    # ibis' PySpark reader takes one path: union the files (same schema expected)
    tables = [con.read_parquet(p) for p in paths]
    return tables[0].union(*tables[1:]) if len(tables) > 1 else tables[0]


def from_arrow(con: Any, table: pa.Table | Any) -> ibis.Table:
    """Register an in-memory Arrow table or DataFrame (XLSX, which no engine reads natively)."""
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    name = f"arrow_{uuid.uuid4().hex[:8]}"
    if engine_name(con) == "duckdb":
        # register the Arrow table directly: ibis 12's in-memory create_table trips on a
        # DROP VIEW statement with this sqlglot version
        con.con.register(name, table)
        return con.table(name)
    return con.create_table(name, table.to_pandas())


@ibis.udf.scalar.builtin(name="try_strptime")
def _duckdb_try_strptime(value: str, fmt: str) -> dt.timestamp:  # type: ignore[empty-body]
    """DuckDB: NULL instead of an error when the text does not match the format."""


@ibis.udf.scalar.builtin(name="try_to_timestamp")
def _spark_try_to_timestamp(value: str, fmt: str) -> dt.timestamp:  # type: ignore[empty-body]
    """Spark: NULL instead of an error when the text does not match the format."""


def _java_pattern(fmt: str) -> str:
    """strftime -> Spark datetime pattern (only the directives the reader uses)."""
    for a, b in (("%Y", "yyyy"), ("%m", "M"), ("%d", "d"), ("%H", "H"), ("%M", "mm"),
                 ("%S", "ss"), ("%f", "SSSSSS"), ("T", "'T'")):
        fmt = fmt.replace(a, b)
    return fmt


def try_parse_timestamp(con: Any, text: ibis.Value, formats: tuple[str, ...]) -> ibis.Value:
    """The first format that parses the text, else NULL (never an error)."""
    if engine_name(con) == "duckdb":
        return ibis.coalesce(*(_duckdb_try_strptime(text, f) for f in formats))
    return ibis.coalesce(*(_spark_try_to_timestamp(text, _java_pattern(f)) for f in formats))


def fetch_arrow(con: Any, expr: ibis.Table, batch_rows: int = 1_000_000) -> pa.Table:
    """The result as one Arrow table, streamed from the engine in batches: DuckDB sorts and
    aggregates out of core and hands the rows over a batch at a time, so the result is held
    once (in Arrow), not also in the engine's result buffer."""
    if engine_name(con) == "duckdb":
        return _duckdb_batches(con, expr, batch_rows).read_all()
    return expr.to_pyarrow()


def _duckdb_batches(con: Any, expr: ibis.Table, batch_rows: int) -> pa.RecordBatchReader:
    """DuckDB's result as a reader of batches, in the expression's order."""
    # ibis 12's to_pyarrow_batches calls a cursor method DuckDB 2 no longer has
    return con.con.sql(con.compile(expr)).to_arrow_reader(batch_rows)


def write_parquet(con: Any, expr: ibis.Table, path: Path, batch_rows: int = 1_000_000) -> int:
    """DuckDB: stream the result, in its order, into a Parquet file a batch at a time; its rows.

    Batches from the reader rather than DuckDB's COPY: with preserve_insertion_order off,
    COPY may write an ordered query's rows out of order.
    """
    import pyarrow.parquet as pq

    reader = _duckdb_batches(con, expr, batch_rows)
    rows = 0
    # lz4: the file is read once, on the same machine, moments later (an uncompressed Arrow
    # file read through a memory map was no faster at 15M sessions and peaked 1.2 GB higher)
    with pq.ParquetWriter(path, reader.schema, compression="lz4") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def release_tables(con: Any) -> None:
    """Drop the run's intermediate tables (materialize) and free the memory they held."""
    if engine_name(con) == "spark":
        con._session.catalog.clearCache()
        return
    names = con.con.sql("SELECT table_name FROM duckdb_tables()").fetchall()
    for (name,) in names:
        con.con.execute(f'DROP TABLE IF EXISTS "{name}"').fetchall()
    # DuckDB's allocator keeps freed memory for its next queries; setting the flush threshold
    # hands it back now (1.5M sessions: RSS 1.23 -> 0.59 GB; 10M users: about 2 GB)
    con.con.execute("SET allocator_flush_threshold='0MB'").fetchall()
    con.con.execute("SELECT 1").fetchall()  # the flush happens at the end of a task


def materialize(
    con: Any, expr: ibis.Table, name: str, expected_bytes: int | None = None
) -> ibis.Table:
    """Compute an expression once and keep it as a table, so later steps do not re-parse.

    DuckDB: a temporary (in-memory) table when `expected_bytes` (uncompressed) fits in half
    the memory limit, else a compressed table in the work folder's database file. Measured:
    temporary saved a third of the CPU at 1.5M sessions, but once it spills (15M sessions) the
    steps reading it took twice as long as from the compressed table.
    """
    if engine_name(con) == "spark":
        return expr.cache()
    limit = con.con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    temp = expected_bytes is not None and expected_bytes < _bytes(limit) / 2
    # unique names instead of overwrite=True: ibis 12's DROP-on-overwrite trips on this sqlglot
    return con.create_table(f"{name}_{uuid.uuid4().hex[:8]}", expr, temp=temp)


def _bytes(size: str) -> float:
    """'3.0 GiB', '512.0 MiB', '3GB' -> bytes."""
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", size).groups()
    scale = {"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10,
             "mib": 2**20, "gib": 2**30, "tib": 2**40}[unit.lower()]
    return float(number) * scale

