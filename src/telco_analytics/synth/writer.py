"""Write synthetic extracts (CSV, CSV.gz, Parquet) chunk by chunk, atomically."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import schema
from ..errors import ConfigError
from .chunk import Chunk, generate_chunk
from .formats import (Catalogs, artifact_line, artifact_table, csv_table, decoded,
                      parquet_table)
from .memory import reused_memory

FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"}
# Parquet codec: zstd level 1 (see _parquet_writer for the encodings that make it cheap);
# "none" is the fastest but 100M rows then take ~28 GB.
PARQUET_COMPRESSION = "zstd"
_PARQUET_LEVEL = {"zstd": 1}
# Number columns with few distinct values per million rows (minutes, ms parts, percentages,
# RTTs, seconds counts): dictionary pages make them small without costly compression.
_FEW_VALUES = {"timestamp", "subsecond"}
_FEW_VALUES_GROUPS = {"tp_share", "rtt", "volume_seconds"}


def output_format(path: Path) -> str:
    """'csv', 'csv.gz' or 'parquet' from the file name, else ConfigError."""
    name = path.name.lower()
    for suffix, fmt in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    raise ConfigError(f"output {path}: unknown format; expected a name ending in "
                      f"{', '.join(FORMATS)}")


_AHEAD = 2  # chunks built in threads while the caller writes (numpy and Arrow release the GIL)


@dataclass
class _Part:
    """One chunk, ready to write: its table and what the artifact row needs from it."""

    rows: int
    table: pa.Table
    app_sums: dict[str, float]


def _parts(rows: int, seed: int, chunk_rows: int,
           layout: Callable[[Chunk, Catalogs], pa.Table]) -> Iterator[_Part]:
    """Chunks in order, as tables in `layout`; the next ones are generated and laid out in
    threads while the caller writes this one (memory: _AHEAD + 1 chunks at most)."""
    starts = list(range(0, rows, chunk_rows))
    pools = Catalogs.for_seed(seed)

    def make(i: int) -> _Part:
        first = starts[i]
        rng = np.random.default_rng([seed, i])
        chunk = generate_chunk(rng, min(chunk_rows, rows - first), first, rows, seed)
        sums = {name: float(chunk.numbers[name].sum()) for name in schema.APP_COLUMNS}
        return _Part(chunk.rows, layout(chunk, pools), sums)

    with ThreadPoolExecutor(max_workers=_AHEAD) as pool:
        pending = [pool.submit(make, i) for i in range(min(_AHEAD, len(starts)))]
        for i in range(len(starts)):
            current = pending.pop(0).result()
            if i + _AHEAD < len(starts):
                pending.append(pool.submit(make, i + _AHEAD))
            yield current


def _parquet_writer(path: Path, layout: pa.Schema, compression: str) -> pq.ParquetWriter:
    """Writer with an encoding per column, chosen for speed at a small file size.

    Dictionary encoding for the handset/location text (written from their dictionary arrays
    without hashing) and for numbers with few distinct values; byte-stream-split for the other
    numbers (it groups the bytes of the doubles, so zstd compresses them ~1.5x faster and
    smaller); statistics for numbers and times only: min/max of the text columns cost ~0.25 s
    per million rows (the dictionary ones are decoded for it) and prune nothing. store_schema=False: without the stored Arrow schema,
    readers see plain strings rather than dictionary (pandas category) columns.
    """
    kinds = {c.raw: c for c in schema.COLUMNS}
    few = [f.name for f in layout if pa.types.is_dictionary(f.type)
           or kinds[f.name].kind in _FEW_VALUES or kinds[f.name].group in _FEW_VALUES_GROUPS]
    split = {f.name: "BYTE_STREAM_SPLIT" for f in layout
             if pa.types.is_floating(f.type) and f.name not in few}
    stats = [f.name for f in layout if kinds[f.name].kind not in ("id", "category")]
    return pq.ParquetWriter(path, layout, compression=compression, use_dictionary=few,
                            column_encoding=split, write_statistics=stats,
                            compression_level=_PARQUET_LEVEL.get(compression),
                            dictionary_pagesize_limit=4 << 20, store_schema=False)


def write_extract(path: str | Path, rows: int, seed: int = 0, *, chunk_rows: int = 1_000_000,
                  progress: Callable[[int], None] | None = None,
                  parquet_compression: str = PARQUET_COMPRESSION) -> Path:
    """Write `rows` synthetic xDRs plus the artifact row to path (.csv, .csv.gz or .parquet).

    Memory stays bounded by chunk_rows; the file appears only when complete (temporary file in
    the same folder, then rename). progress(rows_done) is called after each chunk.
    parquet_compression: Parquet codec ("zstd", "snappy", "none", ...).
    """
    path = Path(path)
    problems = []
    if not isinstance(rows, int) or rows < 1:
        problems.append(f"rows must be an integer >= 1, got {rows!r}")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        problems.append(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    try:
        fmt = output_format(path)
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("cannot generate the sample: " + "; ".join(problems))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with reused_memory(enabled=rows > chunk_rows):  # several chunks: recycle their memory
            if fmt == "parquet":
                parts = _parts(rows, seed, chunk_rows, parquet_table)
                _write_parquet(tmp, _counted(parts, rows, progress), parquet_compression)
            else:
                parts = _parts(rows, seed, chunk_rows, csv_table)
                _write_csv(tmp, _counted(parts, rows, progress), gzip=fmt == "csv.gz")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _counted(parts: Iterator[_Part], rows: int,
             progress: Callable[[int], None] | None) -> Iterator[pa.Table | dict[str, float]]:
    """The parts' tables, then the app-column means of all rows (for the artifact row);
    progress(rows_done) after each part has been written."""
    sums: dict[str, float] = dict.fromkeys(schema.APP_COLUMNS, 0.0)
    done = 0
    for part in parts:
        yield part.table  # the caller writes it before asking for the next one
        for name, total in part.app_sums.items():
            sums[name] += total
        done += part.rows
        if progress:
            progress(done)
    yield {name: total / rows for name, total in sums.items()}


def _write_parquet(tmp: Path, items: Iterator[pa.Table | dict[str, float]],
                   compression: str) -> None:
    """Row groups of one chunk each, then the artifact row."""
    writer, layout = None, None
    try:
        for item in items:
            if isinstance(item, pa.Table):
                layout = item.schema
                writer = writer or _parquet_writer(tmp, layout, compression)
                writer.write_table(item)
            else:
                writer.write_table(artifact_table(item, layout))
    finally:
        if writer is not None:
            writer.close()


def _write_csv(tmp: Path, items: Iterator[pa.Table | dict[str, float]], gzip: bool) -> None:
    """Header, chunks, then the artifact row, as the raw text layout."""
    sink = pa.CompressedOutputStream(str(tmp), "gzip") if gzip else pa.OSFile(str(tmp), "wb")
    with sink:
        sink.write((",".join(schema.RAW_HEADER) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        for item in items:
            if isinstance(item, pa.Table):
                pacsv.write_csv(item, sink, options)
            else:
                sink.write(artifact_line(item).encode())


def generate_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """A small in-memory extract: raw column names (second duration 'Dur. (ms).1'), typed like
    the Parquet output, artifact row last. Same rows as write_extract with one chunk."""
    if not isinstance(rows, int) or rows < 1:
        raise ConfigError(f"cannot generate the sample: rows must be an integer >= 1, got {rows!r}")
    part = next(_parts(rows, seed, rows, parquet_table))
    table = decoded(part.table)
    artifact = artifact_table({k: v / rows for k, v in part.app_sums.items()}, table.schema)
    return pa.concat_tables([table, artifact]).to_pandas()
