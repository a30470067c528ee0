"""Widgets shared by the dashboard pages: charts, findings, paged tables with CSV downloads."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from ...narrative import select
from .. import data, formats
from ..fit import Fitted, fit

log = logging.getLogger(__name__)

ROW_PX = 35  # st.dataframe's row height
WHOLE_ROWS = 25
# Points of a scatter drawn on a first view. Streamlit's Vega runs without compiled
# expressions (a CSP-safe interpreter): every point's encodings are interpreted, and 5,000
# points were the largest part of the satisfaction page's first view in Chromium. The chart's
# subtitle says when it shows a sample.
SCATTER_POINTS = 2_000
# True in the server's warm-up (dashboard.warm): every section of a page is computed, not only
# the one a visitor sees first, so any section a visitor picks is already cached. A context
# variable: visitors' sessions served meanwhile still see one section.
EVERY_SECTION: ContextVar[bool] = ContextVar("every_section", default=False)


def sections(key: str, names: Sequence[str]) -> set[str]:
    """The sections of a page to draw: the one picked in a row of choices ("Show"), the first
    by default; every section while the server warms up.

    One section at a time, not st.tabs: tabs draw every tab's charts on the first view, and
    in the browser each chart costs about as much as Streamlit's own page (Vega-Lite compiles
    and draws it, React lays it out), so a page's first view grew with its chart count.
    """
    picked = st.radio("Show", list(names), key=key, horizontal=True)
    return set(names) if EVERY_SECTION.get() else {picked or names[0]}



def toggle(label: str, key: str) -> bool:
    """An off-by-default toggle for content drawn on demand (on while the server warms up)."""
    return st.toggle(label, key=key) or EVERY_SECTION.get()

def _builder(make: Callable[..., alt.TopLevelMixin]) -> str:
    """A chart function's name, which keys its cached charts (the function is not hashed)."""
    return f"{make.__module__}.{make.__qualname__}"


def chart(make: Callable[..., alt.TopLevelMixin], *args: Any, title: str | None = None,
          subtitle: str | None = None) -> None:
    """Draw the report's chart `make(*args)` across the page (see dashboard.fit), or nothing
    when one of its tables is absent or empty; `title` and `subtitle` replace the report's."""
    if any(a is None or (isinstance(a, pd.DataFrame) and a.empty) for a in args):
        return
    show(_fitted(_builder(make), make, *args, title=title, subtitle=subtitle))


@st.cache_data(show_spinner=False, max_entries=256)
def _fitted(name: str, _make: Callable[..., alt.TopLevelMixin], *args: Any,
            title: str | None = None, subtitle: str | None = None) -> Fitted:
    """The fitted spec of a chart, cached by its builder's name and its arguments' content: a
    rerun or another visitor draws it without Altair (building and validating a chart costs
    tens of milliseconds, a page has up to ten)."""
    spec = _make(*args).to_dict(validate=False)
    if title is not None:
        spec["title"] = {**spec["title"], "text": title} if isinstance(spec.get("title"), dict) \
            else title
    if subtitle is not None:
        spec["title"] = {**spec["title"], "subtitle": subtitle} if isinstance(
            spec.get("title"), dict) else {"text": spec.get("title", ""), "subtitle": subtitle}
    return fit(spec)


def show(fitted: Fitted) -> None:
    """One chart across the page, or its panels side by side under their title and legend."""
    if fitted.title:
        st.markdown(f"**{fitted.title}**")
    if fitted.subtitle:
        st.caption(fitted.subtitle)
    if fitted.legend:
        st.markdown(" &nbsp; ".join(
            f'<span style="color:{html.escape(colour)}">&#9679;</span> {html.escape(label)}'
            for label, colour in fitted.legend), unsafe_allow_html=True)
    places = st.columns(len(fitted.specs)) if len(fitted.specs) > 1 else [st.container()]
    for place, spec in zip(places, fitted.specs):
        # theme=None: the report's house look, not Streamlit's
        place.vega_lite_chart(spec=spec, width="stretch", theme=None)


def findings(run_dir: Path, *sections: str) -> None:
    """The run's written findings of these sections (tables/insights.json), most important
    first, each followed by the action it recommends, as an info box."""
    items = select.for_section(data.insights(run_dir), *sections)
    if items:
        st.info("\n\n".join(f"- {i.text}" + (f" **{i.action}**" if i.action else "")
                              for i in items), icon=":material/lightbulb:")


def users_chart(run_dir: Path, name: str, columns: Sequence[str],
                make: Callable[..., alt.TopLevelMixin], *args: Any) -> None:
    """Draw `make(rows, *args)` over a per-user table's columns (every row, or a seeded sample
    of data.CHART_ROWS), with a caption when sampled; nothing when the table is absent.

    Cached by the table's file version, the columns and `args`: a rerun neither reads the
    rows again nor hashes them (a 200,000-row sample takes tens of ms to hash).
    """
    path = data.table_path(run_dir, name)
    if not path.is_file():
        return
    show(_users_fitted(run_dir, name, data.version(path), tuple(columns), _builder(make), make,
                       args))
    total = data.shape(run_dir, name).rows
    if total > data.CHART_ROWS:
        st.caption(f"Drawn from a seeded uniform sample of {data.CHART_ROWS:,} of {total:,} rows "
                   f"of `{name}` (the dashboard never loads a whole per-user table into a chart).")


@st.cache_data(show_spinner=False, max_entries=64)
def _users_fitted(run_dir: Path, name: str, version: float, columns: tuple[str, ...],
                  builder: str, _make: Callable[..., alt.TopLevelMixin],
                  args: tuple[Any, ...]) -> Fitted:
    """The fitted chart of a per-user table (`builder`, the name of `_make`, keys the cache)."""
    return fit(_make(data.chart_rows(run_dir, name, columns), *args).to_dict(validate=False))


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
    """A small result table shown whole in readable units, with its raw CSV download."""
    shown = data.table(run_dir, name) if frame is None else frame
    if shown is None:
        st.warning(f"This run has no `{name}` table.")
        return
    readable, config = formats.readable(shown, name)
    whole_table(readable, config)
    download(run_dir, name, key)


def whole_table(frame: pd.DataFrame, config: dict[str, Any]) -> None:
    """A table without its index, every row in view up to WHOLE_ROWS rows (no inner scroll
    bar hiding the last rows of a 12-row table), scrolling beyond."""
    height = ROW_PX * (len(frame) + 1) + 3 if len(frame) <= WHOLE_ROWS else "auto"
    st.dataframe(frame, hide_index=True, column_config=config, height=height)


def paged_table(run_dir: Path, name: str, key: str, filters: data.Filters = (),
                default_sort: str | None = None) -> None:
    """A table of any size, 100 rows a page, filtered and sorted on disk, in readable units,
    with its raw CSV download."""
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
    readable, config = formats.readable(rows, name)
    st.dataframe(readable, column_config=config)
    download(run_dir, name, key)
