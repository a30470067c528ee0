"""export_table's own rules: the time it stamps, and every check before connecting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from telco_analytics.errors import ConfigError
from telco_analytics.io.database.export import _naive_utc, export_table

CLOSED = "mysql+pymysql://root:pw@127.0.0.1:1/test"  # a ConfigError proves no connection


def test_export_time_is_naive_utc_to_the_second():
    plus_two = timezone(timedelta(hours=2))
    assert _naive_utc(datetime(2024, 5, 6, 9, 8, 9, 999, tzinfo=plus_two)) == datetime(
        2024, 5, 6, 7, 8, 9)
    assert _naive_utc(datetime(2024, 5, 6, 7, 8, 9, 5)) == datetime(2024, 5, 6, 7, 8, 9)
    now = _naive_utc(None)
    assert now.tzinfo is None and now.microsecond == 0
    assert abs(datetime.now(UTC).replace(tzinfo=None) - now) < timedelta(minutes=1)


@pytest.mark.parametrize("kwargs,match", [
    ({"table": "bad name"}, "invalid table name"),
    ({"primary_key": "bad key"}, "invalid primary key column"),
    ({"primary_key": "user_id"}, "primary key column 'user_id' is missing"),
])
def test_checks_come_before_any_connection(kwargs, match):
    df = pd.DataFrame({"msisdn": ["a"], "score": [1.0]})
    with pytest.raises(ConfigError, match=match):
        export_table(df, CLOSED, **{"table": "t", **kwargs}, run_id="r")


def test_written_rows_are_returned_and_the_table_readable(tmp_path):
    url = f"sqlite:///{tmp_path / 'e.db'}"
    df = pd.DataFrame({"msisdn": ["b", "a"], "score": [2.0, 1.0]})
    stamp = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert export_table(df, url, "sat", run_id=7, exported_at=stamp) == 2
    back = pd.read_sql_table("sat", url)
    assert back["msisdn"].tolist() == ["a", "b"]  # stored in key order
    assert set(back["run_id"]) == {"7"}  # the run id is stored as text
    assert set(back["exported_at"]) == {pd.Timestamp("2024-05-06 07:08:09")}
