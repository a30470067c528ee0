"""A production user's trouble with real `telco run` processes: interrupted at several points,
two runs into one folder and one table at once, an output location that cannot be written.

Each test checks what is left behind: the previous run folder byte for byte, the previous
database table row for row, no staging folder or table, no child process, no engine spill.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TELCO = [sys.executable, "-m", "telco_analytics.cli"]
FAST = ["--no-tracking", "--no-report", "--no-figures", "-q"]
SRC = Path(__file__).resolve().parents[2] / "src"


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    spill = tmp / "spill"  # TMPDIR: where the engine's work and spill folders go
    spill.mkdir(exist_ok=True)
    return {**os.environ, "COLUMNS": "200", "TMPDIR": str(spill), "PYTHONPATH": str(SRC),
            **extra}


def _start(args: list[str], tmp: Path, **env: str) -> subprocess.Popen:
    # a session of its own: a Ctrl-C can be sent to its whole process group, as a terminal does
    return subprocess.Popen([*TELCO, *args], cwd=tmp, env=_env(tmp, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as c:
        return sorted(r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'"))


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT * FROM satisfaction ORDER BY msisdn").fetchall()


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended first (rc {proc.returncode}): "
                                 f"{proc.stderr.read()}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the run never reached the point to interrupt")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.fixture(scope="module")
def previous(tmp_path_factory, real_rows_module) -> tuple[Path, Path]:
    """A finished run and its database table: what an interrupted run must leave alone."""
    base = tmp_path_factory.mktemp("previous")
    db = base / "shared.db"
    proc = subprocess.run([*TELCO, "run", str(real_rows_module), "--out", str(base / "run"),
                           "--db", f"sqlite:///{db}", *FAST], cwd=base, env=_env(base),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return base / "run", db


@pytest.fixture(scope="module")
def real_rows_module() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "tellco_real_rows.csv"


def _copy_previous(previous: tuple[Path, Path], tmp: Path) -> tuple[Path, Path]:
    import shutil

    run, db = previous
    shutil.copytree(run, tmp / "run")
    shutil.copy(db, tmp / "shared.db")
    return tmp / "run", tmp / "shared.db"


def _staging_in(db: Path) -> bool:
    try:
        return any("__staging_" in t for t in _tables(db))
    except sqlite3.Error:
        return False


# (point, the node held there, signal, how the test knows the run is there)
POINTS = {
    "engine child running": ("read and validate", signal.SIGINT, "child"),
    "engine child running (SIGTERM)": ("clean", signal.SIGTERM, "child"),
    # a terminal's Ctrl-C reaches the parent and the engine child alike
    "engine child running (Ctrl-C to the process group)": ("clean", signal.SIGINT, "child"),
    "writing tables": ("write tables", signal.SIGINT, "tables"),
    "database export, staging table filled": ("database export", signal.SIGTERM, "staging"),
    "analyses running in process": ("engagement model", signal.SIGTERM, "tables-dir"),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_interrupt_leaves_the_previous_run_and_table_and_nothing_else(
        tmp_path, previous, real_rows_module, point):
    node, sig, marker = POINTS[point]
    run, db = _copy_previous(previous, tmp_path)
    before, rows_before = _snapshot(run), _rows(db)
    env = {"TELCO_HOLD_AFTER_NODE": f"{node}=60"}
    if marker == "child":
        env["TELCO_ENGINE_CHILD_MIN_BYTES"] = "0"  # the engine in a child whatever the size
    proc = _start(["run", str(real_rows_module), "--out", str(run), "--db",
                   f"sqlite:///{db}", *FAST], tmp_path, **env)

    def staging_folder() -> list[Path]:
        return list(tmp_path.glob(".run.partial-*"))

    reached = {
        "child": lambda: bool(_children(proc.pid)) and bool(staging_folder()),
        "tables": lambda: any(list(p.glob("tables/*.parquet")) for p in staging_folder()),
        "staging": lambda: _staging_in(db),
        "tables-dir": lambda: bool(staging_folder()),
    }[marker]
    _wait_for(reached, proc)
    if marker == "tables-dir":
        time.sleep(3)  # the engine in process is done well before; the analyses are at work
    children = _children(proc.pid)
    if "process group" in point:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)

    assert proc.returncode == 128 + sig, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted"), stderr
    assert "Traceback" not in stderr
    assert _snapshot(run) == before
    assert _rows(db) == rows_before
    assert _tables(db) == ["satisfaction"]  # no staging or old table left
    assert not staging_folder() and not list(tmp_path.glob(".run.old-*"))
    # multiprocessing's resource tracker ends once its parent's pipe closes: give it a moment
    end = time.monotonic() + 10
    while any(_alive(c) for c in children) and time.monotonic() < end:
        time.sleep(0.2)
    assert [c for c in children if _alive(c)] == []
    assert list((tmp_path / "spill").iterdir()) == []  # no engine work or spill folder


def test_two_runs_into_one_folder_one_fails_at_once_the_other_completes(
        tmp_path, real_rows_module):
    out, db = tmp_path / "run", tmp_path / "shared.db"
    args = ["run", str(real_rows_module), "--out", str(out), "--db", f"sqlite:///{db}", *FAST]
    first = _start(args, tmp_path, TELCO_HOLD_AFTER_NODE="read and validate=8")
    _wait_for(lambda: bool(list(tmp_path.glob(".run.partial-*"))), first)
    second = _start(args, tmp_path)
    _, err2 = second.communicate(timeout=240)
    _, err1 = first.communicate(timeout=240)

    assert first.returncode == 0, err1
    assert second.returncode == 2, err2
    lines = [line for line in err2.splitlines() if line.strip()]
    assert len(lines) == 1 and "another telco run is writing" in lines[0], err2
    assert str(out.resolve()) in lines[0]
    _assert_one_complete_run(out, db)


def test_two_runs_into_one_table_leave_one_whole_run(tmp_path, real_rows_module):
    """Different folders, one database table, started together: both complete, and the table
    holds exactly the rows of one of them (never a mix)."""
    db = tmp_path / "shared.db"
    procs = [_start(["run", str(real_rows_module), "--out", str(tmp_path / name), "--db",
                     f"sqlite:///{db}", *FAST], tmp_path) for name in ("a", "b")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    run_ids = {r[-2] for r in _rows(db)}
    assert len(run_ids) == 1
    import json

    ids = {json.loads((tmp_path / n / "manifest.json").read_text())["run_id"]: n
           for n in ("a", "b")}
    assert run_ids <= set(ids)
    assert _tables(db) == ["satisfaction"]
    assert len(_rows(db)) == len(_csv_rows(tmp_path / ids[run_ids.pop()]))


def _csv_rows(run: Path) -> list[str]:
    return (run / "tables" / "satisfaction.csv").read_text().splitlines()[1:]


def _assert_one_complete_run(out: Path, db: Path) -> None:
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert {r[-2] for r in _rows(db)} == {manifest["run_id"]}
    assert len(_rows(db)) == len(_csv_rows(out))
    assert not list(out.parent.glob(f".{out.name}.partial-*"))


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_run_folder_one_line_exit_2_nothing_half_written(tmp_path, previous,
                                                               real_rows_module):
    """A file-size limit (what a full disk looks like to a writer) set once the engine is
    done: the first table too large to write ends the run with one line naming the folder."""
    run, _ = _copy_previous(previous, tmp_path)
    before = _snapshot(run)
    proc = _start(["run", str(real_rows_module), "--out", str(run), *FAST], tmp_path,
                  TELCO_HOLD_AFTER_NODE="user tables=20")
    seen_engine = []

    def engine_done() -> bool:  # its work folder came and went: the analyses are next
        present = bool(list((tmp_path / "spill").glob("telco-engine-*")))
        if present:
            seen_engine.append(True)
        return bool(seen_engine) and not present

    _wait_for(engine_done, proc)
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (20_000, 20_000))
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert f"cannot write the run folder {run.resolve()}" in lines[0]
    assert "too large" in lines[0].lower()
    assert _snapshot(run) == before
    assert not list(tmp_path.glob(".run.partial-*"))


def test_full_engine_work_folder_one_line_exit_2(tmp_path, previous, real_rows_module):
    """The engine's own file under $TMPDIR hits the limit first: one line naming that folder,
    and its work folder removed."""
    run, _ = _copy_previous(previous, tmp_path)
    before = _snapshot(run)
    proc = subprocess.Popen([*TELCO, "run", str(real_rows_module), "--out", str(run), *FAST],
                            cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=_limit_file_size(2048))  # noqa: PLW1509 - the limit is the test
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert f"cannot write the engine's work folder {tmp_path / 'spill'}" in lines[0]
    assert _snapshot(run) == before
    assert not list(tmp_path.glob(".run.partial-*"))
    assert list((tmp_path / "spill").iterdir()) == []


def test_read_only_output_location_one_line_exit_2(tmp_path, real_rows_module):
    if os.geteuid() == 0:
        target = Path("/sys/telco-hardening-test/run")  # sysfs: not even root may write there
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        target = locked / "run"
    proc = subprocess.run([*TELCO, "run", str(real_rows_module), "--out", str(target), *FAST],
                          cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert f"cannot write the run folder {target}" in lines[0]
    assert not target.exists()


# ---------------------------------------------------------------- MariaDB/MySQL


@pytest.fixture
def mysql_url():
    """A database of its own on the local server (others' tests use `test`), dropped after."""
    import sqlalchemy as sa

    name = f"telco_hardening_{os.getpid()}"
    admin = sa.create_engine("mysql+pymysql://root:@127.0.0.1:3306/test")
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS {name}")
    yield f"mysql+pymysql://root:@127.0.0.1:3306/{name}"
    with admin.begin() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    admin.dispose()


def _mysql(url: str, sql: str) -> list[tuple]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.exec_driver_sql(sql).fetchall()]
    finally:
        engine.dispose()


def _mysql_tables(url: str) -> list[str]:
    return sorted(r[0] for r in _mysql(url, "SHOW TABLES"))


@pytest.mark.mysql
def test_interrupt_during_a_mysql_export_keeps_the_previous_table(tmp_path, real_rows_module,
                                                                  mysql_url):
    first = subprocess.run([*TELCO, "run", str(real_rows_module), "--out", str(tmp_path / "a"),
                            "--db", mysql_url, *FAST], cwd=tmp_path, env=_env(tmp_path),
                           capture_output=True, text=True, timeout=300, check=False)
    assert first.returncode == 0, first.stderr
    before = _mysql(mysql_url, "SELECT * FROM satisfaction ORDER BY msisdn")
    proc = _start(["run", str(real_rows_module), "--out", str(tmp_path / "b"), "--db",
                   mysql_url, *FAST], tmp_path, TELCO_HOLD_AFTER_NODE="database export=60")
    _wait_for(lambda: any("__staging_" in t for t in _mysql_tables(mysql_url)), proc)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert _mysql(mysql_url, "SELECT * FROM satisfaction ORDER BY msisdn") == before
    assert _mysql_tables(mysql_url) == ["satisfaction"]
    assert not (tmp_path / "b").exists()


@pytest.mark.mysql
def test_two_runs_into_one_mysql_table_leave_one_whole_run(tmp_path, real_rows_module,
                                                           mysql_url):
    import json

    procs = [_start(["run", str(real_rows_module), "--out", str(tmp_path / n), "--db",
                     mysql_url, *FAST], tmp_path) for n in ("a", "b")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    run_ids = {r[0] for r in _mysql(mysql_url, "SELECT DISTINCT run_id FROM satisfaction")}
    ids = {json.loads((tmp_path / n / "manifest.json").read_text())["run_id"]: n
           for n in ("a", "b")}
    assert len(run_ids) == 1 and run_ids <= set(ids)
    rows = _mysql(mysql_url, "SELECT COUNT(*) FROM satisfaction")[0][0]
    assert rows == len(_csv_rows(tmp_path / ids[next(iter(run_ids))]))
    assert _mysql_tables(mysql_url) == ["satisfaction"]
