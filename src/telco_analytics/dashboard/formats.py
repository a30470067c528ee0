"""Numbers as people read them: each column in one unit (MB, h, %, ms...), thousands separated.

The run's tables hold raw values (bytes, milliseconds, shares as 0.814); the dashboard shows
them converted, the unit in the column header, and offers the raw table as CSV. What a number
is comes from its name (`*_bytes`, `duration_ms`, `*_share`...), from the table for the few
tables whose columns are named by statistic (`tcp_per_handset.mean` is bytes), or, for tables
that hold one variable a row (`univariate`, `cleaning_report`), from the row's variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

KB = 1000.0  # decimal units, as operators bill (and as the report writes them)
MS_PER = {"h": 3_600_000.0, "min": 60_000.0, "s": 1000.0}

# tables whose column names say the statistic, not the quantity
TABLE_KINDS: dict[str, dict[str, str]] = {
    "tcp_per_handset": {"mean": "bytes", "median": "bytes"},
    "throughput_per_handset": {c: "kbps" for c in ("mean", "median", "p25", "p75")},
    "variables": {"missing_pct": "pct"},
}
# tables whose numbers are all of one kind, whatever their columns are called
TABLE_DEFAULT = {"app_correlation": "correlation", "pca": "loading"}
KEEP = {"pca": {"component": "count", "explained_variance_ratio": "share",
                "cumulative_ratio": "share", "explained_variance": "decimal"}}
# tables holding one variable a row: (column naming it, columns in its unit, columns shown
# as plain decimals); a statistic in squared units (var) is left to the CSV
ROW_VARIABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "univariate": ("variable", ("mean", "median", "std", "min", "q1", "q3", "iqr", "max",
                                "range")),
    "cleaning_report": ("column", ("q1", "q3", "lower_fence", "upper_fence", "replacement")),
    "engagement_top10": ("metric", ("value",)),
    "experience_values": ("metric", ("value",)),
}
HIDDEN = {"univariate": ("var",)}
COUNT_NAMES = {"sessions", "users", "count", "missing", "outliers", "replaced", "n", "rank",
               "cluster", "k", "decile", "component", "iteration", "hour"}


@dataclass(frozen=True)
class Unit:
    """How a column is shown: raw / divisor, with `decimals`, `suffix` after the number."""

    suffix: str = ""
    divisor: float = 1.0
    decimals: int = 2

    @property
    def percent(self) -> bool:
        return self.suffix == "%"

    def number(self, value: float) -> float:
        """The shown number: converted, rounded, and never '-0'."""
        return round(float(value) / self.divisor, self.decimals) + 0.0

    def text(self, value: Any) -> str:
        """'1,234.56 MB', '81.4%', '12' ('–' when missing)."""
        if value is None or pd.isna(value):
            return "–"
        shown = f"{self.number(value):,.{self.decimals}f}"
        if not self.suffix:
            return shown
        return f"{shown}{self.suffix}" if self.percent else f"{shown} {self.suffix}"


def kind_of(name: str) -> str:
    """What a column or metric named `name` measures, from the project's naming rules."""
    name = str(name).lower()
    if name.startswith("z_"):
        return "z"
    if name.endswith(("_share", "_ratio")) or name == "share":
        return "share"
    if name.endswith("_pct"):
        return "pct"
    if name.endswith(("_sessions", "_users")) or "_sessions_" in name:  # rtt_sessions: a count
        return "count"
    if "bytes" in name:
        return "bytes"
    if "duration" in name:
        return "seconds" if name.endswith("_s") else "duration"
    if "rtt" in name or name.endswith("_ms") or "_ms_" in name:
        return "ms"
    if "kbps" in name:
        return "kbps"
    if name == "r2":
        return "r2"
    if name in ("rmse", "mae", "mse") or name.endswith("_loss"):
        return "error"
    if "score" in name or name.startswith("mean_") or name in ("satisfaction", "engagement",
                                                             "experience"):
        return "score"
    if name in COUNT_NAMES or name.startswith("sessions"):
        return "count"
    return "decimal"


def _floats(values: Any) -> np.ndarray:
    """`values` as float64, missing or non-numeric ones as NaN."""
    try:
        return np.asarray(values, dtype="float64")
    except (TypeError, ValueError):  # nullable integers with <NA>, text
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")


def _numbers(values: Any) -> np.ndarray:
    """The finite numbers among `values`."""
    array = _floats(values)
    return array[np.isfinite(array)]


def _typical(numbers: np.ndarray) -> float:
    """The magnitude a column's unit is chosen for: the median of its non-zero sizes."""
    sizes = np.abs(numbers[numbers != 0])
    return float(np.median(sizes)) if len(sizes) else 0.0


def unit_for(kind: str, values: Any = ()) -> Unit:
    """The unit a column of this kind is shown in, chosen for its typical value."""
    numbers = _numbers(values)
    typical = _typical(numbers)
    if kind == "bytes":
        for power, suffix in ((4, "TB"), (3, "GB"), (2, "MB"), (1, "kB")):
            if typical >= KB ** power:
                return Unit(suffix, KB ** power, 2)
        return Unit("B", 1.0, 0)
    if kind in ("duration", "seconds"):
        scale = 1000.0 if kind == "seconds" else 1.0  # seconds -> ms first
        for suffix, ms in MS_PER.items():
            if typical * scale >= ms:
                return Unit(suffix, ms / scale, 1)
        return Unit("ms", 1.0 / scale, 0)
    fixed = {"share": Unit("%", 0.01, 1), "pct": Unit("%", 1.0, 1), "ms": Unit("ms", 1.0, 1),
             "kbps": Unit("kbps", 1.0, 0), "r2": Unit("", 1.0, 3), "error": Unit("", 1.0, 4),
             "z": Unit("", 1.0, 2), "score": Unit("", 1.0, 3),
             "correlation": Unit("", 1.0, 2), "loading": Unit("", 1.0, 3)}
    if kind in fixed:
        return fixed[kind]
    if kind == "count" and np.array_equal(numbers, np.round(numbers)):
        return Unit("", 1.0, 0)
    return Unit("", 1.0, 0 if typical >= 1000 else 2 if typical >= 1 or kind == "count" else 3)


def text_of(name: str, value: Any) -> str:
    """One value of the metric `name` with its unit, chosen for the value itself."""
    return unit_for(kind_of(name), [value]).text(value)


def _column_kind(table: str | None, column: str) -> str:
    if table in KEEP and column in KEEP[table]:
        return KEEP[table][column]
    if table in TABLE_DEFAULT:
        return TABLE_DEFAULT[table]
    return TABLE_KINDS.get(table or "", {}).get(column) or kind_of(column)


def readable(frame: pd.DataFrame, table: str | None = None
             ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The frame as shown (numbers converted to their column's unit) and its column config
    (unit in the header, thousands separators, fixed decimals). The input is not changed."""
    shown = frame.drop(columns=[c for c in HIDDEN.get(table or "", ()) if c in frame.columns])
    config: dict[str, Any] = {}
    per_row = _per_row_columns(shown, table)
    for column in shown.columns:
        values = shown[column]
        if column in per_row:
            shown[column] = per_row[column]
            continue
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        kind = _row_kind(shown, table, column) or _column_kind(table, str(column))
        unit = unit_for(kind, values)
        # as Unit.number, for the whole column at once
        shown[column] = np.round(_floats(values) / unit.divisor, unit.decimals) + 0.0
        label = _label(str(column), kind, unit)
        number = f"%,.{unit.decimals}f" + ("%%" if unit.percent else "")
        config[column] = st.column_config.NumberColumn(label, format=number)
    return shown, config


def _label(column: str, kind: str, unit: Unit) -> str:
    """The header: the column's name and its unit ('duration_ms_mean' in hours reads
    'duration_mean (h)': the raw unit in the name would contradict the shown one)."""
    if kind in ("duration", "seconds"):
        column = re.sub(r"_m?s(?=_|$)", "", column)
    return column if not unit.suffix or unit.percent else f"{column} ({unit.suffix})"


def _row_kind(frame: pd.DataFrame, table: str | None, column: str) -> str | None:
    """The kind of a per-row column when every row holds the same variable."""
    if table not in ROW_VARIABLE:
        return None
    key, columns = ROW_VARIABLE[table]
    if column not in columns or key not in frame or frame[key].nunique() != 1:
        return None
    return kind_of(frame[key].iloc[0])


def _per_row_columns(frame: pd.DataFrame, table: str | None) -> dict[str, pd.Series]:
    """Columns whose unit changes from row to row, as text ('1.23 GB' next to '25.1 h')."""
    if table not in ROW_VARIABLE:
        return {}
    key, columns = ROW_VARIABLE[table]
    if key not in frame or frame[key].nunique() <= 1:
        return {}
    present = [c for c in columns if c in frame]
    numbers = _floats(frame[present].to_numpy())
    variables = frame[key].to_numpy()
    units = {v: unit_for(kind_of(v), numbers[variables == v].ravel()) for v in set(variables)}
    return {c: pd.Series([units[v].text(x) for v, x in zip(variables, numbers[:, i])],
                         index=frame.index, dtype="object") for i, c in enumerate(present)}
