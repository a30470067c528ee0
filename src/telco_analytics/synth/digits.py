"""Integers -> decimal text as Arrow string arrays, built as bytes with numpy.

Arrow's int -> string cast costs ~120 ms per million values here, which made the id columns
the most expensive part of a chunk. Here four digits are produced per numpy operation from a
table of the 10,000 four-character groups, and the Arrow array is assembled from the byte
matrix directly (offsets + data), ~10x faster.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

# "0000" .. "9999" as little-endian uint32 words: viewing the words as bytes gives the text.
_QUADS = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), dtype=np.uint32)
ZERO = ord("0")


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative integers, zero-padded on the left."""
    n = len(values)
    groups = -(-width // 4)
    words = np.empty((n, groups), dtype=np.uint32)
    rest = values.astype(np.int64, copy=False)
    for g in range(groups - 1, -1, -1):  # last four digits first
        high = rest // 10_000
        words[:, g] = _QUADS[rest - high * 10_000]
        rest = high
    return words.view(np.uint8).reshape(n, 4 * groups)[:, 4 * groups - width:]


def validity(null: np.ndarray | None) -> pa.Buffer | None:
    """Arrow validity bitmap (1 = present) of a boolean null mask, or None without nulls."""
    if null is None or not null.any():
        return None
    return pa.py_buffer(np.packbits(~null, bitorder="little"))


def strings_from_rows(rows: np.ndarray, keep: np.ndarray | None,
                      null: np.ndarray | None) -> pa.StringArray:
    """String array whose value i is the bytes of rows[i] where keep[i] (all bytes if keep is
    None); null rows are null (and empty, unless keep is None). rows: (n, w) uint8."""
    n, width = rows.shape
    if null is not None and not null.any():
        null = None
    if keep is None:  # fixed width: whole rows, the fast path
        # null rows keep their bytes (Arrow allows a null slot any length; writers skip it),
        # which spares copying the rows around them (~45 ms per million rows)
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
        data = np.ascontiguousarray(rows)
    else:
        if null is not None:
            keep[null] = False
        lengths = keep.sum(axis=1, dtype=np.int32)
        data = rows[keep]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
    nulls = 0 if null is None else int(np.count_nonzero(null))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data),
                                       validity(null), null_count=nulls)


def decimal_text(values: np.ndarray, null: np.ndarray | None = None) -> pa.StringArray:
    """Decimal text of non-negative int64 values (no leading zeros), null where null."""
    if null is not None and null.any():
        values = np.where(null, 0, values)
    else:
        null = None
    if len(values) == 0:
        return pa.array([], pa.string())
    top = int(values.max())
    width = len(str(top))
    rows = digit_matrix(values, width)
    present = values if null is None else values[~null]
    if len(present) == 0 or int(present.min()) >= 10 ** (width - 1):
        return strings_from_rows(rows, None, null)  # every value has `width` digits
    keep = np.logical_or.accumulate(rows != ZERO, axis=1)  # drop the padding zeros
    keep[:, -1] = True  # but "0" keeps its digit
    return strings_from_rows(rows, keep, null)
