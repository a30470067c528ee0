"""Build report.html and slides.pptx from a finished run folder (nothing is recomputed).

The run folder is the only input: tables (Parquet), manifest.json, tables/insights.json, the
rendered figures, db_select.txt and, when tracking ran, tracking/runs.csv. Charts for the HTML
report are rebuilt from the saved tables by the same pure figure functions the pipeline used;
the slides use the saved PNGs.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..io.tables import read_table
from ..narrative.records import Finding, read_findings

log = logging.getLogger(__name__)


@dataclass
class RunData:
    """Everything a finished run folder holds, read once (tables lazily, by name)."""

    run_dir: Path
    manifest: dict[str, Any]
    insights: list[Finding]
    figures: dict[str, Path]  # figure stem -> PNG path
    db_select: str | None = None
    tracking_runs: pd.DataFrame | None = None
    _tables: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)
    _charts: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def tables_dir(self) -> Path:
        return self.run_dir / "tables"

    def table_names(self) -> list[str]:
        """Names of the tables saved in the run folder."""
        return sorted(p.stem for p in self.tables_dir.glob("*.parquet"))

    def table(self, name: str) -> pd.DataFrame | None:
        """A saved table, or None when the run did not write it."""
        if name not in self._tables:
            path = self.tables_dir / f"{name}.parquet"
            self._tables[name] = read_table(self.tables_dir, name) if path.exists() else None
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


def load_run(run_dir: Path) -> RunData:
    """Read a run folder; raises InputError when it is not one (no manifest)."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(f"not a run folder: {run_dir} (expected {manifest_path.name}; "
                         "make one with `telco run --out DIR`)")
    manifest = json.loads(manifest_path.read_text())
    insights = read_findings(run_dir / "tables" / "insights.json")
    figures = {p.stem: p for p in sorted((run_dir / "figures").glob("*.png"))}
    db_path = run_dir / "db_select.txt"
    runs_path = run_dir / "tracking" / "runs.csv"
    runs = None
    if runs_path.is_file():
        try:
            runs = pd.read_csv(runs_path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            log.warning("tracking/runs.csv unreadable (%s): model tracking table left out", exc)
    return RunData(run_dir=run_dir, manifest=manifest, insights=insights, figures=figures,
                   db_select=db_path.read_text() if db_path.is_file() else None,
                   tracking_runs=runs)


def write_atomic(path: Path, data: bytes) -> Path:
    """Write bytes to a temporary name in the same folder, then rename (never a partial file)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def build_report(run_dir: Path, *, html: bool = True, slides: bool = True) -> dict[str, Path]:
    """Write run_dir/report.html and/or run_dir/slides.pptx; returns {"html"|"slides": path}."""
    data = load_run(run_dir)
    written: dict[str, Path] = {}
    if html:
        from .html import report_html

        t0 = time.perf_counter()
        text = report_html(data)
        written["html"] = write_atomic(data.run_dir / "report.html", text.encode("utf-8"))
        log.info("report.html written in %.2f s (%.1f MB)", time.perf_counter() - t0,
                 len(text) / 1e6)
    if slides:
        from .slides import slides_pptx

        t0 = time.perf_counter()
        deck = slides_pptx(data)
        written["slides"] = write_atomic(data.run_dir / "slides.pptx", deck)
        log.info("slides.pptx written in %.2f s", time.perf_counter() - t0)
    return written
