"""A finished run folder as the report and the slides read it (through the run catalog)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..run.catalog import DB_SELECT, RunCatalog
from .charts import rebuild_charts

SECTION_ALIASES = {"handsets": "overview"}  # insight section -> report section


@dataclass
class RunData:
    """Everything a finished run folder holds, read once (tables lazily, by name)."""

    catalog: RunCatalog
    manifest: dict[str, Any]
    insights: list[dict[str, Any]]
    figures: dict[str, Path]  # figure stem -> PNG path
    db_select: str | None = None
    tracking_runs: pd.DataFrame | None = None
    _tables: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)
    _charts: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def run_dir(self) -> Path:
        return self.catalog.root

    def table_names(self) -> list[str]:
        """Names of the tables saved in the run folder."""
        return self.catalog.table_names()

    def table(self, name: str) -> pd.DataFrame | None:
        """A saved table, or None when the run did not write it."""
        if name not in self._tables:
            has = self.catalog.has_table(name)
            self._tables[name] = self.catalog.read_table(name) if has else None
        return self._tables[name]

    def all_tables(self) -> dict[str, pd.DataFrame]:
        """Every saved table by name (what the figure functions take)."""
        out = {}
        for name in self.table_names():
            df = self.table(name)
            if df is not None:
                out[name] = df
        return out

    def insights_for(self, section: str) -> list[dict[str, Any]]:
        """Insights written for a report section, most important first (stable)."""
        found = [i for i in self.insights
                 if SECTION_ALIASES.get(i.get("section", ""), i.get("section")) == section
                 or i.get("section") == section]
        return sorted(found, key=lambda i: i.get("priority", 2))

    def charts(self) -> dict[str, Any]:
        """Figure stem -> Altair chart rebuilt from the saved tables (cached)."""
        if self._charts is None:
            self._charts = rebuild_charts(self.all_tables())
        return self._charts


def load_run(run_dir: Path) -> RunData:
    """Read a run folder; raises InputError when it is not one (no manifest)."""
    catalog = RunCatalog(run_dir).require_run()
    return RunData(catalog=catalog, manifest=catalog.read_manifest(),
                   insights=catalog.read_insights(), figures=catalog.figures(),
                   db_select=catalog.read_text(DB_SELECT),
                   tracking_runs=catalog.read_tracking_runs())


def key_findings(insights: list[dict[str, Any]], n: int = 5) -> list[dict[str, Any]]:
    """The n most important findings: priority 1 first, one per section before a second one.

    Sorting by (priority, rank within its section) spreads the summary over the analyses
    instead of filling it with the first section's findings.
    """
    seen: dict[str, int] = {}
    keyed = []
    for position, item in enumerate(insights):
        section = item.get("section", "")  # handsets and overview count as two analyses here
        rank = seen.get(section, 0)
        seen[section] = rank + 1
        keyed.append(((item.get("priority", 2), rank, position), item))
    return [item for _, item in sorted(keyed, key=lambda pair: pair[0])[:n]]
