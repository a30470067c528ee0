"""Build report.html and slides.pptx from a finished run folder (nothing is recomputed).

The run folder is the only input: tables (Parquet), manifest.json, tables/insights.json, the
rendered figures, db_select.txt and, when tracking ran, tracking/runs.csv. Charts for the HTML
report are rebuilt from the saved tables by the same pure figure functions the pipeline used;
the slides use the saved PNGs.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..run.catalog import REPORT, SLIDES
from .run_data import RunData, load_run

log = logging.getLogger(__name__)


def build_report(run_dir: Path, *, html: bool = True, slides: bool = True,
                 data: RunData | None = None) -> dict[str, Path]:
    """Write run_dir/report.html and/or run_dir/slides.pptx; returns {"html"|"slides": path}.

    data: the run folder already read (`load_run`, its charts perhaps built), else read here.
    """
    data = data if data is not None else load_run(run_dir)
    written: dict[str, Path] = {}
    if html:
        from .html import report_html

        t0 = time.perf_counter()
        text = report_html(data)
        written["html"] = data.catalog.write_text(REPORT, text)
        log.info("report.html written in %.2f s (%.1f MB)", time.perf_counter() - t0,
                 len(text) / 1e6)
    if slides:
        from .deck import slides_pptx

        t0 = time.perf_counter()
        deck = slides_pptx(data)
        written["slides"] = data.catalog.write_bytes(SLIDES, deck)
        log.info("slides.pptx written in %.2f s", time.perf_counter() - t0)
    return written
