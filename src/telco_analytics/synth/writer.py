"""Write synthetic extracts (CSV, CSV.gz, Parquet) chunk by chunk, atomically."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import schema
from ..errors import ConfigError
from .chunk import Chunk, generate_chunk
from .formats import Catalogs, artifact_line, artifact_table, csv_table, parquet_table

FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"}
# Parquet codec: zstd level 1 writes files ~3x smaller than snappy costs and about as fast;
# "none" is the fastest (~1.7x less CPU) but 100M rows then take ~41 GB.
PARQUET_COMPRESSION = "zstd"
_PARQUET_LEVEL = {"zstd": 1}


def output_format(path: Path) -> str:
    """'csv', 'csv.gz' or 'parquet' from the file name, else ConfigError."""
    name = path.name.lower()
    for suffix, fmt in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    raise ConfigError(f"output {path}: unknown format; expected a name ending in "
                      f"{', '.join(FORMATS)}")


_AHEAD = 2  # chunks generated in threads while the caller writes (numpy releases the GIL)


def _chunks(rows: int, seed: int, chunk_rows: int) -> Iterator[Chunk]:
    """Chunks in order; the next ones are generated in threads while the caller writes."""
    starts = list(range(0, rows, chunk_rows))

    def make(i: int) -> Chunk:
        first = starts[i]
        rng = np.random.default_rng([seed, i])
        return generate_chunk(rng, min(chunk_rows, rows - first), first, rows, seed)

    with ThreadPoolExecutor(max_workers=_AHEAD) as pool:
        pending = [pool.submit(make, i) for i in range(min(_AHEAD, len(starts)))]
        for i in range(len(starts)):
            current = pending.pop(0).result()
            if i + _AHEAD < len(starts):
                pending.append(pool.submit(make, i + _AHEAD))
            yield current


def _app_sums(chunk: Chunk, sums: dict[str, float]) -> None:
    """Add the chunk's app-column totals to sums (for the artifact row's means)."""
    for name in schema.APP_COLUMNS:
        sums[name] = sums.get(name, 0.0) + float(chunk.numbers[name].sum())


def _parquet_writer(path: Path, layout: pa.Schema, compression: str) -> pq.ParquetWriter:
    """Writer with dictionaries only for the text columns (numbers are near-unique)."""
    text = [f.name for f in layout if pa.types.is_string(f.type)]
    return pq.ParquetWriter(path, layout, compression=compression, use_dictionary=text,
                            compression_level=_PARQUET_LEVEL.get(compression))


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
        pools = Catalogs.for_seed(seed)
        sums: dict[str, float] = {}
        done = 0
        if fmt == "parquet":
            writer, layout = None, None
            for chunk in _chunks(rows, seed, chunk_rows):
                table = parquet_table(chunk, pools)
                layout = table.schema
                writer = writer or _parquet_writer(tmp, layout, parquet_compression)
                writer.write_table(table)
                _app_sums(chunk, sums)
                done += chunk.rows
                if progress:
                    progress(done)
            means = {k: v / rows for k, v in sums.items()}
            writer.write_table(artifact_table(means, layout))
            writer.close()
        else:
            sink = pa.CompressedOutputStream(str(tmp), "gzip") if fmt == "csv.gz" \
                else pa.OSFile(str(tmp), "wb")
            with sink:
                sink.write((",".join(schema.RAW_HEADER) + "\n").encode())
                options = pacsv.WriteOptions(include_header=False, quoting_style="none")
                for chunk in _chunks(rows, seed, chunk_rows):
                    pacsv.write_csv(csv_table(chunk, pools), sink, options)
                    _app_sums(chunk, sums)
                    done += chunk.rows
                    if progress:
                        progress(done)
                sink.write(artifact_line({k: v / rows for k, v in sums.items()}).encode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def generate_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """A small in-memory extract: raw column names (second duration 'Dur. (ms).1'), typed like
    the Parquet output, artifact row last. Same rows as write_extract with one chunk."""
    if not isinstance(rows, int) or rows < 1:
        raise ConfigError(f"cannot generate the sample: rows must be an integer >= 1, got {rows!r}")
    chunk = next(_chunks(rows, seed, rows))
    table = parquet_table(chunk, Catalogs.for_seed(seed))
    sums: dict[str, float] = {}
    _app_sums(chunk, sums)
    artifact = artifact_table({k: v / rows for k, v in sums.items()}, table.schema)
    return pa.concat_tables([table, artifact]).to_pandas()
