"""Slow imports and the tracking process prepared in the background while the run works.

Importing scikit-learn and SciPy costs about 1 s: a background thread pays it while the engine
works (the engine's native code leaves the GIL free). MLflow costs more (~2 s of imports, ~1 s
more to create and migrate a new store), all pure Python: in a thread it took turns for the GIL
with the analyses and the output nodes and saved nothing. So tracking has its own process,
started with the analyses at low priority (it takes what CPU the k-means fits leave); it
imports MLflow and opens the store, then logs the run when the tracking node sends the results.
Measured on the sample (4 runs each, interleaved): 16.2 s in-process, 15.3 s with the process
started beside the output nodes, 14.9 s started with the analyses at nice 15.
The slides' figures in a third such process made it slower (15.3-16.4 s against 14.4-15.3 s,
4 interleaved runs each): two prepared processes left the tracking one unready when called.

Both start only once the input is an xDR extract (imports) and fully read and validated with
enough users (the process, which creates `mlflow.db`): bad input fails at once and leaves
nothing.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

from . import execution

# below the run's own priority: the process never takes a core the analyses could use
WORKER_NICENESS = 15
# the modules of the analysis nodes (the nodes import them lazily otherwise)
ANALYSIS_MODULES = ("analysis.overview", "analysis.engagement", "analysis.experience",
                    "analysis.satisfaction")


def _import_analyses() -> None:
    for module in ANALYSIS_MODULES:
        importlib.import_module(f"telco_analytics.{module}")
    settle_imported()


def settle_imported() -> None:
    """Move every object alive now (mostly the imported modules' millions: functions, classes,
    docstrings) out of the cyclic collector's reach. They live as long as the process, yet each
    full collection walked them all: ~0.1 s a time, ~1 s of GIL time per run of the sample.
    Objects made later are collected as before."""
    gc.freeze()


class Warmups(execution.Background):
    """The run's background warm-ups; `join` waits for the threads after a successful run,
    `close` ends the tracking process (after the run, whatever its outcome)."""

    def __init__(self, options: Any = None) -> None:
        super().__init__()
        self.options = options
        self.tracking: execution.ChildWorker | None = None

    def start_imports(self) -> None:
        self.start("import-warm-up", _import_analyses)

    def start_tracking(self) -> None:
        """The tracking process (a run with tracking only): MLflow imported, store opened."""
        if self.options is None or not self.options.tracking or self.tracking is not None:
            return
        from .. import tracking

        self.tracking = execution.ChildWorker(
            tracking.warm_up, tracking.resolve_tracking_uri(self.options.tracking_uri),
            name="telco-tracking", nice=WORKER_NICENESS)

    def close(self) -> None:
        if self.tracking is not None:
            self.tracking.close()
            self.tracking = None
