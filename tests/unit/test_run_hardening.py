"""The run layer's hardening pieces on their own: signals as an exception, a shielded section,
the lock between processes, publishing with the folder, the staged database table, the
errors of an output location."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3

import pandas as pd
import pytest

from telco_analytics.errors import OutputError
from telco_analytics.io.database import select_top, stage_table
from telco_analytics.run import execution
from telco_analytics.run.catalog import (
    is_output_trouble,
    lock_path,
    output_error,
    staged_folder,
    staging_leftovers,
)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_becomes_interrupted_with_the_shell_exit_code(sig, code):
    before = signal.getsignal(sig)
    with pytest.raises(execution.Interrupted) as caught, execution.interruptible():
        os.kill(os.getpid(), sig)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass
        pytest.fail("no Interrupted raised")
    assert caught.value.exit_code == code
    assert not isinstance(caught.value, Exception)  # `except Exception` does not swallow it
    assert signal.getsignal(sig) == before  # handlers restored


def test_a_signal_inside_shielded_is_raised_when_it_ends():
    done = []
    with pytest.raises(execution.Interrupted), execution.interruptible():
        with execution.shielded():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass
            done.append("all of the shielded work")
        pytest.fail("the held signal was not raised")
    assert done == ["all of the shielded work"]


def test_the_lock_refuses_a_second_holder_and_is_released(tmp_path):
    lock = tmp_path / ".run.lock"
    with execution.exclusive(lock):
        assert lock.read_text().strip() == str(os.getpid())
        with pytest.raises(execution.Busy), execution.exclusive(lock):
            pass
    with execution.exclusive(lock):  # free again
        pass


def test_lock_path_is_beside_the_run_folder(tmp_path):
    assert lock_path(tmp_path / "runs" / "r1") == (tmp_path / "runs" / ".r1.lock").resolve()


def test_publish_runs_before_the_swap_and_discard_on_failure(tmp_path):
    final = tmp_path / "run"
    final.mkdir()
    (final / "old.txt").write_text("previous")
    events = []
    with pytest.raises(RuntimeError), staged_folder(
            final, publish=lambda: events.append("publish"),
            discard=lambda: events.append("discard")) as staging:
        (staging / "new.txt").write_text("new")
        raise RuntimeError("a node failed")
    assert events == ["discard"]
    assert (final / "old.txt").read_text() == "previous" and staging_leftovers(final) == []

    def publish() -> None:
        events.append("publish")
        assert (final / "old.txt").exists()  # the previous folder is still in place

    with staged_folder(final, publish=publish, discard=lambda: events.append("discard2")) as s:
        (s / "new.txt").write_text("new")
    assert events == ["discard", "publish"]
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert staging_leftovers(final) == []


def test_a_failing_publish_leaves_the_previous_folder(tmp_path):
    final = tmp_path / "run"
    final.mkdir()
    (final / "old.txt").write_text("previous")

    def publish() -> None:
        raise RuntimeError("the database swap failed")

    with pytest.raises(RuntimeError), staged_folder(final, publish=publish) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["old.txt"]
    assert staging_leftovers(final) == []


def _frame(n: int, score: float) -> pd.DataFrame:
    return pd.DataFrame({"msisdn": [f"u{i}" for i in range(n)],
                         "satisfaction_score": [score + i for i in range(n)]})


def _tables(db) -> list[str]:
    with sqlite3.connect(db) as c:
        return sorted(r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'"))


def test_a_staged_table_is_invisible_until_committed_and_gone_when_discarded(tmp_path):
    db = tmp_path / "t.db"
    url = f"sqlite:///{db}"
    stage_table(_frame(3, 1.0), url, "satisfaction", run_id="first").commit()
    staged = stage_table(_frame(5, 10.0), url, "satisfaction", run_id="second")
    top = select_top(url, staged.staging, 2, shown_as="satisfaction")
    assert "FROM satisfaction ORDER" in top.attrs["sql"]
    assert top["run_id"].tolist() == ["second"] * 2
    assert len(select_top(url, "satisfaction", 10)) == 3  # readers still see the first run
    staged.discard()
    assert _tables(db) == ["satisfaction"]
    assert set(select_top(url, "satisfaction", 10)["run_id"]) == {"first"}
    again = stage_table(_frame(5, 10.0), url, "satisfaction", run_id="third")
    again.commit()
    assert set(select_top(url, "satisfaction", 10)["run_id"]) == {"third"}
    assert _tables(db) == ["satisfaction"]


def test_an_interrupt_while_filling_drops_the_staging_table(tmp_path, monkeypatch):
    from telco_analytics.io.database import export

    db = tmp_path / "t.db"
    url = f"sqlite:///{db}"
    stage_table(_frame(3, 1.0), url, "satisfaction", run_id="first").commit()

    def interrupted(*args, **kwargs):
        raise execution.Interrupted(signal.SIGTERM)

    monkeypatch.setattr(export, "fill_staging", interrupted)
    with pytest.raises(execution.Interrupted):
        stage_table(_frame(5, 10.0), url, "satisfaction", run_id="second")
    assert _tables(db) == ["satisfaction"]


@pytest.mark.parametrize(("exc", "expected"), [
    (OSError(errno.ENOSPC, "No space left on device"), True),
    (OSError(errno.EFBIG, "File too large"), True),
    (OSError(errno.EROFS, "Read-only file system"), True),
    (OSError("IO Error: Could not write: File too large"), True),
    (OSError(errno.ENOENT, "No such file or directory"), False),
    (ValueError("bad number"), False),
])
def test_output_trouble_is_recognised(tmp_path, exc, expected):
    assert is_output_trouble(exc, tmp_path / "run") is expected


def test_output_trouble_elsewhere_is_not_the_run_folders(tmp_path):
    exc = PermissionError(errno.EACCES, "Permission denied", "/etc/somewhere")
    assert not is_output_trouble(exc, tmp_path / "run")


def test_output_error_is_one_line_naming_the_folder(tmp_path):
    err = output_error(tmp_path / "run", OSError(errno.ENOSPC, "No space left on device"))
    assert isinstance(err, OutputError) and err.exit_code == 2
    assert str(tmp_path / "run") in str(err) and "\n" not in str(err)
    assert "No space left on device" in str(err)


def _child_value(x: int) -> int:
    return x * 2


def _child_fails(x: int) -> int:
    raise ValueError(f"bad {x}")


def _child_dies(x: int) -> int:
    os._exit(9)


def test_in_child_process_result_error_and_death():
    assert execution.in_child_process(_child_value, 21) == 42
    with pytest.raises(ValueError, match="bad 3"):
        execution.in_child_process(_child_fails, 3)
    with pytest.raises(execution.ChildProcessDied):
        execution.in_child_process(_child_dies, 1)


def test_per_user_values_beyond_the_variance_bound_are_named_and_others_pass():
    import numpy as np

    from telco_analytics.errors import InputError
    from telco_analytics.run.runner import _require_finite_users

    users = pd.DataFrame({
        "msisdn": [1, 2, 3],
        "sessions": np.array([2**62, 1, 5], dtype="int64"),  # integers never come near it
        "never_measured": [np.nan, np.nan, np.nan],
        "rtt_ms": [10.0, np.nan, 30.0],
        "dl_kbps": [1.5, 2.5, 3.5],
    })
    _require_finite_users("x.csv", users)  # nothing to say
    for bad in (-1e308, np.inf, 1e160):
        damaged = users.assign(rtt_ms=[10.0, bad, 30.0], dl_kbps=[1.0, 2.0, -bad])
        with pytest.raises(InputError, match=r"x\.csv: values too large .* in rtt_ms, dl_kbps"):
            _require_finite_users("x.csv", damaged)
    # the bound: sqrt(float max / users) / 10, about 7.7e152 for 3 users
    _require_finite_users("x.csv", users.assign(rtt_ms=[1e152, 0.0, 0.0]))
