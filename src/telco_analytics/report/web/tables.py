"""Tables and findings as HTML: numbers formatted for people, sortable by their value."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from ...narrative.records import Finding
from ..formatting import column_unit, format_distinct, format_table, header_label, plain_words

LONG_TOKEN = 14  # a one-token cell longer than this (a path, a hash, a column name) may break anywhere
MAX_TABLE_ROWS = 60  # longer tables are cut (the full table is in tables/NAME.csv)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def sort_key(value: Any) -> str:
    """The raw number a sortable cell is ordered by ('' when it has none)."""
    if isinstance(value, bool) or value is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(v) else repr(v)


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def cells_html(texts: Sequence[str], raws: Sequence[Any] | None = None) -> str:
    """One row's cells: numbers right-aligned and carrying their raw value for sorting."""
    out = []
    for i, text in enumerate(texts):
        key = sort_key(raws[i]) if raws is not None else ""
        if key:
            out.append(f'<td class="num" data-v="{key}">{esc(text)}</td>')
        elif len(text) > LONG_TOKEN and " " not in text:  # paths, hashes: may break anywhere
            out.append(f'<td class="long">{esc(text)}</td>')
        else:  # words: a column is never narrower than its longest word
            out.append(f"<td>{esc(text)}</td>")
    return "".join(out)


def grid_html(headers: Sequence[str], rows: Iterable[str], caption: str = "",
              sortable: bool = True) -> str:
    cls = ' class="sortable"' if sortable else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table{cls}>{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def variable_label(name: str) -> str:
    """A per-user variable named for a reader: 'dl_bytes' -> 'DL volume', 'duration_ms' ->
    'Duration', 'social_media_bytes' -> 'Social media volume'."""
    label = header_label(name)
    return f"{label} volume" if "bytes" in str(name) and "volume" not in label else label


def table_html(df: pd.DataFrame | None, caption: str = "", *, max_rows: int = MAX_TABLE_ROWS,
               note: str = "", labels: dict[str, str] | None = None,
               name_rows: bool = False, **fmt: Any) -> str:
    """A formatted table (units in the cells, headers without unit suffixes, distinct values
    never shown as the same text, sortable by value); '' when there is no table. name_rows:
    the row_unit column (each row's variable) shown in words."""
    if df is None or df.empty:
        return ""
    shown = df.head(max_rows).reset_index(drop=True)
    text = format_table(shown, **fmt)
    units = fmt.get("units") or {}
    for column in shown.columns:  # a column whose rounding merges values gets more decimals
        if _numeric(shown[column]) and fmt.get("row_unit") is None:
            unit = units.get(column) or column_unit(shown, column)
            if unit not in ("count", "text", "flag") and text[column].nunique() < \
                    shown[column].nunique():
                text[column] = format_distinct(list(shown[column]), [unit] * len(shown))
    if name_rows and fmt.get("row_unit") in text:  # the row's variable in words, not its name
        text[fmt["row_unit"]] = [variable_label(v) for v in shown[fmt["row_unit"]]]
    labels = labels or {}
    headers = [labels.get(c, header_label(c)) for c in shown.columns]
    numeric = [_numeric(shown[c]) for c in shown.columns]
    rows = []
    for i, values in enumerate(text.itertuples(index=False)):
        raws = [shown.iat[i, j] if numeric[j] else None for j in range(len(numeric))]
        rows.append(f"<tr>{cells_html(list(values), raws)}</tr>")
    cut = len(df) - len(shown)
    extra = f" First {len(shown)} of {len(df):,} rows." if cut > 0 else ""
    notes = f'<p class="note">{esc(note)}{esc(extra)}</p>' if (note or extra) else ""
    return grid_html(headers, rows, caption) + notes


def text_table_html(rows: Iterable[Sequence[Any]], headers: Sequence[str], caption: str = "",
                    raws: Iterable[Sequence[Any]] | None = None) -> str:
    """A table of already formatted cells; `raws` (same shape) makes its number cells sortable
    by value."""
    raw_rows = list(raws) if raws is not None else None
    body = [f"<tr>{cells_html([str(v) for v in row], raw_rows[i] if raw_rows else None)}</tr>"
            for i, row in enumerate(rows)]
    return grid_html(headers, body, caption, sortable=raw_rows is not None)


def finding_item(item: Finding) -> str:
    """One finding as a list item: its sentence, then the action it recommends (if any)."""
    action = f' <span class="action">{esc(plain_words(item.action))}</span>' if item.action \
        else ""
    return f"<li>{esc(plain_words(item.text))}{action}</li>"


def findings_html(items: list[Finding], title: str = "Findings") -> str:
    """A box listing findings (nothing when there are none)."""
    if not items:
        return ""
    lis = "".join(finding_item(i) for i in items)
    return f'<div class="findings"><strong>{esc(title)}</strong><ul>{lis}</ul></div>'
