"""Database export (SPEC section 6) against SQLite and the real MariaDB at 127.0.0.1:3306."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from telco_analytics.errors import ConfigError, DatabaseError
from telco_analytics.io.database import export_table, infile, loaders, resolve_db_url, select_top
from telco_analytics.report.db_select import format_select, render_select_png

MYSQL_URL = "mysql+pymysql://root:@127.0.0.1:3306/test"
PW_USER, PW_RIGHT, PW_WRONG = "telco_pw_test", "Right-Pass-7731", "Wrong-Pass-4410"


def _satisfaction(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eng, exp = rng.gamma(2.0, 1.0, n), rng.gamma(3.0, 1.0, n)
    return pd.DataFrame(
        {
            "msisdn": [f"3366{i:07d}" for i in rng.permutation(n)],
            "engagement_score": eng,
            "experience_score": exp,
            "satisfaction_score": (eng + exp) / 2,
            "cluster": rng.integers(0, 2, n).astype("int64"),
        }
    )


def _database(kind: str, tmp_path):
    """(url, unique table name); the table and any leftover is dropped afterwards."""
    url = f"sqlite:///{tmp_path / 'telco.db'}" if kind == "sqlite" else MYSQL_URL
    table = f"t_sat_{secrets.token_hex(4)}"
    yield url, table
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in sa.inspect(conn).get_table_names():
            if name.startswith(table):
                conn.exec_driver_sql(f"DROP TABLE {name}")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def db(request, tmp_path):
    yield from _database(request.param, tmp_path)


@pytest.fixture
def mysql_db(tmp_path):
    yield from _database("mysql", tmp_path)


def _read(url: str, table: str) -> pd.DataFrame:
    """The table as the driver returns it (no SQLAlchemy type processing in between)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM {table}")
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    engine.dispose()
    return frame


def _tables(url: str, prefix: str) -> list[str]:
    engine = sa.create_engine(url)
    names = [n for n in sa.inspect(engine).get_table_names() if n.startswith(prefix)]
    engine.dispose()
    return sorted(names)


def _column_types(url: str, table: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    cols = {c["name"]: str(c["type"]).upper() for c in sa.inspect(engine).get_columns(table)}
    pk = sa.inspect(engine).get_pk_constraint(table)["constrained_columns"]
    engine.dispose()
    return cols | {"__pk__": ",".join(pk)}


def test_export_content_equals_dataframe(db):
    url, table = db
    df = _satisfaction(500, seed=1)
    stamp = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert export_table(df, url, table, run_id="run-1", exported_at=stamp) == 500
    back = _read(url, table).sort_values("msisdn", ignore_index=True)
    expected = df.sort_values("msisdn", ignore_index=True)
    assert list(back.columns) == [*df.columns, "run_id", "exported_at"]
    pd.testing.assert_frame_equal(back[df.columns], expected, check_dtype=False)  # exact floats
    assert (back["run_id"] == "run-1").all()
    assert (pd.to_datetime(back["exported_at"]) == pd.Timestamp("2024-05-06 07:08:09")).all()
    types = _column_types(url, table)
    assert types["__pk__"] == "msisdn"
    assert "CHAR" in types["msisdn"] or "TEXT" in types["msisdn"]
    assert "DOUBLE" in types["satisfaction_score"]
    assert "INT" in types["cluster"]
    assert _tables(url, table) == [table]  # no staging or old table left behind


def test_reexport_replaces_not_duplicates(db):
    url, table = db
    export_table(_satisfaction(300, seed=1), url, table, run_id="first")
    second = _satisfaction(120, seed=2)
    assert export_table(second, url, table, run_id="second") == 120
    back = _read(url, table)
    assert len(back) == 120
    assert set(back["run_id"]) == {"second"}
    assert set(back["msisdn"]) == set(second["msisdn"])
    assert _tables(url, table) == [table]


def test_failure_before_swap_keeps_previous_table(db):
    url, table = db
    first = _satisfaction(200, seed=1)
    export_table(first, url, table, run_id="good")
    with pytest.raises(DatabaseError) as err:
        export_table(_satisfaction(50, seed=2), url, table, run_id="bad", fail_before_swap=True)
    assert "\n" not in str(err.value)
    back = _read(url, table)
    assert len(back) == 200 and set(back["run_id"]) == {"good"}
    assert _tables(url, table) == [table]  # the staging table was dropped


def test_failure_on_first_export_leaves_nothing(db):
    url, table = db
    with pytest.raises(DatabaseError):
        export_table(_satisfaction(10, seed=1), url, table, run_id="x", fail_before_swap=True)
    assert _tables(url, table) == []


def test_nan_scores_become_null(db):
    url, table = db
    df = _satisfaction(5, seed=3)
    df.loc[2, "experience_score"] = np.nan
    export_table(df, url, table, run_id="r")
    back = _read(url, table).set_index("msisdn")
    assert back["experience_score"].isna().sum() == 1
    assert np.isnan(back.loc[df.loc[2, "msisdn"], "experience_score"])


def test_select_top_and_its_text_and_picture(db, tmp_path):
    url, table = db
    df = _satisfaction(40, seed=4)
    df.loc[[0, 1], "satisfaction_score"] = 99.0  # a tie at the top: broken by msisdn
    export_table(df, url, table, run_id="r")
    top = select_top(url, table, n=5)
    expected = df.sort_values(["satisfaction_score", "msisdn"], ascending=[False, True]).head(5)
    assert top["msisdn"].tolist() == expected["msisdn"].tolist()
    # read back as exact floats (not Decimal rounded to 10 places)
    assert top["satisfaction_score"].tolist() == expected["satisfaction_score"].tolist()
    assert isinstance(top["satisfaction_score"].iloc[0], float)
    sql = top.attrs["sql"]
    assert sql.startswith("SELECT * FROM") and table in sql and "LIMIT 5" in sql
    text = format_select(sql, top)
    lines = text.splitlines()
    assert lines[0] == f"mysql> {sql}"
    assert lines[1].startswith("+-") and "| msisdn" in lines[2]
    assert lines[-1] == "5 rows in set"
    assert len(lines) == 1 + 3 + 5 + 1 + 1
    assert len({len(line) for line in lines[1:-1]}) == 1  # a rectangular box
    png = render_select_png(text, tmp_path / "figures" / "db_select.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["x; DROP TABLE y", "1abc", "a-b", "", "x" * 65, "t`x"])
def test_hostile_table_name_rejected_before_connecting(name):
    # the URL points at a closed port: reaching the database would raise DatabaseError instead
    url = "mysql+pymysql://root:pw@127.0.0.1:1/test"
    with pytest.raises(ConfigError, match="invalid table name"):
        export_table(_satisfaction(3, seed=1), url, name, run_id="r")
    with pytest.raises(ConfigError):
        select_top(url, name)


def test_bad_keys_rejected_before_connecting():
    url = "mysql+pymysql://root:pw@127.0.0.1:1/test"  # closed port: ConfigError proves no connect
    df = _satisfaction(3, seed=1)
    df.loc[1, "msisdn"] = df.loc[0, "msisdn"]
    df.loc[2, "msisdn"] = "9" * 65
    with pytest.raises(ConfigError, match="1 duplicate msisdn.*1 msisdn values longer than 64"):
        export_table(df, url, "t", run_id="r")
    with pytest.raises(ConfigError, match="primary key column 'user_id' is missing"):
        export_table(_satisfaction(3, seed=1), url, "t", primary_key="user_id", run_id="r")


def test_in_memory_sqlite_refused():
    with pytest.raises(ConfigError, match="in-memory"):
        export_table(_satisfaction(3, seed=1), "sqlite://", "t", run_id="r")


def test_unreachable_host_fails_fast_with_one_masked_line():
    url = f"mysql+pymysql://root:{PW_WRONG}@127.0.0.1:1/test"
    start = time.perf_counter()
    with pytest.raises(DatabaseError) as err:
        export_table(_satisfaction(3, seed=1), url, "t_unreachable", run_id="r")
    assert time.perf_counter() - start < 10
    message = str(err.value)
    assert "\n" not in message and PW_WRONG not in message
    assert "root:***@127.0.0.1:1/test" in message
    assert "Can't connect" in message


@pytest.fixture
def password_user():
    """A MariaDB user with a password (root may authenticate without one)."""
    engine = sa.create_engine(MYSQL_URL)
    account = f"'{PW_USER}'@'%%'"  # %% : the driver's paramstyle escapes a literal %
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{PW_RIGHT}'")
        conn.exec_driver_sql(f"ALTER USER {account} IDENTIFIED BY '{PW_RIGHT}'")
        conn.exec_driver_sql(f"GRANT ALL ON test.* TO {account}")
    yield PW_USER
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP USER IF EXISTS {account}")
    engine.dispose()


@pytest.mark.mysql
def test_wrong_password_one_line_without_password(password_user):
    table = f"t_pw_{secrets.token_hex(4)}"
    right = f"mysql+pymysql://{password_user}:{PW_RIGHT}@127.0.0.1:3306/test"
    assert export_table(_satisfaction(3, seed=1), right, table, run_id="r") == 3  # user works
    try:
        wrong = f"mysql+pymysql://{password_user}:{PW_WRONG}@127.0.0.1:3306/test"
        with pytest.raises(DatabaseError) as err:
            export_table(_satisfaction(3, seed=1), wrong, table, run_id="r")
        message = str(err.value)
        assert "\n" not in message
        assert PW_WRONG not in message and PW_RIGHT not in message
        assert f"{password_user}:***@127.0.0.1:3306/test" in message
        assert "Access denied" in message
        assert len(_read(MYSQL_URL, table)) == 3  # the previous export is untouched
    finally:
        engine = sa.create_engine(MYSQL_URL)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()


@pytest.mark.mysql
def test_unknown_database():
    with pytest.raises(DatabaseError, match="Unknown database"):
        export_table(
            _satisfaction(3, seed=1),
            "mysql+pymysql://root:@127.0.0.1:3306/no_such_db_xyz",
            "t",
            run_id="r",
        )


def test_select_from_missing_table(tmp_path):
    with pytest.raises(DatabaseError, match="no such table"):
        select_top(f"sqlite:///{tmp_path / 'x.db'}", "nothing_here")


def test_bad_url_is_a_config_error():
    with pytest.raises(ConfigError, match="invalid database URL"):
        export_table(_satisfaction(3, seed=1), "not a url", "t", run_id="r")


def test_resolve_db_url(monkeypatch, tmp_path):
    monkeypatch.delenv("TELCO_DB_URL", raising=False)
    assert resolve_db_url(None, tmp_path) == f"sqlite:///{(tmp_path / 'telco.db').resolve()}"
    monkeypatch.setenv("TELCO_DB_URL", MYSQL_URL)
    assert resolve_db_url(None, tmp_path) == MYSQL_URL
    assert resolve_db_url("sqlite:///x.db", tmp_path) == "sqlite:///x.db"


def test_default_sqlite_url_works_end_to_end(monkeypatch, tmp_path):
    monkeypatch.delenv("TELCO_DB_URL", raising=False)
    url = resolve_db_url(None, Path(tmp_path))
    df = _satisfaction(20, seed=5)
    export_table(df, url, run_id="r")  # default table name: satisfaction
    assert (tmp_path / "telco.db").exists()
    assert select_top(url, "satisfaction", n=3)["msisdn"].tolist() == (
        df.sort_values("satisfaction_score", ascending=False)["msisdn"].head(3).tolist()
    )


# --------------------------------------------------------------------------- bulk paths


def _db_sums(url: str, table: str) -> tuple:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            f"SELECT COUNT(*), COUNT(DISTINCT msisdn), SUM(engagement_score),"
            f" SUM(experience_score), SUM(satisfaction_score), SUM(cluster),"
            f" MIN(msisdn), MAX(msisdn), COUNT(DISTINCT run_id) FROM {table}"
        ).one()
    engine.dispose()
    return tuple(row)


@pytest.mark.parametrize("kind,local_infile", [
    ("sqlite", True),  # local_infile only concerns MySQL/MariaDB
    pytest.param("mysql", True, marks=pytest.mark.mysql, id="mysql-infile"),
    pytest.param("mysql", False, marks=pytest.mark.mysql, id="mysql-executemany"),
])
def test_bulk_export_200k_counts_and_checksum(tmp_path, kind, local_infile):
    cases = _database(kind, tmp_path)
    url, table = next(cases)
    try:
        _bulk_export_checks(url, table, local_infile)
    finally:
        next(cases, None)


def _bulk_export_checks(url: str, table: str, local_infile: bool) -> None:
    n = 200_000
    df = _satisfaction(n, seed=7)  # msisdn in random order: the export sorts by key
    start = time.perf_counter()
    assert export_table(df, url, table, run_id="bulk", local_infile=local_infile) == n
    elapsed = time.perf_counter() - start
    count, distinct, eng, exp, sat, clusters, lo, hi, runs = _db_sums(url, table)
    assert (count, distinct, runs) == (n, n, 1)
    for stored, column in (
        (eng, "engagement_score"),
        (exp, "experience_score"),
        (sat, "satisfaction_score"),
    ):
        assert float(stored) == pytest.approx(float(df[column].sum()), rel=1e-12)
    assert int(clusters) == int(df["cluster"].sum())  # MariaDB's SUM(INT) is a Decimal
    assert (lo, hi) == (df["msisdn"].min(), df["msisdn"].max())
    assert elapsed < 30  # ~1 s here; the per-row SQLAlchemy path took ~2.5 s (MariaDB ~5 s)


def _awkward() -> pd.DataFrame:
    """Values that a CSV round trip could corrupt, and NULLs of every kind."""
    texts = [
        "a,b",
        'quote "q"',
        "back\\slash",
        "\\N",
        "NULL",
        "line\nbreak",
        "",
        None,
        "tab\there",
        "ünïcødé €",
    ]
    n = len(texts)
    return pd.DataFrame(
        {
            "msisdn": [f"k{i:03d}" for i in range(n)][::-1],
            "note": pd.Series(texts, dtype=object),
            "score": [
                0.1,
                1e-300,
                5e-324,
                -0.0,
                1.7976931348623157e308,
                np.nan,
                1 / 3,
                2.0**53 + 2,
                -123.456e-7,
                np.nan,
            ],
            "count": pd.array([1, None, -(2**40), 0, 7, 8, 9, None, 11, 12], dtype="Int64"),
            "flag": [True, False] * 5,
        }
    )


@pytest.mark.parametrize("local_infile", [True, False], ids=["infile", "executemany"])
def test_awkward_values_round_trip_exactly(db, local_infile):
    url, table = db
    df = _awkward()
    export_table(df, url, table, run_id="r", local_infile=local_infile)
    back = _read(url, table).sort_values("msisdn", ignore_index=True)
    expected = df.sort_values("msisdn", ignore_index=True)
    assert back["msisdn"].tolist() == expected["msisdn"].tolist()
    notes = [None if not isinstance(v, str) else v for v in back["note"]]
    assert notes == expected["note"].tolist()  # None stays NULL, "NULL" stays text
    got, want = back["score"].astype(float).to_numpy(), expected["score"].to_numpy()
    assert np.array_equal(got, want, equal_nan=True)  # bit-exact, NaN -> NULL
    assert [None if pd.isna(v) else int(v) for v in back["count"]] == [
        None if pd.isna(v) else int(v) for v in expected["count"]
    ]
    assert [bool(v) for v in back["flag"]] == expected["flag"].tolist()


def _spy(monkeypatch, module, name: str) -> list:
    """Count calls of a module function while keeping its behaviour."""
    calls = []
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.mark.mysql
def test_mariadb_uses_load_data_when_allowed(monkeypatch):
    table = f"t_sat_{secrets.token_hex(4)}"
    loads = _spy(monkeypatch, infile, "load_data_infile")
    inserts = _spy(monkeypatch, loaders, "load_executemany")
    try:
        export_table(_satisfaction(50, seed=1), MYSQL_URL, table, run_id="r")
        assert (loads, inserts) == (["load_data_infile"], [])  # this server allows it
        export_table(_satisfaction(50, seed=1), MYSQL_URL, table, run_id="r", local_infile=False)
        assert inserts == ["load_executemany"] and len(loads) == 1
    finally:
        _drop(MYSQL_URL, table)


def _drop(url: str, prefix: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in sa.inspect(conn).get_table_names():
            if name.startswith(prefix):
                conn.exec_driver_sql(f"DROP TABLE {name}")
    engine.dispose()


@pytest.mark.mysql
def test_mariadb_falls_back_when_the_server_disallows_local_infile(monkeypatch):
    table = f"t_sat_{secrets.token_hex(4)}"
    monkeypatch.setattr(infile, "server_allows_local_infile", lambda engine: False)
    inserts = _spy(monkeypatch, loaders, "load_executemany")
    df = _satisfaction(300, seed=2)
    try:
        assert export_table(df, MYSQL_URL, table, run_id="r") == 300
        assert inserts == ["load_executemany"]
        back = _read(MYSQL_URL, table).sort_values("msisdn", ignore_index=True)
        expected = df.sort_values("msisdn", ignore_index=True)
        pd.testing.assert_frame_equal(back[df.columns], expected, check_dtype=False)
    finally:
        _drop(MYSQL_URL, table)


@pytest.mark.mysql
def test_mariadb_falls_back_when_load_data_is_refused(monkeypatch):
    import pymysql

    def refuse(*args, **kwargs):
        raise pymysql.err.OperationalError(
            1148, "The used command is not allowed with this MariaDB version"
        )

    table = f"t_sat_{secrets.token_hex(4)}"
    monkeypatch.setattr(infile, "load_data_infile", refuse)
    df = _satisfaction(300, seed=3)
    try:
        assert export_table(df, MYSQL_URL, table, run_id="r") == 300
        back = _read(MYSQL_URL, table).sort_values("msisdn", ignore_index=True)
        pd.testing.assert_frame_equal(
            back[df.columns], df.sort_values("msisdn", ignore_index=True), check_dtype=False
        )
    finally:
        _drop(MYSQL_URL, table)


@pytest.mark.mysql
@pytest.mark.parametrize("local_infile", [True, False], ids=["infile", "executemany"])
def test_value_the_database_cannot_store_fails_and_keeps_previous_table(mysql_db, local_infile):
    """A text longer than its VARCHAR(255): LOAD DATA LOCAL would truncate it with a warning.
    (MySQL/MariaDB only: SQLite stores any length.)"""
    url, table = mysql_db
    first = _satisfaction(20, seed=1)
    export_table(first, url, table, run_id="good")
    bad = _satisfaction(20, seed=2).assign(note="x" * 300)
    with pytest.raises(DatabaseError) as err:
        export_table(bad, url, table, run_id="bad", local_infile=local_infile)
    message = str(err.value)
    assert "\n" not in message and "mysql+pymysql://root:***@127.0.0.1:3306/test" in message
    assert "Data too long for column 'note'" in message or "truncated for column 'note'" in message
    back = _read(url, table)
    assert len(back) == 20 and set(back["run_id"]) == {"good"}
    assert _tables(url, table) == [table]


def test_key_problems_counted_with_missing_and_mixed_keys():
    url = "mysql+pymysql://root:pw@127.0.0.1:1/test"  # closed port: ConfigError proves no connect
    df = pd.DataFrame({"msisdn": ["b", None, "a", "b", None, "a", "c"], "x": range(7)})
    with pytest.raises(ConfigError, match="2 rows have no msisdn; 2 duplicate msisdn values"):
        export_table(df, url, "t", run_id="r")
    mixed = pd.DataFrame({"msisdn": pd.Series([1, "x", 2, 1], dtype=object), "x": range(4)})
    with pytest.raises(ConfigError, match="1 duplicate msisdn values"):
        export_table(mixed, url, "t", run_id="r")
