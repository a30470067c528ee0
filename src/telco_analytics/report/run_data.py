"""A finished run folder as the report and the slides read it (through the run catalog)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..narrative.records import Finding, findings_from_json
from ..run.catalog import DB_SELECT, RunCatalog
from .charts import rebuild_charts


@dataclass
class RunData:
    """Everything a finished run folder holds, read once (tables lazily, by name)."""

    catalog: RunCatalog
    manifest: dict[str, Any]
    insights: list[Finding]
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

    def charts(self) -> dict[str, Any]:
        """Figure stem -> Altair chart rebuilt from the saved tables (cached)."""
        if self._charts is None:
            self._charts = rebuild_charts(self.all_tables())
        return self._charts


def load_run(run_dir: Path) -> RunData:
    """Read a run folder; raises InputError when it is not one (no manifest)."""
    catalog = RunCatalog(run_dir).require_run()
    return RunData(catalog=catalog, manifest=catalog.read_manifest(),
                   insights=findings_from_json(catalog.read_insights()), figures=catalog.figures(),
                   db_select=catalog.read_text(DB_SELECT),
                   tracking_runs=catalog.read_tracking_runs())
