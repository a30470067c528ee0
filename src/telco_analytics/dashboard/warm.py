"""Warming the dashboard's caches when its server starts: every page computed once, headless.

A page's first view reads the run's tables, samples and sorts its per-user tables and builds
its charts: seconds at millions of users, which the first visitor of each page would wait.
The server computes every page once in a background thread as soon as it is up, landing page
first, with each widget at its default (what a first view shows). Streamlit's caches are the
process's, so a visitor's page finds the values ready; one that arrives while a value is being
computed waits for that computation (Streamlit holds a lock a value) instead of repeating it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from . import data

log = logging.getLogger(__name__)

THREAD = "dashboard-warm-up"
RUNTIME_WAIT_SECONDS = 60.0


class _FromWarmUp(logging.Filter):
    """Drops Streamlit's 'missing ScriptRunContext' warnings of the warm-up thread: a page
    computed outside a visitor's session draws nothing, as intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD


def run_dir_of(argv: Sequence[str]) -> Path | None:
    """The run folder in a `streamlit run app.py [OPTIONS] -- --run DIR` command line."""
    args = list(argv)
    script_args = args[args.index("--") + 1:] if "--" in args else []
    return data.run_dir_from(script_args, {})


def warm_up(run_dir: Path) -> None:
    """Compute every page of the dashboard over `run_dir` once (nothing is drawn)."""
    from .views import PAGES

    for slug, (_, page) in PAGES.items():
        started = time.perf_counter()
        try:
            page(run_dir)
        except Exception:  # a page that fails here fails for its visitor, who sees why
            log.debug("warming page %s failed", slug, exc_info=True)
        log.info("page %s warmed in %.1f s", slug, time.perf_counter() - started)


def _when_served(run_dir: Path) -> None:
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + RUNTIME_WAIT_SECONDS
    while not Runtime.exists():  # its caches are the ones the visitors' sessions use
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)
    warm_up(run_dir)


def start(argv: Sequence[str]) -> threading.Thread | None:
    """Warm the caches in a background thread once the server runs; None when the command
    line names no run folder that can be shown."""
    run_dir = run_dir_of(argv)
    if data.run_problem(run_dir) is not None:
        return None
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _FromWarmUp())
    thread = threading.Thread(target=_when_served, args=(run_dir.resolve(),), name=THREAD,
                              daemon=True)
    thread.start()
    return thread
