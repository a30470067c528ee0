"""Satisfaction page: the engagement, experience and satisfaction scores, clusters, top users."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ...report.figures import satisfaction as fig
from .. import data
from . import common
from .engagement import cluster_filter
from .lookup import satisfaction_cluster_name

USERS = "satisfaction"
# one drawn at a time (see common.sections); the first is the first view
SECTIONS = ["Scores", "Top 10", "Every user"]
SCORE_COLUMNS = ["engagement_score", "experience_score", "satisfaction_score", "cluster"]


def satisfaction_page(run_dir: Path) -> None:
    """Score clusters as key numbers, the score charts, the top 10 and every user's scores."""
    st.title("User satisfaction")
    clusters = data.table(run_dir, "satisfaction_clusters")
    if clusters is not None:
        for col, row in zip(st.columns(len(clusters)), clusters.itertuples(index=False)):
            col.metric(f"Cluster {int(row.cluster)}: mean satisfaction",
                       f"{row.mean_satisfaction:.3f}",
                       help=f"{int(row.users):,} users; mean engagement score "
                       f"{row.mean_engagement:.3f}, mean experience score "
                       f"{row.mean_experience:.3f}")
    common.findings(run_dir, "satisfaction")

    shown = common.sections("satisfaction-section", SECTIONS)
    if "Scores" in shown:
        st.header("Scores")
        # its subtitle says the sample's size
        common.users_chart(run_dir, USERS, SCORE_COLUMNS, fig.score_scatter,
                           common.SCATTER_POINTS)
        common.chart(fig.clusters_chart, clusters)
        common.small_table(run_dir, "satisfaction_clusters", "satisfaction_clusters")
    if "Top 10" in shown:
        st.header("Top 10")
        common.chart(fig.top10_chart, data.table(run_dir, "satisfaction_top10"))
        common.small_table(run_dir, "satisfaction_top10", "satisfaction_top10")
    if "Every user" in shown:
        st.header("Users")
        filters = cluster_filter(run_dir, USERS, "satisfaction-cluster", "Satisfaction cluster",
                                 satisfaction_cluster_name)
        common.paged_table(run_dir, USERS, "satisfaction-users", filters,
                           default_sort="satisfaction_score")
