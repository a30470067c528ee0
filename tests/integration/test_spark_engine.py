"""The session-level steps give the same tables on Spark (local[2]) as on DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

from telco_analytics import engine
from telco_analytics.aggregate import user_experience, user_overview, user_summary
from telco_analytics.analysis import handsets
from telco_analytics.clean import clean_sessions, cleaning_report
from telco_analytics.io.reader import read_sessions
from telco_analytics.run.handover import split_users, users_frame
from tests.helpers import random_raw_sessions, write_raw_csv

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _session_tables(con, path) -> dict[str, pd.DataFrame]:
    sessions = read_sessions(con, path).sessions
    report = cleaning_report(sessions)
    clean = engine.materialize(con, clean_sessions(sessions, report), "clean")
    counts = handsets.handset_counts(clean)
    # the pipeline's path: one streamed fetch, handsets as categorical codes, then release
    summary = engine.fetch_arrow(con, user_summary(clean))
    streamed_overview, streamed_experience = split_users(users_frame(summary))
    tables = {
        "sessions": sessions.to_pandas().sort_values(["bearer_id"]).reset_index(drop=True),
        "cleaning_report": report,
        "user_overview": user_overview(clean).to_pandas(),
        "user_experience": user_experience(clean).to_pandas(),
        "handsets_top10": handsets.handsets_top10(clean, counts),
        "manufacturers_top3": handsets.manufacturers_top(clean, counts),
        "streamed_user_overview": streamed_overview,
        "streamed_user_experience": streamed_experience.assign(
            handset=streamed_experience["handset"].astype("str")),
    }
    engine.release_tables(con)
    return tables


def test_spark_equals_duckdb(tmp_path):
    path = write_raw_csv(random_raw_sessions(n=500, users=90, seed=5), tmp_path / "x.csv")
    duck = _session_tables(engine.connect("duckdb"), path)
    spark = _session_tables(engine.connect("spark"), path)
    for name, expected in duck.items():
        got = spark[name]
        assert list(got.columns) == list(expected.columns), name
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                      check_dtype=False, rtol=1e-9, obj=name)
