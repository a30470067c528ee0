"""Network hotspots: the cells, hours of the day and handsets where the network serves users
worst, from the values the network recorded only: a value that cleaning filled in (the mean
that replaces a missing value or an outlier, SPEC rule 3) never counts.

Per session and metric the clean sessions carry the observed value (clean.measured_columns):
the raw value, with a value beyond a cleaning fence counted at the fence, so that a
congested cell's extreme sessions still count as bad without one of them outweighing the
rest; a missing value is left out. One engine query per grouping sums, per metric, these
values and their squares (`group_sums`); the ranking runs in pandas on the small grouped
table (`ranked_groups`).

Ranking rule (also in the manifest, RANKING_RULE): per group and ranking metric m (the metrics
not mostly filled, see measured.ranking_metrics), z_m = sign_m * (mean_m - mu_m) / sigma_m
against every observed session (sign +1 where larger is worse: RTT, retransmission; -1 for
throughput); badness = the sum of the z_m; with the population's spread its standard error
is sqrt(sum of 1 / n_m) (n_m the group's observed sessions). Groups are ranked by the lower
end of the interval_level interval of the badness: by how bad they are at least, so a group
with few sessions (a wide interval) cannot top the list by chance. A group *stands out* when
its badness is above 0 even at the family-wise level (the interval widened, Bonferroni, for
the number of groups compared): what hundreds of cells can show beyond chance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from statistics import NormalDist
from typing import Any

import ibis
import numpy as np
import pandas as pd

from .. import schema
from ..aggregate import known_handset
from ..config import AnalysisParams
from .measured import BADNESS_SIGN, METRICS, at_fence, ranking_metrics

# the reported metrics, in the order of the published columns
REPORTED = ["rtt_ms", "tcp_retrans_bytes", "throughput_kbps"]
CELL, HOUR, HANDSET = "cell", "hour", "handset"
RANKING_RULE = (
    "values the network recorded only (missing values left out, values beyond a cleaning fence "
    "counted at the fence, never the cleaning replacement); per group and metric not mostly "
    "filled, z = (mean - mean of all sessions) / their standard deviation, signed so that "
    "larger is worse (RTT, retransmission up, throughput down); badness = sum of z; ranked "
    "worst first by the lower end of the badness interval (normal approximation, standard "
    "error sqrt(sum 1/n) with n the group's sessions with a value of each metric), ties by "
    "name; stands_out = badness above 0 at the family-wise level (Bonferroni over the groups)"
)


Expr = Callable[[ibis.Table], ibis.Value]
Measured = Mapping[str, Mapping[str, float]]  # measured.measured_sessions


def group_sums(clean_sessions: ibis.Table, name: str, key: Expr | None = None,
               where: Expr | None = None) -> pd.DataFrame:
    """Per value of key(sessions) (named `name`; default the column `name`) over the sessions
    with a key: sessions, users (distinct MSISDN), and per metric `<short>_sessions`
    (sessions with an observed value), `<metric>_sum` and `<metric>_sumsq` of the observed
    values, `<short>_sessions_at_fence` (of them, counted at a cleaning fence).
    where(sessions): an extra filter."""
    s = clean_sessions.mutate(_key=clean_sessions[name] if key is None else key(clean_sessions))
    s = s.filter(s._key.notnull() if where is None else s._key.notnull() & where(s))
    aggs: dict[str, Any] = {"sessions": s.count(), "users": s.msisdn.nunique()}
    for m in METRICS:
        v = s[schema.observed_value(m)]
        aggs.update({schema.measured_sessions(m): v.count(), f"{m}_sum": v.sum(),
                     f"{m}_sumsq": (v * v).sum(),
                     at_fence(m): (v.notnull() & ~s[schema.measured_flag(m)]).cast("int64").sum()})
    out = s.group_by(s._key.name(name)).aggregate(**aggs).to_pandas()
    counts = ["sessions", "users", *[schema.measured_sessions(m) for m in METRICS],
              *[at_fence(m) for m in METRICS]]
    out[counts] = out[counts].astype("int64")
    sums = [c for c in out.columns if c.endswith(("_sum", "_sumsq"))]
    out[sums] = out[sums].astype("float64").fillna(0.0)
    return out


def ranked_groups(sums: pd.DataFrame, name: str, measured: Measured,
                  params: AnalysisParams) -> pd.DataFrame:
    """The groups of `group_sums` ranked worst first (RANKING_RULE), with per metric the
    measured mean and its interval_level interval `<metric>_low` / `<metric>_high`.

    Columns name, sessions, users, then per metric `<short>_sessions`, `<metric>`; rank,
    badness, badness_low, badness_high; stands_out (the badness above 0 at the
    family-wise level: the interval_level interval widened for the number of groups,
    Bonferroni); the intervals (normal approximation with the spread
    of all observed sessions, the low end at least 0) and their interval_level; per metric
    `<short>_sessions_at_fence`. A metric without measured sessions in
    a group has a missing mean and counts 0 in its badness.
    """
    z_level = NormalDist().inv_cdf(0.5 + params.interval_level / 2)
    ranking = ranking_metrics(measured, params)
    out = sums[[name, "sessions", "users"]].reset_index(drop=True)
    intervals, fenced, badness = {}, {}, np.zeros(len(out))
    variance = np.zeros(len(out))
    for m in REPORTED:
        n = sums[schema.measured_sessions(m)].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, sums[f"{m}_sum"].to_numpy() / n, np.nan)
            half = z_level * measured[m]["std"] / np.sqrt(n)
        out[schema.measured_sessions(m)] = n.astype("int64")
        out[m] = mean
        fenced[at_fence(m)] = sums[at_fence(m)].to_numpy(dtype="int64")
        # the metrics are never negative, nor is the mean of their values
        intervals[f"{m}_low"], intervals[f"{m}_high"] = np.maximum(mean - half, 0), mean + half
        sigma = measured[m]["std"]
        if m in ranking and sigma > 0:
            z = BADNESS_SIGN[m] * (mean - measured[m]["mean"]) / sigma
            badness += np.where(n > 0, z, 0.0)
            variance += np.where(n > 0, 1 / np.maximum(n, 1), 0.0)
    se = np.sqrt(variance)
    out["badness"], out["badness_low"], out["badness_high"] = (
        badness, badness - z_level * se, badness + z_level * se)
    # worse than the network even allowing for every group compared (Bonferroni): what a
    # list of hundreds of cells can single out beyond chance
    z_family = NormalDist().inv_cdf(1 - (1 - params.interval_level) / (2 * max(len(out), 1)))
    out["stands_out"] = badness - z_family * se > 0
    out = out.assign(**intervals, interval_level=params.interval_level, **fenced)
    out = out.sort_values(["badness_low", name], ascending=[False, True], kind="mergesort")
    out.insert(3 + 2 * len(REPORTED), "rank", np.arange(1, len(out) + 1, dtype="int64"))
    return out.reset_index(drop=True)


def experience_per_cell(clean_sessions: ibis.Table, measured_sessions: Measured,
                        params: AnalysisParams) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Measured experience per cell (`Last Location Name`) with at least cell_min_sessions
    sessions, worst first; and the manifest's `hotspots` facts (rule, threshold, counts)."""
    sums = group_sums(clean_sessions, schema.LOCATION).rename(columns={schema.LOCATION: CELL})
    kept = sums[sums["sessions"] >= params.cell_min_sessions]
    table = ranked_groups(kept, CELL, measured_sessions, params)
    facts = {"hotspots": {
        "ranking_rule": RANKING_RULE,
        "ranking_metrics": ranking_metrics(measured_sessions, params),
        "cell_min_sessions": params.cell_min_sessions,
        "interval_level": params.interval_level,
        "cells": len(sums),
        "cells_ranked": len(table),
        "sessions_with_a_cell": int(sums["sessions"].sum()),
        "sessions_in_ranked_cells": int(kept["sessions"].sum()),
    }}
    return table, facts


def experience_per_hour(clean_sessions: ibis.Table, measured_sessions: Measured,
                        params: AnalysisParams) -> pd.DataFrame:
    """Measured experience per hour of the day (0-23, of the session start time), worst
    first; every hour with a session is listed."""
    sums = group_sums(clean_sessions, HOUR, key=lambda s: s[schema.START].hour())
    sums[HOUR] = sums[HOUR].astype("int64")
    return ranked_groups(sums, HOUR, measured_sessions, params)


def experience_per_handset(clean_sessions: ibis.Table, measured_sessions: Measured,
                           params: AnalysisParams) -> pd.DataFrame:
    """Measured experience per known handset of the sessions (the device each session ran
    on), for handsets with at least handset_min_users users, worst first: the basis of any
    device advice."""
    sums = group_sums(clean_sessions, HANDSET, key=lambda s: s.handset_type,
                      where=lambda s: known_handset(s.handset_type))
    kept = sums[sums["users"] >= params.handset_min_users]
    return ranked_groups(kept, HANDSET, measured_sessions, params)
