"""The staging table and the swap: a reader sees the old table or the new one, never half."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
import sqlalchemy as sa

from telco_analytics.io.database.identifiers import MAX_IDENTIFIER, is_identifier
from telco_analytics.io.database.staging import (
    _sql_type,
    drop_quietly,
    staging_name,
    swap,
    table_def,
)


def test_staging_names_are_unique_identifiers_within_the_limit():
    names = {staging_name("x" * MAX_IDENTIFIER, "staging") for _ in range(20)}
    assert len(names) == 20
    assert all(is_identifier(n) and len(n) == MAX_IDENTIFIER for n in names)
    assert staging_name("satisfaction", "old").startswith("satisfaction__old_")


@pytest.mark.parametrize("values,is_key,expected", [
    (["3366"], True, sa.String),
    ([1, 2], False, sa.Integer),
    ([1, 2**40], False, sa.BigInteger),
    ([1.5], False, sa.Double),
    ([True], False, sa.Boolean),
    (pd.to_datetime(["2024-01-01"]), False, sa.DateTime),
    (["text"], False, sa.String),
])
def test_column_types_from_dtypes(values, is_key, expected):
    sql_type = _sql_type(pd.Series(values), is_key)
    assert type(sql_type) is expected
    if expected is sa.String:
        assert sql_type.length == (64 if is_key else 255)


def test_empty_integer_column_is_int():
    assert type(_sql_type(pd.Series([], dtype="int64"), False)) is sa.Integer


def test_table_definition_adds_run_id_and_export_time():
    definition = table_def(pd.DataFrame({"msisdn": ["a"], "s": [1.0]}), "t", "msisdn")
    assert [c.name for c in definition.c] == ["msisdn", "s", "run_id", "exported_at"]
    assert [c.name for c in definition.primary_key] == ["msisdn"]
    assert not definition.c.run_id.nullable and definition.c.s.nullable


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 's.db'}")
    yield engine
    engine.dispose()


def _make(engine, name: str, value: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {name} (v INTEGER)")
        conn.exec_driver_sql(f"INSERT INTO {name} VALUES ({value})")


def _tables(engine) -> list[str]:
    return sorted(sa.inspect(engine).get_table_names())


def test_swap_puts_the_staging_table_in_place(engine):
    _make(engine, "t__staging_1", 1)
    assert swap(engine, "t__staging_1", "t") is None  # first export: nothing to drop
    _make(engine, "t__staging_2", 2)
    assert swap(engine, "t__staging_2", "t") is None  # SQLite drops the old one in the swap
    assert _tables(engine) == ["t"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM t").scalar() == 2


def test_failed_swap_keeps_the_previous_table(engine):
    _make(engine, "t", 1)
    with pytest.raises(sa.exc.OperationalError):
        swap(engine, "no_such_staging", "t")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM t").scalar() == 1


def test_drop_quietly_logs_instead_of_raising(engine, caplog, monkeypatch):
    _make(engine, "left_over", 1)
    drop_quietly(engine, "left_over")
    assert _tables(engine) == []

    def broken():
        raise sa.exc.OperationalError("DROP", {}, Exception("database is locked"))

    monkeypatch.setattr(engine, "begin", broken)
    with caplog.at_level(logging.WARNING):
        drop_quietly(engine, "other")
    assert "could not drop leftover table other: database is locked" in caplog.text
