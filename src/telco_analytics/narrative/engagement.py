"""Findings of the engagement section, written from the engagement tables' numbers; a finding
whose table is missing or empty is skipped."""

from __future__ import annotations

import pandas as pd

from ..report.figures.overview import app_label
from ..report.figures.style import human_bytes, human_duration_ms
from . import nonempty_table, share_text
from .records import Evidence, Finding, finding, row_evidence

CLUSTERS, APP_TOTALS, TOP10, ELBOW = (
    "engagement_clusters", "app_totals", "engagement_top10", "engagement_elbow")


def clusters_insight(clusters: pd.DataFrame) -> Finding:
    """How much of the traffic the most engaged cluster carries compared with its size."""
    clusters = clusters.sort_values("cluster")
    top, low = clusters.iloc[-1], clusters.iloc[0]
    users = clusters["users"].sum()
    top_users = top["users"] / users
    ratio = top["total_bytes_mean"] / low["total_bytes_mean"] if low["total_bytes_mean"] else 0
    text = (
        f"The most engaged cluster (cluster {int(top['cluster'])}) is {share_text(top_users)} of users "
        f"({int(top['users']):,}) but carries {share_text(top['traffic_share'])} of the traffic: "
        f"{top['sessions_mean']:.1f} sessions, {human_duration_ms(top['duration_ms_mean'])} and "
        f"{human_bytes(top['total_bytes_mean'])} per user, {ratio:.1f}x the volume of a user in "
        f"the least engaged cluster."
    )
    action = (
        f"Network capacity and retention offers should go to the users of the most engaged "
        f"cluster (cluster {int(top['cluster'])}) first: losing one of them costs as much "
        f"traffic as losing {ratio:.0f} light users."
    )
    return finding("engagement.most_engaged_cluster", text, action=action, priority=1, evidence=[
        row_evidence(CLUSTERS, top, ["cluster"], ["users", "traffic_share", "sessions_mean",
                                                   "duration_ms_mean", "total_bytes_mean"]),
        row_evidence(CLUSTERS, low, ["cluster"], ["total_bytes_mean"]),
        Evidence(CLUSTERS, {}, {"sum(users)": int(users)}),
    ], numbers={
        "cluster": int(top["cluster"]), "users": int(top["users"]), "users_share": top_users,
        "traffic_share": float(top["traffic_share"]), "volume_ratio_vs_cluster0": float(ratio),
    })


def least_engaged_insight(clusters: pd.DataFrame) -> Finding:
    """Size and usage of the least engaged cluster: the upsell target."""
    clusters = clusters.sort_values("cluster")
    low = clusters.iloc[0]
    share = low["users"] / clusters["users"].sum()
    text = (
        f"The least engaged cluster (cluster 0) holds {share_text(share)} of users "
        f"({int(low['users']):,}) and {share_text(low['traffic_share'])} of the traffic, with "
        f"{low['sessions_mean']:.1f} sessions and {human_bytes(low['total_bytes_mean'])} per user "
        f"on average: the largest room for growth."
    )
    action = (
        f"Bundles and onboarding offers should target the {int(low['users']):,} users of the "
        f"least engaged cluster (cluster {int(low['cluster'])}), the largest room for growth."
    )
    return finding("engagement.least_engaged_cluster", text, action=action, evidence=[
        row_evidence(CLUSTERS, low, ["cluster"], ["users", "traffic_share", "sessions_mean",
                                                   "total_bytes_mean"]),
        Evidence(CLUSTERS, {}, {"sum(users)": int(clusters["users"].sum())}),
    ], numbers={
        "users": int(low["users"]), "users_share": float(share),
        "traffic_share": float(low["traffic_share"]),
        "sessions_mean": float(low["sessions_mean"]),
        "total_bytes_mean": float(low["total_bytes_mean"]),
    })


def top_apps_insight(app_totals: pd.DataFrame, n: int = 3) -> Finding:
    """Which apps carry the traffic, so capacity follows them."""
    totals = app_totals.sort_values(["bytes", "app"], ascending=[False, True])
    top = totals.head(n)
    share = top["bytes"].sum() / totals["bytes"].sum() if totals["bytes"].sum() else 0.0
    names = [app_label(a) for a in top["app"]]
    listed = f"{', '.join(names[:-1])} and {names[-1]}"
    text = (
        f"{listed} carry {share_text(share)} of all app traffic "
        f"({human_bytes(top['bytes'].sum())})."
    )
    action = (f"Caching and peering capacity for {listed} gives the largest relief to the "
              f"network.")
    return finding("engagement.top_apps", text, action=action, priority=1, evidence=[
        *(row_evidence(APP_TOTALS, row, ["app"], ["bytes"]) for _, row in top.iterrows()),
        Evidence(APP_TOTALS, {}, {"sum(bytes)": float(totals["bytes"].sum())}),
    ], numbers={"apps": top["app"].tolist(), "share": float(share)})


def heavy_users_insight(top10: pd.DataFrame, clusters: pd.DataFrame) -> Finding:
    """How far the heaviest user is above the typical engaged user."""
    vol = top10[top10["metric"] == "total_bytes"].sort_values("rank")
    first = float(vol["value"].iloc[0])
    bytes_sum, users = float(clusters["total_bytes_sum"].sum()), int(clusters["users"].sum())
    mean_all = bytes_sum / users
    text = (
        f"The ten heaviest users each moved between {human_bytes(vol['value'].min())} and "
        f"{human_bytes(first)}; the heaviest used {first / mean_all:.0f}x the average user's "
        f"volume ({human_bytes(mean_all)})."
    )
    return finding(
        "engagement.heavy_users", text,
        action="The ten heaviest users are candidates for unlimited or premium plans.",
        evidence=[
            row_evidence(TOP10, vol.iloc[0], ["metric", "rank"], ["value"]),
            row_evidence(TOP10, vol.loc[vol["value"].idxmin()], ["metric", "rank"], ["value"]),
            Evidence(CLUSTERS, {}, {"sum(total_bytes_sum)": bytes_sum, "sum(users)": users}),
        ],
        numbers={"max_total_bytes": first, "mean_total_bytes": mean_all})


def elbow_insight(elbow: pd.DataFrame) -> Finding:
    """What the elbow says about the number of engagement groups."""
    chosen = int(elbow.loc[elbow["chosen"].astype(bool), "k"].iloc[0])
    k1 = float(elbow["inertia"].iloc[0])
    at = float(elbow.loc[elbow["k"] == chosen, "inertia"].iloc[0])
    text = (
        f"The elbow of the k-means inertia is at k = {chosen}: {chosen} groups already explain "
        f"{share_text(1 - at / k1)} of the spread of the standardized engagement metrics; more groups "
        f"add little. The report keeps k = 3 for comparability and shows the k = {chosen} "
        f"profiles alongside."
    )
    return finding("engagement.elbow", text, priority=3, evidence=[
        row_evidence(ELBOW, elbow.iloc[0], ["k"], ["inertia"]),
        row_evidence(ELBOW, elbow.loc[elbow["k"] == chosen].iloc[0], ["k"], ["inertia", "chosen"]),
    ], numbers={"chosen_k": chosen, "explained": 1 - at / k1})


def engagement_insights(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """The engagement findings that the available tables support."""
    insights = []
    clusters = nonempty_table(tables, CLUSTERS)
    if clusters is not None:
        insights += [clusters_insight(clusters), least_engaged_insight(clusters)]
    if (totals := nonempty_table(tables, APP_TOTALS)) is not None:
        insights.append(top_apps_insight(totals))
    if (top10 := nonempty_table(tables, TOP10)) is not None and clusters is not None:
        insights.append(heavy_users_insight(top10, clusters))
    if (elbow := nonempty_table(tables, ELBOW)) is not None:
        insights.append(elbow_insight(elbow))
    return insights
