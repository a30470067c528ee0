"""Database export of a result table (SPEC section 6): atomic replace and the top-rows query.

The only module that writes SQL for the export. The table is written to a staging table, then
swapped in with one statement (MySQL/MariaDB `RENAME TABLE`, one transaction elsewhere), so a
reader sees either the previous table or the new one, never a partial or missing table.
Credentials come from the URL (CLI or environment); every error message shows the URL with its
password masked.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from ..errors import ConfigError, DatabaseError
from ..privacy import mask_url

log = logging.getLogger(__name__)

DB_URL_ENV = "TELCO_DB_URL"
DEFAULT_SQLITE_NAME = "telco.db"
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_IDENTIFIER = 64  # MySQL's limit on table names
CONNECT_TIMEOUT_S = 5  # an unreachable host must fail fast, not hang the run
INSERT_CHUNK_ROWS = 50_000  # rows per executemany: bounded memory, few round trips
CSV_CHUNK_ROWS = 100_000  # rows per CSV batch written for LOAD DATA
# MySQL/MariaDB errors meaning "LOAD DATA LOCAL is not allowed here": fall back to INSERT
LOCAL_INFILE_REFUSED = {1148, 2068, 3948}
KEY_LENGTH = 64  # VARCHAR(64) primary key: MSISDNs and 16-character pseudonyms fit
RUN_ID_COLUMN = "run_id"
EXPORTED_AT_COLUMN = "exported_at"


# --------------------------------------------------------------------------- names and URLs


def validate_identifier(name: object, what: str = "table name") -> str:
    """The name itself if it is a plain SQL identifier, else ConfigError (before connecting)."""
    if not isinstance(name, str) or not IDENTIFIER_RE.match(name):
        raise ConfigError(
            f"invalid {what} {name!r}: expected letters, digits and underscores, starting with a"
            f" letter or underscore, at most {MAX_IDENTIFIER} characters"
        )
    return name


def resolve_db_url(cli_url: str | None, out_dir: Path) -> str:
    """The export URL: the CLI argument, else $TELCO_DB_URL, else a SQLite file in the run dir."""
    if cli_url:
        return cli_url
    env_url = os.environ.get(DB_URL_ENV)
    if env_url:
        return env_url
    return f"sqlite:///{(Path(out_dir) / DEFAULT_SQLITE_NAME).resolve()}"


def _staging_name(table: str, tag: str) -> str:
    """`<table>__<tag>_<random>` within the identifier limit (random: parallel runs don't clash)."""
    suffix = f"__{tag}_{secrets.token_hex(4)}"
    return table[: MAX_IDENTIFIER - len(suffix)] + suffix


# --------------------------------------------------------------------------- connections


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _reason(exc: BaseException) -> str:
    """The driver's own words for a failure (e.g. 'Access denied ...'), on one line."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):  # PyMySQL: (errno, message)
        return _one_line(f"{args[1]} (error {args[0]})")
    return _one_line(orig) or type(orig).__name__


def _scrub(message: str, url: str) -> str:
    """Remove the password from a message, should a driver ever echo it."""
    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001 - an unparseable URL has no password to find
        password = None
    if password:
        message = message.replace(str(password), "***")
    return message


def _db_error(action: str, url: str, exc: BaseException) -> DatabaseError:
    message = f"{action} {mask_url(url)} failed: {_reason(exc)}"
    return DatabaseError(_scrub(message, url))


def _connect_args(dialect: str, local_infile: bool = False) -> dict:
    if dialect in ("mysql", "mariadb") and local_infile:
        # only for the connection that loads: the client then sends any file the server asks for
        return {"connect_timeout": CONNECT_TIMEOUT_S, "local_infile": True}
    if dialect in ("mysql", "mariadb", "postgresql"):
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    if dialect == "sqlite":
        return {"timeout": CONNECT_TIMEOUT_S}  # wait this long for a locked file
    return {}


def _engine(url: str, *, local_infile: bool = False) -> Engine:
    """An engine without a pool (one export = a few statements); ConfigError if the URL is bad."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(
            f"invalid database URL {mask_url(url)}: expected a SQLAlchemy URL such as"
            " mysql+pymysql://user:password@host:3306/database or sqlite:///path/telco.db"
        ) from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        # every connection would see its own empty database: the export would vanish
        raise ConfigError(
            f"invalid database URL {mask_url(url)}: an in-memory SQLite database does not outlive"
            " the export; give a file, e.g. sqlite:///path/telco.db"
        )
    try:
        return sa.create_engine(
            parsed,
            poolclass=NullPool,
            connect_args=_connect_args(parsed.get_backend_name(), local_infile),
        )
    except Exception as exc:
        raise DatabaseError(
            _scrub(f"cannot use database {mask_url(url)}: {_reason(exc)}", url)
        ) from exc


@contextmanager
def _engine_for(url: str, *, local_infile: bool = False) -> Iterator[Engine]:
    engine = _engine(url, local_infile=local_infile)
    try:
        yield engine
    finally:
        engine.dispose()


def check_connection(url: str) -> None:
    """Connect once and run SELECT 1, so a wrong URL fails before any long work starts."""
    with _engine_for(url) as engine:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            raise _db_error("connecting to", url, exc) from exc


# --------------------------------------------------------------------------- table layout


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


def _table_def(df: pd.DataFrame, name: str, primary_key: str) -> sa.Table:
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


def _key_order(key: pd.Series) -> tuple[np.ndarray | None, int]:
    """The row order by key (None: keep the frame's order) and the number of duplicate keys.

    Rows are written in key order so that the primary-key B-tree grows at its right edge
    instead of at random pages: MariaDB with its default 128 MiB buffer pool loads 5M random
    keys in 200 s, the same keys in order in 13 s. The sorted keys give the duplicates cheaply.
    """
    try:
        values = pa.array(key, from_pandas=True)
        if values.null_count:  # rejected anyway (rows without a key): count among the others
            values = values.drop_null()
            values = values.take(pc.sort_indices(values))
        if len(values) < 2:
            return None, 0
        if pc.all(pc.less_equal(values[:-1], values[1:])).as_py():
            order, ordered = None, values
        else:
            order = pc.sort_indices(values).to_numpy()
            ordered = None
    except (pa.ArrowException, TypeError, ValueError):  # mixed types: no order, pandas counts
        return None, int(key.dropna().duplicated().sum())
    duplicates = 0
    step = 1_000_000  # sorted keys a slice at a time (no second full copy of the column)
    for start in range(0, len(values) - 1, step):
        if ordered is not None:
            part = ordered[start : start + step + 1]
        else:
            part = values.take(order[start : start + step + 1])
        duplicates += pc.sum(pc.equal(part[1:], part[:-1])).as_py() or 0
    return order, duplicates


def _validate_frame(df: pd.DataFrame, table: str, primary_key: str) -> np.ndarray | None:
    """Everything checkable without a connection, all problems reported at once.

    Returns the order in which to write the rows (see `_key_order`).
    """
    problems = []
    order = None
    for col in df.columns:
        if not isinstance(col, str) or not IDENTIFIER_RE.match(col):
            problems.append(f"column name {col!r} is not a plain SQL identifier")
    for col in (RUN_ID_COLUMN, EXPORTED_AT_COLUMN):
        if col in df.columns:
            problems.append(f"column {col!r} is added by the export and must not be in the table")
    if primary_key not in df.columns:
        problems.append(f"primary key column {primary_key!r} is missing")
    else:
        key = df[primary_key]
        if key.isna().any():
            problems.append(f"{int(key.isna().sum())} rows have no {primary_key}")
        order, duplicates = _key_order(key)
        if duplicates:
            problems.append(f"{duplicates} duplicate {primary_key} values")
        too_long = int((key.dropna().astype(str).str.len() > KEY_LENGTH).sum())
        if too_long:
            problems.append(f"{too_long} {primary_key} values longer than {KEY_LENGTH} characters")
    if problems:
        raise ConfigError(f"cannot export table {table!r}: " + "; ".join(problems))
    return order


def _kind(series: pd.Series) -> str:
    """How a column's values travel to the database: float, int, bool, datetime or text."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "text"


def _datetime_text(series: pd.Series) -> pd.Series:
    """Wall-clock `YYYY-MM-DD HH:MM:SS.ffffff` (SQLAlchemy's SQLite storage format; MySQL parses it)."""
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    return series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def _python_values(series: pd.Series, kind: str) -> list:
    """One chunk of a column as plain Python values, NULL as None (NaN -> NULL: MySQL has no NaN).

    Vectorised: numpy/pyarrow build the list in C, no per-value Python code on the hot path.
    """
    if kind == "float":
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(values)
        if missing.any():
            boxed = values.astype(object)
            boxed[missing] = None
            return boxed.tolist()
        return values.tolist()
    if kind in ("int", "bool") and isinstance(series.dtype, np.dtype):
        return series.to_numpy().tolist()  # numpy ints/bools have no NULL
    if kind == "datetime":
        series = _datetime_text(series)
    elif kind == "text" and not isinstance(series.dtype, pd.StringDtype):
        return [None if pd.isna(v) else str(v) for v in series.astype(object).tolist()]
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _chunks(df: pd.DataFrame, order: np.ndarray | None, size: int) -> Iterator[pd.DataFrame]:
    """The frame `size` rows at a time, in `order` (row positions) if given."""
    for start in range(0, len(df), size):
        if order is None:
            yield df.iloc[start : start + size]
        else:
            yield df.take(order[start : start + size])


def _row_tuples(chunk: pd.DataFrame, kinds: dict[str, str], constants: tuple) -> Iterator[tuple]:
    """The chunk's rows as tuples (frame columns, then the constant run_id and exported_at)."""
    columns = [_python_values(chunk[col], kind) for col, kind in kinds.items()]
    return zip(*columns, *(repeat(value, len(chunk)) for value in constants))


def _records(
    df: pd.DataFrame,
    order: np.ndarray | None,
    kinds: dict[str, str],
    run_id: str,
    exported_at: datetime,
) -> Iterator[list[dict]]:
    """Rows as dicts in chunks, for SQLAlchemy's generic executemany (PostgreSQL and others)."""
    names = [*kinds, RUN_ID_COLUMN, EXPORTED_AT_COLUMN]
    for chunk in _chunks(df, order, INSERT_CHUNK_ROWS):
        yield [dict(zip(names, row)) for row in _row_tuples(chunk, kinds, (run_id, exported_at))]


def _naive_utc(moment: datetime | None) -> datetime:
    """UTC wall time without tzinfo and microseconds (DATETIME stores neither)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


# --------------------------------------------------------------------------- bulk loading


def _insert_sql(engine: Engine, staging: str, names: list[str], placeholder: str) -> str:
    q = engine.dialect.identifier_preparer.quote
    return (
        f"INSERT INTO {q(staging)} ({', '.join(q(n) for n in names)})"
        f" VALUES ({', '.join([placeholder] * len(names))})"
    )


def _constants(definition: sa.Table, engine: Engine, run_id: str, stamp: datetime) -> tuple:
    """run_id and exported_at as the driver receives them from SQLAlchemy (SQLite: DATETIME text)."""
    impl = definition.c[EXPORTED_AT_COLUMN].type.dialect_impl(engine.dialect)
    process = impl.bind_processor(engine.dialect)
    return run_id, process(stamp) if process else stamp


def _load_sqlite(engine: Engine, sql: str, rows: tuple, kinds: dict, constants: tuple) -> int:
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
            for chunk in _chunks(*rows, INSERT_CHUNK_ROWS):
                cur.executemany(sql, _row_tuples(chunk, kinds, constants))
                written += len(chunk)
            cur.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        return written
    finally:
        raw.close()


def _load_executemany(engine: Engine, sql: str, rows: tuple, kinds: dict, constants: tuple) -> int:
    """Chunks of plain tuples through the DB-API executemany, one transaction (MySQL fallback)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        written = 0
        try:
            for chunk in _chunks(*rows, INSERT_CHUNK_ROWS):
                cur.executemany(sql, list(_row_tuples(chunk, kinds, constants)))
                written += len(chunk)
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        return written
    finally:
        raw.close()


def _csv_field(series: pd.Series, kind: str) -> pa.Array:
    """One chunk of a column as CSV text for LOAD DATA: NULL as \\N, backslashes escaped.

    pyarrow formats doubles with the shortest text that parses back to the same double, so the
    stored values equal the frame's exactly.
    """
    if kind == "float":
        values = pa.array(series.to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    elif kind == "bool":
        values = pa.array(series, from_pandas=True).cast(pa.int8())
    elif kind == "int":
        values = pa.array(series, from_pandas=True)
    else:
        if kind == "datetime":
            series = _datetime_text(series)
        values = pa.array(_python_values(series, "text"), pa.string())
        values = pc.replace_substring(values, "\\", "\\\\")
    return pc.fill_null(values.cast(pa.string()), "\\N")


def _write_csv(path: Path, rows: tuple, kinds: dict) -> None:
    """The frame as CSV, chunk by chunk (memory stays bounded by one chunk)."""
    names = list(kinds)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    schema = pa.schema([(name, pa.string()) for name in names])
    with pacsv.CSVWriter(str(path), schema, write_options=options) as writer:
        for chunk in _chunks(*rows, CSV_CHUNK_ROWS):
            arrays = [_csv_field(chunk[name], kind) for name, kind in kinds.items()]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))


def _server_allows_local_infile(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            return bool(int(conn.exec_driver_sql("SELECT @@GLOBAL.local_infile").scalar() or 0))
    except Exception:  # noqa: BLE001 - unknown variable or no privilege: do not rely on it
        return False


def _local_infile_refused(exc: BaseException) -> bool:
    args = getattr(exc, "args", ())
    return bool(args) and args[0] in LOCAL_INFILE_REFUSED


def _load_data_infile(url: str, staging: str, rows: tuple, kinds: dict, constants: tuple) -> int:
    """`LOAD DATA LOCAL INFILE` from a temporary CSV file: one statement, no per-value Python.

    LOCAL turns data errors and duplicate keys into warnings (skipped or altered rows), so any
    warning or a row count other than the frame's fails the export.
    """
    with (
        _engine_for(url, local_infile=True) as engine,
        tempfile.TemporaryDirectory(prefix="telco_export_") as tmp,
    ):
        path = Path(tmp) / f"{staging}.csv"
        _write_csv(path, rows, kinds)
        q = engine.dialect.identifier_preparer.quote
        sql = (
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {q(staging)} CHARACTER SET utf8mb4"
            " FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\'"
            " LINES TERMINATED BY '\\n'"
            f" ({', '.join(q(n) for n in kinds)})"
            f" SET {q(RUN_ID_COLUMN)} = %s, {q(EXPORTED_AT_COLUMN)} = %s"
        )
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            try:
                cur.execute(sql, (str(path), *constants))
                loaded = cur.rowcount
                cur.execute("SHOW WARNINGS LIMIT 3")
                warnings = cur.fetchall()
                expected = len(rows[0])
                if warnings or loaded != expected:
                    said = "; ".join(_one_line(w[2]) for w in warnings) or "no warning"
                    raise RuntimeError(f"LOAD DATA stored {loaded} of {expected} rows: {said}")
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
        finally:
            raw.close()
    return loaded


def _fill_staging(
    engine: Engine,
    url: str,
    definition: sa.Table,
    df: pd.DataFrame,
    order: np.ndarray | None,
    run_id: str,
    stamp: datetime,
    local_infile: bool,
) -> int:
    """Write the frame into the (empty) staging table by the fastest path the database offers."""
    rows = (df, order)
    kinds = {col: _kind(df[col]) for col in df.columns}
    names = [*kinds, RUN_ID_COLUMN, EXPORTED_AT_COLUMN]
    constants = _constants(definition, engine, run_id, stamp)
    dialect = engine.dialect.name
    if dialect == "sqlite":
        sql = _insert_sql(engine, definition.name, names, "?")
        return _load_sqlite(engine, sql, rows, kinds, constants)
    if dialect in ("mysql", "mariadb") and engine.dialect.driver == "pymysql":
        if local_infile and _server_allows_local_infile(engine):
            try:
                return _load_data_infile(url, definition.name, rows, kinds, constants)
            except Exception as exc:
                if not _local_infile_refused(getattr(exc, "orig", exc)):
                    raise
                log.info("LOAD DATA LOCAL INFILE refused (%s): inserting instead", _reason(exc))
        else:
            log.info("the server does not allow LOAD DATA LOCAL INFILE: inserting instead")
        sql = _insert_sql(engine, definition.name, names, "%s")
        return _load_executemany(engine, sql, rows, kinds, constants)
    written = 0
    with engine.begin() as conn:  # other databases: SQLAlchemy's own executemany
        for chunk in _records(df, order, kinds, run_id, stamp):
            conn.execute(definition.insert(), chunk)
            written += len(chunk)
    return written


# --------------------------------------------------------------------------- the swap


def _swap(engine: Engine, staging: str, table: str) -> str | None:
    """Put the staging table in place of `table` atomically; returns the old table to drop."""
    prep = engine.dialect.identifier_preparer
    q_table, q_staging = prep.quote(table), prep.quote(staging)
    exists = sa.inspect(engine).has_table(table)
    old = _staging_name(table, "old") if exists else None
    dialect = engine.dialect.name
    if dialect in ("mysql", "mariadb"):
        # one RENAME TABLE statement swaps both names atomically for every other session
        with engine.begin() as conn:
            if old:
                conn.exec_driver_sql(
                    f"RENAME TABLE {q_table} TO {prep.quote(old)}, {q_staging} TO {q_table}"
                )
            else:
                conn.exec_driver_sql(f"RENAME TABLE {q_staging} TO {q_table}")
        return old
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


def _drop_quietly(engine: Engine, name: str) -> None:
    """Drop a leftover table; a failure here is logged, never masks the original error."""
    try:
        with engine.begin() as conn:
            quoted = engine.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quoted}")
    except Exception as exc:  # noqa: BLE001
        log.warning("could not drop leftover table %s: %s", name, _reason(exc))


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
    """Replace `table` in the database at `url` by `df` (+ run_id, exported_at), atomically.

    Returns the number of rows written. Any failure drops the staging table, leaves the
    previous table as it was, and raises DatabaseError with one line naming the masked URL.
    `fail_before_swap` injects a failure after the staging table is filled (for tests).

    SQLite: chunks of plain tuples through sqlite3's executemany in one transaction.
    MySQL/MariaDB (PyMySQL): `LOAD DATA LOCAL INFILE` from a temporary CSV when the server
    allows it and `local_infile` is true, else chunked executemany. Others: SQLAlchemy inserts.
    """
    validate_identifier(table)
    validate_identifier(primary_key, "primary key column")
    order = _validate_frame(df, table, primary_key)
    stamp = _naive_utc(exported_at)
    staging = _staging_name(table, "staging")
    with _engine_for(url) as engine:
        try:
            definition = _table_def(df, staging, primary_key)
            definition.create(engine)
        except Exception as exc:
            raise _db_error("export to", url, exc) from exc
        try:
            written = _fill_staging(
                engine, url, definition, df, order, str(run_id), stamp, local_infile
            )
            if fail_before_swap:
                raise RuntimeError("failure injected between staging and swap")
            old = _swap(engine, staging, table)
        except Exception as exc:
            _drop_quietly(engine, staging)
            raise _db_error(f"export of table {table!r} to", url, exc) from exc
        if old:
            _drop_quietly(engine, old)
    log.info("exported %d rows to table %s at %s", written, table, mask_url(url))
    return written


# --------------------------------------------------------------------------- reading back


def select_top(
    url: str,
    table: str,
    n: int = 10,
    order_by: str = "satisfaction_score",
    *,
    tie_break: str | None = "msisdn",
) -> pd.DataFrame:
    """The `n` rows with the largest `order_by` (ties by `tie_break` ascending).

    The SQL statement that was run is in `result.attrs["sql"]` (for the report's
    `report.db_select.format_select`).
    """
    validate_identifier(table)
    validate_identifier(order_by, "order-by column")
    if tie_break is not None:
        validate_identifier(tie_break, "tie-break column")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"invalid row count {n!r}: expected a positive integer")
    with _engine_for(url) as engine:
        q = engine.dialect.identifier_preparer.quote
        order = f"{q(order_by)} DESC" + (f", {q(tie_break)} ASC" if tie_break else "")
        sql = f"SELECT * FROM {q(table)} ORDER BY {order} LIMIT {int(n)}"
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table(table):
                    raise DatabaseError(
                        f"query of table {table!r} in {mask_url(url)} failed: no such table"
                    )
                # the reflected column types turn stored values back into Python values
                # (SQLite keeps DATETIME as text)
                reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
                typed = [sa.column(c.name, _read_type(c.type)) for c in reflected.c]
                stmt = sa.text(sql).columns(*typed)
                result = conn.execute(stmt)
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        except DatabaseError:
            raise
        except Exception as exc:
            raise _db_error(f"query of table {table!r} in", url, exc) from exc
    frame.attrs["sql"] = sql + ";"
    return frame


def _read_type(reflected: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """Type used to read a column back: floats as float (reflected MySQL DOUBLE would give
    Decimal rounded to 10 places), everything else as reflected."""
    if isinstance(reflected, sa.Float):
        return sa.Double()
    return reflected
