"""Per-user tables by hand on three users, and against plain pandas on generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics import engine, schema
from telco_analytics.aggregate import user_experience, user_overview, user_summary
from telco_analytics.clean import clean_sessions, cleaning_report
from telco_analytics.io.reader import read_sessions
from tests.helpers import pandas_clean, random_raw_sessions, write_raw_csv


def _clean_frame(con, rows):
    frame = pd.DataFrame(rows)
    for c in schema.NAMES:
        if c not in frame:
            frame[c] = 0.0 if schema.BY_NAME[c].dtype == "float64" else None
    frame = frame[list(schema.NAMES)]
    floats = [c for c in schema.NAMES if schema.BY_NAME[c].dtype == "float64"]
    frame[floats] = frame[floats].astype(float).fillna(0.0)  # clean sessions have no gaps
    frame["start_time"] = pd.Timestamp("2019-04-25")
    for c in schema.STRING_COLUMNS:
        frame[c] = frame[c].astype("string")
    for flag in schema.MEASURED_FLAGS:  # clean sessions carry them; given rows are measured
        frame[flag] = frame.pop(flag) if flag in frame else True
    return engine.from_arrow(con, frame)


def test_three_users_by_hand(con):
    rows = [
        {"msisdn": "a", "duration_ms": 1000.0, "total_dl_bytes": 10.0, "total_ul_bytes": 1.0,
         "youtube_dl_bytes": 4.0, "youtube_ul_bytes": 1.0, "handset_type": "X"},
        {"msisdn": "a", "duration_ms": 2000.0, "total_dl_bytes": 20.0, "total_ul_bytes": 2.0,
         "youtube_dl_bytes": 6.0, "gaming_ul_bytes": 3.0, "handset_type": "Y"},
        {"msisdn": "b", "duration_ms": 500.0, "total_dl_bytes": 5.0, "total_ul_bytes": 5.0,
         "handset_type": "undefined"},
        {"msisdn": "c", "duration_ms": 7.0, "total_dl_bytes": 1.0, "total_ul_bytes": 0.0,
         "handset_type": "Z"},
        {"msisdn": "c", "duration_ms": 3.0, "total_dl_bytes": 1.0, "total_ul_bytes": 0.0,
         "handset_type": "Z"},
        {"msisdn": "c", "duration_ms": 1.0, "total_dl_bytes": 1.0, "total_ul_bytes": 0.0,
         "handset_type": "A"},
        {"msisdn": None, "duration_ms": 9e9, "total_dl_bytes": 9e9, "total_ul_bytes": 9e9},
    ]
    t = _clean_frame(con, rows)
    got = user_overview(t).to_pandas().set_index("msisdn")
    assert list(got.index) == ["a", "b", "c"]  # no MSISDN -> not a user
    assert got.loc["a", ["sessions", "duration_ms", "dl_bytes", "ul_bytes", "total_bytes"]].tolist() == [2, 3000, 30, 3, 33]
    assert got.loc["a", "youtube_bytes"] == 11 and got.loc["a", "gaming_bytes"] == 3
    assert got.loc["c", ["sessions", "duration_ms", "total_bytes"]].tolist() == [3, 11, 3]
    hs = user_experience(t).to_pandas().set_index("msisdn")["handset"]
    # a: X and Y once each -> alphabetically first; b: only undefined -> unknown; c: Z twice
    assert hs.to_dict() == {"a": "X", "b": "unknown", "c": "Z"}


def test_experience_means_by_hand(con):
    rows = [
        {"msisdn": "u", "tcp_dl_retrans_bytes": 10.0, "tcp_ul_retrans_bytes": 2.0,
         "avg_rtt_dl_ms": 40.0, "avg_rtt_ul_ms": 10.0, "avg_bearer_tp_dl_kbps": 100.0,
         "avg_bearer_tp_ul_kbps": 20.0},
        {"msisdn": "u", "tcp_dl_retrans_bytes": 0.0, "tcp_ul_retrans_bytes": 0.0,
         "avg_rtt_dl_ms": 20.0, "avg_rtt_ul_ms": 0.0, "avg_bearer_tp_dl_kbps": 0.0,
         "avg_bearer_tp_ul_kbps": 0.0},
    ]
    got = user_experience(_clean_frame(con, rows)).to_pandas().iloc[0]
    assert (got.tcp_retrans_bytes, got.rtt_ms, got.throughput_kbps) == (6.0, 17.5, 60.0)


def test_equal_sessions_average_to_exactly_their_value(con):
    # 0.1 + 0.1 + 0.1 = 0.30000000000000004 and / 3 = 0.10000000000000002: a plain mean
    # would split users with the same sessions into two "most frequent" values
    same = {"tcp_dl_retrans_bytes": 0.1, "avg_rtt_dl_ms": 0.1, "avg_rtt_ul_ms": 0.1,
            "avg_bearer_tp_dl_kbps": 0.1}
    rows = [{"msisdn": "a", **same}] * 3 + [{"msisdn": "b", **same}]
    rows += [{"msisdn": "c", **same}, {"msisdn": "c", **{k: 0.2 for k in same}}]
    got = user_experience(_clean_frame(con, rows)).to_pandas().set_index("msisdn")
    for metric in schema.EXPERIENCE_METRICS:
        assert got.loc["a", metric] == got.loc["b", metric] == 0.1
        assert got.loc["c", metric] == pytest.approx(0.15, rel=1e-15)  # unequal: the mean


def test_user_tables_match_plain_pandas(con, tmp_path):
    raw = random_raw_sessions(n=800, users=150, seed=11)
    sessions = read_sessions(con, write_raw_csv(raw, tmp_path / "r.csv")).sessions
    clean = clean_sessions(sessions, cleaning_report(sessions))
    got = user_overview(clean).to_pandas().set_index("msisdn")

    s = pandas_clean(sessions.to_pandas(), schema.MEASUREMENT_COLUMNS)
    s = s[s["msisdn"].notna()]
    for app in schema.APPS:
        s[f"{app}_bytes"] = s[f"{app}_dl_bytes"] + s[f"{app}_ul_bytes"]
    ref = s.groupby("msisdn").agg(
        sessions=("msisdn", "size"), duration_ms=("duration_ms", "sum"),
        dl_bytes=("total_dl_bytes", "sum"), ul_bytes=("total_ul_bytes", "sum"),
        **{f"{a}_bytes": (f"{a}_bytes", "sum") for a in schema.APPS},
    )
    ref["total_bytes"] = ref["dl_bytes"] + ref["ul_bytes"]
    ref = ref[got.columns]
    assert list(got.index) == sorted(ref.index)
    pd.testing.assert_frame_equal(got, ref.loc[got.index], check_dtype=False, rtol=1e-12)

    exp = user_experience(clean).to_pandas().set_index("msisdn")
    s["tcp"] = s["tcp_dl_retrans_bytes"] + s["tcp_ul_retrans_bytes"]
    s["rtt"] = (s["avg_rtt_dl_ms"] + s["avg_rtt_ul_ms"]) / 2
    s["tp"] = s["avg_bearer_tp_dl_kbps"] + s["avg_bearer_tp_ul_kbps"]
    means = s.groupby("msisdn")[["tcp", "rtt", "tp"]].mean()
    np.testing.assert_allclose(exp[schema.EXPERIENCE_METRICS].to_numpy(),
                               means.loc[exp.index].to_numpy(), rtol=1e-12)
    known = s[s["handset_type"].notna() & (s["handset_type"] != "undefined")]
    counts = known.groupby(["msisdn", "handset_type"]).size().reset_index(name="n")
    mode = counts.sort_values(["msisdn", "n", "handset_type"], ascending=[True, False, True])
    mode = mode.drop_duplicates("msisdn").set_index("msisdn")["handset_type"]
    expected_handset = [mode.get(m, "unknown") for m in exp.index]
    assert exp["handset"].tolist() == expected_handset


def test_user_tables_stream_once_and_release_drops_the_engine_tables(con):
    """The pipeline's per-user step: both tables from one fetch, sharing its columns; the
    engine's intermediate tables are dropped afterwards."""
    from telco_analytics.run.handover import split_users, users_frame

    rows = [{"msisdn": m, "duration_ms": float(i), "total_dl_bytes": 1.0, "total_ul_bytes": 2.0,
             "handset_type": "X"} for i, m in enumerate(["b", "a", "c", "a"])]
    clean = engine.materialize(con, _clean_frame(con, rows), "clean")
    overview, experience = split_users(users_frame(engine.fetch_arrow(con, user_summary(clean))))
    assert overview["msisdn"].tolist() == ["a", "b", "c"]
    assert overview["sessions"].tolist() == [2, 1, 1]
    assert overview["duration_ms"].tolist() == [4.0, 0.0, 2.0]
    assert list(experience.columns) == ["msisdn", *schema.EXPERIENCE_METRICS, "handset",
                                        *schema.MEASURED_SHARES]
    assert np.shares_memory(overview["msisdn"].array._pa_array.chunks[0].buffers()[1],
                            experience["msisdn"].array._pa_array.chunks[0].buffers()[1])
    engine.release_tables(con)
    assert con.con.sql("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]


def test_small_tables_are_kept_in_memory_large_ones_in_the_work_file(con):
    rows = [{"msisdn": "a", "duration_ms": 1.0, "handset_type": "X"}]
    frame = _clean_frame(con, rows)
    small = engine.materialize(con, frame, "small", expected_bytes=1_000)
    large = engine.materialize(con, frame, "large", expected_bytes=10**15)
    unknown = engine.materialize(con, frame, "unknown")
    kinds = dict(con.con.sql("SELECT table_name, temporary FROM duckdb_tables()").fetchall())
    name = lambda t: t.get_name().split(".")[-1]
    assert kinds[name(small)] is True
    assert kinds[name(large)] is False and kinds[name(unknown)] is False


def test_the_child_hand_over_file_gives_the_same_split_users(con, tmp_path):
    """engine.write_parquet + read_users (the child process path) equals the streamed
    fetch, in msisdn order and with categorical handsets, and the frame is not consolidated
    (each column kept as read, not copied into one block)."""
    from telco_analytics.run.handover import read_users, split_users, users_frame

    rows = [{"msisdn": m, "duration_ms": float(i), "total_dl_bytes": 1.0 + i,
             "handset_type": h} for i, (m, h) in enumerate(
                 [("b", "X"), ("a", "Y"), ("c", "X"), ("a", "Y"), ("d", None)])]
    clean = engine.materialize(con, _clean_frame(con, rows), "clean")
    path = tmp_path / "users.parquet"
    assert engine.write_parquet(con, user_summary(clean), path, batch_rows=2) == 4
    frame = read_users(path)
    assert len(frame._mgr.blocks) == len(frame.columns)
    streamed = split_users(users_frame(engine.fetch_arrow(con, user_summary(clean))))
    for got, want in zip(split_users(frame), streamed):
        pd.testing.assert_frame_equal(got, want)
    assert streamed[0]["msisdn"].tolist() == ["a", "b", "c", "d"]
    assert str(streamed[1]["handset"].dtype) == "category"
