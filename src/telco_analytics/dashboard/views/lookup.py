"""Customer lookup: one user's scores, clusters and metrics, each placed among all users.

Every number says what it measures and which way is good: a score's sentence, a metric's
direction, and colours that follow it (green where this user does better than most users,
red where worse; usage, where more is neither good nor bad, in blue).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from ... import schema
from ...report.figures import engagement as engagement_fig
from ...report.figures import experience as experience_fig
from .. import data, formats, keys
from . import common

GOOD, BAD = 60.0, 40.0  # better than this share of users: green; at most this share: red


@dataclass(frozen=True)
class Score:
    column: str
    label: str
    meaning: str  # one sentence: what it measures and which way is better


SCORES = [
    Score("satisfaction_score", "Satisfaction score",
          "The mean of the engagement and experience scores. Higher = more satisfied (better)."),
    Score("engagement_score", "Engagement score",
          "How far the user's sessions, time online and data volume lie from the average "
          "least-engaged user (distance in standardized units). Higher = more engaged (better)."),
    Score("experience_score", "Experience score",
          "How far the user's round-trip time, TCP retransmission and throughput lie from the "
          "average user of the worst-experience cluster (distance in standardized units). "
          "Higher = further from the worst experience (better), though a user even worse than "
          "that average is far from it too: read it with the experience cluster."),
]
# which way is better for a network metric (True: higher)
HIGHER_IS_BETTER = {"throughput_kbps": True, "rtt_ms": False, "tcp_retrans_bytes": False}
WORSE = {"tcp_retrans_bytes": "more TCP retransmission", "rtt_ms": "a longer round-trip time",
         "throughput_kbps": "a lower throughput"}


def key_label(run_dir: Path) -> str:
    """What the lookup key is in this run: the MSISDN, or its pseudonym."""
    return "Pseudonym" if data.is_pseudonymized(run_dir) else "MSISDN"


def example_key(run_dir: Path) -> str | None:
    """A key that exists in the run (the most satisfied user), to show what a key looks like."""
    top = data.table(run_dir, "satisfaction_top10")
    return None if top is None or top.empty else str(top.iloc[0][schema.USER_KEY])


def coloured(text: str, better_than: float) -> str:
    """Markdown of `text` in green, red or grey as the user does better or worse than most."""
    if pd.isna(better_than):
        return text
    colour = "green" if better_than >= GOOD else "red" if better_than <= BAD else "gray"
    return f":{colour}[{text}]"


def find(run_dir: Path, typed: str) -> list[str]:
    """The run's keys the typed number or pseudonym may be (several only when ambiguous)."""
    prefix = "" if data.is_pseudonymized(run_dir) else keys.country_prefix(
        data.sample_keys(run_dir, "satisfaction") or data.sample_keys(run_dir, "user_overview"))
    wanted = keys.candidates(typed, prefix)
    if not wanted:
        return []
    for name in ("satisfaction", "user_overview"):
        found = data.lookup(run_dir, name, wanted)
        if found is not None and not found.empty:
            return sorted(set(found[schema.USER_KEY].astype(str)))
    return []


def _first(run_dir: Path, name: str, key: str) -> pd.Series | None:
    found = data.lookup(run_dir, name, key)
    return None if found is None or found.empty else found.iloc[0]


def lookup_page(run_dir: Path) -> None:
    """Find one customer by the number as people type it and show them against everyone."""
    label = key_label(run_dir)
    st.title("Customer lookup")
    if label == "Pseudonym":
        st.info("This run was pseudonymized: the msisdn column holds keyed pseudonyms, so look "
                "customers up by pseudonym (16 hexadecimal characters), not by phone number.")
    example = example_key(run_dir)
    typed = st.text_input(
        label, key="lookup-key", placeholder=f"e.g. {example}" if example else "",
        help="As you know it: with or without +, spaces or dashes, with the country code or "
        "in the national form (leading 0)" if label == "MSISDN" else
        "The pseudonym as written in the msisdn column of the run's tables")
    if not typed.strip():
        st.caption(f"Type a {label} to see that customer's scores, clusters and metrics, each "
                   "with its place among all users.")
        return
    matches = find(run_dir, typed)
    if not matches:
        st.warning(f"No customer with {label} {typed.strip()} in this run.")
        return
    if len(matches) > 1:
        st.warning(f"{typed.strip()} may be any of {', '.join(matches)}: type the number with "
                   "its country code.")
        return
    customer(run_dir, label, matches[0])


def customer(run_dir: Path, label: str, key: str) -> None:
    """One customer's scores, clusters, usage and network experience."""
    st.subheader(f"{label} {key}")
    satisfaction = _first(run_dir, "satisfaction", key)
    if satisfaction is not None:
        _scores(run_dir, satisfaction)
    experience = _first(run_dir, "experience_users", key)
    _clusters(run_dir, key, experience)
    overview = _first(run_dir, "user_overview", key)
    if overview is not None:
        st.subheader("Usage")
        st.caption("Compared with all users. These say how much the customer uses the "
                   "network, not how well it serves them: no colour for good or bad.")
        _usage_table(run_dir, overview)
    if experience is not None:
        st.subheader(f"Network experience (handset: {experience.get('handset', 'unknown')})")
        _worst_cluster_note(run_dir, experience, satisfaction)
        _experience_table(run_dir, experience)


def _scores(run_dir: Path, row: pd.Series) -> None:
    """A tile a score: its value, where it stands among users, and what it means."""
    for col, score in zip(st.columns(len(SCORES)), SCORES):
        share = data.percentile_rank(run_dir, "satisfaction", score.column, row[score.column])
        col.metric(score.label, f"{row[score.column]:.4f}")
        col.markdown(coloured(f"percentile {share:.1f}: at or above {share:.1f}% of users",
                              share))
        col.caption(score.meaning)


def _clusters(run_dir: Path, key: str, experience: pd.Series | None) -> None:
    """The user's engagement, experience and satisfaction clusters, named as in the charts."""
    cols = st.columns(3)
    engagement = _first(run_dir, "engagement_users", key)
    for col, row, table, name, title in (
        (cols[0], engagement, "engagement_clusters", engagement_fig.cluster_name,
         "Engagement cluster"),
        (cols[1], experience, "experience_clusters", experience_fig.cluster_name,
         "Experience cluster"),
    ):
        clusters = data.table(run_dir, table)
        if row is not None and clusters is not None:
            col.metric(title, name(int(row["cluster"]), len(clusters)))
    satisfaction = _first(run_dir, "satisfaction", key)
    if satisfaction is not None:
        clusters = data.table(run_dir, "satisfaction_clusters")
        cols[2].metric("Satisfaction cluster", satisfaction_cluster_name(
            int(satisfaction["cluster"]), 2 if clusters is None else len(clusters)),
            help="Clusters are ordered: the higher label has the higher mean satisfaction")


def satisfaction_cluster_name(cluster: int, k: int) -> str:
    """Satisfaction clusters are ordered: the highest label has the higher mean satisfaction."""
    if k == 2:
        return f"{cluster}: " + ("more satisfied" if cluster == 1 else "less satisfied")
    return str(cluster)


def _numeric(row: pd.Series) -> list[str]:
    return [c for c in row.index
            if c not in (schema.USER_KEY, "cluster") and pd.api.types.is_number(row[c])]


def _usage_table(run_dir: Path, row: pd.Series) -> None:
    """The user's usage metrics, each with the share of users at or below, as blue bars."""
    metrics = _numeric(row)
    frame = pd.DataFrame({
        "metric": metrics,
        "value": [formats.text_of(m, row[m]) for m in metrics],
        "percentile": [round(data.percentile_rank(run_dir, "user_overview", m, row[m]), 1)
                       for m in metrics],
    })
    common.whole_table(frame, {"percentile": st.column_config.ProgressColumn(
        "share of users at or below (%)", min_value=0, max_value=100, format="%.1f",
        color="blue")})


def _experience_table(run_dir: Path, row: pd.Series) -> None:
    """The user's network metrics: which way is better, and the share of users the user does
    at least as well as (green above half, red below)."""
    metrics = [m for m in _numeric(row) if m in HIGHER_IS_BETTER]
    frame = pd.DataFrame({
        "metric": metrics,
        "value": [formats.text_of(m, row[m]) for m in metrics],
        "better": ["higher" if HIGHER_IS_BETTER[m] else "lower" for m in metrics],
        "as good as": [round(data.percentile_rank(run_dir, "experience_users", m, row[m],
                                                  at_least=not HIGHER_IS_BETTER[m]), 1)
                       for m in metrics],
    })
    common.whole_table(frame, {
        "better": st.column_config.TextColumn("better when", width="small"),
        "as good as": st.column_config.ProgressColumn(
            "at least as good as (% of users)", min_value=0, max_value=100, format="%.1f",
            color="auto")})


def _worst_cluster_note(run_dir: Path, experience: pd.Series,
                        satisfaction: pd.Series | None) -> None:
    """Why a user of the worst-experience cluster can have a high experience score."""
    clusters = data.table(run_dir, "experience_clusters")
    if clusters is None or int(experience["cluster"]) != 0 or satisfaction is None:
        return
    share = data.percentile_rank(run_dir, "satisfaction", "experience_score",
                                 satisfaction["experience_score"])
    worst = clusters[clusters["cluster"] == 0].iloc[0]
    beyond = [m for m in HIGHER_IS_BETTER if f"{m}_mean" in worst and (
        experience[m] < worst[f"{m}_mean"] if HIGHER_IS_BETTER[m]
        else experience[m] > worst[f"{m}_mean"])]
    if share < 50 or not beyond:
        return
    st.info(
        f"This user is in the worst-experience cluster, yet their experience score is above "
        f"{share:.0f}% of users': the score is the distance from that cluster's average, and "
        "this user has " + " and ".join(
            f"{WORSE[m]} ({formats.text_of(m, experience[m])}, against "
            f"{formats.text_of(m, worst[f'{m}_mean'])} on average in the cluster)"
            for m in beyond) + ". Far from the worst average, on the worse side.",
        icon=":material/info:")
