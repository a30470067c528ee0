"""The deck's story, in order: title, executive summary, one slide per key finding (its title the
point, its chart or table exactly that point), recommendations, then an appendix divider and the
technical slides.

Findings are chosen by topic key (narrative/select.py), never by wording. A slide title states
the point with the numbers the finding recorded from the tables (finding.numbers); when the run
lacks them the slide keeps a plain fallback title.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from ...narrative import select
from ...narrative.records import Finding
from . import facts
from .facts import share
from .wording import variants

if TYPE_CHECKING:
    from ..run_data import RunData

Titles = Callable[[dict[str, Finding], "RunData"], list[str]]
TableOf = Callable[["RunData", dict[str, Finding]], "pd.DataFrame | None"]

APP_NAMES = {"youtube": "YouTube", "social_media": "Social Media", "netflix": "Netflix",
             "gaming": "Gaming", "google": "Google", "email": "Email", "other": "Other"}


def _app(name: str) -> str:
    return APP_NAMES.get(name, name.replace("_", " ").title())


def _n(found: dict[str, Finding], topic: str) -> dict:
    item = found.get(topic)
    return item.numbers if item is not None else {}


# ---------------------------------------------------------------- titles that state the point


def t_segments(found, data):
    most, least = (_n(found, "engagement.most_engaged_cluster"),
                   _n(found, "engagement.least_engaged_cluster"))
    out = []
    if {"users_share", "traffic_share"} <= most.keys():
        head = f"{share(most['users_share'])} of users carry {share(most['traffic_share'])} of traffic"
        if "users_share" in least:
            out.append(f"{head}; {share(least['users_share'])} are light users")
        out.append(head)
    return out


def t_apps(found, data):
    n = _n(found, "overview.app_traffic")
    apps = n.get("top_apps") or []
    if len(apps) >= 2 and "top2_share_of_classified" in n:
        s = share(n["top2_share_of_classified"])
        return [f"{_app(apps[0])} and {_app(apps[1])} carry {s} of the traffic classified by app",
                f"{_app(apps[0])} and {_app(apps[1])} carry {s} of app traffic"]
    return []


def t_deciles(found, data):
    n = _n(found, "overview.duration_deciles")
    if "decile1_traffic_share" not in n:
        return []
    s = share(n["decile1_traffic_share"])
    return [f"The 10% of users online longest generate {s} of all traffic",
            f"The 10% online longest generate {s} of traffic"]


def t_top_handset(found, data):
    n = _n(found, "handsets.top_handset")
    if "top_handset" not in n:
        return []
    h = n["top_handset"]
    out = [f"The most used device is a home router, the {h}"] if n.get("is_router") else []
    return out + [f"The {h} is the most used device"]


def t_manufacturers(found, data):
    n = _n(found, "handsets.manufacturers")
    if "leader" not in n or "leader_share" not in n:
        return []
    return [f"{n['leader']} leads the manufacturers with {share(n['leader_share'])} of sessions",
            f"{n['leader']} leads with {share(n['leader_share'])} of sessions"]


def t_throughput(found, data):
    n = _n(found, "experience.handset_throughput")
    if "lowest" not in n or "lowest_kbps" not in n:
        return []
    kbps = facts.kbps_text(n["lowest_kbps"]).replace(facts.NBSP, " ")
    return [f"The {n['lowest']} gets the lowest throughput: {kbps}",
            f"The {n['lowest']} gets the lowest throughput"]


def t_cells(found, data):
    n = _n(found, "experience.worst_cells")
    if "cells_ranked" not in n or not isinstance(n.get("cells_standing_out"), list):
        return []
    k, total = len(n["cells_standing_out"]), n["cells_ranked"]
    if k == 0:
        return [f"None of the {total:,} cells ranked stands out beyond chance"]
    return [f"{k} of {total:,} cells give poor experience beyond chance",
            f"{k} cells give poor experience beyond chance"]


def t_satisfaction(found, data):
    n = _n(found, "satisfaction.satisfied_group")
    if "satisfied_share" not in n:
        return []
    head = f"{share(n['satisfied_share'])} of users form the most satisfied group"
    gap_e, gap_x = n.get("engagement_gap"), n.get("experience_gap")
    out = []
    if gap_e is not None and gap_x is not None:
        out.append(f"{head}, set apart by "
                   + ("engagement" if abs(gap_e) >= abs(gap_x) else "experience"))
    return out + [head]


def t_correlation(found, data):
    n = _n(found, "overview.app_correlation")
    if not n.get("pair") or "r" not in n:
        return []
    a, b = (_app(x) for x in n["pair"][:2])
    return [f"{a} and {b} are the most linked apps (r = {n['r']:.2f})"]


def t_pca(found, data):
    n, first = _n(found, "overview.pca_components"), _n(found, "overview.pca_first_component")
    if n.get("components_80") == 1 and "pc1_ratio" in first:
        return [f"One component, overall volume, keeps {share(first['pc1_ratio'])} of the variance",
                f"One component keeps {share(first['pc1_ratio'])} of the variance"]
    if "components_80" in n:
        return [f"{n['components_80']} principal components keep 80% of the variance"]
    return []


def t_elbow(found, data):
    n = _n(found, "engagement.elbow")
    if "chosen_k" not in n or "explained" not in n:
        return []
    return [(f"The elbow is at k = {n['chosen_k']}: {n['chosen_k']} groups explain "
            f"{share(n['explained'])} of the spread"),
            f"The elbow of the k-means inertia is at k = {n['chosen_k']}"]


def t_experience_clusters(found, data):
    n = _n(found, "experience.worst_cluster")
    if "users_share" not in n:
        return []
    return [f"{share(n['users_share'])} of users fall in the worst-experience cluster"]


def t_top_users(found, data):
    n = _n(found, "satisfaction.top_users")
    if "tenth_score" not in n or "top_score" not in n:
        return []
    return [f"The ten most satisfied users score {n['tenth_score']:.2f} to {n['top_score']:.2f}"]


def t_model(found, data):
    m = facts.model_metrics(data)
    if m is None:
        return []
    return [f"The satisfaction model reaches R² = {facts.metric_text(m['r2'])} on held-out users",
            f"The satisfaction model reaches R² = {facts.metric_text(m['r2'])}"]


def t_tracking(found, data):
    runs = data.tracking_runs
    if runs is None or runs.empty:
        return []
    count = f"{len(runs)} run" + ("s" if len(runs) != 1 else "")
    return [f"Every run is tracked in MLflow: {count} so far",
            "Every run is tracked in MLflow"]


# ---------------------------------------------------------------- the slides


@dataclass(frozen=True)
class FindingSlide:
    """A slide of findings: bullets from these topics, a chart (first stem the run has) or a
    table, and a title stating the point."""

    key: str
    fallback: str  # title when the run has not recorded the numbers of the point
    topics: tuple[str, ...]
    stems: tuple[str, ...] = ()
    titles: Titles | None = None
    table: TableOf | None = None
    actions: bool = True  # the findings' actions as bullets too
    extra: Callable[[RunData], list[str]] = field(default=lambda data: [])

    @property
    def title(self) -> str:
        return self.fallback


def _throughput_table(data, found):
    return facts.slowest_handsets(data, found.get("experience.handset_throughput"))


def _cells_table(data, found):
    return facts.worst_cells(data)


def _model_table(data, found):
    return facts.model_table(data)


def _tracking_table(data, found):
    return facts.tracking_table(data)


# the key findings, in the order the story tells them
FINDING_SLIDES = (
    FindingSlide("engagement_segments", "Engagement segments",
                 ("engagement.most_engaged_cluster", "engagement.least_engaged_cluster"),
                 ("engagement_cluster_profile",), t_segments),
    FindingSlide("app_traffic", "Traffic by app", ("overview.app_traffic", "engagement.top_apps"),
                 ("app_totals",), t_apps),
    FindingSlide("duration_deciles", "Time online and traffic", ("overview.duration_deciles",),
                 ("decile_data",), t_deciles),
    FindingSlide("top_handset", "The most used handsets", ("handsets.top_handset",),
                 ("handsets_top10",), t_top_handset),
    FindingSlide("manufacturers", "The top manufacturers", ("handsets.manufacturers",),
                 ("handsets_top5_per_manufacturer", "manufacturers_top3"), t_manufacturers),
    FindingSlide("handset_throughput", "Throughput by handset",
                 ("experience.handset_throughput",), (), t_throughput, _throughput_table),
    FindingSlide("worst_cells", "Cells with the worst experience", ("experience.worst_cells",),
                 (), t_cells, _cells_table),
    FindingSlide("satisfaction", "Satisfaction groups",
                 ("satisfaction.satisfied_group", "satisfaction.drivers"),
                 ("satisfaction_clusters",), t_satisfaction),
)
# the technical slides after the appendix divider (data and cleaning come first, built apart)
APPENDIX_SLIDES = (
    FindingSlide("app_correlation", "App correlation", ("overview.app_correlation",),
                 ("app_correlation",), t_correlation),
    FindingSlide("pca", "Principal components",
                 ("overview.pca_components", "overview.pca_first_component"),
                 ("pca_scree", "pca_loadings"), t_pca),
    FindingSlide("elbow", "Choosing the number of engagement groups", ("engagement.elbow",),
                 ("engagement_elbow",), t_elbow),
    FindingSlide("experience_clusters", "Experience clusters",
                 ("experience.worst_cluster", "experience.measurement"),
                 ("experience_cluster_profile",), t_experience_clusters),
    FindingSlide("top_users", "The most satisfied users", ("satisfaction.top_users",),
                 ("satisfaction_top10",), t_top_users),
    FindingSlide("model", "Satisfaction model quality",
                 ("satisfaction.model_quality", "satisfaction.model_leakage"),
                 ("regression_metrics", "regression_predictions"), t_model, _model_table),
    FindingSlide("tracking", "Model tracking", ("satisfaction.training_loss",),
                 ("loss_curve", "regression_loss"), t_tracking, _tracking_table, actions=False),
)


def found_for(data: RunData, spec: FindingSlide) -> dict[str, Finding]:
    return {f.topic: f for f in select.for_topics(data.insights, spec.topics) if f.topic}


def title_options(spec: FindingSlide, data: RunData) -> list[str]:
    made = spec.titles(found_for(data, spec), data) if spec.titles is not None else []
    return [*made, spec.fallback]


def bullet_options(findings: Sequence[Finding], actions: bool = True) -> list[list[str]]:
    """Per bullet, its wordings longest first: each finding's point, then the actions."""
    out = [variants(f.text) for f in findings]
    if actions:
        out += [variants(f.action) for f in findings if f.action]
    return [o for o in out if o]


def notes_of(findings: Sequence[Finding]) -> list[str]:
    """The full text of the findings and their actions, for the speaker notes."""
    out = []
    for f in findings:
        out.append(" ".join(f.text.split()))
        if f.action:
            out.append("Action: " + " ".join(f.action.split()))
    return out


# the executive summary says these findings by the point their slide's title states (their
# first sentence lists cells or handsets: too much for a summary bullet)
POINTS: dict[str, Titles] = {"experience.worst_cells": t_cells,
                             "experience.handset_throughput": t_throughput}
SUMMARY_CHARS = 170  # a summary bullet reads at a glance; longer wordings go to the notes


def summary_options(item: Finding, data: RunData) -> list[str]:
    """Wordings of a finding for the executive summary, longest first."""
    point = POINTS.get(item.topic or "")
    if point is not None:
        made = point({item.topic: item}, data)
        if made:
            return [f"{t}." for t in made]
    every = variants(item.text)
    short = [v for v in every if len(v) <= SUMMARY_CHARS]
    return short or every


def summary_findings(data: RunData) -> list[Finding]:
    """The executive summary's findings (the summary.executive record's choice), or for a run
    without that record the most important findings."""
    return select.executive_summary(data.insights) or select.key_findings(data.insights, 4)
