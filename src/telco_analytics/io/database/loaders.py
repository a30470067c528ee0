"""Filling the staging table fast: each database gets the bulk path it does best.

SQLite: sqlite3's executemany in one transaction. MySQL/MariaDB (PyMySQL): `LOAD DATA LOCAL
INFILE` when the server allows it, else chunked executemany. Others: SQLAlchemy's inserts.
Every path stores the same values (see `values`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import infile
from .connection import reason
from .frame import EXPORTED_AT_COLUMN, RUN_ID_COLUMN
from .values import Rows, chunks, column_kinds, row_tuples

log = logging.getLogger(__name__)

INSERT_CHUNK_ROWS = 50_000  # rows per executemany: bounded memory, few round trips


def fill_staging(
    engine: Engine,
    url: str,
    definition: sa.Table,
    rows: Rows,
    run_id: str,
    stamp: datetime,
    local_infile: bool,
) -> int:
    """Write the rows into the (empty) staging table by the fastest path the database offers."""
    kinds = column_kinds(rows[0])
    names = [*kinds, RUN_ID_COLUMN, EXPORTED_AT_COLUMN]
    constants = _constants(definition, engine, run_id, stamp)
    dialect = engine.dialect.name
    if dialect == "sqlite":
        sql = _insert_sql(engine, definition.name, names, "?")
        return load_sqlite(engine, sql, rows, kinds, constants)
    if dialect in ("mysql", "mariadb") and engine.dialect.driver == "pymysql":
        if local_infile and infile.server_allows_local_infile(engine):
            try:
                return infile.load_data_infile(url, definition.name, rows, kinds, constants)
            except Exception as exc:
                if not infile.local_infile_refused(getattr(exc, "orig", exc)):
                    raise
                log.info("LOAD DATA LOCAL INFILE refused (%s): inserting instead", reason(exc))
        else:
            log.info("the server does not allow LOAD DATA LOCAL INFILE: inserting instead")
        sql = _insert_sql(engine, definition.name, names, "%s")
        return load_executemany(engine, sql, rows, kinds, constants)
    return load_generic(engine, definition, rows, kinds, (run_id, stamp))


def _insert_sql(engine: Engine, staging: str, names: list[str], placeholder: str) -> str:
    q = engine.dialect.identifier_preparer.quote
    return (
        f"INSERT INTO {q(staging)} ({', '.join(q(n) for n in names)})"
        f" VALUES ({', '.join([placeholder] * len(names))})"
    )


def _constants(definition: sa.Table, engine: Engine, run_id: str, stamp: datetime) -> tuple:
    """run_id and exported_at as the driver gets them from SQLAlchemy (SQLite: DATETIME text)."""
    impl = definition.c[EXPORTED_AT_COLUMN].type.dialect_impl(engine.dialect)
    process = impl.bind_processor(engine.dialect)
    return run_id, process(stamp) if process else stamp


def load_sqlite(
    engine: Engine, sql: str, rows: Rows, kinds: dict[str, str], constants: tuple
) -> int:
    """Plain tuples through sqlite3's executemany, all chunks in one transaction.

    The rollback journal and `synchronous` stay as configured: the staging table lives in the
    same file as the previous table, and `journal_mode=OFF/MEMORY` would let a crash of this
    process, `synchronous=OFF` a power loss, corrupt that file. One transaction means a few
    syncs, and pages appended beyond the original end of the file are never journaled; what
    remains is writing the data to disk once (`synchronous=OFF` everywhere saved ~1-2 s of
    ~6 s at 2M rows, by never making the table durable). The rows come in key order, so the
    default page cache suffices (a 256 MiB cache gained nothing at 5M rows and cost 170 MB).
    """
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.isolation_level = None  # BEGIN/COMMIT below, not pysqlite's implicit ones
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            written = 0
            for chunk in chunks(rows, INSERT_CHUNK_ROWS):
                cur.executemany(sql, row_tuples(chunk, kinds, constants))
                written += len(chunk)
            cur.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        return written
    finally:
        raw.close()


def load_executemany(
    engine: Engine, sql: str, rows: Rows, kinds: dict[str, str], constants: tuple
) -> int:
    """Chunks of plain tuples through the DB-API executemany, one transaction (MySQL fallback)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        written = 0
        try:
            for chunk in chunks(rows, INSERT_CHUNK_ROWS):
                cur.executemany(sql, list(row_tuples(chunk, kinds, constants)))
                written += len(chunk)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        return written
    finally:
        raw.close()


def _records(rows: Rows, kinds: dict[str, str], constants: tuple) -> Iterator[list[dict]]:
    """Rows as dicts in chunks, for SQLAlchemy's generic executemany (PostgreSQL and others)."""
    names = [*kinds, RUN_ID_COLUMN, EXPORTED_AT_COLUMN]
    for chunk in chunks(rows, INSERT_CHUNK_ROWS):
        yield [dict(zip(names, row)) for row in row_tuples(chunk, kinds, constants)]


def load_generic(
    engine: Engine, definition: sa.Table, rows: Rows, kinds: dict[str, str], constants: tuple
) -> int:
    """SQLAlchemy's own executemany in one transaction, for databases without a faster path.

    `constants` are the plain Python values here: SQLAlchemy's type processing converts them.
    """
    written = 0
    with engine.begin() as conn:
        for chunk in _records(rows, kinds, constants):
            conn.execute(definition.insert(), chunk)
            written += len(chunk)
    return written
