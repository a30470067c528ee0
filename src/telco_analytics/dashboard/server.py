"""The dashboard's server process: Streamlit's command line, with the pages imported first.

Streamlit imports a script's modules when the first visitor's session runs it; pandas, pyarrow,
Altair and the report's charts take about two seconds to import here, which the first page
view would pay. Imported before the server starts, they are already loaded when it runs.
Usage is Streamlit's own: `python -m telco_analytics.dashboard.server run app.py [ARGS]`.
"""

from __future__ import annotations

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

    from . import views  # noqa: F401  (imported for its side effect: the modules are loaded)

    cli.main(prog_name="streamlit")  # the same command line string as `python -m streamlit`


if __name__ == "__main__":
    main()
