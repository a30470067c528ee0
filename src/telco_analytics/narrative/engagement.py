"""Findings of the engagement section, written from the engagement tables' numbers; a finding
whose table is missing or empty is skipped.

On heavy tails the SPEC clustering can spend a cluster on a handful of users: the findings say
so plainly and set the log-scaled clustering (engagement_clusters_log) and the stability of
both (engagement_stability) beside it. Apps are the named apps: "Other" is unclassified
traffic, never an app to plan for.
"""

from __future__ import annotations

import pandas as pd

from ..analysis.traffic import OTHER
from ..report.figures.overview import app_label
from ..report.figures.style import human_bytes, human_duration_ms
from . import nonempty_table, share_text
from .records import Evidence, Finding, finding, row_evidence

CLUSTERS, APP_TOTALS, TOP10, ELBOW = (
    "engagement_clusters", "app_totals", "engagement_top10", "engagement_elbow")
LOG_CLUSTERS, STABILITY = "engagement_clusters_log", "engagement_stability"
SMALL_CLUSTER = 0.01  # a cluster with less than this share of users is a handful of outliers


def _mean_volume(clusters: pd.DataFrame) -> tuple[float, Evidence]:
    """The average user's data volume and its evidence."""
    total, users = float(clusters["total_bytes_sum"].sum()), int(clusters["users"].sum())
    mean = total / users
    return mean, Evidence(CLUSTERS, {}, {"sum(total_bytes_sum)": total, "sum(users)": users,
                                         "sum(total_bytes_sum) / sum(users)": mean})


def clusters_insight(clusters: pd.DataFrame) -> Finding:
    """How much of the traffic the most engaged cluster carries compared with its size."""
    clusters = clusters.sort_values("cluster")
    top, low = clusters.iloc[-1], clusters.iloc[0]
    users = int(clusters["users"].sum())
    top_users = top["users"] / users
    ratio = top["total_bytes_mean"] / low["total_bytes_mean"] if low["total_bytes_mean"] else 0
    mean, mean_evidence = _mean_volume(clusters)
    text = (
        f"The most engaged cluster (cluster {int(top['cluster'])}) is {share_text(top_users)} of "
        f"users ({int(top['users']):,}) but carries {share_text(top['traffic_share'])} of the "
        f"traffic: {top['sessions_mean']:.1f} sessions, {human_duration_ms(top['duration_ms_mean'])}"
        f" and {human_bytes(top['total_bytes_mean'])} per user, {ratio:.1f}x the volume of a "
        f"user in the least engaged cluster."
    )
    small = top_users < SMALL_CLUSTER
    action = (
        f"Network capacity and retention offers should go to the users of the most engaged "
        f"cluster (cluster {int(top['cluster'])}) first: losing one of them costs as much "
        f"traffic as losing {ratio:.1f} light users."
    )
    users_affected, effect = int(top["users"]), float(top["total_bytes_mean"]) / mean - 1
    if small:  # no segment to act on: the log-scaled segments finding says what to use
        text += (" A cluster this small is a handful of extreme users, not a segment: see the "
                 "log-scaled segments.")
        action, users_affected = None, None
    return finding(
        "engagement.most_engaged_cluster", text, action=action, priority=1,
        users_affected=users_affected, effect_size=effect, evidence=[
            row_evidence(CLUSTERS, top, ["cluster"], ["users", "traffic_share", "sessions_mean",
                                                       "duration_ms_mean", "total_bytes_mean"]),
            row_evidence(CLUSTERS, low, ["cluster"], ["total_bytes_mean"]),
            mean_evidence,
        ], numbers={
            "cluster": int(top["cluster"]), "users": int(top["users"]),
            "users_share": top_users, "traffic_share": float(top["traffic_share"]),
            "volume_ratio_vs_cluster0": float(ratio), "small_cluster": small,
        })


def least_engaged_insight(clusters: pd.DataFrame) -> Finding:
    """Size and usage of the least engaged cluster: the upsell target."""
    clusters = clusters.sort_values("cluster")
    low = clusters.iloc[0]
    share = low["users"] / clusters["users"].sum()
    mean, mean_evidence = _mean_volume(clusters)
    gap = 1 - float(low["total_bytes_mean"]) / mean
    text = (
        f"The least engaged cluster (cluster 0) holds {share_text(share)} of users "
        f"({int(low['users']):,}) and {share_text(low['traffic_share'])} of the traffic, with "
        f"{low['sessions_mean']:.1f} sessions and {human_bytes(low['total_bytes_mean'])} per user "
        f"on average, {share_text(gap)} less than the average user ({human_bytes(mean)})"
        + (": the largest room for growth." if gap > 0 else ".")
    )
    action = (
        f"Bundles and onboarding offers should target the {int(low['users']):,} users of the "
        f"least engaged cluster (cluster {int(low['cluster'])}), the largest room for growth."
    )
    return finding("engagement.least_engaged_cluster", text, action=action,
                   users_affected=int(low["users"]), effect_size=max(gap, 0.0), evidence=[
                       row_evidence(CLUSTERS, low, ["cluster"], ["users", "traffic_share",
                                                                  "sessions_mean",
                                                                  "total_bytes_mean"]),
                       mean_evidence,
                       Evidence(CLUSTERS, {}, {"1 - total_bytes_mean / average user": gap}),
                   ], numbers={
                       "users": int(low["users"]), "users_share": float(share),
                       "traffic_share": float(low["traffic_share"]),
                       "sessions_mean": float(low["sessions_mean"]),
                       "total_bytes_mean": float(low["total_bytes_mean"]),
                   })


def top_apps_insight(app_totals: pd.DataFrame, n: int = 3) -> Finding | None:
    """Which named apps carry the classified traffic, so that capacity follows them ("Other"
    is unclassified: no capacity plan can follow it)."""
    named = app_totals[app_totals["app"] != OTHER]
    totals = named.sort_values(["bytes", "app"], ascending=[False, True])
    top = totals.head(n)
    classified = float(totals["bytes"].sum())
    if classified <= 0:
        return None
    names = [app_label(a) for a in top["app"]]
    listed = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]
    text = (f"Among the named apps, {listed} carry {share_text(top['bytes'].sum() / classified)}"
            f" of the traffic classified by app ({human_bytes(top['bytes'].sum())} of "
            f"{human_bytes(classified)}).")
    evidence = [*(row_evidence(APP_TOTALS, row, ["app"], ["bytes"]) for _, row in top.iterrows()),
                Evidence(APP_TOTALS, {}, {"sum(bytes) over the named apps": classified,
                                          "sum(bytes) over the listed apps":
                                              float(top["bytes"].sum())})]
    other = app_totals[app_totals["app"] == OTHER]
    if not other.empty:
        text += (f" The unclassified 'Other' column ({human_bytes(other['bytes'].iloc[0])}) is "
                 "left out: it is no app to plan for.")
        evidence.append(row_evidence(APP_TOTALS, other.iloc[0], ["app"], ["bytes"]))
    action = (f"Caching and peering capacity for {listed} gives the largest relief among the "
              "traffic classified by app.")
    return finding("engagement.top_apps", text, action=action, priority=1, evidence=evidence,
                   numbers={"apps": top["app"].tolist(),
                            "share_of_classified": float(top["bytes"].sum()) / classified})


def heavy_users_insight(top10: pd.DataFrame, clusters: pd.DataFrame) -> Finding:
    """How far the heaviest user is above the typical engaged user."""
    vol = top10[top10["metric"] == "total_bytes"].sort_values("rank")
    first = float(vol["value"].iloc[0])
    mean_all, mean_evidence = _mean_volume(clusters)
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
            mean_evidence,
        ],
        numbers={"max_total_bytes": first, "mean_total_bytes": mean_all})


def elbow_insight(elbow: pd.DataFrame, clusters: pd.DataFrame) -> Finding:
    """What the elbow says about the number of engagement groups."""
    k = len(clusters)
    chosen = int(elbow.loc[elbow["chosen"].astype(bool), "k"].iloc[0])
    k1 = float(elbow["inertia"].iloc[0])
    at = float(elbow.loc[elbow["k"] == chosen, "inertia"].iloc[0])
    text = (
        f"The elbow of the k-means inertia is at k = {chosen}: {chosen} groups already explain "
        f"{share_text(1 - at / k1)} of the spread of the standardized engagement metrics; more "
        f"groups add little. The report keeps k = {k} for comparability and shows the "
        f"k = {chosen} profiles alongside."
    )
    return finding("engagement.elbow", text, priority=3, evidence=[
        row_evidence(ELBOW, elbow.iloc[0], ["k"], ["inertia"]),
        row_evidence(ELBOW, elbow.loc[elbow["k"] == chosen].iloc[0], ["k"], ["inertia", "chosen"]),
        Evidence(ELBOW, {}, {"1 - inertia(chosen k) / inertia(k = 1)": 1 - at / k1}),
        Evidence(CLUSTERS, {}, {"count(rows)": k}),
    ], numbers={"chosen_k": chosen, "explained": 1 - at / k1})


def segments_insight(clusters: pd.DataFrame, log_clusters: pd.DataFrame | None,
                     stability: pd.DataFrame | None) -> Finding | None:
    """Whether the SPEC engagement clusters are real segments on these heavy tails: a cluster
    of a handful of users is said plainly, the log-scaled segments are set beside it, with
    how stable each clustering is across seeds."""
    clusters = clusters.sort_values("cluster")
    total = int(clusters["users"].sum())
    smallest = clusters.loc[clusters["users"].idxmin()]
    small = smallest["users"] / total < SMALL_CLUSTER
    evidence = [row_evidence(CLUSTERS, smallest, ["cluster"], ["users"]),
                Evidence(CLUSTERS, {}, {"sum(users)": total})]
    if small:
        text = (f"The engagement clustering on the raw metrics puts {int(smallest['users']):,} "
                f"user{'s' if smallest['users'] != 1 else ''} "
                f"({share_text(smallest['users'] / total)} of users) in cluster "
                f"{int(smallest['cluster'])}: on heavy-tailed usage k-means spends a cluster on "
                f"a few extreme users, so its clusters are no marketing segments.")
    else:
        text = (f"Every engagement cluster is a real segment: the smallest (cluster "
                f"{int(smallest['cluster'])}) holds {share_text(smallest['users'] / total)} of "
                f"users.")
    if log_clusters is not None:
        rows = log_clusters.sort_values("cluster")
        shares = ", ".join(share_text(r["users_share"]) for _, r in rows.iterrows())
        text += (f" The same k-means on log-scaled metrics gives segments of {shares} of users "
                 f"(least to most engaged).")
        evidence += [row_evidence(LOG_CLUSTERS, r, ["cluster"], ["users_share"])
                     for _, r in rows.iterrows()]
    if stability is not None:
        parts = []
        for _, r in stability.iterrows():
            name = "raw-metric" if r["clustering"] == "spec" else "log-scaled"
            parts.append(f"the {name} clusters agree with an adjusted Rand index of "
                         f"{r['ari_mean']:.2f} (lowest {r['ari_min']:.2f})")
            evidence.append(row_evidence(STABILITY, r, ["clustering"],
                                         ["seeds", "users", "ari_mean", "ari_min"]))
        seeds, users = int(stability["seeds"].iloc[0]), int(stability["users"].iloc[0])
        text += (f" Refitted with {seeds} seeds on {users:,} users, " + " and ".join(parts)
                 + " (1 = the same partition every time).")
    action = None
    if small and log_clusters is not None:
        action = ("Marketing segments should come from the log-scaled engagement clusters, "
                  "which follow the bulk of the users.")
    return finding("engagement.segments", text, action=action, priority=1 if small else 3,
                   evidence=evidence, numbers={"small_cluster": bool(small),
                                               "smallest_share": smallest["users"] / total})


def engagement_insights(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """The engagement findings that the available tables support."""
    insights: list[Finding | None] = []
    clusters = nonempty_table(tables, CLUSTERS)
    if clusters is not None:
        insights += [clusters_insight(clusters), least_engaged_insight(clusters),
                     segments_insight(clusters, nonempty_table(tables, LOG_CLUSTERS),
                                      nonempty_table(tables, STABILITY))]
    if (totals := nonempty_table(tables, APP_TOTALS)) is not None:
        insights.append(top_apps_insight(totals))
    if (top10 := nonempty_table(tables, TOP10)) is not None and clusters is not None:
        insights.append(heavy_users_insight(top10, clusters))
    if (elbow := nonempty_table(tables, ELBOW)) is not None and clusters is not None:
        insights.append(elbow_insight(elbow, clusters))
    return [i for i in insights if i is not None]
