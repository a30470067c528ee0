"""The staging table and the swap: readers see the previous table or the new one, never half.

The new rows go into a staging table beside the live one, which is then put in its place with
one statement (MySQL/MariaDB `RENAME TABLE`, one transaction elsewhere); on failure the staging
table is dropped and the live table is untouched.
"""

from __future__ import annotations

import logging
import secrets

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .connection import reason
from .frame import EXPORTED_AT_COLUMN, KEY_LENGTH, RUN_ID_COLUMN
from .identifiers import MAX_IDENTIFIER

log = logging.getLogger(__name__)

SWAP_LOCK_WAIT_S = 60  # a swap takes milliseconds: a minute means something is stuck


def staging_name(table: str, tag: str) -> str:
    """`<table>__<tag>_<random>` within the identifier limit (random: parallel runs don't clash)."""
    suffix = f"__{tag}_{secrets.token_hex(4)}"
    return table[: MAX_IDENTIFIER - len(suffix)] + suffix


def _sql_type(series: pd.Series, is_key: bool) -> sa.types.TypeEngine:
    """Column type from the pandas dtype: keys VARCHAR(64), floats DOUBLE, integers INT/BIGINT."""
    if is_key:
        return sa.String(KEY_LENGTH)
    if pd.api.types.is_bool_dtype(series):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(series):
        small = series.empty or (
            series.min() >= np.iinfo(np.int32).min and series.max() <= np.iinfo(np.int32).max
        )
        return sa.Integer() if small else sa.BigInteger()
    if pd.api.types.is_float_dtype(series):
        return sa.Double()
    if pd.api.types.is_datetime64_any_dtype(series):
        return sa.DateTime()
    return sa.String(255)


def table_def(df: pd.DataFrame, name: str, primary_key: str) -> sa.Table:
    """The table for `df`: its columns, the key as primary key, then run_id and exported_at."""
    columns = [
        sa.Column(
            col,
            _sql_type(df[col], col == primary_key),
            primary_key=col == primary_key,
            nullable=col != primary_key,
        )
        for col in df.columns
    ]
    columns.append(sa.Column(RUN_ID_COLUMN, sa.String(64), nullable=False))
    columns.append(sa.Column(EXPORTED_AT_COLUMN, sa.DateTime(), nullable=False))
    return sa.Table(name, sa.MetaData(), *columns)


def swap(engine: Engine, staging: str, table: str) -> str | None:
    """Put the staging table in place of `table` atomically; returns the old table to drop."""
    prep = engine.dialect.identifier_preparer
    q_table, q_staging = prep.quote(table), prep.quote(staging)
    dialect = engine.dialect.name
    if dialect in ("mysql", "mariadb"):
        # one RENAME TABLE statement swaps both names atomically for every other session; a
        # named lock makes "does the table exist, then rename" one step for two runs exporting
        # to the same table at once (else both could find it missing and one rename fail)
        with engine.connect() as conn:
            lock = f"telco_export:{table}"
            got = conn.exec_driver_sql("SELECT GET_LOCK(%s, %s)",
                                       (lock, SWAP_LOCK_WAIT_S)).scalar()
            if got != 1:
                raise RuntimeError(f"another export held the lock on table {table!r} for "
                                   f"{SWAP_LOCK_WAIT_S} s")
            try:
                old = staging_name(table, "old") if sa.inspect(conn).has_table(table) else None
                if old:
                    conn.exec_driver_sql(
                        f"RENAME TABLE {q_table} TO {prep.quote(old)}, {q_staging} TO {q_table}"
                    )
                else:
                    conn.exec_driver_sql(f"RENAME TABLE {q_staging} TO {q_table}")
            finally:
                conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (lock,))
        return old
    exists = sa.inspect(engine).has_table(table)
    old = staging_name(table, "old") if exists else None
    if dialect == "sqlite":
        # pysqlite does not open a transaction before DDL by itself: drive it explicitly
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {q_table}")
                conn.exec_driver_sql(f"ALTER TABLE {q_staging} RENAME TO {q_table}")
                conn.exec_driver_sql("COMMIT")
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
        return None
    # databases with transactional DDL (PostgreSQL, ...): both renames in one transaction
    with engine.begin() as conn:
        if old:
            conn.exec_driver_sql(f"ALTER TABLE {q_table} RENAME TO {prep.quote(old)}")
        conn.exec_driver_sql(f"ALTER TABLE {q_staging} RENAME TO {q_table}")
    return old


def drop_quietly(engine: Engine, name: str) -> None:
    """Drop a leftover table; a failure here is logged, never masks the original error."""
    try:
        with engine.begin() as conn:
            quoted = engine.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quoted}")
    except Exception as exc:  # noqa: BLE001
        log.warning("could not drop leftover table %s: %s", name, reason(exc))
