"""The handset rankings: the run's top handsets and manufacturers, or one manufacturer's own."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ...report.figures import overview as fig
from .. import data
from . import common

TOP3 = "manufacturers_top3"
TOP5_PER_MAKER = "handsets_top5_per_manufacturer"
# every manufacturer's own top 10; runs made before it existed have the top 5 of the top 3 only
TOP10_PER_MAKER = "handsets_top10_per_manufacturer"


def manufacturers(run_dir: Path) -> list[str]:
    """The manufacturers a filter offers: the run's top 3 first, then the others by name."""
    top = data.table(run_dir, TOP3)
    makers = [] if top is None else top["manufacturer"].tolist()
    ranked = data.table(run_dir, TOP10_PER_MAKER)
    if ranked is not None:
        makers += sorted(set(ranked["manufacturer"]) - set(makers))
    return makers


def manufacturer_choice(run_dir: Path, key: str) -> str | None:
    """A manufacturer picked among the run's manufacturers (None = all)."""
    picked = st.selectbox("Manufacturer", ["All", *manufacturers(run_dir)], key=key,
                          help="The top 3 by sessions first, then the others by name")
    return None if picked == "All" else picked


def own_top(run_dir: Path, maker: str) -> tuple[str, pd.DataFrame | None]:
    """(table name, rows) of the manufacturer's own top handsets: its top 10 when the run has
    them, else its top 5 (older runs, top 3 manufacturers only)."""
    for name in (TOP10_PER_MAKER, TOP5_PER_MAKER):
        ranked = data.table(run_dir, name)
        if ranked is not None:
            return name, ranked[ranked["manufacturer"] == maker]
    return TOP10_PER_MAKER, None


def handsets_section(run_dir: Path) -> None:
    """Top handsets and manufacturers; with a manufacturer picked, that manufacturer's own
    top handsets (ranked among its handsets, not filtered out of the overall top 10)."""
    st.header("Handsets")
    maker = manufacturer_choice(run_dir, "overview-maker")
    top3 = data.table(run_dir, TOP3)
    if maker is None:
        common.chart(fig.handsets_top10_chart, data.table(run_dir, "handsets_top10"))
        common.chart(fig.manufacturers_top3_chart, top3)
        common.chart(fig.handsets_top5_per_manufacturer_chart, data.table(run_dir, TOP5_PER_MAKER))
        if _tables_wanted("overview-handset-tables"):
            common.small_table(run_dir, "handsets_top10", "handsets_top10")
            common.small_table(run_dir, TOP3, TOP3)
            common.small_table(run_dir, TOP5_PER_MAKER, "handsets_top5")
        return
    name, own = own_top(run_dir, maker)
    common.chart(fig.handsets_top10_chart, own,
                 title=f"Top {len(own) if own is not None else 0} {maker} handsets by sessions")
    if name == TOP5_PER_MAKER:
        st.caption("This run holds each top manufacturer's top 5 handsets only (it was made by "
                   "an older version); a new run ranks every manufacturer's top 10.")
    common.chart(fig.manufacturers_top3_chart, top3)
    if _tables_wanted("overview-handset-tables"):
        common.small_table(run_dir, name, name, own)
        common.small_table(run_dir, TOP3, TOP3)


def _tables_wanted(key: str) -> bool:
    """A toggle for the tables under the charts (always on in the warm-up).

    A toggle, not an expander: a closed expander's tables are still sent and laid out by the
    browser, which made the first view slower for tables most visitors never open.
    """
    return common.toggle("Show the tables", key)
