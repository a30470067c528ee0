"""Every loader stores the same rows: SQLite's executemany and the generic SQLAlchemy path."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from telco_analytics.io.database import loaders
from telco_analytics.io.database.staging import table_def
from telco_analytics.io.database.values import column_kinds

STAMP = datetime(2024, 5, 6, 7, 8, 9)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "msisdn": ["c", "a", "b"],
        "score": [0.5, np.nan, 1 / 3],
        "cluster": [1, 0, 2],
        "note": ["x", None, "z"],
    })


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'l.db'}")
    yield engine
    engine.dispose()


def _stored(engine, name: str) -> list[tuple]:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY rowid").fetchall()


def test_sqlite_path_writes_in_key_order_with_run_id_and_time(engine, monkeypatch):
    monkeypatch.setattr(loaders, "INSERT_CHUNK_ROWS", 2)  # several chunks, one transaction
    df = _frame()
    definition = table_def(df, "staging_t", "msisdn")
    definition.create(engine)
    rows = (df, np.array([1, 2, 0]))
    assert loaders.fill_staging(engine, "", definition, rows, "run-1", STAMP, True) == 3
    assert _stored(engine, "staging_t") == [
        ("a", None, 0, None, "run-1", "2024-05-06 07:08:09.000000"),
        ("b", 1 / 3, 2, "z", "run-1", "2024-05-06 07:08:09.000000"),
        ("c", 0.5, 1, "x", "run-1", "2024-05-06 07:08:09.000000"),
    ]


def test_generic_path_stores_the_same_rows(engine):
    df = _frame()
    rows = (df, np.array([1, 2, 0]))
    for name, load in (("fast", "sqlite"), ("generic", "generic")):
        definition = table_def(df, name, "msisdn")
        definition.create(engine)
        if load == "sqlite":
            loaders.fill_staging(engine, "", definition, rows, "r", STAMP, False)
        else:
            kinds = column_kinds(df)
            assert loaders.load_generic(engine, definition, rows, kinds, ("r", STAMP)) == 3
    assert _stored(engine, "fast") == _stored(engine, "generic")


def test_a_failing_chunk_leaves_the_staging_table_empty(engine, monkeypatch):
    monkeypatch.setattr(loaders, "INSERT_CHUNK_ROWS", 2)
    df = _frame().assign(msisdn=["a", "b", "a"])  # the second chunk breaks the primary key
    definition = table_def(df, "staging_t", "msisdn")
    definition.create(engine)
    with pytest.raises(Exception, match="UNIQUE"):
        loaders.fill_staging(engine, "", definition, (df, None), "r", STAMP, True)
    assert _stored(engine, "staging_t") == []  # the first chunk was rolled back too
