"""Reading the top rows back: arguments checked first, exact floats, the SQL kept for the report."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from telco_analytics.errors import ConfigError
from telco_analytics.io.database.export import export_table
from telco_analytics.io.database.readback import read_type, select_top

CLOSED = "mysql+pymysql://root:pw@127.0.0.1:1/test"  # a ConfigError proves no connection


@pytest.mark.parametrize("n", [0, -1, True, 1.5, "10", None])
def test_bad_row_count_refused_before_connecting(n):
    with pytest.raises(ConfigError, match="invalid row count"):
        select_top(CLOSED, "t", n)


@pytest.mark.parametrize("kwargs,match", [
    ({"order_by": "a;b"}, "invalid order-by column"),
    ({"tie_break": "x y"}, "invalid tie-break column"),
])
def test_bad_column_names_refused_before_connecting(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        select_top(CLOSED, "t", **kwargs)


def test_floats_are_read_as_floats():
    assert type(read_type(sa.Float())) is sa.Double
    assert type(read_type(sa.DOUBLE())) is sa.Double
    text = sa.String(64)
    assert read_type(text) is text


def test_without_tie_break_the_sql_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    df = pd.DataFrame({"msisdn": ["a", "b", "c"], "score": [1.0, 3.0, 2.0]})
    export_table(df, url, "sat", run_id="r")
    top = select_top(url, "sat", 2, order_by="score", tie_break=None)
    assert top.attrs["sql"] == 'SELECT * FROM sat ORDER BY score DESC LIMIT 2;'
    assert top["msisdn"].tolist() == ["b", "c"]
    assert list(top.columns) == ["msisdn", "score", "run_id", "exported_at"]
