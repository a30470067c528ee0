"""Start the Streamlit dashboard over a run folder (what `telco dashboard DIR` calls)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from ..errors import ConfigError
from ..run.catalog import RunCatalog, latest_run

log = logging.getLogger(__name__)

APP = Path(__file__).with_name("app.py")
DEFAULT_ROOT = Path("telco-runs")


def find_latest_run(root: Path = DEFAULT_ROOT) -> Path | None:
    """The most recently finished run folder directly under `root` (see catalog.latest_run)."""
    return latest_run(root)


def dashboard_command(run_dir: Path, port: int = 8501, headless: bool = True) -> list[str]:
    """The `python -m streamlit run` command line serving the dashboard over `run_dir`."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",  # no telemetry leaves the operator's network
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


def launch(run_dir: Path, port: int = 8501, headless: bool = True) -> int:
    """Serve the dashboard over `run_dir` until stopped; the Streamlit server's exit code."""
    run_dir = check_run_dir(run_dir)
    if not 0 < port < 65536:
        raise ConfigError(f"dashboard: port must be in 1..65535, found {port}")
    command = dashboard_command(run_dir, port, headless)
    log.info("starting the dashboard on port %d over %s", port, run_dir)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:  # Ctrl-C stops the server: a normal way to leave
        return 0
