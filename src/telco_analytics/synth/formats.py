"""Typed chunk -> Arrow tables: the Parquet layout and the raw CSV text layout of the extract."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from .. import schema
from .catalog import handset_catalog, location_names
from .chunk import Chunk
from .digits import ZERO, decimal_text, digit_matrix, strings_from_rows, validity

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


# Trailing zeros of every four-digit group (4 for "0000").
_TRAILING_ZEROS = np.array([4] + [len(str(i)) - len(str(i).rstrip("0")) for i in range(1, 10_000)],
                           dtype=np.int64)


def _trailing_zeros(values: np.ndarray) -> np.ndarray:
    """Trailing decimal zeros of positive integers (one table lookup; a rare loop for more
    than four zeros)."""
    zeros = _TRAILING_ZEROS[values % 10_000]
    deep = np.flatnonzero(zeros == 4)
    rest = values[deep] // 10_000
    while len(deep):
        more = _TRAILING_ZEROS[rest % 10_000]
        zeros[deep] += more
        going = more == 4
        deep, rest = deep[going], rest[going] // 10_000
    return zeros


def excel_scientific(mantissa: np.ndarray, exponent: np.ndarray) -> pa.Array:
    """Excel's text of 15-significant-digit numbers: 1.31144834608449E+019 (null where < 0).

    Built as one 21-byte row per value ("d.ddddddddddddddE+01e"), from which the trailing
    zeros of the fraction (and the point itself when the fraction is all zeros) are dropped.
    """
    n = len(mantissa)
    null = mantissa < 0
    mantissa = np.where(null, 10**14, mantissa)
    digits = digit_matrix(mantissa, 15)
    rows = np.empty((n, 21), dtype=np.uint8)
    rows[:, 0] = digits[:, 0]
    rows[:, 1] = ord(".")
    rows[:, 2:16] = digits[:, 1:]
    rows[:, 16:19] = np.frombuffer(b"E+0", np.uint8)
    rows[:, 19] = ord("1")  # exponents are 15..19: E+015, E+018, E+019
    rows[:, 20] = ZERO + exponent.astype(np.uint8) - 10
    kept = 14 - np.minimum(_trailing_zeros(mantissa), 14)  # fraction digits kept
    keep = np.ones((n, 21), dtype=bool)
    keep[:, 2:16] = np.arange(14) < kept[:, None]
    keep[:, 1] = kept > 0
    return strings_from_rows(rows, keep, null)


@dataclass(frozen=True)
class Catalogs:
    """Text pools the index columns point into (built once per extract): the location names,
    the handset types and the distinct manufacturers, with each type's manufacturer."""

    locations: pa.Array
    types: pa.Array
    makers: pa.Array
    maker_of_type: np.ndarray  # int32 index into makers, per type

    @classmethod
    @lru_cache(maxsize=4)  # the location names take ~0.1 s to build
    def for_seed(cls, seed: int) -> Catalogs:
        cat = handset_catalog()
        makers, maker_of_type = np.unique(cat.makers.astype(str), return_inverse=True)
        return cls(pa.array(location_names(seed), pa.string()), pa.array(cat.types, pa.string()),
                   pa.array(makers, pa.string()), maker_of_type.astype(np.int32))


def _categories(pool: pa.Array, index: np.ndarray) -> pa.DictionaryArray:
    """pool[index] as a dictionary array (null where index < 0): no strings are copied, and
    the Parquet writer stores the pool once per row group plus the indexes."""
    null = index < 0
    nulls = int(np.count_nonzero(null))
    indices = pa.Array.from_buffers(pa.int32(), len(index),
                                    [validity(null), pa.py_buffer(index.astype(np.int32))],
                                    null_count=nulls)
    return pa.DictionaryArray.from_arrays(indices, pool)


class _Bitmaps:
    """Validity bitmaps of a chunk's null masks, each packed once (columns share masks)."""

    def __init__(self) -> None:
        self._packed: dict[int, tuple[np.ndarray, pa.Buffer | None, int]] = {}

    def get(self, mask: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
        if mask is None:
            return None, 0
        key = id(mask)
        if key not in self._packed:  # the mask is kept in the entry so its id stays unique
            self._packed[key] = (mask, validity(mask), int(np.count_nonzero(mask)))
        _, buffer, nulls = self._packed[key]
        return buffer, nulls


def _numbers(values: np.ndarray, mask: np.ndarray | None, bitmaps: _Bitmaps,
             as_int: bool) -> pa.Array:
    """float64 (or int64 for text: "123", not "123.0") column; the mask marks the nulls,
    whose values are ignored. Zero-copy for floats."""
    if as_int:
        with np.errstate(invalid="ignore"):  # NaN at nulls: any value will do there
            values = values.astype(np.int64)
    kind = pa.int64() if as_int else pa.float64()
    buffer, nulls = bitmaps.get(mask)
    return pa.Array.from_buffers(kind, len(values), [buffer, pa.py_buffer(values)],
                                 null_count=nulls)


def _columns(chunk: Chunk, pools: Catalogs, text: bool) -> list[pa.Array]:
    """Arrays in schema order; text=True for the CSV layout, else the Parquet layout."""
    out = []
    bitmaps = _Bitmaps()
    for col in schema.COLUMNS:
        name = col.name
        if name == "bearer_id":
            out.append(excel_scientific(*chunk.bearer))
        elif name in ("start_time", "end_time"):
            ms = chunk.start if name == "start_time" else chunk.end
            out.append(date_text(ms) if text else
                       pa.array(ms // _MINUTE_MS * _MINUTE_MS, pa.timestamp("ms")))
        elif name in chunk.ids:
            ids = chunk.ids[name]
            out.append(decimal_text(ids, ids < 0))
        elif name == "last_location_name":
            out.append(_categories(pools.locations, chunk.location))
        elif name == "handset_type":
            out.append(_categories(pools.types, chunk.handset))
        elif name == "handset_manufacturer":
            makers = np.where(chunk.handset < 0, -1, pools.maker_of_type[chunk.handset])
            out.append(_categories(pools.makers, makers))
        else:
            out.append(_numbers(chunk.numbers[name], chunk.nulls.get(name), bitmaps, text))
    return out


RAW_NAMES = [c.raw for c in schema.COLUMNS]  # second duration is "Dur. (ms).1"


def parquet_table(chunk: Chunk, pools: Catalogs) -> pa.Table:
    """The chunk as the Parquet layout: raw names, ids as strings, floats with nulls, handset
    and location text as dictionary arrays (plain strings once written: see writer.py)."""
    return pa.Table.from_arrays(_columns(chunk, pools, text=False), names=RAW_NAMES)


def csv_table(chunk: Chunk, pools: Catalogs) -> pa.Table:
    """The chunk as the raw text layout (integers as int64, dates and ids as text)."""
    return pa.Table.from_arrays(_columns(chunk, pools, text=True), names=RAW_NAMES)


def decoded(table: pa.Table) -> pa.Table:
    """The table with dictionary columns as plain strings (what a reader of the file sees)."""
    fields = [pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
              for f in table.schema]
    return table.cast(pa.schema(fields))


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
