"""The dashboard's server process: Streamlit's command line, with the pages imported first
and the caches warmed.

Streamlit imports a script's modules when the first visitor's session runs it; pandas, pyarrow,
Altair and the report's charts take about two seconds to import here, which the first page
view would pay. Imported before the server starts, they are already loaded when it runs; and
once it runs, every page is computed once in the background (dashboard.warm).
Usage is Streamlit's own: `python -m telco_analytics.dashboard.server run app.py [ARGS]`.
"""

from __future__ import annotations

import logging
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def end_with_parent() -> None:
    """Have the kernel send this process SIGTERM when its parent (the launcher) dies, even by
    SIGKILL, which no handler sees. Linux only; elsewhere the launcher's forwarding has to do."""
    if sys.platform != "linux":
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def main() -> None:
    """Import the pages, then hand the command line to Streamlit."""
    end_with_parent()
    from streamlit.web import cli

    # the cached functions' decorators run before the server's runtime exists, and each says
    # so ("No runtime found"): true, and harmless here, since the runtime exists when they run
    decorators = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = decorators.level
    decorators.setLevel(logging.ERROR)
    try:
        from . import views, warm  # noqa: F401  (views: imported for its side effect)
    finally:
        decorators.setLevel(level)
    warm.start(sys.argv)
    cli.main(prog_name="streamlit")  # the same command line string as `python -m streamlit`


if __name__ == "__main__":
    main()
