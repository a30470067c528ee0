"""Network hotspots page: the cells and the hours of the day where users are served worst."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ...report.figures.experience import METRIC_TITLES
from .. import data, formats
from .. import network_charts as charts
from . import common

CELLS, HOURS = "experience_per_cell", "experience_per_hour"
# one drawn at a time (see common.sections); the first is the first view
SECTIONS = ["Cells", "Hours of the day"]


def network_page(run_dir: Path) -> None:
    """Worst cells (chart and every cell, paged) and each metric by hour of the day."""
    st.title("Network hotspots")
    cells, hours = data.table(run_dir, CELLS), data.table(run_dir, HOURS)
    if cells is None and hours is None:
        st.info("This run has no hotspot tables (`experience_per_cell`, `experience_per_hour`): "
                "it was made by an older version. Run `telco run` again to rank the cells and "
                "hours of the day by the experience the network gave.",
                icon=":material/history:")
        return
    metrics = [m for m in charts.SESSIONS if any(t is not None and m in t for t in (cells, hours))]
    metric = st.selectbox("Metric", metrics, key="network-metric",
                          format_func=lambda m: f"{METRIC_TITLES[m]} ({charts.BETTER[m]})")

    shown = common.sections("network-section", SECTIONS)
    if "Cells" in shown:
        _cells(run_dir, cells, metric)
    if "Hours of the day" in shown:
        st.header("Hours of the day")
        if hours is None:
            st.caption(f"This run has no `{HOURS}` table.")
        else:
            common.chart(charts.hours_chart, hours, metric)
            common.small_table(run_dir, HOURS, HOURS, hours.sort_values("hour"))


def _cells(run_dir: Path, cells: pd.DataFrame | None, metric: str) -> None:
    """The ranked cells in numbers, the worst of them on the metric, every cell paged."""
    st.header("Cells")
    if cells is None:
        st.caption(f"This run has no `{CELLS}` table.")
    else:
        stats = st.columns(3)
        stats[0].metric("Cells ranked", f"{len(cells):,}")
        stats[1].metric("Sessions in them", f"{int(cells['sessions'].sum()):,}")
        stats[2].metric(f"{METRIC_TITLES[metric]}, all ranked cells",
                        formats.text_of(metric, charts.typical(cells, metric)))
        common.chart(charts.worst_cells_chart, cells, metric)
        # on demand: a 100-row table under the chart cost the first view more than the chart
        if common.toggle("Every cell, worst first", "network-every-cell"):
            common.paged_table(run_dir, CELLS, "network-cells")
        else:
            common.download(run_dir, CELLS, "network-cells")

