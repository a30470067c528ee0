"""Experience page: network experience per handset and clusters of users by RTT, TCP, throughput."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ... import schema
from ...report.figures import experience as fig
from .. import data
from . import common
from .engagement import cluster_filter
from .handsets import manufacturer_choice

USERS = "experience_users"
# one drawn at a time (see common.sections); the first is the first view
SECTIONS = ["Per handset", "Clusters", "Top, bottom and most frequent values", "Every user"]


def of_manufacturer(handsets: list[str], maker: str | None) -> list[str]:
    """The handsets of one manufacturer (None = all).

    Per-user tables carry the handset type only; in xDR exports the type starts with the
    manufacturer's name ("Apple iPhone 7 (A1778)"), so the name prefix identifies it.
    """
    if maker is None:
        return handsets
    prefix = maker.lower() + " "
    return [h for h in handsets if str(h).lower().startswith(prefix)]


def _per_handset(table: pd.DataFrame | None, handsets: list[str] | None) -> pd.DataFrame | None:
    """A per-handset table restricted to the chosen handsets (None = no restriction)."""
    if table is None or handsets is None:
        return table
    return table[table["handset"].isin(handsets)]


def experience_page(run_dir: Path) -> None:
    """Experience clusters and per-handset throughput and retransmission, with filters."""
    st.title("User experience")
    clusters = data.table(run_dir, "experience_clusters")
    if clusters is not None:
        k = len(clusters)
        for col, row in zip(st.columns(k), clusters.itertuples(index=False)):
            col.metric(fig.cluster_name(int(row.cluster), k), f"{int(row.users):,} users",
                       help=str(getattr(row, "description", "")))
    common.findings(run_dir, "experience")

    # the handset filters stay above the sections: they filter the per-handset charts and the
    # users table alike, and a widget that is not drawn would lose its choice
    left, right = st.columns(2)
    with left:
        maker = manufacturer_choice(run_dir, "experience-maker")
    known = (data.distinct_values(run_dir, USERS, "handset") if data.has_table(run_dir, USERS)
             else [])
    with right:
        picked = st.multiselect("Handset", of_manufacturer(known, maker), default=[],
                                key="experience-handset", placeholder="All handsets")
    handsets = picked or (None if maker is None else of_manufacturer(known, maker))
    shown = common.sections("experience-section", SECTIONS)
    if "Per handset" in shown:
        _handsets(run_dir, handsets)
    if "Clusters" in shown:
        st.header("Clusters")
        common.users_chart(run_dir, USERS, [*schema.EXPERIENCE_METRICS, "cluster"],
                           fig.experience_scatter)
        common.chart(fig.cluster_profile, clusters)
        common.small_table(run_dir, "experience_clusters", "experience_clusters")
    if "Top, bottom and most frequent values" in shown:
        _values(run_dir)
    if "Every user" in shown:
        st.header("Users")
        filters = cluster_filter(run_dir, USERS, "experience-cluster", "Experience cluster",
                                 fig.cluster_name)
        if handsets is not None:
            filters = (*filters, ("handset", tuple(handsets)))
        common.paged_table(run_dir, USERS, "experience-users", filters,
                           default_sort="throughput_kbps")


def _handsets(run_dir: Path, handsets: list[str] | None) -> None:
    """Throughput and TCP retransmission of the chosen handsets (None = all)."""
    st.header("Per handset")
    throughput = _per_handset(data.table(run_dir, "throughput_per_handset"), handsets)
    tcp = _per_handset(data.table(run_dir, "tcp_per_handset"), handsets)
    common.chart(fig.throughput_per_handset_chart, throughput)
    common.chart(fig.tcp_per_handset_chart, tcp)
    if handsets is not None and (throughput is None or throughput.empty):
        st.caption("The chosen handsets have too few users for the per-handset tables "
                   "(see handset_min_users in the run parameters).")
    if common.toggle("Show the per-handset tables", "experience-handset-tables"):
        common.small_table(run_dir, "throughput_per_handset", "throughput_per_handset", throughput)
        common.small_table(run_dir, "tcp_per_handset", "tcp_per_handset", tcp)


def _values(run_dir: Path) -> None:
    """The top, bottom or most frequent values of a chosen metric."""
    st.header("Top, bottom and most frequent values")
    values = data.table(run_dir, "experience_values")
    if values is not None:
        left, right = st.columns(2)
        metric = left.selectbox("Metric", schema.EXPERIENCE_METRICS, key="experience-metric")
        kind = right.selectbox("Which", ["top", "bottom", "frequent"], key="experience-kind")
        shown = values[(values["metric"] == metric) & (values["kind"] == kind)]
        common.small_table(run_dir, "experience_values", "experience_values", shown)
