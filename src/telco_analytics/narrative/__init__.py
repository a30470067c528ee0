"""Findings written from the numbers (never canned text), one module per analysis section."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Insight:
    """One finding: the section it belongs to, a sentence, and the numbers that support it."""

    section: str  # overview, handsets, engagement, experience, satisfaction, tracking, data
    text: str
    numbers: dict = field(default_factory=dict)
    priority: int = 2  # 1 = executive-summary material, 2 = section detail, 3 = appendix

    def as_dict(self) -> dict:
        return asdict(self)
