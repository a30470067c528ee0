"""The finding record: a stable topic key, who it is for, the sentence, the action it recommends,
and the evidence (saved tables, rows and values) it was computed from.

Outputs pick findings by these keys (see select.py), never by the wording of `text`, so the
sentences can be rewritten without moving a finding to another slide. Records are saved as a list
of `as_dict()` in tables/insights.json; `findings_from_json` also reads files of older runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .topics import AUDIENCES, TOPICS, section_of


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (so records compare equal after a JSON trip)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Evidence:
    """Where a finding's numbers come from: a saved table, the row(s) used, the values read.

    `key` maps columns to the values that pick the row, or the rows an aggregate runs over ({}:
    the whole table); `values` maps a column, or an aggregate written as an expression such as
    "sum(users)", to the value used. New kinds of evidence add fields with defaults, so files
    written before them keep loading.
    """

    table: str
    key: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def row_evidence(table: str, row: Mapping[str, Any], key: Sequence[str],
                 columns: Sequence[str]) -> Evidence:
    """Evidence of one table row: the key columns that pick it and the columns a finding used."""
    return Evidence(table, {k: plain(row[k]) for k in key}, {c: plain(row[c]) for c in columns})


@dataclass(frozen=True)
class Finding:
    """One finding of a run, addressed by its topic key (None only for records of older runs)."""

    topic: str | None  # "section.name", unique within a run (topics.TOPICS)
    section: str  # overview, handsets, engagement, experience, satisfaction
    audience: str | None  # one of topics.AUDIENCES; None only for records of older runs
    text: str  # what the numbers say
    action: str | None = None  # the recommended action as a complete sentence, if any
    priority: int = 2  # 1 = executive-summary material, 2 = section detail, 3 = appendix
    evidence: tuple[Evidence, ...] = ()
    numbers: dict[str, Any] = field(default_factory=dict)  # headline values, some across rows
    # what the finding is worth to the business (the executive summary ranks by impact):
    # users it concerns x size of effect, the relative gap of its key number to the typical
    # user (0.27: 27% less data than the average user); None: not summary material
    users_affected: int | None = None
    effect_size: float | None = None

    @property
    def impact(self) -> float | None:
        """users_affected x effect_size, or None when the finding has no impact."""
        if self.users_affected is None or self.effect_size is None:
            return None
        return self.users_affected * abs(self.effect_size)

    def __post_init__(self) -> None:
        if self.topic is not None and section_of(self.topic) != self.section:
            raise ValueError(f"topic {self.topic!r} is not of section {self.section!r}")
        if self.audience is not None and self.audience not in AUDIENCES:
            raise ValueError(f"audience {self.audience!r} is not one of {AUDIENCES}")
        if self.action is not None and not self.action.strip():
            raise ValueError(f"finding {self.topic!r} has an empty action (use None)")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "impact": self.impact}


def finding(topic: str, text: str, *, action: str | None = None, priority: int = 2,
            evidence: Iterable[Evidence] = (), numbers: Mapping[str, Any] | None = None,
            users_affected: int | None = None, effect_size: float | None = None) -> Finding:
    """A finding of a registered topic; its section and audience come from the registry.
    With an impact (users_affected and effect_size), the evidence also records both, under
    the table of its first entry (the executive summary quotes them)."""
    evidence = list(evidence)
    users = None if users_affected is None else int(users_affected)
    effect = None if effect_size is None else float(effect_size)
    if users is not None and effect is not None:
        evidence.append(Evidence(evidence[0].table if evidence else "", {},
                                 {"users_affected": users, "effect_size": effect}))
    return Finding(topic, section_of(topic), TOPICS[topic], text, action, priority,
                   tuple(evidence), {k: plain(v) for k, v in (numbers or {}).items()},
                   users, effect)


def from_dict(item: Mapping[str, Any]) -> Finding:
    """A record read back from insights.json. A record of an older run (no topic) gets topic and
    audience None: nothing is guessed from its wording."""
    return Finding(
        topic=item.get("topic"), section=item.get("section", ""), audience=item.get("audience"),
        text=item.get("text", ""), action=item.get("action"), priority=item.get("priority", 2),
        evidence=tuple(Evidence(e.get("table", ""), dict(e.get("key") or {}),
                                dict(e.get("values") or {}))
                       for e in item.get("evidence") or ()),
        numbers=dict(item.get("numbers") or {}),
        users_affected=item.get("users_affected"), effect_size=item.get("effect_size"),
    )


def findings_from_json(items: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Records of a parsed insights.json, in file order."""
    return [from_dict(item) for item in items]


def read_findings(path: Path) -> list[Finding]:
    """The findings saved at `path` (tables/insights.json), or [] when the file is absent."""
    path = Path(path)
    return findings_from_json(json.loads(path.read_text())) if path.is_file() else []
