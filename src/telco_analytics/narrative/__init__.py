"""Findings written from the numbers (never canned text), one module per analysis section.

records.py holds the finding record, topics.py the registry of topic keys, select.py the one
place where outputs choose findings (by key, never by wording)."""

from __future__ import annotations

import pandas as pd

from ..formats import share_text

__all__ = ["nonempty_table", "share_text"]


def nonempty_table(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    """The named table, or None when it is missing or empty (its findings are then skipped)."""
    table = tables.get(name)
    return table if table is not None and len(table) > 0 else None
