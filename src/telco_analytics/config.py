"""Frozen, validated settings of a run, in two objects that never mix.

`AnalysisParams` are the definitions of the numbers (SPEC section 4 defaults, and the sampling
rules that decide what a model is fitted on): changing one changes a result. `ExecutionSettings`
say how the machine does the work (engine, cores, memory strategies): changing one never
changes a result. Both are checked when built; a bad value raises one ConfigError line naming
every wrong field and its allowed range.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import ConfigError

# a field's rule: (check, allowed values as the error message says them)
Rule = tuple[Callable[[Any], bool], str]


def _int_at_least(low: int) -> Rule:
    return (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low,
            f"an integer >= {low}")


def _number_in(low: float, high: float, *, low_open: bool, high_open: bool) -> Rule:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
            return False
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        return above and below

    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return check, f"a number in {left}{low:g}, {high:g}{right}"


def _validate(obj: Any, rules: dict[str, Rule], what: str) -> None:
    """Raise one ConfigError listing every field whose value breaks its rule."""
    problems = [f"{name} must be {allowed}, got {getattr(obj, name)!r}"
                for name, (check, allowed) in rules.items() if not check(getattr(obj, name))]
    problems += _cross_checks(obj)
    if problems:
        raise ConfigError(f"invalid {what}: " + "; ".join(problems))


def _cross_checks(obj: Any) -> list[str]:
    """Rules between fields (each field is valid on its own)."""
    if not isinstance(obj, AnalysisParams):
        return []
    problems = []
    try:
        if obj.elbow_sample_size < obj.elbow_k_max:
            problems.append(f"elbow_sample_size must be >= elbow_k_max ({obj.elbow_k_max}), "
                            f"got {obj.elbow_sample_size}")
        largest_k = max(obj.elbow_k_max, obj.k_engagement, obj.k_experience, obj.k_satisfaction)
        if obj.kmeans_restart_sample_size < largest_k:
            problems.append(f"kmeans_restart_sample_size must be >= the largest k ({largest_k}), "
                            f"got {obj.kmeans_restart_sample_size}")
    except TypeError:  # a wrong type, already reported by its own rule
        pass
    return problems


ANALYSIS_RULES: dict[str, Rule] = {
    "iqr_factor": _number_in(0, float("inf"), low_open=True, high_open=True),
    "k_engagement": _int_at_least(2),
    "k_experience": _int_at_least(2),
    "k_satisfaction": _int_at_least(2),
    "kmeans_n_init": _int_at_least(1),
    "random_state": _int_at_least(0),
    "elbow_k_max": _int_at_least(3),
    "elbow_n_init": _int_at_least(1),
    "test_size": _number_in(0, 1, low_open=True, high_open=True),
    "regression_max_iter": _int_at_least(1),
    "regression_learning_rate": _number_in(0, 1, low_open=True, high_open=False),
    "handset_min_users": _int_at_least(1),
    "kmeans_sample_threshold": _int_at_least(1),
    "kmeans_sample_size": _int_at_least(1),
    "regression_sample_size": _int_at_least(10),
    "elbow_sample_size": _int_at_least(1),
    "kmeans_restart_sample_size": _int_at_least(1),
    "kmeans_refine": _int_at_least(1),
    "mostly_filled_share": _number_in(0, 1, low_open=False, high_open=False),
    "cell_min_sessions": _int_at_least(2),
    "interval_level": _number_in(0, 1, low_open=True, high_open=True),
    "engagement_log_scale": (lambda v: isinstance(v, bool), "True or False"),
    "stability_seeds": _int_at_least(2),
    "stability_sample_size": _int_at_least(10),
    "log_scale_sample_size": _int_at_least(1),
    "small_cluster_share": _number_in(0, 1, low_open=False, high_open=True),
}


class _AsDict:
    """Settings written into the manifest as a plain dict."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class AnalysisParams(_AsDict):
    """The definitions of the numbers: SPEC section 4 defaults and the sampling rules."""

    # rule 3: cleaning fences at Q1 - iqr_factor * IQR, Q3 + iqr_factor * IQR
    iqr_factor: float = 1.5
    # rules 8 / 9 / 10: clustering
    k_engagement: int = 3
    k_experience: int = 3
    k_satisfaction: int = 2
    kmeans_n_init: int = 10
    random_state: int = 42
    elbow_k_max: int = 10
    # restarts per k of the elbow curve when it is fitted on a sample of users (beyond
    # elbow_sample_size users); on all users every k gets kmeans_n_init restarts, as the k=3
    # fit. 3 restarts gave the same knee as 10 on every generated dataset tried
    elbow_n_init: int = 3
    # rule 10: regression hold-out share
    test_size: float = 0.2
    # 75 boosting iterations at learning rate 0.25: within 0.001 of the test R^2 of 200 at 0.1,
    # 2.4x faster (see models/regression.py)
    regression_max_iter: int = 75
    regression_learning_rate: float = 0.25
    # experience per handset: handsets with at least this many users are reported
    handset_min_users: int = 30
    # beyond kmeans_sample_threshold users, k-means is fitted on a uniform sample of
    # kmeans_sample_size users and the regression on regression_sample_size users (every user
    # is still assigned and scored); below it every user is fitted (k-means restarts: see
    # kmeans_restart_sample_size)
    kmeans_sample_threshold: int = 1_000_000
    kmeans_sample_size: int = 1_000_000
    regression_sample_size: int = 250_000
    # beyond this many users the elbow curve (k = 1..elbow_k_max) is fitted on a uniform
    # sample of this many users (elbow_n_init restarts); up to it on all users, exactly
    elbow_sample_size: int = 200_000
    # k-means on more users than kmeans_restart_sample_size (every fit: the three clusterings
    # and each k of the elbow): its restarts run on a weighted sample of that many of them
    # (a lightweight coreset: the few extreme users are drawn, and weighted, as they weigh in
    # the inertia), the kmeans_refine best are refined on all of them (models/kmeans_fit.py).
    # Its inertia was within 1.001x of KMeans(n_init=10) on every user at k = 2, 3 on heavy-
    # tailed generated data, 1.006x at k up to 10, at a quarter of the CPU. A size above the
    # number of users fits every restart on every user. The default is elbow_sample_size: up
    # to 200k users every fit, and every k of the elbow, is KMeans(n_init) on every user, as
    # SPEC's definition reads (an independent implementation gets the same partitions and
    # inertias); the sampled restarts serve the k=3 fits of larger extracts (5x less CPU).
    kmeans_restart_sample_size: int = 200_000
    kmeans_refine: int = 2
    # measured or filled (rule 3 replaced a value): a metric measured in fewer than this share
    # of sessions is "mostly filled"; it ranks no cell, hour or handset and drives no advice
    mostly_filled_share: float = 0.5
    # network hotspots: cells with at least this many sessions are ranked, worst first, by the
    # lower end of the interval_level interval of their badness (see analysis/hotspots.py)
    cell_min_sessions: int = 20
    interval_level: float = 0.95
    # engagement beside the SPEC clustering: the same k-means on log-scaled metrics (heavy
    # tails), and the stability of both (adjusted Rand index between stability_seeds seeds,
    # fitted on a uniform sample of at most stability_sample_size users)
    engagement_log_scale: bool = True
    stability_seeds: int = 5
    stability_sample_size: int = 10_000
    # the log-scaled k-means (a side view) learns from a uniform sample of at most this many
    # users; every user is still assigned (at 1.5M sessions it cost as much as the SPEC fit)
    log_scale_sample_size: int = 200_000
    # a cluster holding less than this share of users is said to be one of a few outliers
    small_cluster_share: float = 0.01

    def __post_init__(self) -> None:
        _validate(self, ANALYSIS_RULES, "analysis parameters")


EXECUTION_RULES: dict[str, Rule] = {
    "engine": (lambda v: v in ("duckdb", "spark"), "'duckdb' or 'spark'"),
    "workers": (lambda v: v is None or _int_at_least(1)[0](v), "None or an integer >= 1"),
    "side_by_side_max_users": _int_at_least(1),
    "engine_child_min_bytes": _int_at_least(0),
    "ingest_cache": (lambda v: isinstance(v, bool), "True or False"),
}


@dataclass(frozen=True)
class ExecutionSettings(_AsDict):
    """How the machine does the work; never changes a number of the results."""

    # engine of the session-level steps (read, clean, per-user tables)
    engine: str = "duckdb"
    # worker threads for independent work; None = the cores this process may use
    # (affinity and cgroup quota aware, see run.execution.available_cores)
    workers: int | None = None
    # up to this many users, independent nodes run side by side (sharing the cores); beyond it
    # one after the other, so that their temporaries (several GB each at tens of millions of
    # users) are never held at the same time
    side_by_side_max_users: int = 20_000_000
    # DuckDB input at least this large on disk (bytes) is read, cleaned and aggregated in a
    # child process that hands the per-user table over as Parquet: the engine's allocator
    # keeps GBs after a large group-by (28.5M users: about 4 GB) that only its process's end
    # returns. 0 = always; below it the engine runs in the process (no start-up cost)
    engine_child_min_bytes: int = 1_000_000_000
    # keep a parsed CSV extract as Parquet in the user cache folder, keyed by its content and
    # the reader's version, so that the next run on it skips parsing (`telco run --no-cache`)
    ingest_cache: bool = True

    def __post_init__(self) -> None:
        _validate(self, EXECUTION_RULES, "execution settings")


def field_names(cls: type) -> list[str]:
    """The settable fields of AnalysisParams or ExecutionSettings."""
    return [f.name for f in fields(cls)]
