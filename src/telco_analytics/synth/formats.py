"""Typed chunk -> Arrow tables: the Parquet layout and the raw CSV text layout of the extract."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from .catalog import handset_catalog, location_names
from .chunk import Chunk

_MINUTE_MS = 60_000
_TEXT_BASE = np.datetime64("2019-03-01T00:00", "m")  # first minute of the date text table
_TEXT_MINUTES = 92 * 24 * 60  # March to May 2019 covers every start and end


@lru_cache(maxsize=1)
def _minute_text() -> pa.Array:
    """'M/D/YYYY H:MM' text (no zero padding) of every minute from _TEXT_BASE on."""
    minutes = _TEXT_BASE + np.arange(_TEXT_MINUTES)
    days = minutes.astype("datetime64[D]")
    month = (days.astype("datetime64[M]").astype(int) % 12 + 1).astype(str)
    day = (days - days.astype("datetime64[M]")).astype(int) + 1
    year = (days.astype("datetime64[Y]").astype(int) + 1970).astype(str)
    of_day = (minutes - days).astype(int)
    hour, minute = of_day // 60, of_day % 60
    text = [f"{m}/{d}/{y} {h}:{mi:02d}" for m, d, y, h, mi in
            zip(month, day.tolist(), year, hour.tolist(), minute.tolist())]
    return pa.array(text, pa.string())


def date_text(epoch_ms: np.ndarray) -> pa.Array:
    """The extract's date text of instants (ms since 1970), truncated to the minute."""
    base = int(_TEXT_BASE.astype("datetime64[ms]").astype(np.int64))
    return _minute_text().take(pa.array((epoch_ms - base) // _MINUTE_MS))


def excel_scientific(mantissa: np.ndarray, exponent: np.ndarray) -> pa.Array:
    """Excel's text of 15-significant-digit numbers: 1.31144834608449E+019 (null where < 0).

    Built as bytes with numpy (one fixed-width row per value, trailing zeros of the fraction
    dropped, then packed), ~5x faster than string kernels on a million values.
    """
    n = len(mantissa)
    null = mantissa < 0
    # every mantissa has 15 digits, so Arrow's int -> text buffer is an (n, 15) digit matrix
    text = pc.cast(pa.array(np.where(null, 10**14, mantissa)), pa.string())
    digits = np.frombuffer(text.buffers()[2], np.uint8, count=15 * n).reshape(n, 15)
    rows = np.empty((n, 21), dtype=np.uint8)
    rows[:, 0] = digits[:, 0]
    rows[:, 1] = ord(".")
    rows[:, 2:16] = digits[:, 1:]
    rows[:, 16:19] = np.frombuffer(b"E+0", np.uint8)
    rows[:, 19] = ord("1")  # exponents are 15..19: E+015, E+018, E+019
    rows[:, 20] = ord("0") + exponent.astype(np.uint8) - 10
    # trailing zeros of the fraction (and the point itself when the fraction is all zeros)
    nonzero = digits[:, 1:] != ord("0")
    kept = np.where(nonzero.any(axis=1), 14 - np.argmax(nonzero[:, ::-1], axis=1), 0)
    keep = np.ones((n, 21), dtype=bool)
    keep[:, 2:16] = np.arange(14) < kept[:, None]
    keep[:, 1] = kept > 0
    keep[null] = False
    lengths = keep.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    validity = pa.array(~null).buffers()[1]
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(rows[keep]),
                                       validity, null_count=int(null.sum()))


@dataclass(frozen=True)
class Catalogs:
    """Text pools the index columns point into (built once per extract)."""

    locations: pa.Array
    types: pa.Array
    makers: pa.Array

    @classmethod
    def for_seed(cls, seed: int) -> Catalogs:
        cat = handset_catalog()
        return cls(pa.array(location_names(seed), pa.string()),
                   pa.array(cat.types, pa.string()), pa.array(cat.makers, pa.string()))


def _take(pool: pa.Array, index: np.ndarray) -> pa.Array:
    """pool[index], null where index < 0."""
    return pool.take(pa.array(index, mask=index < 0))


def _floats(values: np.ndarray, nullable: bool) -> pa.Array:
    """float64 with NaN as null (zero-copy when the column has no nulls)."""
    return pa.array(values, from_pandas=True) if nullable else pa.array(values)


def _ints(values: np.ndarray, nullable: bool = True) -> pa.Array:
    """Nullable int64 from int64 ids (-1 = null) or from integral floats (NaN = null)."""
    if values.dtype.kind == "f":
        return pc.cast(_floats(values, nullable), pa.int64())
    return pa.array(values, mask=values < 0)


def _columns(chunk: Chunk, pools: Catalogs, text: bool) -> list[pa.Array]:
    """Arrays in schema order; text=True for the CSV layout, else the Parquet layout."""
    out = []
    for col in schema.COLUMNS:
        name = col.name
        if name == "bearer_id":
            out.append(excel_scientific(*chunk.bearer))
        elif name in ("start_time", "end_time"):
            ms = chunk.start if name == "start_time" else chunk.end
            out.append(date_text(ms) if text else
                       pa.array(ms // _MINUTE_MS * _MINUTE_MS, pa.timestamp("ms")))
        elif name in chunk.ids:
            ids = _ints(chunk.ids[name])
            out.append(ids if text else pc.cast(ids, pa.string()))
        elif name == "last_location_name":
            out.append(_take(pools.locations, chunk.location))
        elif name == "handset_type":
            out.append(_take(pools.types, chunk.handset))
        elif name == "handset_manufacturer":
            out.append(_take(pools.makers, chunk.handset))
        else:
            values = chunk.numbers[name]
            nullable = name in chunk.nullable
            out.append(_ints(values, nullable) if text else _floats(values, nullable))
    return out


RAW_NAMES = [c.raw for c in schema.COLUMNS]  # second duration is "Dur. (ms).1"


def parquet_table(chunk: Chunk, pools: Catalogs) -> pa.Table:
    """The chunk as the Parquet layout: raw names, ids/text as strings, floats with nulls."""
    return pa.Table.from_arrays(_columns(chunk, pools, text=False), names=RAW_NAMES)


def csv_table(chunk: Chunk, pools: Catalogs) -> pa.Table:
    """The chunk as the raw text layout (integers as int64, dates and ids as text)."""
    return pa.Table.from_arrays(_columns(chunk, pools, text=True), names=RAW_NAMES)


def artifact_values(means: dict[str, float]) -> dict[str, float]:
    """The artifact row: app columns hold their means, every other column is empty."""
    return {c.raw: means[c.name] for c in schema.COLUMNS if c.name in schema.APP_COLUMNS}


def artifact_table(means: dict[str, float], like: pa.Schema) -> pa.Table:
    """The artifact row in the Parquet layout."""
    values = artifact_values(means)
    arrays = [pa.array([values.get(f.name)], f.type) for f in like]
    return pa.Table.from_arrays(arrays, schema=like)


def artifact_line(means: dict[str, float]) -> str:
    """The artifact row in the raw text layout (15 significant digits, as Excel writes)."""
    values = artifact_values(means)
    return ",".join(format(values[n], ".15g") if n in values else "" for n in RAW_NAMES) + "\n"
