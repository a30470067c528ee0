"""Findings of the engagement section, written from the engagement tables' numbers; a finding
whose table is missing or empty is skipped."""

from __future__ import annotations

import pandas as pd

from ..report.figures.overview import app_label
from ..report.figures.style import human_bytes, human_duration_ms
from . import Insight, nonempty_table, share_text

SECTION = "engagement"


def clusters_insight(clusters: pd.DataFrame) -> Insight:
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
        f"the least engaged cluster. Network capacity and retention offers should go to them "
        f"first: losing one of them costs as much traffic as losing {ratio:.0f} light users."
    )
    return Insight(SECTION, text, {
        "cluster": int(top["cluster"]), "users": int(top["users"]), "users_share": top_users,
        "traffic_share": float(top["traffic_share"]), "volume_ratio_vs_cluster0": float(ratio),
    }, priority=1)


def least_engaged_insight(clusters: pd.DataFrame) -> Insight:
    """Size and usage of the least engaged cluster: the upsell target."""
    clusters = clusters.sort_values("cluster")
    low = clusters.iloc[0]
    share = low["users"] / clusters["users"].sum()
    text = (
        f"The least engaged cluster (cluster 0) holds {share_text(share)} of users "
        f"({int(low['users']):,}) and {share_text(low['traffic_share'])} of the traffic, with "
        f"{low['sessions_mean']:.1f} sessions and {human_bytes(low['total_bytes_mean'])} per user "
        f"on average: the largest room for growth through bundles and onboarding offers."
    )
    return Insight(SECTION, text, {
        "users": int(low["users"]), "users_share": float(share),
        "traffic_share": float(low["traffic_share"]),
        "sessions_mean": float(low["sessions_mean"]),
        "total_bytes_mean": float(low["total_bytes_mean"]),
    })


def top_apps_insight(app_totals: pd.DataFrame, n: int = 3) -> Insight:
    """Which apps carry the traffic, so capacity follows them."""
    totals = app_totals.sort_values(["bytes", "app"], ascending=[False, True])
    top = totals.head(n)
    share = top["bytes"].sum() / totals["bytes"].sum() if totals["bytes"].sum() else 0.0
    names = [app_label(a) for a in top["app"]]
    text = (
        f"{', '.join(names[:-1])} and {names[-1]} carry {share_text(share)} of all app traffic "
        f"({human_bytes(top['bytes'].sum())}); caching and peering capacity for them gives the "
        f"largest relief to the network."
    )
    return Insight(SECTION, text, {"apps": top["app"].tolist(), "share": float(share)},
                   priority=1)


def heavy_users_insight(top10: pd.DataFrame, clusters: pd.DataFrame) -> Insight:
    """How far the heaviest user is above the typical engaged user."""
    vol = top10[top10["metric"] == "total_bytes"].sort_values("rank")
    first = float(vol["value"].iloc[0])
    mean_all = (clusters["total_bytes_sum"].sum() / clusters["users"].sum())
    text = (
        f"The ten heaviest users each moved between {human_bytes(vol['value'].min())} and "
        f"{human_bytes(first)}; the heaviest used {first / mean_all:.0f}x the average user's "
        f"volume ({human_bytes(mean_all)}). They are candidates for unlimited or premium plans."
    )
    return Insight(SECTION, text, {"max_total_bytes": first, "mean_total_bytes": mean_all})


def elbow_insight(elbow: pd.DataFrame) -> Insight:
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
    return Insight(SECTION, text, {"chosen_k": chosen, "explained": 1 - at / k1}, priority=3)


def engagement_insights(tables: dict[str, pd.DataFrame]) -> list[Insight]:
    """The engagement findings that the available tables support."""
    insights = []
    clusters = nonempty_table(tables, "engagement_clusters")
    if clusters is not None:
        insights += [clusters_insight(clusters), least_engaged_insight(clusters)]
    if (totals := nonempty_table(tables, "app_totals")) is not None:
        insights.append(top_apps_insight(totals))
    if (top10 := nonempty_table(tables, "engagement_top10")) is not None and clusters is not None:
        insights.append(heavy_users_insight(top10, clusters))
    if (elbow := nonempty_table(tables, "engagement_elbow")) is not None:
        insights.append(elbow_insight(elbow))
    return insights
