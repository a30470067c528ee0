"""The export URL, engines and their one-line errors: the password never shows."""

from __future__ import annotations

import pytest
from sqlalchemy.pool import NullPool

from telco_analytics.errors import ConfigError, DatabaseError
from telco_analytics.io.database.connection import (
    CONNECT_TIMEOUT_S,
    DB_URL_ENV,
    _connect_args,
    _engine,
    check_connection,
    db_error,
    engine_for,
    one_line,
    reason,
    resolve_db_url,
)

SECRET = "S3cret-Pass-0001"


def test_url_from_cli_then_environment_then_run_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    assert resolve_db_url(None, tmp_path) == f"sqlite:///{(tmp_path / 'telco.db').resolve()}"
    monkeypatch.setenv(DB_URL_ENV, "mysql+pymysql://u@h/db")
    assert resolve_db_url("", tmp_path) == "mysql+pymysql://u@h/db"
    assert resolve_db_url("sqlite:///x.db", tmp_path) == "sqlite:///x.db"


def test_one_line_folds_breaks_and_runs_of_space():
    assert one_line("a\n  b\tc\r\n") == "a b c"


class _Driver(Exception):
    pass


class _Wrapped(Exception):
    def __init__(self, orig):
        super().__init__("wrapper text")
        self.orig = orig


def test_reason_is_the_drivers_own_words():
    assert reason(_Driver(1045, "Access denied\nfor user")) == "Access denied for user (error 1045)"
    assert reason(_Wrapped(_Driver("no such table: t"))) == "no such table: t"
    assert reason(_Driver()) == "_Driver"  # no words at all: the error's name


def test_db_error_masks_the_url_and_scrubs_an_echoed_password():
    url = f"mysql+pymysql://alice:{SECRET}@db.example:3306/test"
    err = db_error("export to", url, _Driver(1045, f"bad password {SECRET}"))
    assert isinstance(err, DatabaseError)
    assert str(err) == (
        "export to mysql+pymysql://alice:***@db.example:3306/test failed:"
        " bad password *** (error 1045)"
    )


def test_connect_args_bound_every_wait():
    assert _connect_args("mysql", local_infile=True) == {
        "connect_timeout": CONNECT_TIMEOUT_S, "local_infile": True}
    assert _connect_args("mariadb") == {"connect_timeout": CONNECT_TIMEOUT_S}
    assert _connect_args("postgresql", local_infile=True) == {"connect_timeout": CONNECT_TIMEOUT_S}
    assert _connect_args("sqlite") == {"timeout": CONNECT_TIMEOUT_S}
    assert _connect_args("oracle") == {}


@pytest.mark.parametrize("url,match", [
    ("not a url", "invalid database URL"),
    ("sqlite://", "in-memory SQLite"),
    ("sqlite:///:memory:", "in-memory SQLite"),
])
def test_unusable_urls_are_config_errors(url, match):
    with pytest.raises(ConfigError, match=match):
        _engine(url)


def test_unknown_dialect_is_one_masked_line():
    with pytest.raises(DatabaseError) as err:
        _engine(f"nodialect://bob:{SECRET}@h/db")
    message = str(err.value)
    assert message.startswith("cannot use database nodialect://bob:***@h/db: ")
    assert SECRET not in message and "\n" not in message


def test_check_connection(tmp_path):
    check_connection(f"sqlite:///{tmp_path / 'ok.db'}")
    with pytest.raises(DatabaseError, match=r"^connecting to sqlite:///.*missing.* failed: "):
        check_connection(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")


def test_engine_for_keeps_no_connection_and_disposes(tmp_path, monkeypatch):
    disposed = []
    with engine_for(f"sqlite:///{tmp_path / 'e.db'}") as engine:
        assert isinstance(engine.pool, NullPool)  # an export is a few statements: no pool
        monkeypatch.setattr(engine, "dispose", lambda: disposed.append(True))
    assert disposed == [True]
