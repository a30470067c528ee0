"""Overview page: the run in numbers, handsets, traffic per app, per-user distributions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ... import schema
from ...report.figures import overview as fig
from ...report.figures.style import human_bytes
from .. import data
from . import common
from .handsets import handsets_section

USERS = "user_overview"
# one drawn at a time (see common.sections); the first is the first view
SECTIONS = ["Handsets", "Traffic", "Per-user distributions", "Result tables"]


def overview_page(run_dir: Path) -> None:
    """User overview (EDA): key numbers, handset rankings, app traffic, distributions."""
    st.title("User overview")
    manifest = data.manifest(run_dir)
    rows = manifest.get("rows", {})
    users = data.shape(run_dir, USERS).rows if data.has_table(run_dir, USERS) else 0
    apps = data.table(run_dir, "app_totals")
    cols = st.columns(4)
    cols[0].metric("Users", f"{users:,}", help="Rows of user_overview: distinct MSISDNs")
    cols[1].metric("Sessions (xDRs)", f"{rows.get('sessions', 0):,}",
                   help="Rows read minus the dropped artifact row")
    cols[2].metric("Sessions without MSISDN", f"{rows.get('sessions_without_msisdn', 0):,}",
                   help="Kept for handset counts, excluded from per-user tables")
    if apps is not None:
        cols[3].metric("Traffic, all apps", human_bytes(apps["bytes"].sum()),
                       help="Sum of the app_totals table (DL + UL)")
    common.findings(run_dir, "handsets", "overview")

    shown = common.sections("overview-section", SECTIONS)
    if "Handsets" in shown:
        handsets_section(run_dir)
    if "Traffic" in shown:
        _traffic(run_dir, apps)
    if "Per-user distributions" in shown and data.has_table(run_dir, USERS):
        _distributions(run_dir)
    if "Result tables" in shown:
        st.header("Tables")
        common.small_table(run_dir, "univariate", "univariate")
        # a toggle, not an expander: an expander's content is computed even when closed, and
        # sorting every user is the page's costliest read at millions of users
        if st.toggle("Every user (user_overview)", key="overview-every-user"):
            common.paged_table(run_dir, USERS, "overview-users", default_sort="total_bytes")


def _traffic(run_dir: Path, apps: pd.DataFrame | None) -> None:
    """Traffic per app, per decile of session duration, app correlations and their PCA."""
    st.header("Traffic")
    common.chart(fig.app_totals_chart, apps)
    deciles = data.table(run_dir, "decile_data_all")
    if deciles is None:
        deciles = data.table(run_dir, "decile_data")
    common.chart(fig.decile_chart, deciles)
    common.chart(fig.correlation_heatmap, data.table(run_dir, "app_correlation"))
    pca = data.table(run_dir, "pca")
    common.chart(fig.pca_scree, pca)
    common.chart(fig.pca_loadings, pca)


def _distributions(run_dir: Path) -> None:
    """Histogram of a chosen per-user variable and one app's volume against the total."""
    st.header("Per-user distributions")
    columns = [c for c in data.shape(run_dir, USERS).columns if c != schema.USER_KEY]
    # named as the chart's axis ('Total volume DL+UL per user (bytes)'), not 'total_bytes'
    column = st.selectbox("Variable", columns, key="overview-variable",
                          index=columns.index("total_bytes") if "total_bytes" in columns else 0,
                          format_func=fig.variable_label)
    common.users_chart(run_dir, USERS, [column], fig.histogram, column)
    apps = [a for a in schema.APPS if f"{a}_bytes" in columns]
    if apps and "total_bytes" in columns:
        app = st.selectbox("App", apps, key="overview-app", format_func=fig.app_label)
        common.users_chart(run_dir, USERS, [f"{app}_bytes", "total_bytes"], fig.app_vs_total,
                           app)
