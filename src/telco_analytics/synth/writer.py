"""Write synthetic extracts (CSV, CSV.gz, Parquet) chunk by chunk, atomically."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import schema
from ..errors import ConfigError
from .chunk import Chunk, generate_chunk
from .formats import Catalogs, artifact_line, artifact_table, csv_table, decoded, parquet_table
from .memory import reused_memory

FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"}
# Rows per chunk (and Parquet row group). Small enough that generating the first chunk and
# writing the last one, which cannot overlap with other work, are short (2M rows: 1.09M rows/s
# at 250k, 0.82M at 500k, 0.75M at 1M) and that fewer fresh pages are touched; large enough that
# the per-row-group location dictionary stays small (~3 bytes a row at 250k).
CHUNK_ROWS = 250_000
# Parquet compression: "auto" picks a codec per column (see _codecs), or one codec for all
# columns ("zstd", "lz4", "snappy", "none", ...). Per million rows here (encoding included):
# auto 0.67 CPU s / 138 bytes a row, zstd 0.81 s / 121 B, lz4 0.62 s / 153 B, none 0.47 s / 293 B.
PARQUET_COMPRESSION = "auto"
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


@dataclass
class _Part:
    """One chunk, ready to write: its table and what the artifact row needs from it."""

    rows: int
    table: pa.Table
    app_sums: dict[str, float]


def _parts(rows: int, seed: int, chunk_rows: int,
           layout: Callable[[Chunk, Catalogs], pa.Table]) -> Iterator[_Part]:
    """Chunks in order, generated in the calling thread as tables in `layout`."""
    pools = Catalogs.for_seed(seed)
    for i, first in enumerate(range(0, rows, chunk_rows)):
        rng = np.random.default_rng([seed, i])
        chunk = generate_chunk(rng, min(chunk_rows, rows - first), first, rows, seed)
        sums = {name: float(chunk.numbers[name].sum()) for name in schema.APP_COLUMNS}
        yield _Part(chunk.rows, layout(chunk, pools), sums)


# Tables waiting for the writer thread (besides the one it writes): memory holds at most
# _QUEUED + 2 chunks (queued, being written, being generated).
_QUEUED = 1


def _write_behind(parts: Iterator[_Part], write: Callable[[pa.Table], None],
                  progress: Callable[[int], None] | None) -> dict[str, float]:
    """write(table) for every part in order, in one background thread, so the next chunk is
    generated (here) while this one is encoded and compressed (there): the two halves of the
    work then run on both cores (numpy and Arrow release the GIL). Generating here, not in a
    pool, also keeps numpy's large blocks in one malloc arena, where memory.reused_memory
    recycles them. progress(rows_done) after each write; returns the app-column sums."""
    sums: dict[str, float] = dict.fromkeys(schema.APP_COLUMNS, 0.0)
    done = 0
    pending: deque[tuple[Future, _Part]] = deque()

    def finish_oldest() -> None:
        nonlocal done
        future, part = pending.popleft()
        future.result()  # re-raises the writer's error here
        for name, total in part.app_sums.items():
            sums[name] += total
        done += part.rows
        if progress:
            progress(done)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-writer") as writer:
        try:
            for part in parts:
                pending.append((writer.submit(write, part.table), part))
                del part  # the queue holds the only reference: freed once written
                while len(pending) > _QUEUED:
                    finish_oldest()
            while pending:
                finish_oldest()
        finally:
            for future, _ in pending:  # on error: drop the queued writes
                future.cancel()
    return sums


def _codecs(layout: pa.Schema, split: list[str], compression: str) -> tuple[Any, Any]:
    """(compression, compression_level) arguments of the Parquet writer.

    "auto": zstd (level 1) for the id text, which it shrinks 3.5x; lz4 for the byte-split
    numbers (within 10% of zstd's size at 70% of its cost); none for the dictionary-encoded
    columns, which are already small (zstd would save ~6 bytes a row for ~50 ms per million).
    """
    if compression != "auto":
        return compression, _PARQUET_LEVEL.get(compression)
    kinds = {c.raw: c.kind for c in schema.COLUMNS}
    codecs = {f.name: "zstd" if kinds[f.name] == "id" else "lz4" if f.name in split else "none"
              for f in layout}
    return codecs, {name: _PARQUET_LEVEL["zstd"] for name, c in codecs.items() if c == "zstd"}


def _parquet_writer(path: Path, layout: pa.Schema, compression: str) -> pq.ParquetWriter:
    """Writer with an encoding per column, chosen for speed at a small file size.

    Dictionary encoding for the handset/location text (written from their dictionary arrays
    without hashing) and for numbers with few distinct values; byte-stream-split for the other
    numbers (it groups the bytes of the doubles, so they compress ~1.5x faster and smaller);
    statistics for numbers and times only: min/max of the text columns cost ~0.25 s per
    million rows (the dictionary ones are decoded for it) and prune nothing.
    store_schema=False: without the stored Arrow schema, readers see plain strings rather than
    dictionary (pandas category) columns.
    """
    kinds = {c.raw: c for c in schema.COLUMNS}
    few = [f.name for f in layout if pa.types.is_dictionary(f.type)
           or kinds[f.name].kind in _FEW_VALUES or kinds[f.name].group in _FEW_VALUES_GROUPS]
    split = [f.name for f in layout if pa.types.is_floating(f.type) and f.name not in few]
    stats = [f.name for f in layout if kinds[f.name].kind not in ("id", "category")]
    codecs, levels = _codecs(layout, split, compression)
    return pq.ParquetWriter(path, layout, compression=codecs, compression_level=levels,
                            use_dictionary=few, write_statistics=stats,
                            column_encoding=dict.fromkeys(split, "BYTE_STREAM_SPLIT"),
                            dictionary_pagesize_limit=4 << 20, store_schema=False)


def write_extract(path: str | Path, rows: int, seed: int = 0, *, chunk_rows: int = CHUNK_ROWS,
                  progress: Callable[[int], None] | None = None,
                  parquet_compression: str = PARQUET_COMPRESSION) -> Path:
    """Write `rows` synthetic xDRs plus the artifact row to path (.csv, .csv.gz or .parquet).

    Memory stays bounded by chunk_rows; the file appears only when complete (temporary file in
    the same folder, then rename). progress(rows_done) is called after each chunk.
    parquet_compression: "auto" (a codec per column, see _codecs) or one Parquet codec for all
    columns ("zstd", "lz4", "snappy", "none", ...).
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
                _write_parquet(tmp, _parts(rows, seed, chunk_rows, parquet_table), rows,
                               parquet_compression, progress)
            else:
                _write_csv(tmp, _parts(rows, seed, chunk_rows, csv_table), rows,
                           fmt == "csv.gz", progress)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_parquet(tmp: Path, parts: Iterator[_Part], rows: int, compression: str,
                   progress: Callable[[int], None] | None) -> None:
    """One row group per chunk, then the artifact row."""
    writers: list[pq.ParquetWriter] = []  # opened with the first table's schema

    def write(table: pa.Table) -> None:
        if not writers:
            writers.append(_parquet_writer(tmp, table.schema, compression))
        writers[0].write_table(table)

    try:
        sums = _write_behind(parts, write, progress)
        layout = writers[0].schema
        writers[0].write_table(artifact_table({k: v / rows for k, v in sums.items()}, layout))
    finally:
        for writer in writers:
            writer.close()


def _write_csv(tmp: Path, parts: Iterator[_Part], rows: int, gzip: bool,
               progress: Callable[[int], None] | None) -> None:
    """Header, chunks, then the artifact row, as the raw text layout."""
    sink = pa.CompressedOutputStream(str(tmp), "gzip") if gzip else pa.OSFile(str(tmp), "wb")
    with sink:
        sink.write((",".join(schema.RAW_HEADER) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        sums = _write_behind(parts, lambda table: pacsv.write_csv(table, sink, options), progress)
        sink.write(artifact_line({k: v / rows for k, v in sums.items()}).encode())


def generate_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """A small in-memory extract: raw column names (second duration 'Dur. (ms).1'), typed like
    the Parquet output, artifact row last. Same rows as write_extract with one chunk."""
    if not isinstance(rows, int) or rows < 1:
        raise ConfigError(f"cannot generate the sample: rows must be an integer >= 1, got {rows!r}")
    part = next(_parts(rows, seed, rows, parquet_table))
    table = decoded(part.table)
    artifact = artifact_table({k: v / rows for k, v in part.app_sums.items()}, table.schema)
    return pa.concat_tables([table, artifact]).to_pandas()
