"""Number and unit formatting of table cells for the report and the slides.

The unit of a column is read from its name (the house rule: columns are nouns with units:
`duration_ms`, `total_bytes`, `rtt_ms`, `throughput_kbps`), so every table is formatted the same
way without per-table code. Long tables whose `value` column changes unit from row to row
(`engagement_top10`, `experience_values`, `univariate`, `cleaning_report`) name the column that
says which variable a row holds (`row_unit`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .figures.style import human_bytes, human_duration_ms

# units a cell can have; "text" cells are shown as they are (MSISDNs, names)
UNITS = ("bytes", "duration_ms", "seconds", "ms", "kbps", "share", "percent", "count", "number", "text",
         "flag")

# columns that are counts of things (integers with thousands separators)
COUNT_COLUMNS = {"users", "sessions", "count", "missing", "outliers", "replaced", "n", "rank",
                 "k", "decile", "cluster", "component", "iteration", "rows", "bytes_count"}
# columns without a unit whatever their suffix (shape statistics, scores, ratios)
UNITLESS = {"skew", "kurtosis", "cv", "r2", "var", "inertia", "badness"}
# univariate statistics that keep the variable's unit (var is in squared units: not formatted)
SAME_UNIT_STATS = {"mean", "median", "std", "min", "q1", "q3", "iqr", "max", "range",
                   "lower_fence", "upper_fence", "replacement", "value"}


def unit_of(name: str) -> str:
    """The unit of a column or variable name ('total_bytes' -> 'bytes', 'rtt_ms' -> 'ms')."""
    n = str(name).lower()
    if n in UNITLESS or n.startswith("z_"):
        return "number"
    if n in COUNT_COLUMNS or n.endswith("_users") or n.startswith("sessions"):
        # sessions_mean is a mean count: still a count-like number, shown with 2 decimals
        return "count" if n in COUNT_COLUMNS else "number"
    # shares first: total_bytes_share is a fraction, not a volume
    if n.endswith(("share", "_ratio")) or n.startswith("share_"):
        return "share"  # a fraction 0-1
    if n.endswith("_pct") or "_pct_" in n:
        return "percent"  # already in percent units (0-100)
    if "bytes" in n:
        return "bytes"
    if "duration_ms" in n:
        return "duration_ms"
    if n == "duration_s" or n.endswith("_duration_s"):
        return "seconds"
    if n.endswith("_ms") or "_ms_" in n:
        return "ms"
    if "kbps" in n:
        return "kbps"
    return "number"


def _is_missing(value: Any) -> bool:
    try:
        return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def format_number(value: float, extra: int = 0) -> str:
    """A plain number for people: thousands separators, about 4 significant digits (3 below
    1), never scientific notation ('2.88e-06' -> '0.00000288'); `extra` more digits."""
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.{extra}f}" if extra else f"{v:,.0f}"
    if abs(v) >= 1:
        if abs(v - round(v)) <= 1e-9 and not extra:
            return f"{v:,.0f}"
        decimals = 3 - math.floor(math.log10(abs(v))) + extra  # 4 significant digits
        return f"{v:,.{decimals}f}".rstrip("0").rstrip(".")
    decimals = 2 - math.floor(math.log10(abs(v))) + extra  # 3 significant digits
    return f"{v:.{decimals}f}".rstrip("0").rstrip(".")


def format_value(value: Any, unit: str, extra: int = 0) -> str:
    """One cell as text in its unit ('' for missing values); `extra` more decimals (used when
    the usual rounding would show two different values as the same text)."""
    if _is_missing(value):
        return ""
    if unit == "text" or isinstance(value, str):
        return str(value)
    if unit == "flag" or isinstance(value, bool):
        return "yes" if bool(value) else "no"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if unit == "bytes":
        return human_bytes(v, 2 + extra)
    if unit == "duration_ms":
        return human_duration_ms(v, 1 + extra)
    if unit == "seconds":
        return human_duration_ms(v * 1000, 1 + extra)
    if unit == "ms":
        return f"{v:,.{1 + extra}f} ms"
    if unit == "kbps":
        return f"{v:,.{extra}f} kbps"
    if unit == "share":
        return f"{v * 100:.{1 + extra}f}%"
    if unit == "percent":
        return f"{v:.{2 + extra}f}%"
    if unit == "count":
        return f"{v:,.0f}" if v == round(v) else f"{v:,.{2 + extra}f}"
    return format_number(v, extra)


def format_distinct(values: list[Any], units: list[str], max_extra: int = 6) -> list[str]:
    """The values as text, two different values never reading the same: only the cells whose
    usual rounding collides with another value's get more decimals ('30.74 kB' twice for two
    values becomes '30.741 kB' and '30.744 kB'; the other cells keep their usual text)."""
    extras = [0] * len(values)
    texts = [format_value(v, u) for v, u in zip(values, units, strict=True)]
    for _ in range(max_extra):
        owners: dict[str, set[Any]] = {}
        for text, value in zip(texts, values, strict=True):
            if text:
                owners.setdefault(text, set()).add(value)
        clashing = [i for i, text in enumerate(texts) if text and len(owners[text]) > 1]
        if not clashing:
            break
        for i in clashing:
            extras[i] += 1
            texts[i] = format_value(values[i], units[i], extras[i])
    return texts


def column_unit(df: pd.DataFrame, column: str) -> str:
    """A column's unit: text for non-numeric data, else read from the name."""
    dtype = df[column].dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "flag"
    if not pd.api.types.is_numeric_dtype(dtype):
        return "text"
    return unit_of(column)


def format_table(
    df: pd.DataFrame,
    *,
    units: Mapping[str, str] | None = None,
    row_unit: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The table with every cell as display text (the input is not changed).

    units: explicit unit per column, overriding the name rule.
    row_unit: a column naming each row's variable (e.g. 'metric'); the unit of that variable
        then applies to the columns that keep the variable's unit (value, mean, q1, fences ...).
    labels: new column headers (e.g. {'total_bytes': 'Total volume'}).
    """
    units = dict(units or {})
    out = pd.DataFrame(index=df.index)
    for column in df.columns:
        unit = units.get(column) or column_unit(df, column)
        if row_unit is not None and column in SAME_UNIT_STATS and column not in units \
                and unit != "text":
            row_units = df[row_unit].astype(str).map(unit_of)
            out[column] = [format_value(v, u) for v, u in zip(df[column], row_units, strict=True)]
        else:
            out[column] = [format_value(v, unit) for v in df[column]]
    if labels:
        out = out.rename(columns=dict(labels))
    return out.reset_index(drop=True)


# words written in capitals in headers ('rtt_ms_mean' -> 'RTT (ms) mean')
ACRONYMS = {"rtt": "RTT", "tcp": "TCP", "dl": "DL", "ul": "UL", "msisdn": "MSISDN", "imsi": "IMSI",
            "imei": "IMEI", "retrans": "retransmission", "pca": "PCA", "pc1": "PC1", "r2": "R²",
            "rmse": "RMSE", "mae": "MAE", "id": "ID", "sha256": "SHA-256", "cv": "CV",
            "iqr": "IQR", "mse": "MSE", "tp": "TP", "pct": "%"}
# unit suffixes dropped from headers because the cells carry the unit (and durations are shown
# in h/min/s, so a header saying "ms" would be wrong)
UNIT_WORDS = {"bytes", "ms", "kbps", "s"}


def header_label(column: str) -> str:
    """A table header for a column whose cells are formatted with their unit:
    'duration_ms_mean' -> 'Duration mean', 'tcp_retrans_bytes' -> 'TCP retrans',
    'throughput_kbps_p25' -> 'Throughput p25', 'missing_pct' -> 'Missing %'."""
    words = [w for w in str(column).split("_") if w]
    kept = [w for w in words if w.lower() not in UNIT_WORDS] or words
    if kept == ["total"] and "bytes" in words:
        kept = ["total", "volume"]
    text = " ".join(ACRONYMS.get(w.lower(), w) for w in kept)
    return text[:1].upper() + text[1:] if text else text


# internal references to the specification, said in words for readers: the rule itself is
# always written out next to them, so dropping the reference loses nothing
_SPEC_REFS = (
    (re.compile(r"\s*\((?:see )?SPEC (?:section \d+ )?rules? [\d\-–, and]+\)"), ""),
    (re.compile(r";?\s*SPEC (?:section \d+ )?rules? [\d\-–]+"), ""),
    (re.compile(r"\bthe SPEC clustering\b"), "the clustering on the raw metrics"),
    (re.compile(r"\bSPEC engagement cluster"), "engagement cluster"),
    (re.compile(r"\bthe SPEC clusters\b"), "the clusters on the raw metrics"),
    (re.compile(r"\bSPEC\b"), "specified"),
)


def plain_words(text: str) -> str:
    """Reader-facing text without internal rule numbers ('... everywhere (SPEC rule 1)' ->
    '... everywhere')."""
    for pattern, replacement in _SPEC_REFS:
        text = pattern.sub(replacement, text)
    return text


def human_label(column: str) -> str:
    """A readable header for a snake_case column ('total_bytes_share' -> 'Total bytes share')."""
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text
