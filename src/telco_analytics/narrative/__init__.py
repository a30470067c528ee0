"""Findings written from the numbers (never canned text), one module per analysis section.

records.py holds the finding record, topics.py the registry of topic keys, select.py the one
place where outputs choose findings (by key, never by wording)."""

from __future__ import annotations

import pandas as pd


def nonempty_table(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    """The named table, or None when it is missing or empty (its findings are then skipped)."""
    table = tables.get(name)
    return table if table is not None and len(table) > 0 else None


def share_text(x: float) -> str:
    """A share as a percentage with sensible precision: 0.0002 -> '0.02%', 0.05 -> '5.0%',
    0.43 -> '43%'."""
    if abs(x) < 0.01:
        return f"{100 * x:.2f}%"
    return f"{100 * x:.1f}%" if abs(x) < 0.1 else f"{100 * x:.0f}%"
