"""Where the export goes and how to reach it: the URL, a short-lived engine, one-line errors.

Credentials come from the URL (CLI or environment); every error message shows the URL with its
password masked, and a password that a driver echoes back is replaced as well.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from ...errors import ConfigError, DatabaseError
from ...privacy import mask_url

DB_URL_ENV = "TELCO_DB_URL"
DEFAULT_SQLITE_NAME = "telco.db"
CONNECT_TIMEOUT_S = 5  # an unreachable host must fail fast, not hang the run


def resolve_db_url(cli_url: str | None, out_dir: Path) -> str:
    """The export URL: the CLI argument, else $TELCO_DB_URL, else a SQLite file in the run dir."""
    if cli_url:
        return cli_url
    env_url = os.environ.get(DB_URL_ENV)
    if env_url:
        return env_url
    return f"sqlite:///{(Path(out_dir) / DEFAULT_SQLITE_NAME).resolve()}"


# --------------------------------------------------------------------------- error messages


def one_line(text: object) -> str:
    """The text with its line breaks folded: the CLI prints an error as one line."""
    return " ".join(str(text).split())


def reason(exc: BaseException) -> str:
    """The driver's own words for a failure (e.g. 'Access denied ...'), on one line."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):  # PyMySQL: (errno, message)
        return one_line(f"{args[1]} (error {args[0]})")
    return one_line(orig) or type(orig).__name__


def _scrub(message: str, url: str) -> str:
    """Remove the password from a message, should a driver ever echo it."""
    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001 - an unparseable URL has no password to find
        password = None
    if password:
        message = message.replace(str(password), "***")
    return message


def db_error(action: str, url: str, exc: BaseException) -> DatabaseError:
    """`<action> <masked url> failed: <driver's reason>`, without the password anywhere."""
    message = f"{action} {mask_url(url)} failed: {reason(exc)}"
    return DatabaseError(_scrub(message, url))


# --------------------------------------------------------------------------- engines


def _connect_args(dialect: str, local_infile: bool = False) -> dict[str, object]:
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
            _scrub(f"cannot use database {mask_url(url)}: {reason(exc)}", url)
        ) from exc


@contextmanager
def engine_for(url: str, *, local_infile: bool = False) -> Iterator[Engine]:
    """An engine for the statements of one export or query, disposed of afterwards."""
    engine = _engine(url, local_infile=local_infile)
    try:
        yield engine
    finally:
        engine.dispose()


def check_connection(url: str) -> None:
    """Connect once and run SELECT 1, so a wrong URL fails before any long work starts."""
    with engine_for(url) as engine:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            raise db_error("connecting to", url, exc) from exc
