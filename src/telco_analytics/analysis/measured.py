"""Measured or filled: how much of each experience metric is real data rather than the value
cleaning put in its place (SPEC rule 3 replaces missing values and outliers by a mean).

The clean sessions carry a flag per metric (clean.measured_flags). `measured_sessions` sums
them in the engine (one scan); `experience_measurement` adds the users' side from the per-user
measured shares. A metric measured in fewer than `mostly_filled_share` of the sessions is
*mostly filled*: the analyses show it with its counts but rank nothing and advise nothing on it.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import numpy as np
import pandas as pd

from .. import schema
from ..config import AnalysisParams

METRICS = list(schema.EXPERIENCE_METRICS)
# +1: a larger value is a worse experience; -1: a larger value is a better one (SPEC rule 9)
BADNESS_SIGN = {"tcp_retrans_bytes": 1.0, "rtt_ms": 1.0, "throughput_kbps": -1.0}


def at_fence(metric: str) -> str:
    """A grouped table's column: observed sessions whose `metric` counts at a cleaning fence
    (a raw value beyond it: real, but not measured in the sense of rule 3)."""
    return f"{schema.METRIC_SHORT[metric]}_sessions_at_fence"


def measured_sessions(clean_sessions: ibis.Table) -> dict[str, dict[str, float]]:
    """Per experience metric, over every clean session (with or without MSISDN): sessions,
    measured_sessions and measured_share (0-1: no column filled in by cleaning), and the
    observed values' count, mean and population standard deviation (NaN without any): the
    reference the hotspot rankings compare with. A plain dict (metric -> values): a
    run-internal dataset, not a published table."""
    s = clean_sessions
    aggs = {"sessions": s.count()}
    for i, m in enumerate(METRICS):
        observed = s[schema.observed_value(m)]
        aggs.update({f"m_{i}": s[schema.measured_flag(m)].cast("int64").sum(),
                     f"n_{i}": observed.count(), f"mean_{i}": observed.mean(),
                     f"std_{i}": observed.std(how="pop")})
    row = s.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    sessions = int(row["sessions"])

    def number(value: float | None) -> float:
        return np.nan if value is None else float(value)

    return {m: {
        "sessions": sessions,
        "measured_sessions": int(row[f"m_{i}"] or 0),
        "measured_share": int(row[f"m_{i}"] or 0) / max(sessions, 1),
        "observed_sessions": int(row[f"n_{i}"] or 0),
        "mean": number(row[f"mean_{i}"]),
        "std": number(row[f"std_{i}"]),
    } for i, m in enumerate(METRICS)}


def ranking_metrics(measured: Mapping[str, Mapping[str, float]],
                    params: AnalysisParams) -> list[str]:
    """The metrics measured in at least `mostly_filled_share` of the sessions (in METRICS
    order): the only ones that rank cells, hours and handsets."""
    return [m for m in METRICS
            if m in measured and measured[m]["measured_share"] >= params.mostly_filled_share]


def experience_measurement(measured_sessions: Mapping[str, Mapping[str, float]],
                           user_experience: pd.DataFrame,
                           params: AnalysisParams) -> pd.DataFrame:
    """Per experience metric, how much is measured rather than filled.

    Columns metric, sessions, measured_sessions, measured_share (over sessions),
    observed_sessions (raw value present, extreme ones counted at the fence) with the mean and
    std of those values, users, users_measured (at least one measured session),
    users_measured_share, users_all_measured (every session measured),
    users_all_measured_share, mostly_filled (measured_share < mostly_filled_share). Reads one
    float32 share column of the users at a time.
    """
    users = len(user_experience)
    out = pd.DataFrame([{"metric": m, **measured_sessions[m]} for m in METRICS])
    some, every = [], []
    for metric in out["metric"]:
        share = user_experience[schema.measured_share(metric)].to_numpy()
        some.append(int(np.count_nonzero(share > 0)))
        every.append(int(np.count_nonzero(share == 1)))
    out["users"] = np.int64(users)
    out["users_measured"] = np.array(some, dtype="int64")
    out["users_measured_share"] = out["users_measured"] / max(users, 1)
    out["users_all_measured"] = np.array(every, dtype="int64")
    out["users_all_measured_share"] = out["users_all_measured"] / max(users, 1)
    out["mostly_filled"] = out["measured_share"] < params.mostly_filled_share
    return out
