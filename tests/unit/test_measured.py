"""Measured or filled: which sessions' experience values are real (SPEC rule 3 replaced none of
their columns), by hand on a few sessions and against plain pandas on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics import engine, schema
from telco_analytics.aggregate import user_experience
from telco_analytics.clean import clean_sessions, cleaning_report
from telco_analytics.io.reader import read_sessions
from tests.helpers import random_raw_sessions, write_raw_csv


def _sessions(con, columns: dict[str, list]) -> tuple:
    """Sessions of users a, a, b, ...: every float column 1.0 unless given."""
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame(index=range(n))
    for c in schema.NAMES:
        spec = schema.BY_NAME[c]
        if spec.dtype == "float64":
            frame[c] = columns.get(c, [1.0] * n)
        elif spec.dtype == "timestamp":
            frame[c] = pd.Timestamp("2019-04-25 10:00")
        else:
            frame[c] = [f"{c}{i}" for i in range(n)]
    frame["msisdn"] = columns.get("msisdn", [f"u{i}" for i in range(n)])
    return engine.from_arrow(con, frame)


def test_a_metric_is_measured_when_every_column_holds_its_raw_value(con):
    # RTT DL 1..9, 100 (an outlier: fences -3.5, 14.5) and a missing value; RTT UL all 1
    # except one missing: rtt is filled on the outlier, the missing DL and the missing UL
    dl = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100, None]
    ul = [1.0] * 10 + [None]
    ul[0] = None
    t = _sessions(con, {"avg_rtt_dl_ms": dl, "avg_rtt_ul_ms": ul})
    report = cleaning_report(t, ["avg_rtt_dl_ms", "avg_rtt_ul_ms"])
    got = clean_sessions(t, report).to_pandas().sort_values("bearer_id", key=lambda s:
                                                             s.str[9:].astype(int))
    assert got["rtt_measured"].tolist() == [False] + [True] * 8 + [False, False]
    # tcp and throughput columns are all 1.0: present and inside their (zero-width) fences
    assert got["tcp_measured"].all() and got["throughput_measured"].all()
    # the cleaned values themselves are the SPEC ones
    assert got["avg_rtt_dl_ms"].tolist()[-2:] == [5.0, 5.0]
    # observed: raw values clipped to the fences (100 -> 14.5), missing where one is missing
    observed = got["rtt_ms_observed"].tolist()
    assert np.isnan(observed[0]) and np.isnan(observed[-1])
    assert observed[1:-1] == [(v + 1) / 2 for v in range(2, 10)] + [(14.5 + 1) / 2]


def test_users_measured_share_by_hand(con):
    # user a: 3 sessions, rtt filled in 1 (missing UL) -> 2/3; user b: 1 session, filled -> 0
    t = _sessions(con, {"msisdn": ["a", "a", "a", "b"],
                        "avg_rtt_ul_ms": [1.0, None, 1.0, None]})
    clean = clean_sessions(t, cleaning_report(t))
    got = user_experience(clean).to_pandas().set_index("msisdn")
    assert got.loc["a", "rtt_measured_share"] == np.float32(2 / 3)
    assert got.loc["b", "rtt_measured_share"] == 0.0
    assert got["tcp_measured_share"].tolist() == [1.0, 1.0]
    assert got["rtt_measured_share"].dtype == np.float32


def _pandas_measured(raw: pd.DataFrame, report: pd.DataFrame) -> pd.DataFrame:
    """Per session, the three measured flags written plainly from the raw values and fences."""
    fences = report.set_index("column")
    out = pd.DataFrame(index=raw.index)
    for metric, columns in schema.EXPERIENCE_COMPONENTS.items():
        ok = np.ones(len(raw), dtype=bool)
        for c in columns:
            values = raw[c].astype("float64")
            ok &= (values >= fences.loc[c, "lower_fence"]).to_numpy() & (
                values <= fences.loc[c, "upper_fence"]).to_numpy()
        out[schema.measured_flag(metric)] = ok
    return out


@pytest.mark.parametrize("seed", [5, 6])
def test_measured_shares_match_plain_pandas(con, tmp_path, seed):
    raw = random_raw_sessions(n=700, users=140, seed=seed, null_rate=0.3)
    sessions = read_sessions(con, write_raw_csv(raw, tmp_path / "r.csv")).sessions
    report = cleaning_report(sessions)
    clean = clean_sessions(sessions, report)
    frame = sessions.to_pandas()
    flags = _pandas_measured(frame, report)
    got = clean.to_pandas()
    # the same sessions in the same order (no artifact row in these extracts)
    pd.testing.assert_frame_equal(got[schema.MEASURED_FLAGS].reset_index(drop=True),
                                  flags.reset_index(drop=True), check_dtype=False)
    assert 0.3 < flags["rtt_measured"].mean() < 0.8  # both kinds occur
    users = frame[["msisdn"]].join(flags)
    users = users[users["msisdn"].notna()].groupby("msisdn")[schema.MEASURED_FLAGS].mean()
    exp = user_experience(clean).to_pandas().set_index("msisdn")
    for metric in schema.EXPERIENCE_METRICS:
        np.testing.assert_allclose(exp[schema.measured_share(metric)].to_numpy(),
                                   users.loc[exp.index, schema.measured_flag(metric)].to_numpy(),
                                   rtol=1e-6)


def test_experience_measurement_by_hand():
    from telco_analytics.analysis.measured import experience_measurement
    from telco_analytics.config import AnalysisParams

    # 10 sessions: tcp measured in 3 (mostly filled), rtt in 6, throughput in 10
    measured = {m: {"sessions": 10, "measured_sessions": n, "measured_share": n / 10,
                    "observed_sessions": n, "mean": 1.0, "std": 0.5}
                for m, n in zip(schema.EXPERIENCE_METRICS, (3, 6, 10))}
    users = pd.DataFrame({
        "msisdn": ["a", "b", "c", "d"],
        "tcp_measured_share": np.float32([0, 0, 0.5, 1]),
        "rtt_measured_share": np.float32([1, 1, 0.5, 0]),
        "throughput_measured_share": np.float32([1, 1, 1, 1]),
    })
    got = experience_measurement(measured, users, AnalysisParams()).set_index("metric")
    assert got["measured_share"].tolist() == [0.3, 0.6, 1.0]
    assert got["users_measured"].tolist() == [2, 3, 4]
    assert got["users_all_measured"].tolist() == [1, 2, 4]
    assert got["users_measured_share"].tolist() == [0.5, 0.75, 1.0]
    assert got["mostly_filled"].tolist() == [True, False, False]
