"""Slow imports and the MLflow store opened in the background while the run works.

Importing scikit-learn and SciPy costs about 2 s and opening (or creating and migrating) the
MLflow store several more; background threads pay them while the engine and the analyses run.
They start only once the input is known to be an xDR extract (imports) and fully read and
validated (the store, which creates `mlflow.db`): bad input fails at once and leaves nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import execution

# the modules of the analysis nodes (the nodes import them lazily otherwise)
ANALYSIS_MODULES = ("analysis.overview", "analysis.engagement", "analysis.experience",
                    "analysis.satisfaction")


def _import_analyses() -> None:
    for module in ANALYSIS_MODULES:
        importlib.import_module(f"telco_analytics.{module}")


class Warmups(execution.Background):
    """The run's background warm-ups; `join` waits for them after a successful run."""

    def start_imports(self) -> None:
        self.start("import-warm-up", _import_analyses)

    def start_tracking(self, options: Any) -> None:
        if not options.tracking:
            return
        from .. import tracking

        self.start("mlflow-warm-up", tracking.warm_up,
                   tracking.resolve_tracking_uri(options.tracking_uri))
