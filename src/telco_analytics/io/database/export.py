"""Publish a result table to the database (SPEC section 6): the previous run's is replaced whole.

Orchestrates the export: check the frame, create and fill a staging table, swap it in; any
failure leaves the previous table as it was and raises one masked line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from ...privacy import mask_url
from .connection import db_error, engine_for
from .frame import validate_frame
from .identifiers import validate_identifier
from .loaders import fill_staging
from .staging import drop_quietly, staging_name, swap, table_def

log = logging.getLogger(__name__)


def _naive_utc(moment: datetime | None) -> datetime:
    """UTC wall time without tzinfo and microseconds (DATETIME stores neither)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


@dataclass
class StagedTable:
    """A filled staging table waiting to replace `table`: `commit()` swaps it in (atomic),
    `discard()` drops it. Until one of them, readers still see the previous table."""

    url: str
    table: str
    staging: str
    rows: int
    done: bool = False

    def commit(self) -> None:
        if self.done:
            return
        with engine_for(self.url) as engine:
            try:
                old = swap(engine, self.staging, self.table)
            except BaseException as exc:
                drop_quietly(engine, self.staging)
                self.done = True
                if not isinstance(exc, Exception):
                    raise
                raise db_error(f"export of table {self.table!r} to", self.url, exc) from exc
            self.done = True
            if old:
                drop_quietly(engine, old)
        log.info("exported %d rows to table %s at %s", self.rows, self.table,
                 mask_url(self.url))

    def discard(self) -> None:
        if self.done:
            return
        self.done = True
        with engine_for(self.url) as engine:
            drop_quietly(engine, self.staging)


def stage_table(
    df: pd.DataFrame,
    url: str,
    table: str = "satisfaction",
    *,
    primary_key: str = "msisdn",
    run_id: str,
    exported_at: datetime | None = None,
    local_infile: bool = True,
) -> StagedTable:
    """Create and fill the staging table for `table` (+ run_id, exported_at); the live table is
    untouched until `commit()`. Any failure or interrupt (BaseException: Ctrl-C, SIGTERM)
    drops the staging table and raises; failures as DatabaseError with one masked line.

    SQLite: chunks of plain tuples through sqlite3's executemany in one transaction.
    MySQL/MariaDB (PyMySQL): `LOAD DATA LOCAL INFILE` from a temporary CSV when the server
    allows it and `local_infile` is true, else chunked executemany. Others: SQLAlchemy inserts.
    """
    validate_identifier(table)
    validate_identifier(primary_key, "primary key column")
    order = validate_frame(df, table, primary_key)
    stamp = _naive_utc(exported_at)
    staging = staging_name(table, "staging")
    with engine_for(url) as engine:
        try:
            definition = table_def(df, staging, primary_key)
            definition.create(engine)
        except Exception as exc:
            raise db_error("export to", url, exc) from exc
        try:
            written = fill_staging(
                engine, url, definition, (df, order), str(run_id), stamp, local_infile
            )
        except BaseException as exc:
            drop_quietly(engine, staging)
            if not isinstance(exc, Exception):
                raise  # an interrupt stays an interrupt
            raise db_error(f"export of table {table!r} to", url, exc) from exc
    return StagedTable(url=url, table=table, staging=staging, rows=written)


def export_table(
    df: pd.DataFrame,
    url: str,
    table: str = "satisfaction",
    *,
    primary_key: str = "msisdn",
    run_id: str,
    exported_at: datetime | None = None,
    fail_before_swap: bool = False,
    local_infile: bool = True,
) -> int:
    """Replace `table` in the database at `url` by `df` (+ run_id, exported_at), atomically:
    `stage_table` then `commit`. Returns the number of rows written. Any failure drops the
    staging table, leaves the previous table as it was, and raises DatabaseError with one
    line naming the masked URL. `fail_before_swap` injects a failure after the staging table
    is filled (for tests)."""
    staged = stage_table(df, url, table, primary_key=primary_key, run_id=run_id,
                         exported_at=exported_at, local_infile=local_infile)
    try:
        if fail_before_swap:
            raise RuntimeError("failure injected between staging and swap")
    except Exception as exc:
        staged.discard()
        raise db_error(f"export of table {table!r} to", url, exc) from exc
    staged.commit()
    return staged.rows
