"""Findings written from the numbers (never canned text), one module per analysis section."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Insight:
    """One finding: the section it belongs to, a sentence, and the numbers that support it."""

    section: str  # overview, handsets, engagement, experience, satisfaction, tracking, data
    text: str
    numbers: dict = field(default_factory=dict)
    priority: int = 2  # 1 = executive-summary material, 2 = section detail, 3 = appendix

    def as_dict(self) -> dict:
        return asdict(self)


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
