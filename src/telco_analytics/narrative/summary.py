"""The executive summary: the 3-5 findings that matter most for growth, for an investor or
TellCo's leadership (where the growth is, where experience loses customers, what to do first).

Rule (RULE, also in the record): findings are ranked by impact = users affected x size of
effect, the size of effect being the relative gap of the finding's key number to the typical
user (0.27: a segment using 27% less data than the average user). A finding that rests on a
mostly filled metric, or on a gap no larger than chance, has no impact and is never chosen.
The best growth finding and the best experience finding are always in; the rest by impact.
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import Evidence, Finding, finding

RULE = ("ranked by users affected x size of effect (the relative gap of the finding's key "
        "number to the typical user; a finding resting on a mostly filled metric, or on a gap "
        "no larger than chance, does not rank)")
SMALLEST, LARGEST = 3, 5
PLACES = ("first", "second", "third", "fourth", "fifth")
# the leadership question each impact-bearing topic answers, and how the summary names it
QUESTIONS = {
    "engagement.least_engaged_cluster": ("growth", "growth in the least engaged users"),
    "engagement.most_engaged_cluster": ("growth", "keeping the most engaged users"),
    "experience.worst_cells": ("experience", "the worst cells"),
    "experience.worst_cluster": ("experience", "the worst-experience users"),
    "experience.handset_throughput": ("experience", "the slowest handset"),
}


def ranked_by_impact(findings: Sequence[Finding]) -> list[Finding]:
    """The findings with an impact, largest first (ties by topic)."""
    return sorted((f for f in findings if f.topic is not None and f.impact),
                  key=lambda f: (-f.impact, f.topic))


def summary_findings(findings: Sequence[Finding]) -> list[Finding]:
    """The 3-5 findings of the executive summary, in order: the best growth and experience
    findings first, then by impact; topped up to 3 with priority-1 findings that carry an
    action when too few have an impact."""
    ranked = ranked_by_impact(findings)
    chosen: list[Finding] = []
    for question in ("growth", "experience"):
        best = next((f for f in ranked if QUESTIONS.get(f.topic, ("",))[0] == question), None)
        if best is not None:
            chosen.append(best)
    chosen += [f for f in ranked if f not in chosen][: LARGEST - len(chosen)]
    chosen.sort(key=lambda f: (-f.impact, f.topic))
    if len(chosen) < SMALLEST:
        extra = [f for f in findings if f.topic is not None and f.priority == 1 and f.action
                 and f not in chosen and f.section != "summary"]
        chosen += extra[: SMALLEST - len(chosen)]
    return chosen


def _label(item: Finding) -> str:
    """How the summary names a finding: 'the worst cells', else its topic in words."""
    default = "the " + (item.topic or item.section).split(".")[-1].replace("_", " ")
    return QUESTIONS.get(item.topic, ("", default))[1]


def executive_summary_finding(findings: Sequence[Finding]) -> Finding | None:
    """The summary record (topic summary.executive): the rule, the chosen findings with their
    users and size of effect, and the action to take first; its evidence is theirs."""
    chosen = summary_findings(findings)
    if not chosen:
        return None
    ranked = [f for f in chosen if f.impact]
    parts = [f"{place}, {_label(item)} ({item.users_affected:,} users, size of effect "
             f"{abs(item.effect_size):.2f})" for place, item in zip(PLACES, ranked)]
    others = [_label(f) for f in chosen if not f.impact]
    if others:
        parts.append("also worth a look: " + ", ".join(others))
    text = "What matters most for growth, " + RULE + ": " + "; ".join(parts) + "."
    first = next((f for f in chosen if f.action), None)
    if first is not None:
        text += f" To do first: {first.action}"
    evidence: list[Evidence] = [e for item in chosen for e in item.evidence]
    return finding("summary.executive", text, priority=1, evidence=evidence, numbers={
        "topics": [f.topic for f in chosen], "rule": RULE,
        "impacts": [f.impact for f in chosen]})
