"""Database export of a result table (SPEC section 6): atomic replace, top-rows query, its picture.

The only module that writes SQL for the export. The table is written to a staging table, then
swapped in with one statement (MySQL/MariaDB `RENAME TABLE`, one transaction elsewhere), so a
reader sees either the previous table or the new one, never a partial or missing table.
Credentials come from the URL (CLI or environment); every error message shows the URL with its
password masked.
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
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
INSERT_CHUNK_ROWS = 10_000  # rows per executemany: bounded memory, few round trips
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


def _connect_args(dialect: str) -> dict:
    if dialect in ("mysql", "mariadb", "postgresql"):
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    if dialect == "sqlite":
        return {"timeout": CONNECT_TIMEOUT_S}  # wait this long for a locked file
    return {}


def _engine(url: str) -> Engine:
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
            parsed, poolclass=NullPool, connect_args=_connect_args(parsed.get_backend_name())
        )
    except Exception as exc:
        raise DatabaseError(
            _scrub(f"cannot use database {mask_url(url)}: {_reason(exc)}", url)
        ) from exc


@contextmanager
def _engine_for(url: str) -> Iterator[Engine]:
    engine = _engine(url)
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


def _validate_frame(df: pd.DataFrame, table: str, primary_key: str) -> None:
    """Everything checkable without a connection, all problems reported at once."""
    problems = []
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
        if key.duplicated().any():
            problems.append(f"{int(key.duplicated().sum())} duplicate {primary_key} values")
        too_long = int((key.dropna().astype(str).str.len() > KEY_LENGTH).sum())
        if too_long:
            problems.append(f"{too_long} {primary_key} values longer than {KEY_LENGTH} characters")
    if problems:
        raise ConfigError(f"cannot export table {table!r}: " + "; ".join(problems))


def _records(df: pd.DataFrame, run_id: str, exported_at: datetime) -> Iterator[list[dict]]:
    """Rows as plain Python values (NaN -> NULL: MySQL has no NaN), in chunks."""
    columns = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_float_dtype(s):
            floats = s.astype("float64").tolist()
            values = [None if math.isnan(v) else v for v in floats]
        elif pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            values = s.astype(object).where(s.notna(), None).tolist()
        else:
            values = [None if pd.isna(v) else str(v) for v in s.astype(object).tolist()]
        columns[col] = values
    names = list(columns)
    for start in range(0, len(df), INSERT_CHUNK_ROWS):
        stop = min(start + INSERT_CHUNK_ROWS, len(df))
        chunk = [
            {RUN_ID_COLUMN: run_id, EXPORTED_AT_COLUMN: exported_at}
            | {n: columns[n][i] for n in names}
            for i in range(start, stop)
        ]
        yield chunk


def _naive_utc(moment: datetime | None) -> datetime:
    """UTC wall time without tzinfo and microseconds (DATETIME stores neither)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


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
) -> int:
    """Replace `table` in the database at `url` by `df` (+ run_id, exported_at), atomically.

    Returns the number of rows written. Any failure drops the staging table, leaves the
    previous table as it was, and raises DatabaseError with one line naming the masked URL.
    `fail_before_swap` injects a failure after the staging table is filled (for tests).
    """
    validate_identifier(table)
    validate_identifier(primary_key, "primary key column")
    _validate_frame(df, table, primary_key)
    stamp = _naive_utc(exported_at)
    staging = _staging_name(table, "staging")
    with _engine_for(url) as engine:
        try:
            definition = _table_def(df, staging, primary_key)
            definition.create(engine)
        except Exception as exc:
            raise _db_error("export to", url, exc) from exc
        try:
            written = 0
            with engine.begin() as conn:
                for chunk in _records(df, str(run_id), stamp):
                    conn.execute(definition.insert(), chunk)
                    written += len(chunk)
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

    The SQL statement that was run is in `result.attrs["sql"]` (for `format_select`).
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


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NULL"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def format_select(sql: str, df: pd.DataFrame) -> str:
    """Query output as the mysql client prints it: the statement, a boxed table, the row count."""
    headers = [str(c) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: list[str], align_numbers: bool) -> str:
        padded = [
            c.rjust(w) if (align_numbers and num) else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric)
        ]
        return "| " + " | ".join(padded) + " |"

    out = [f"mysql> {sql.strip()}"]
    if rows:
        out += [rule, line(headers, False), rule, *(line(r, True) for r in rows), rule]
        out.append(f"{len(rows)} row{'s' if len(rows) != 1 else ''} in set")
    else:
        out.append("Empty set")
    return "\n".join(out) + "\n"


def render_select_png(text: str, path: Path) -> Path:
    """A terminal-like picture of query output (light monospace text on a dark background)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    body = text.rstrip("\n") or " "
    font_pt, margin_in, dpi = 10, 0.2, 150
    fig = Figure(figsize=(4, 1), facecolor="#1e1e1e", dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    label = fig.text(
        0,
        0,
        body,
        family="monospace",
        fontsize=font_pt,
        color="#d4d4d4",
        va="bottom",
        ha="left",
        linespacing=1.25,
    )
    # measure the rendered text, then size the figure to it (font metrics vary by machine)
    box = label.get_window_extent(renderer=canvas.get_renderer())
    width_in, height_in = box.width / dpi + 2 * margin_in, box.height / dpi + 2 * margin_in
    fig.set_size_inches(width_in, height_in)
    label.set_position((margin_in / width_in, margin_in / height_in))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fig.savefig(tmp, format="png", dpi=dpi, facecolor=fig.get_facecolor())
    tmp.replace(path)
    return path
