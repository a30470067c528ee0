"""Widgets shared by the dashboard pages: charts, findings, paged tables with CSV downloads."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from ...narrative import select
from .. import data

log = logging.getLogger(__name__)


def chart(figure: alt.TopLevelMixin | None, caption: str | None = None) -> None:
    """Show one chart of report/figures as it looks in the report (the house theme, not Streamlit's)."""
    if figure is None:
        return
    # width="content": the chart keeps the width it was designed at (stretching a 640 px chart
    # to the page crowds its axis ticks)
    st.altair_chart(figure, theme=None, width="content")
    if caption:
        st.caption(caption)


def build_chart(make: Callable[..., alt.TopLevelMixin], *tables: pd.DataFrame | None
                ) -> alt.TopLevelMixin | None:
    """The chart of `make` over the tables, or None when a table is absent or empty."""
    if any(t is None or len(t) == 0 for t in tables):
        return None
    return make(*tables)


def findings(run_dir: Path, *sections: str) -> None:
    """The run's written findings of these sections (tables/insights.json), most important
    first, each followed by the action it recommends, as an info box."""
    items = select.for_section(data.insights(run_dir), *sections)
    if items:
        st.info("\n\n".join(f"- {i.text}" + (f" **{i.action}**" if i.action else "")
                              for i in items), icon=":material/lightbulb:")


def sample_note(run_dir: Path, name: str, shown: int) -> str | None:
    """A caption telling that a chart was drawn from a sample of a big table."""
    total = data.shape(run_dir, name).rows
    if shown < total:
        return (f"Drawn from a seeded uniform sample of {shown:,} of {total:,} rows of `{name}` "
                "(the dashboard never loads a whole per-user table into a chart).")
    return None


def download(run_dir: Path, name: str, key: str) -> None:
    """A CSV download of a whole table; the file is read only when the button is clicked."""
    st.download_button(
        f"Download {name}.csv",
        data=lambda: data.csv_bytes(run_dir, name),  # deferred: big tables cost nothing until asked
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download-{key}",
        icon=":material/download:",
    )


def small_table(run_dir: Path, name: str, key: str, frame: pd.DataFrame | None = None) -> None:
    """A small result table shown whole, with its CSV download."""
    shown = data.table(run_dir, name) if frame is None else frame
    if shown is None:
        st.warning(f"This run has no `{name}` table.")
        return
    st.dataframe(shown, hide_index=True, column_config=readable_numbers(shown))
    download(run_dir, name, key)


def paged_table(run_dir: Path, name: str, key: str, filters: data.Filters = (),
                default_sort: str | None = None) -> None:
    """A table of any size, 100 rows a page, filtered and sorted on disk, with its CSV download."""
    if not data.has_table(run_dir, name):
        st.warning(f"This run has no `{name}` table.")
        return
    columns = list(data.shape(run_dir, name).columns)
    left, middle, right = st.columns([3, 2, 2])
    options = ["(file order)", *columns]
    sort_by = left.selectbox("Sort by", options, key=f"{key}-sort",
                             index=options.index(default_sort) if default_sort in options else 0)
    descending = middle.toggle("Largest first", value=True, key=f"{key}-desc")
    sort = None if sort_by == "(file order)" else (sort_by, descending)
    total = data.matching_count(run_dir, name, filters)
    pages = max(1, math.ceil(total / data.PAGE_SIZE))
    number = right.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1,
                                step=1,
                                # a new filter starts again at page 1 (an old page may not exist)
                                key=f"{key}-page-{abs(hash((filters, sort)))}")
    rows = data.page(run_dir, name, int(number) - 1, filters=filters, sort=sort)
    first = (int(number) - 1) * data.PAGE_SIZE
    st.caption(f"`{name}`: rows {first + 1 if total else 0:,}–{first + len(rows):,} of {total:,}"
               + (" matching the filters" if filters else ""))
    st.dataframe(rows, column_config=readable_numbers(rows))
    download(run_dir, name, key)


def readable_numbers(frame: pd.DataFrame) -> dict[str, st.column_config.NumberColumn]:
    """Thousands separators and few decimals for float columns (sums of bytes and ms are long)."""
    return {c: st.column_config.NumberColumn(format="localized")
            for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}
