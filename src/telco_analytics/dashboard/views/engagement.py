"""Engagement page: clusters of users by sessions, duration and volume; top users per app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ... import schema
from ...report.figures import engagement as fig
from ...report.figures.overview import app_label
from .. import data, formats
from . import common

USERS = "engagement_users"
# one drawn at a time (see common.sections); the first is the first view
SECTIONS = ["Clusters", "Users by cluster", "Top users", "Every user"]


def cluster_filter(run_dir: Path, table: str, key: str, label: str,
                   name: Callable[[int, int], str] = fig.cluster_name) -> data.Filters:
    """A multiselect of the table's clusters (named as in the charts); its filter (empty = all)."""
    clusters = data.distinct_values(run_dir, table, "cluster")
    k = len(clusters)
    picked = st.multiselect(label, clusters, default=[], key=key, placeholder="All clusters",
                            format_func=lambda c: name(int(c), k))
    return ((("cluster", tuple(int(c) for c in picked)),) if picked else ())


def engagement_page(run_dir: Path) -> None:
    """Engagement clusters, their profile, the elbow, top users per metric and per app."""
    st.title("User engagement")
    clusters = data.table(run_dir, "engagement_clusters")
    if clusters is not None:
        k = len(clusters)
        cols = st.columns(k)
        for col, row in zip(cols, clusters.itertuples(index=False)):
            col.metric(
                fig.cluster_name(int(row.cluster), k), f"{int(row.users):,} users",
                help="Mean per user: " + ", ".join(
                    f"{m} {formats.text_of(m, getattr(row, f'{m}_mean'))}"
                    for m in schema.ENGAGEMENT_METRICS),
            )
    common.findings(run_dir, "engagement")

    shown = common.sections("engagement-section", SECTIONS)
    if "Clusters" in shown:
        st.header("Clusters")
        common.chart(fig.cluster_profile, clusters)
        common.chart(fig.elbow_chart, data.table(run_dir, "engagement_elbow"))
        common.small_table(run_dir, "engagement_clusters", "engagement_clusters")
    if "Users by cluster" in shown:
        st.header("Users by cluster")
        common.users_chart(run_dir, USERS, [*schema.ENGAGEMENT_METRICS, "cluster"],
                           fig.engagement_scatter)
    if "Top users" in shown:
        _top_users(run_dir)
    if "Every user" in shown:
        st.header("Users")
        filters = cluster_filter(run_dir, USERS, "engagement-cluster", "Engagement cluster")
        common.paged_table(run_dir, USERS, "engagement-users", filters,
                           default_sort="total_bytes")


def _top_users(run_dir: Path) -> None:
    """The top 10 users of a chosen metric and of a chosen app, and the top apps."""
    st.header("Top users")
    left, right = st.columns(2)
    with left:
        top = data.table(run_dir, "engagement_top10")
        if top is not None:
            metric = st.selectbox("Metric", sorted(top["metric"].unique()), key="engagement-metric")
            common.small_table(run_dir, "engagement_top10", "engagement_top10",
                               top[top["metric"] == metric])
    with right:
        per_app = data.table(run_dir, "app_top10_users")
        if per_app is not None:
            apps = [a for a in schema.APPS if a in set(per_app["app"])]
            app = st.selectbox("App", apps, key="engagement-app", format_func=app_label)
            common.small_table(run_dir, "app_top10_users", "app_top10_users",
                               per_app[per_app["app"] == app])
    common.chart(fig.top_apps, data.table(run_dir, "app_totals"))
