"""Start the Streamlit dashboard over a run folder (what `telco dashboard DIR` calls).

The launcher owns the server it starts: SIGINT (Ctrl-C) and SIGTERM (a service manager,
`docker stop`) are passed on to the server and waited for, so that nothing keeps running or
holds the port once `telco dashboard` has ended.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError
from ..run.catalog import RunCatalog, latest_run

log = logging.getLogger(__name__)

APP = Path(__file__).with_name("app.py")
DEFAULT_ROOT = Path("telco-runs")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# how long a server may take to stop after a forwarded signal before it is killed
GRACE_SECONDS = 10.0
POLL_SECONDS = 0.1


def find_latest_run(root: Path = DEFAULT_ROOT) -> Path | None:
    """The most recently finished run folder directly under `root` (see catalog.latest_run)."""
    return latest_run(root)


def dashboard_command(run_dir: Path, port: int = 8501, headless: bool = True) -> list[str]:
    """The command line serving the dashboard over `run_dir` (Streamlit's own `run` command,
    through `dashboard.server`, which imports the pages before the server starts)."""
    return [
        sys.executable, "-m", "telco_analytics.dashboard.server", "run", str(APP),
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",  # no telemetry leaves the operator's network
        # an analyst's menu: no 'Deploy' button, rerun or cache clearing (developer options)
        "--client.toolbarMode", "viewer",
        "--", "--run", str(Path(run_dir).resolve()),
    ]


def check_run_dir(run_dir: Path) -> Path:
    """The run folder as an absolute path; ConfigError saying how to make one when it is not."""
    path = Path(run_dir)
    if not path.is_dir():
        raise ConfigError(f"dashboard: run folder {path} not found; expected a folder written by "
                          "`telco run --out DIR`")
    if not RunCatalog(path).is_run():
        raise ConfigError(f"dashboard: {path} is not a run folder: expected manifest.json in it "
                          "(make one with `telco run --out DIR`)")
    return path.resolve()


def exit_code(returncode: int) -> int:
    """A child's return code as a shell reports it (killed by signal N -> 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def _restore(handlers: dict[int, object]) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def _wait(process: subprocess.Popen, stop: list[int], grace: float) -> None:
    """Wait for the child to end; `grace` seconds after the first stop signal, kill it."""
    deadline = None
    while process.poll() is None:
        if stop and deadline is None:
            deadline = time.monotonic() + grace
            log.info("stopping the dashboard server (signal %d)", stop[0])
        if deadline is not None and time.monotonic() > deadline:
            log.warning("the dashboard server did not stop within %.0f s: killed", grace)
            process.kill()
        try:
            process.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass


def serve(command: Sequence[str], grace: float = GRACE_SECONDS) -> int:
    """Run `command` until it ends, passing SIGINT/SIGTERM on to it; its exit code.

    After a forwarded signal the child has `grace` seconds to stop before it is killed; the
    launcher returns only once the child is gone (reaped), so its port is free by then.
    """
    stop: list[int] = []  # the signals received, in order
    process: subprocess.Popen | None = None

    def forward(signum: int, _frame: object) -> None:
        stop.append(signum)
        if process is not None and process.poll() is None:
            process.send_signal(signum)

    # the handlers first: a signal that arrives while the server starts is not lost
    previous = {s: signal.signal(s, forward) for s in STOP_SIGNALS}
    try:
        process = subprocess.Popen(list(command))
        if stop:  # asked to stop before the server existed
            process.send_signal(stop[0])
        _wait(process, stop, grace)
    finally:
        _restore(previous)
        if process is not None and process.poll() is None:  # never leave the server behind
            process.kill()
            process.wait()
    if stop and process.returncode in (0, -stop[0]):
        return 0  # stopped as asked: a normal way to leave
    return exit_code(process.returncode)


def launch(run_dir: Path, port: int = 8501, headless: bool = True) -> int:
    """Serve the dashboard over `run_dir` until stopped; the Streamlit server's exit code."""
    run_dir = check_run_dir(run_dir)
    if not 0 < port < 65536:
        raise ConfigError(f"dashboard: port must be in 1..65535, found {port}")
    log.info("starting the dashboard on port %d over %s", port, run_dir)
    return serve(dashboard_command(run_dir, port, headless))
