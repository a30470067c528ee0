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
# the line the server prints once every page is computed: from then on a first view is a
# cache hit (the browser tests and benchmarks/dashboard_speed.py wait for it)
READY = "dashboard ready: every page computed"


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


def warm_up(run_dir: Path) -> dict[str, float | None]:
    """Compute every page of the dashboard over `run_dir` once (nothing is drawn); the seconds
    each page took, None for a page that failed."""
    from .views import PAGES, common

    every = common.EVERY_SECTION.set(True)  # the sections a visitor does not see first, too
    took: dict[str, float | None] = {}
    started = time.perf_counter()
    for slug, (_, page) in PAGES.items():
        begun = time.perf_counter()
        try:
            page(run_dir)
            took[slug] = time.perf_counter() - begun
        except Exception as error:  # a page that fails here fails for its visitor, who sees why
            took[slug] = None
            log.warning("warming page %s failed: %s", slug, type(error).__name__)
            log.debug("warming page %s failed", slug, exc_info=True)
    common.EVERY_SECTION.reset(every)
    log.info("%s (%s) in %.1f s", READY,
             ", ".join(f"{slug} {'failed' if s is None else f'{s:.1f} s'}"
                       for slug, s in took.items()),
             time.perf_counter() - started)
    return took


def _when_served(run_dir: Path) -> None:
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + RUNTIME_WAIT_SECONDS
    while not Runtime.exists():  # its caches are the ones the visitors' sessions use
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)
    warm_up(run_dir)


def _say_on_stderr() -> None:
    """The warm-up's lines on the server's stderr, beside Streamlit's own (nothing else of the
    package logs there: its root logger is not configured in the server process)."""
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def start(argv: Sequence[str]) -> threading.Thread | None:
    """Warm the caches in a background thread once the server runs; None when the command
    line names no run folder that can be shown."""
    run_dir = run_dir_of(argv)
    if data.run_problem(run_dir) is not None:
        return None
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _FromWarmUp())
    _say_on_stderr()
    thread = threading.Thread(target=_when_served, args=(run_dir.resolve(),), name=THREAD,
                              daemon=True)
    thread.start()
    return thread
