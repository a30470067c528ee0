"""Tables page: browse and download any table of the run."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from .. import data
from . import common


def tables_page(run_dir: Path) -> None:
    """Every table of the run: size, a paged view and its CSV."""
    st.title("Tables")
    names = data.table_names(run_dir)
    if not names:
        st.warning("This run has no tables.")
        return
    name = st.selectbox("Table", names, key="tables-name",
                        format_func=lambda n: f"{n} ({data.shape(run_dir, n).rows:,} rows)")
    common.paged_table(run_dir, name, f"tables-{name}")
