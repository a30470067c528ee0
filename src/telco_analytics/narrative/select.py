"""The one place where outputs choose findings: by topic, section, audience or action, never by
the wording of a sentence.

The report, the slides and the dashboard call these functions, so that a finding shows in the
same places everywhere and a reworded sentence never moves it. A topic absent from a run gives
nothing: no other finding takes its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .records import Finding

SUMMARY = "summary"  # the section of the executive summary's record
EXECUTIVE = "summary.executive"


def _by_priority(findings: Iterable[Finding]) -> list[Finding]:
    """Most important first; file order among equals (sorted is stable)."""
    return sorted(findings, key=lambda f: f.priority)


def by_topic(findings: Iterable[Finding], topic: str) -> Finding | None:
    """The finding of this topic, or None when the run has none."""
    return next((f for f in findings if f.topic == topic), None)


def for_topics(findings: Sequence[Finding], topics: Iterable[str]) -> list[Finding]:
    """The findings of these topics, in the order asked; absent topics are left out."""
    found = (by_topic(findings, t) for t in topics)
    return [f for f in found if f is not None]


def for_section(findings: Iterable[Finding], *sections: str) -> list[Finding]:
    """Every finding of these sections, most important first, records of older runs (no topic)
    included: a section list is the one place where those are shown."""
    return _by_priority(f for f in findings if f.section in sections)


def key_findings(findings: Iterable[Finding], n: int = 5) -> list[Finding]:
    """The n most important findings: priority 1 first, one per section before a second one.

    Sorting by (priority, rank within its section) spreads the summary over the analyses
    instead of filling it with the first section's findings. Only findings with a topic count:
    an older run's records are not promoted on the strength of their wording, nor is the
    executive summary's own record (see executive_summary).
    """
    seen: dict[str, int] = {}
    keyed = []
    ranked = (f for f in findings if f.topic is not None and f.section != SUMMARY)
    for position, item in enumerate(ranked):
        rank = seen.get(item.section, 0)  # handsets and overview count as two analyses here
        seen[item.section] = rank + 1
        keyed.append(((item.priority, rank, position), item))
    return [item for _, item in sorted(keyed, key=lambda pair: pair[0])[:n]]


def actions(findings: Iterable[Finding], n: int | None = None) -> list[Finding]:
    """The findings that recommend an action, most important first (at most n)."""
    found = _by_priority(f for f in findings if f.topic is not None and f.action)
    return found if n is None else found[:n]


def executive_summary(findings: Sequence[Finding]) -> list[Finding]:
    """The executive summary: the 3-5 findings that matter most, in order, as the run's
    summary.executive record lists them by topic (ranked by users affected x size of effect,
    the rule in that record's numbers["rule"]); [] for a run without it."""
    record = by_topic(findings, EXECUTIVE)
    if record is None:
        return []
    return for_topics(findings, record.numbers.get("topics", []))
