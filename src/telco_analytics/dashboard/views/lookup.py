"""Customer lookup: one user's metrics, clusters and scores, each placed in the population."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ... import schema
from ...report.figures import engagement as engagement_fig
from ...report.figures import experience as experience_fig
from ...report.figures.style import human_bytes, human_duration_ms
from .. import data

ROW_PX = 35  # st.dataframe's row height: tables sized to show every row
SCORES = ["satisfaction_score", "engagement_score", "experience_score"]
UNITS = {"duration_ms": human_duration_ms, "tcp_retrans_bytes": human_bytes,
         "rtt_ms": lambda v: f"{v:,.1f} ms", "throughput_kbps": lambda v: f"{v:,.0f} kbps",
         "sessions": lambda v: f"{v:,.0f}"}


def key_label(run_dir: Path) -> str:
    """What the lookup key is in this run: the MSISDN, or its pseudonym."""
    return "Pseudonym" if data.is_pseudonymized(run_dir) else "MSISDN"


def _shown(column: str, value: Any) -> str:
    """A value in its unit (bytes columns in kB/MB/GB)."""
    if value is None or pd.isna(value):
        return "–"
    if column in UNITS:
        return UNITS[column](float(value))
    if column.endswith("_bytes"):
        return human_bytes(float(value))
    return f"{float(value):,.3f}"


def _rank_caption(share: float) -> str:
    return "–" if pd.isna(share) else f"percentile {share:.1f}: at or above {share:.1f}% of users"


def _metrics_table(run_dir: Path, name: str, row: pd.Series) -> pd.DataFrame:
    """The user's numeric values in a per-user table, each with its percentile among all users."""
    numeric = [c for c in row.index
               if c not in (schema.USER_KEY, "cluster") and pd.api.types.is_number(row[c])]
    return pd.DataFrame({
        "metric": numeric,
        "value": [_shown(c, row[c]) for c in numeric],
        "percentile": [round(data.percentile_rank(run_dir, name, c, row[c]), 1) for c in numeric],
    })


def _show_metrics(frame: pd.DataFrame) -> None:
    """The metrics table whole (no inner scrollbar), percentiles drawn as bars."""
    st.dataframe(
        frame, hide_index=True, height=ROW_PX * (len(frame) + 1) + 3,
        column_config={"percentile": st.column_config.ProgressColumn(
            "percentile (share of users at or below)", min_value=0, max_value=100,
            format="%.1f")},
    )


def satisfaction_cluster_name(cluster: int, k: int) -> str:
    """Satisfaction clusters are ordered: the highest label has the higher mean satisfaction."""
    if k == 2:
        return f"{cluster}: " + ("more satisfied" if cluster == 1 else "less satisfied")
    return str(cluster)


def _first(run_dir: Path, name: str, key: str) -> pd.Series | None:
    found = data.lookup(run_dir, name, key)
    return None if found is None or found.empty else found.iloc[0]


def example_key(run_dir: Path) -> str | None:
    """A key that exists in the run (the most satisfied user), to show what a key looks like."""
    top = data.table(run_dir, "satisfaction_top10")
    return None if top is None or top.empty else str(top.iloc[0][schema.USER_KEY])


def lookup_page(run_dir: Path) -> None:
    """Find one customer by the key of the msisdn column and show them against everyone."""
    label = key_label(run_dir)
    st.title("Customer lookup")
    if label == "Pseudonym":
        st.info("This run was pseudonymized: the msisdn column holds keyed pseudonyms, so look "
                "customers up by pseudonym (16 hexadecimal characters), not by phone number.")
    example = example_key(run_dir)
    key = st.text_input(label, key="lookup-key",
                        placeholder=f"e.g. {example}" if example else "",
                        help=f"Exact {label} as written in the msisdn column of the run's tables")
    key = key.strip()
    if not key:
        st.caption(f"Type a {label} to see that customer's scores, clusters and metrics, each "
                   "with its percentile among all users.")
        return
    satisfaction = _first(run_dir, "satisfaction", key)
    overview = _first(run_dir, "user_overview", key)
    if satisfaction is None and overview is None:
        st.warning(f"No customer with {label} {key} in this run.")
        return
    st.subheader(f"{label} {key}")
    if satisfaction is not None:
        cols = st.columns(len(SCORES) + 1)
        for col, score in zip(cols, SCORES):
            share = data.percentile_rank(run_dir, "satisfaction", score, satisfaction[score])
            col.metric(score.replace("_", " ").capitalize(), f"{satisfaction[score]:.4f}")
            col.caption(_rank_caption(share))
        clusters = data.table(run_dir, "satisfaction_clusters")
        k = 2 if clusters is None else len(clusters)
        cols[-1].metric("Satisfaction cluster",
                        satisfaction_cluster_name(int(satisfaction["cluster"]), k),
                        help="Clusters are ordered: the higher label has the higher mean "
                        "satisfaction")
    _clusters(run_dir, key)
    if overview is not None:
        st.subheader("Usage (user_overview)")
        _show_metrics(_metrics_table(run_dir, "user_overview", overview))
    experience = _first(run_dir, "experience_users", key)
    if experience is not None:
        st.subheader(f"Network experience (handset: {experience.get('handset', 'unknown')})")
        _show_metrics(_metrics_table(run_dir, "experience_users", experience))


def _clusters(run_dir: Path, key: str) -> None:
    """The user's engagement and experience clusters, named as in the charts."""
    cols = st.columns(2)
    for col, (name, figures, clusters_table, title) in zip(cols, (
        ("engagement_users", engagement_fig, "engagement_clusters", "Engagement cluster"),
        ("experience_users", experience_fig, "experience_clusters", "Experience cluster"),
    )):
        row = _first(run_dir, name, key)
        clusters = data.table(run_dir, clusters_table)
        if row is None or clusters is None:
            continue
        col.metric(title, figures.cluster_name(int(row["cluster"]), len(clusters)))
