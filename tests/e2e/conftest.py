"""Browser fixtures: a small real run, the dashboard served by a real Streamlit subprocess,
and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# tall: Streamlit scrolls inside its own container, so full_page screenshots miss content
VIEWPORT = {"width": 1400, "height": 3000}
STARTUP_SECONDS = 60


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> Path:
    """The real pipeline on a small generated extract (no figures: the dashboard draws its own)."""
    from telco_analytics import synth
    from telco_analytics.run.runner import RunOptions, run

    base = tmp_path_factory.mktemp("browser-run")
    extract = synth.write_extract(base / "extract.csv", rows=3000, seed=0)
    out = base / "run"
    run(str(extract), out, options=RunOptions(report=False, figures=False, tracking=False))
    return out


def subprocess_env() -> dict[str, str]:
    """This environment, with the tested package first on the path of child processes (the
    venv may hold another checkout's editable install) and no run folder preset."""
    import telco_analytics

    src = str(Path(telco_analytics.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != "TELCO_RUN_DIR"}  # the argument must do
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    """Poll Streamlit's health endpoint until it answers 'ok' (fail early if the server died)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dashboard exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"dashboard did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


def serve_dashboard(run_dir: Path, workdir: Path) -> Iterator[str]:
    """Start `streamlit run app.py -- --run DIR` (the launcher's command) and yield its URL."""
    from telco_analytics.dashboard.launch import dashboard_command

    port = free_port()
    log = workdir / f"streamlit-{port}.log"
    with open(log, "w") as sink:
        process = subprocess.Popen(dashboard_command(run_dir, port=port, headless=True),
                                   cwd=workdir, env=subprocess_env(), stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def dashboard_url(small_run, tmp_path_factory) -> Iterator[str]:
    yield from serve_dashboard(small_run, tmp_path_factory.mktemp("dashboard-server"))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    yield tab
    context.close()
