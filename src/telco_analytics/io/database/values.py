"""How a result table's values reach a database driver: by kind, in chunks, NULL for missing.

Shared by every loader, so the same frame is stored the same whichever path writes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat

import numpy as np
import pandas as pd

# the frame and the order of its rows (row positions; None: the frame's own order)
Rows = tuple[pd.DataFrame, np.ndarray | None]


def kind_of(series: pd.Series) -> str:
    """How a column's values travel to the database: float, int, bool, datetime or text."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "text"


def column_kinds(df: pd.DataFrame) -> dict[str, str]:
    """Every column's kind, in the frame's column order."""
    return {col: kind_of(df[col]) for col in df.columns}


def datetime_text(series: pd.Series) -> pd.Series:
    """Wall-clock `YYYY-MM-DD HH:MM:SS.ffffff` (SQLAlchemy's SQLite format; MySQL parses it)."""
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    return series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def python_values(series: pd.Series, kind: str) -> list:
    """One chunk of a column as plain Python values, NULL as None (NaN -> NULL: MySQL has no NaN).

    Vectorised: numpy/pyarrow build the list in C, no per-value Python code on the hot path.
    """
    if kind == "float":
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(values)
        if missing.any():
            boxed = values.astype(object)
            boxed[missing] = None
            return boxed.tolist()
        return values.tolist()
    if kind in ("int", "bool") and isinstance(series.dtype, np.dtype):
        return series.to_numpy().tolist()  # numpy ints/bools have no NULL
    if kind == "datetime":
        series = datetime_text(series)
    elif kind == "text" and not isinstance(series.dtype, pd.StringDtype):
        return [None if pd.isna(v) else str(v) for v in series.astype(object).tolist()]
    return series.to_numpy(dtype=object, na_value=None).tolist()


def chunks(rows: Rows, size: int) -> Iterator[pd.DataFrame]:
    """The frame `size` rows at a time, in its write order: memory bounded by one chunk."""
    df, order = rows
    for start in range(0, len(df), size):
        if order is None:
            yield df.iloc[start : start + size]
        else:
            yield df.take(order[start : start + size])


def row_tuples(chunk: pd.DataFrame, kinds: dict[str, str], constants: tuple) -> Iterator[tuple]:
    """The chunk's rows as tuples (frame columns, then the constant run_id and exported_at)."""
    columns = [python_values(chunk[col], kind) for col, kind in kinds.items()]
    return zip(*columns, *(repeat(value, len(chunk)) for value in constants))
