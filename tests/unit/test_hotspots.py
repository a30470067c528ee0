"""Network hotspots: measured experience per cell, hour and handset, by hand on a few sessions,
against plain pandas on generated data, and recovering congested cells planted in an extract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.aggregate import SESSION_COLUMNS_USED
from telco_analytics.analysis.hotspots import (
    experience_per_cell,
    experience_per_handset,
    experience_per_hour,
    group_sums,
    ranked_groups,
)
from telco_analytics.analysis.measured import measured_sessions
from telco_analytics.clean import clean_sessions, cleaning_report
from telco_analytics.config import AnalysisParams
from telco_analytics.io.reader import read_sessions
from tests.helpers import random_raw_sessions, write_raw_csv
from tests.unit.test_measured import _sessions

RTT = schema.RTT_COLUMNS


def _clean(sessions):
    return clean_sessions(sessions, cleaning_report(sessions), SESSION_COLUMNS_USED)


def test_group_sums_by_hand(con):
    # RTT DL = UL: 10, 20, missing (cell X), 30, 1000 (cell Y), 40 (no cell). Quartiles of
    # 10, 20, 30, 40, 1000: 20 and 40, fences -10 and 70: 1000 is an outlier, not measured,
    # observed at the fence (70); the missing value is not observed
    rtt = [10.0, 20.0, None, 30.0, 1000.0, 40.0]
    t = _sessions(con, {RTT[0]: rtt, RTT[1]: rtt, "msisdn": ["a", "a", "b", "c", None, "d"]})
    t = t.mutate(last_location_name=ibis_cells(t, ["X", "X", "X", "Y", "Y", None]))
    got = group_sums(_clean(t), schema.LOCATION).set_index(schema.LOCATION).sort_index()
    assert got.index.tolist() == ["X", "Y"]  # no cell: not a group
    assert got["sessions"].tolist() == [3, 2] and got["users"].tolist() == [2, 1]
    assert got["rtt_sessions"].tolist() == [2, 2]
    assert got["rtt_sessions_at_fence"].tolist() == [0, 1]
    assert got["rtt_ms_sum"].tolist() == [30.0, 100.0]
    assert got["rtt_ms_sumsq"].tolist() == [500.0, 900.0 + 4900.0]
    assert got["throughput_sessions"].tolist() == [3, 2]  # all 1.0: measured


def ibis_cells(t, names):
    """The cell of each session of a _sessions table (its bearer ids are bearer_id0, 1, ...)."""
    import ibis

    cases = [(t.bearer_id == f"bearer_id{i}", name) for i, name in enumerate(names)
             if name is not None]
    return ibis.cases(*cases, else_=ibis.null("string"))


def _measured(rtt_share=0.9, tcp_share=0.3):
    return {
        "rtt_ms": {"measured_share": rtt_share, "mean": 40.0, "std": 10.0},
        "tcp_retrans_bytes": {"measured_share": tcp_share, "mean": 1e6, "std": 1e6},
        "throughput_kbps": {"measured_share": 0.9, "mean": 5000.0, "std": 2000.0},
    }


def _sums(rows):
    defaults = {}
    for m in schema.EXPERIENCE_METRICS:
        defaults.update({f"{m}_sum": 0.0, f"{m}_sumsq": 0.0, schema.measured_sessions(m): 0,
                         f"{schema.measured_sessions(m)}_at_fence": 0})
    return pd.DataFrame([{**defaults, **row} for row in rows])


def test_ranking_by_hand_a_small_group_cannot_top_by_chance():
    # A: 100 measured RTT at mean 45 -> z 0.5, se 0.1: low end 0.5 - 1.96 * 0.1 = 0.304
    # B: 1 measured RTT of 60 -> z 2.0, se 1: low end 2 - 1.96 = 0.04 -> ranked after A
    # tcp is mostly filled (30% measured): B's huge retransmission does not count
    sums = _sums([
        {"cell": "B", "sessions": 25, "users": 20, "rtt_sessions": 1, "rtt_ms_sum": 60.0,
         "tcp_sessions": 1, "tcp_retrans_bytes_sum": 9e7},
        {"cell": "A", "sessions": 120, "users": 90, "rtt_sessions": 100,
         "rtt_ms_sum": 4500.0},
    ])
    got = ranked_groups(sums, "cell", _measured(), AnalysisParams())
    assert got["cell"].tolist() == ["A", "B"] and got["rank"].tolist() == [1, 2]
    a, b = got.iloc[0], got.iloc[1]
    assert a["badness"] == pytest.approx(0.5) and b["badness"] == pytest.approx(2.0)
    assert a["badness_low"] == pytest.approx(0.5 - 1.959964 * 0.1, abs=1e-6)
    assert b["badness_low"] == pytest.approx(2.0 - 1.959964, abs=1e-6)
    # the interval of A's mean RTT: 45 +- 1.96 * 10 / sqrt(100)
    assert (a["rtt_ms_low"], a["rtt_ms_high"]) == pytest.approx((43.04, 46.96), abs=1e-4)
    assert b["tcp_retrans_bytes"] == 9e7  # shown, with its one measured session
    assert np.isnan(a["throughput_kbps"])  # no measured session: no mean, no badness
    # with retransmission measured in most sessions, B's retransmission now counts
    again = ranked_groups(sums, "cell", _measured(tcp_share=0.8), AnalysisParams())
    assert again["cell"].tolist() == ["B", "A"]


def test_ties_go_by_name_and_columns_follow_the_contract():
    sums = _sums([{"cell": c, "sessions": 30, "users": 3} for c in ("b", "a")])
    got = ranked_groups(sums, "cell", _measured(), AnalysisParams())
    assert got["cell"].tolist() == ["a", "b"]
    assert list(got.columns[:10]) == [
        "cell", "sessions", "users", "rtt_sessions", "rtt_ms", "tcp_sessions",
        "tcp_retrans_bytes", "throughput_sessions", "throughput_kbps", "rank"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Random sessions in six cells, engine-cleaned, and the same rows read by pandas."""
    from telco_analytics import engine

    raw = random_raw_sessions(n=900, users=200, seed=21, null_rate=0.25)
    rng = np.random.default_rng(0)
    raw["Last Location Name"] = rng.choice(["C1", "C2", "C3", "C4", "C5", "C6", None], 900)
    path = write_raw_csv(raw, tmp_path_factory.mktemp("hot") / "r.csv")
    con = engine.connect()
    sessions = read_sessions(con, path).sessions
    report = cleaning_report(sessions)
    yield con, clean_sessions(sessions, report, SESSION_COLUMNS_USED), sessions.to_pandas(), \
        report
    con.disconnect()


def _pandas_sessions(frame: pd.DataFrame, report: pd.DataFrame) -> pd.DataFrame:
    """Per session, each metric from its raw columns clipped to their fences (NaN where one
    is missing), and whether it is measured (every column inside its fences)."""
    fences = report.set_index("column")
    out = frame[["msisdn", schema.LOCATION, "handset_type"]].copy()
    out["hour"] = frame[schema.START].dt.hour
    for metric, (dl, ul) in schema.EXPERIENCE_COMPONENTS.items():
        clipped = [frame[c].clip(fences.loc[c, "lower_fence"], fences.loc[c, "upper_fence"])
                   for c in (dl, ul)]
        out[metric] = (clipped[0] + clipped[1]) / (2 if metric == "rtt_ms" else 1)
        out[f"{metric}_measured"] = (frame[dl] == clipped[0]) & (frame[ul] == clipped[1])
    return out


def test_groups_match_plain_pandas(generated):
    _, clean, frame, report = generated
    params = AnalysisParams(cell_min_sessions=2)
    measured = measured_sessions(clean)
    ref = _pandas_sessions(frame, report)
    for metric in schema.EXPERIENCE_METRICS:
        assert measured[metric]["measured_sessions"] == ref[f"{metric}_measured"].sum()
        assert measured[metric]["observed_sessions"] == ref[metric].notna().sum()
        assert measured[metric]["mean"] == pytest.approx(ref[metric].mean(), rel=1e-12)
        assert measured[metric]["std"] == pytest.approx(ref[metric].std(ddof=0), rel=1e-9)
    cells, _ = experience_per_cell(clean, measured, params)
    hours = experience_per_hour(clean, measured, params)
    handsets = experience_per_handset(clean, measured, AnalysisParams(handset_min_users=5))
    known = ref["handset_type"].notna() & (ref["handset_type"] != "undefined")
    for got, key, rows in ((cells, schema.LOCATION, ref), (hours, "hour", ref),
                           (handsets, "handset_type", ref[known])):
        name = got.columns[0]
        expected = rows.dropna(subset=[key]).groupby(key).agg(
            sessions=("msisdn", "size"), users=("msisdn", "nunique"),
            **{m: (m, "mean") for m in schema.EXPERIENCE_METRICS},
            **{schema.measured_sessions(m): (m, "count") for m in schema.EXPERIENCE_METRICS})
        if name == "handset":
            expected = expected[expected["users"] >= 5]
        got = got.set_index(name).sort_index()
        assert got.index.tolist() == sorted(expected.index.tolist())
        expected = expected.loc[got.index]
        for column in expected.columns:
            np.testing.assert_allclose(got[column].to_numpy(dtype=float),
                                       expected[column].to_numpy(dtype=float), rtol=1e-9,
                                       err_msg=f"{name} {column}")
        # worst first by the lower end of the badness interval
        assert got.sort_values("rank")["badness_low"].is_monotonic_decreasing
    assert len(hours) == ref["hour"].nunique() and set(hours["hour"]) <= set(range(24))


def test_the_cell_threshold_and_facts(generated):
    _, clean, _, _ = generated
    measured = measured_sessions(clean)
    table, facts = experience_per_cell(clean, measured, AnalysisParams(cell_min_sessions=10**6))
    assert table.empty and facts["hotspots"]["cells_ranked"] == 0
    assert facts["hotspots"]["cell_min_sessions"] == 10**6 and facts["hotspots"]["cells"] == 6
    assert facts["hotspots"]["ranking_metrics"] == [
        m for m in schema.EXPERIENCE_METRICS if measured[m]["measured_share"] >= 0.5]


def plant_congestion(source, target, congested: int = 10, normal: int = 30, per_cell: int = 40,
                     seed: int = 0) -> list[str]:
    """Copy a generated extract with `congested + normal` busy cells of `per_cell` sessions:
    the congested ones with RTT x1.6 and throughput x0.5 (planted here, independently of the
    generator). Returns the congested cells' names."""
    raw = pd.read_parquet(source)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(raw) - 1, (congested + normal) * per_cell, replace=False)  # artifact
    names = [f"PLANT{i:02d}" for i in range(congested + normal)]
    cells = raw["Last Location Name"].astype(object).to_numpy().copy()
    cells[rows] = np.repeat(names, per_cell)
    raw["Last Location Name"] = cells
    bad = rows[: congested * per_cell]
    for column in ("Avg RTT DL (ms)", "Avg RTT UL (ms)"):
        raw.loc[bad, column] *= 1.6
    for column in ("Avg Bearer TP DL (kbps)", "Avg Bearer TP UL (kbps)"):
        raw.loc[bad, column] *= 0.5
    raw.to_parquet(target)
    return names[:congested]


@pytest.mark.parametrize("seed", [1, 2])
def test_planted_congested_cells_top_the_list(con, tmp_path, seed):
    from telco_analytics.synth import write_extract

    source = write_extract(tmp_path / "x.parquet", rows=30_000, seed=seed)
    planted = plant_congestion(source, tmp_path / "planted.parquet", seed=seed)
    clean = _clean(read_sessions(con, str(tmp_path / "planted.parquet")).sessions)
    cells, _ = experience_per_cell(clean, measured_sessions(clean), AnalysisParams())
    top = cells.head(10)["cell"].tolist()
    assert len(set(top) & set(planted)) >= 8, top
