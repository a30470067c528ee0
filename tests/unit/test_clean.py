"""SPEC rule 3 by hand on a 10-value column, and against a plain numpy version."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics import engine, schema
from telco_analytics.clean import clean_sessions, cleaning_report
from tests.helpers import pandas_clean, random_raw_sessions, write_raw_csv


def _sessions(con, values, artifact=False):
    n = len(values)
    frame = pd.DataFrame({c: pd.Series([None] * n, dtype="object") for c in schema.NAMES})
    for c in schema.NAMES:
        spec = schema.BY_NAME[c]
        if spec.dtype == "float64":
            frame[c] = np.ones(n)
        elif spec.dtype == "timestamp":
            frame[c] = pd.Timestamp("2019-04-25 10:00")
        else:
            frame[c] = [f"{c}{i}" for i in range(n)]
    frame["avg_rtt_dl_ms"] = values
    if artifact:  # a trailing artifact row: no ids, no timestamps, a huge value
        frame.loc[n - 1, schema.ID_COLUMNS] = None
        frame.loc[n - 1, schema.TIMESTAMP_COLUMNS] = pd.NaT
    return engine.from_arrow(con, frame)


def test_fences_and_replacement_by_hand(con):
    # 1..9 and 100, plus a missing value (the missing value is not in the quartiles)
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100, None]
    t = _sessions(con, values)
    report = cleaning_report(t, ["avg_rtt_dl_ms"]).iloc[0]
    # linear quartiles of 1..9,100: Q1 = 3 + 0.25 = 3.25, Q3 = 7 + 0.75 = 7.75, IQR = 4.5
    assert report.q1 == 3.25 and report.q3 == 7.75
    assert report.lower_fence == pytest.approx(-3.5) and report.upper_fence == pytest.approx(14.5)
    assert report.replacement == 5.0  # mean of 1..9, the values inside the fences
    assert (report.missing, report.outliers) == (1, 1)
    cleaned = clean_sessions(t, cleaning_report(t, ["avg_rtt_dl_ms"])).to_pandas()
    assert sorted(cleaned["avg_rtt_dl_ms"]) == sorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 5.0, 5.0])


def test_values_on_the_fence_are_kept(con):
    # Q1 = 2, Q3 = 4 (linear), IQR = 2 -> fences -1 and 7: 7 stays, 7.5 goes
    t = _sessions(con, [1, 2, 3, 4, 5, 7, 7.5, 2, 3])
    r = cleaning_report(t, ["avg_rtt_dl_ms"]).iloc[0]
    q1, q3 = np.quantile([1, 2, 3, 4, 5, 7, 7.5, 2, 3], [0.25, 0.75])
    assert (r.q1, r.q3) == (q1, q3)
    inside = [v for v in [1, 2, 3, 4, 5, 7, 7.5, 2, 3] if r.lower_fence <= v <= r.upper_fence]
    assert r.replacement == pytest.approx(np.mean(inside))


def test_artifact_row_is_excluded_from_fences_and_dropped(con):
    t = _sessions(con, [1, 2, 3, 4, 5, 1e9], artifact=True)
    r = cleaning_report(t, ["avg_rtt_dl_ms"]).iloc[0]
    assert r.q3 == 4.0  # computed on 1..5 only
    assert clean_sessions(t, cleaning_report(t, ["avg_rtt_dl_ms"])).count().execute() == 5


def test_matches_plain_numpy_on_generated_data(con, tmp_path):
    from telco_analytics.io.reader import read_sessions

    raw = random_raw_sessions(n=600, seed=3)
    sessions = read_sessions(con, write_raw_csv(raw, tmp_path / "r.csv")).sessions
    report = cleaning_report(sessions)
    got = clean_sessions(sessions, report).to_pandas()
    expected = pandas_clean(sessions.to_pandas(), schema.MEASUREMENT_COLUMNS)
    for c in schema.MEASUREMENT_COLUMNS:
        np.testing.assert_allclose(got[c].to_numpy(), expected[c].to_numpy(), rtol=1e-12,
                                   err_msg=c)
    assert got["avg_rtt_dl_ms"].notna().all()


def test_quartiles_in_several_queries_give_the_same_report(con, tmp_path, monkeypatch):
    from telco_analytics import clean
    from telco_analytics.io.reader import read_sessions

    raw = random_raw_sessions(n=300, seed=4)
    sessions = read_sessions(con, write_raw_csv(raw, tmp_path / "r.csv")).sessions
    one_query = cleaning_report(sessions)
    monkeypatch.setattr(clean, "MAX_QUANTILE_VALUES", 700)  # two columns per query
    pd.testing.assert_frame_equal(cleaning_report(sessions), one_query)


def test_local_numpy_profile_equals_the_engine_profile(con, tmp_path, monkeypatch):
    from telco_analytics import clean
    from telco_analytics.clean import profile_sessions, profile_sessions_local
    from telco_analytics.io.reader import read_sessions

    raw = random_raw_sessions(n=500, seed=8)
    raw.loc[len(raw)] = [None] * len(raw.columns)  # a trailing artifact row
    raw.loc[len(raw) - 1, "Youtube DL (Bytes)"] = 1e12
    sessions = read_sessions(con, write_raw_csv(raw, tmp_path / "r.csv")).sessions
    engine_counts, engine_report = profile_sessions(sessions)
    monkeypatch.setattr(clean, "MAX_QUANTILE_VALUES", 1500)  # several fetches
    local_counts, local_report = profile_sessions_local(sessions)
    assert local_counts == engine_counts
    assert local_counts["artifact"] == 1
    pd.testing.assert_frame_equal(local_report, engine_report, rtol=1e-12)


def test_column_stats_by_hand():
    from telco_analytics.clean import column_stats

    stats = column_stats(np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100, np.nan], dtype=float))
    assert (stats["q1"], stats["q3"]) == (3.25, 7.75)
    assert (stats["lower_fence"], stats["upper_fence"]) == (-3.5, 14.5)
    assert (stats["replacement"], stats["missing"], stats["outliers"]) == (5.0, 1, 1)
    empty = column_stats(np.array([np.nan, np.nan]))
    assert empty["replacement"] is None and empty["missing"] == 2


def test_without_values_takes_out_one_occurrence_each():
    from telco_analytics.clean import without_values

    values = np.array([3.0, np.nan, 1.0, 3.0, np.nan, 2.0])
    np.testing.assert_array_equal(without_values(values, np.array([3.0, np.nan])),
                                  [1.0, 3.0, np.nan, 2.0])
    np.testing.assert_array_equal(without_values(values, np.array([])), values)
    with pytest.raises(ValueError, match="does not occur"):
        without_values(values, np.array([7.0]))


def test_many_artifact_rows_are_filtered_by_the_engine_with_the_same_report(con, tmp_path,
                                                                            monkeypatch):
    from telco_analytics import clean
    from telco_analytics.clean import profile_sessions, profile_sessions_local
    from telco_analytics.io.reader import read_sessions

    raw = random_raw_sessions(n=400, seed=9)
    for i in range(3):  # three artifact rows with app values
        raw.loc[len(raw)] = [None] * len(raw.columns)
        raw.loc[len(raw) - 1, "Gaming UL (Bytes)"] = 10.0 ** (9 + i)
    sessions = read_sessions(con, write_raw_csv(raw, tmp_path / "r.csv")).sessions
    engine_counts, engine_report = profile_sessions(sessions)
    subtracted = profile_sessions_local(sessions)
    monkeypatch.setattr(clean, "MAX_SUBTRACTED_ARTIFACTS", 2)  # now filtered in the engine
    filtered = profile_sessions_local(sessions)
    for counts, report in (subtracted, filtered):
        assert counts == engine_counts and counts["artifact"] == 3
        pd.testing.assert_frame_equal(report, engine_report, rtol=1e-12)
