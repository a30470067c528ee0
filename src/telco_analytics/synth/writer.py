"""Write synthetic extracts (CSV, CSV.gz, Parquet) chunk by chunk, atomically."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import schema
from ..errors import ConfigError
from .chunk import Chunk, generate_chunk
from .formats import Catalogs, artifact_line, artifact_table, csv_table, decoded, parquet_table
from .memory import reused_memory
from .planted import STRUCTURES, Planted
from .stitch import PiecesFile, StitchedFile
from .truth import planted_truth, write_truth

if TYPE_CHECKING:  # pandas only for generate_frame: importing it costs ~0.3 s per run
    import pandas as pd

FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"}
# Rows per chunk (and Parquet row group). Small enough that the chunks the threads start and
# finish alone are short (with one writer thread, 2M rows: 1.09M rows/s at 250k, 0.82M at
# 500k, 0.75M at 1M) and that fewer fresh pages are touched; large enough that the
# per-row-group location dictionary stays small (~3 bytes a row at 250k). Each chunk has its
# own random stream, so another size makes other data for the same seed.
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


@dataclass(frozen=True)
class _Extract:
    """What is generated: rows, seed, rows per chunk and the planted structure (None: every
    column drawn independently)."""

    rows: int
    seed: int
    chunk_rows: int
    planted: Planted | None

    def starts(self) -> Iterator[tuple[int, int]]:
        """(index, first row) of every chunk."""
        return enumerate(range(0, self.rows, self.chunk_rows))

    def chunk(self, index: int, first: int) -> Chunk:
        return _chunk(index, first, self.rows, self.seed, self.chunk_rows, self.planted)


@dataclass
class _Part:
    """One chunk, encoded: its bytes in the output format (a standalone Parquet file of one row
    group, or CSV text), the schema of its table and what the artifact row and the planted
    truth need from it."""

    rows: int
    data: PiecesFile
    layout: pa.Schema
    app_sums: dict[str, float]
    heavy_msisdn: np.ndarray


@dataclass
class _Written:
    """What the parts added up to: app-column sums (in chunk order), the first table's schema
    and the heavy users' MSISDNs."""

    app_sums: dict[str, float]
    layout: pa.Schema | None = None
    heavy: list[np.ndarray] = field(default_factory=list)

    def means(self, rows: int) -> dict[str, float]:
        """The artifact row's values: the app columns' means."""
        return {k: v / rows for k, v in self.app_sums.items()}

    def heavy_msisdn(self) -> np.ndarray:
        return np.concatenate(self.heavy) if self.heavy else np.zeros(0, np.int64)


def _chunk(index: int, first: int, rows: int, seed: int, chunk_rows: int,
           planted: Planted | None = None) -> Chunk:
    """Chunk `index` (rows first..): its own random stream, so chunks are independent."""
    rng = np.random.default_rng([seed, index])
    return generate_chunk(rng, min(chunk_rows, rows - first), first, rows, seed, planted)


def _app_sums(chunk: Chunk) -> dict[str, float]:
    return {name: float(chunk.numbers[name].sum()) for name in schema.APP_COLUMNS}


def _part(chunk: Chunk, table: pa.Table, data: PiecesFile | None) -> _Part:
    return _Part(len(table), data, table.schema, _app_sums(chunk), chunk.heavy_msisdn)


def workers() -> int:
    """Threads that generate and encode chunks: one per core this process may use (up to 4;
    each holds a chunk)."""
    from ..run.execution import available_cores

    return max(1, min(4, available_cores()))


def _encoded_parts(extract: _Extract, layout: Callable[[Chunk, Catalogs], pa.Table],
                   encode: Callable[[pa.Table], PiecesFile], threads: int) -> Iterator[_Part]:
    """Every chunk generated, laid out and encoded in a pool of `threads` threads, several
    chunks at a time (numpy and Arrow release the GIL for the bulk of the work), yielded in
    order. At most threads + 1 chunks are in flight besides the one the caller holds."""
    pools = Catalogs.for_seed(extract.seed)

    def make(index: int, first: int) -> _Part:
        chunk = extract.chunk(index, first)
        table = layout(chunk, pools)
        part = _part(chunk, table, None)
        del chunk  # its arrays back to the allocator before the encoder's buffers
        part.data = encode(table)
        return part

    pending: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="synth") as pool:
        try:
            for index, first in extract.starts():
                pending.append(pool.submit(make, index, first))
                while len(pending) > threads:
                    yield pending.popleft().result()  # re-raises a worker's error here
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # on error: drop the chunks not started yet
                future.cancel()


def _write_parts(parts: Iterator[_Part], write: Callable[[PiecesFile], None],
                 progress: Callable[[int], None] | None) -> _Written:
    """write(part.data) for every part in order; progress(rows_done) after each."""
    written = _Written(dict.fromkeys(schema.APP_COLUMNS, 0.0))
    done = 0
    for part in parts:
        if part.data is not None:
            write(part.data)
        written.layout = written.layout or part.layout
        for name, total in part.app_sums.items():
            written.app_sums[name] += total
        written.heavy.append(part.heavy_msisdn)
        done += part.rows
        del part  # its bytes are written: free them before the next one arrives
        if progress:
            progress(done)
    return written


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


def _parquet_writer(path: Path | pa.NativeFile, layout: pa.Schema,
                    compression: str) -> pq.ParquetWriter:
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
                  parquet_compression: str = PARQUET_COMPRESSION,
                  threads: int | None = None, structure: str = "planted",
                  truth: str | Path | None = None) -> Path:
    """Write `rows` synthetic xDRs plus the artifact row to path (.csv, .csv.gz or .parquet).

    Memory stays bounded by chunk_rows (and threads); the file appears only when complete
    (temporary file in the same folder, then rename). progress(rows_done) is called after each
    chunk. parquet_compression: "auto" (a codec per column, see _codecs) or one Parquet codec
    for all columns ("zstd", "lz4", "snappy", "none", ...). threads: chunks made at a time
    (default: one per core); the file is the same for any number. structure: "planted" (the
    joint structure of planted.py) or "none" (every column independent, as the first
    generator). truth: where to write the planted truth as JSON (truth.py), after the extract.
    """
    path = Path(path)
    problems = []
    if not isinstance(rows, int) or rows < 1:
        problems.append(f"rows must be an integer >= 1, got {rows!r}")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        problems.append(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        problems.append(f"threads must be an integer >= 1, got {threads!r}")
    problems += _structure_problems(structure)
    try:
        fmt = output_format(path)
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise ConfigError("cannot generate the sample: " + "; ".join(problems))
    threads = threads or workers()
    extract = _Extract(rows, seed, chunk_rows, _planted(structure, seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with reused_memory(enabled=rows > chunk_rows):  # several chunks: recycle their memory
            if fmt == "parquet":
                written = _write_parquet(tmp, extract, threads, parquet_compression, progress)
            else:
                written = _write_csv(tmp, extract, threads, fmt == "csv.gz", progress)
        if truth is not None:
            write_truth(truth, planted_truth(rows, seed, extract.planted,
                                             written.heavy_msisdn()))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _structure_problems(structure: str) -> list[str]:
    if structure in STRUCTURES:
        return []
    return [f"structure must be one of {', '.join(STRUCTURES)}, got {structure!r}"]


def _planted(structure: str, seed: int) -> Planted | None:
    return Planted.for_seed(seed) if structure == "planted" else None


# Bytes gathered in C++ before each write into a PiecesFile: a Parquet row group arrives in
# ~1,500 writes (page headers apart from pages), each of which would take the GIL from the other
# threads; in 1 MiB pieces, ~40.
_PIECE = 1 << 20


def _encoded(write: Callable[[pa.NativeFile], None]) -> PiecesFile:
    """What write(stream) writes, kept in pieces: a growing pa.BufferOutputStream copies its
    bytes again at each doubling into fresh memory (system time: 0.41 -> 0.18 s per million
    rows)."""
    pieces = PiecesFile()
    stream = pa.BufferedOutputStream(pa.PythonFile(pieces, mode="w"), buffer_size=_PIECE)
    with stream:
        write(stream)
    return pieces


def _parquet_file(table: pa.Table, compression: str) -> PiecesFile:
    """The table as a standalone Parquet file in memory (one row group per chunk_rows)."""
    def write(stream: pa.NativeFile) -> None:
        with _parquet_writer(stream, table.schema, compression) as writer:
            writer.write_table(table)

    return _encoded(write)


def _write_parquet(tmp: Path, extract: _Extract, threads: int, compression: str,
                   progress: Callable[[int], None] | None) -> _Written:
    """One row group per chunk, then the artifact row: each encoded on its own (in parallel)
    and laid end to end by stitch.StitchedFile, the same bytes as one ParquetWriter writes."""
    def encode(table: pa.Table) -> PiecesFile:
        return _parquet_file(table, compression)

    with open(tmp, "wb") as sink:
        stitched = StitchedFile(sink)
        parts = _encoded_parts(extract, parquet_table, encode, threads)
        written = _write_parts(parts, stitched.append, progress)
        stitched.append(encode(artifact_table(written.means(extract.rows), written.layout)))
        stitched.close()
    return written


def _write_csv(tmp: Path, extract: _Extract, threads: int, gzip: bool,
               progress: Callable[[int], None] | None) -> _Written:
    """Header, chunks (formatted in parallel), then the artifact row, as the raw text layout."""
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")

    def encode(table: pa.Table) -> PiecesFile:
        return _encoded(lambda stream: pacsv.write_csv(table, stream, options))

    def write(text: PiecesFile) -> None:
        for piece in text.pieces:
            sink.write(piece)

    sink = pa.CompressedOutputStream(str(tmp), "gzip") if gzip else pa.OSFile(str(tmp), "wb")
    with sink:
        sink.write((",".join(schema.RAW_HEADER) + "\n").encode())
        parts = _encoded_parts(extract, csv_table, encode, threads)
        written = _write_parts(parts, write, progress)
        sink.write(artifact_line(written.means(extract.rows)).encode())
    return written


def generate_frame(rows: int, seed: int = 0, structure: str = "planted") -> pd.DataFrame:
    """A small in-memory extract: raw column names (second duration 'Dur. (ms).1'), typed like
    the Parquet output, artifact row last. Same rows as write_extract with one chunk."""
    return generate_frame_and_truth(rows, seed, structure)[0]


def generate_frame_and_truth(rows: int, seed: int = 0,
                             structure: str = "planted") -> tuple[pd.DataFrame, dict[str, Any]]:
    """generate_frame's extract and its planted truth (truth.py)."""
    problems = _structure_problems(structure)
    if not isinstance(rows, int) or rows < 1:
        problems.insert(0, f"rows must be an integer >= 1, got {rows!r}")
    if problems:
        raise ConfigError("cannot generate the sample: " + "; ".join(problems))
    extract = _Extract(rows, seed, rows, _planted(structure, seed))
    chunk = extract.chunk(0, 0)
    table = parquet_table(chunk, Catalogs.for_seed(seed))
    written = _write_parts(iter([_part(chunk, table, None)]), lambda data: None, None)
    table = decoded(table)
    artifact = artifact_table(written.means(rows), table.schema)
    truth = planted_truth(rows, seed, extract.planted, written.heavy_msisdn())
    return pa.concat_tables([table, artifact]).to_pandas(), truth
