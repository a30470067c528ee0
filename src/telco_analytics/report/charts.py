"""The report's interactive charts, rebuilt from a run's saved tables by the same pure figure
functions the run used for its PNGs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


def _figure_builders() -> list[tuple[str, Callable[[dict[str, pd.DataFrame]], dict[str, Any]]]]:
    """The figure modules, imported here so that a broken one cannot stop the report."""
    builders = []
    for module, func in (("overview", "overview_figures"), ("engagement", "engagement_figures"),
                         ("experience", "experience_figures"),
                         ("satisfaction", "satisfaction_figures"),
                         ("tracking", "tracking_figures")):
        try:
            mod = __import__(f"telco_analytics.report.figures.{module}", fromlist=[func])
            builders.append((module, getattr(mod, func)))
        except (ImportError, AttributeError) as exc:
            log.warning("figure module %s unavailable: %s", module, exc)
    return builders


def rebuild_charts(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Charts of every figure module from the tables; a failing module falls back to PNGs."""
    charts: dict[str, Any] = {}
    for module, build in _figure_builders():
        try:
            charts.update(build(tables))
        except Exception as exc:  # noqa: BLE001 - the saved PNG is used instead
            log.warning("could not rebuild %s charts (%s): the saved PNGs are used", module, exc)
    return charts
