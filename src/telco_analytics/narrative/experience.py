"""Findings of the experience section, written from the experience tables' numbers; a finding
whose table is missing or empty is skipped."""

from __future__ import annotations

import pandas as pd

from ..report.figures.style import human_bytes
from . import nonempty_table, share_text
from .records import Evidence, Finding, finding, row_evidence

CLUSTERS, THROUGHPUT, TCP, VALUES = (
    "experience_clusters", "throughput_per_handset", "tcp_per_handset", "experience_values")
EXPERIENCE_MEANS = ["rtt_ms_mean", "throughput_kbps_mean", "tcp_retrans_bytes_mean"]


def worst_cluster_insight(clusters: pd.DataFrame) -> Finding:
    """Who gets the worst experience, how much worse it is, and what to do about it."""
    clusters = clusters.sort_values("cluster")
    worst, best = clusters.iloc[0], clusters.iloc[-1]
    share = worst["users"] / clusters["users"].sum()
    text = (
        f"{share_text(share)} of users ({int(worst['users']):,}) fall in the worst-experience cluster "
        f"({worst['description']}): {worst['rtt_ms_mean']:.0f} ms round-trip time, "
        f"{worst['throughput_kbps_mean']:,.0f} kbps and "
        f"{human_bytes(worst['tcp_retrans_bytes_mean'])} retransmitted per user, against "
        f"{best['rtt_ms_mean']:.0f} ms, {best['throughput_kbps_mean']:,.0f} kbps and "
        f"{human_bytes(best['tcp_retrans_bytes_mean'])} in the best cluster."
    )
    action = ("The network team should start with the cells that the users of the "
              f"worst-experience cluster (cluster {int(worst['cluster'])}) attach to.")
    return finding("experience.worst_cluster", text, action=action, priority=1, evidence=[
        row_evidence(CLUSTERS, worst, ["cluster"], ["users", "description", *EXPERIENCE_MEANS]),
        row_evidence(CLUSTERS, best, ["cluster"], EXPERIENCE_MEANS),
        Evidence(CLUSTERS, {}, {"sum(users)": int(clusters["users"].sum())}),
    ], numbers={
        "users": int(worst["users"]), "users_share": float(share),
        "rtt_ms_mean": float(worst["rtt_ms_mean"]),
        "throughput_kbps_mean": float(worst["throughput_kbps_mean"]),
        "tcp_retrans_bytes_mean": float(worst["tcp_retrans_bytes_mean"]),
    })


def clusters_overview_insight(clusters: pd.DataFrame) -> Finding:
    """One line per experience cluster: size and description."""
    total = clusters["users"].sum()
    parts = [
        f"cluster {int(r['cluster'])} ({share_text(r['users'] / total)} of users) is {r['description']}"
        for _, r in clusters.sort_values("cluster").iterrows()
    ]
    return finding(
        "experience.clusters", "Experience clusters: " + "; ".join(parts) + ".",
        evidence=[row_evidence(CLUSTERS, r, ["cluster"], ["users", "description"])
                  for _, r in clusters.sort_values("cluster").iterrows()],
        numbers={"users": clusters["users"].astype(int).tolist()})


def throughput_handset_insight(per_handset: pd.DataFrame) -> Finding:
    """Which popular device gets the lowest and the highest typical throughput."""
    low = per_handset.sort_values(["median", "handset"]).iloc[0]
    high = per_handset.sort_values(["median", "handset"], ascending=[False, True]).iloc[0]
    ratio = high["median"] / low["median"] if low["median"] else float("nan")
    text = (
        f"Among the {len(per_handset)} handsets with enough users, {low['handset']} has the "
        f"lowest median throughput ({low['median']:,.0f} kbps over {int(low['users']):,} users) "
        f"and {high['handset']} the highest ({high['median']:,.0f} kbps), {ratio:.1f}x more. "
        f"Device capability (4G categories, carrier aggregation) explains part of the gap."
    )
    action = ("Marketing can target device upgrades at the slowest models, starting with the "
              f"{low['handset']}.")
    return finding("experience.handset_throughput", text, action=action, priority=1, evidence=[
        row_evidence(THROUGHPUT, low, ["handset"], ["median", "users"]),
        row_evidence(THROUGHPUT, high, ["handset"], ["median"]),
    ], numbers={
        "lowest": str(low["handset"]), "lowest_median_kbps": float(low["median"]),
        "highest": str(high["handset"]), "highest_median_kbps": float(high["median"]),
    })


def tcp_handset_insight(per_handset: pd.DataFrame) -> Finding:
    """Which popular device suffers the most TCP retransmission."""
    worst = per_handset.sort_values(["mean", "handset"], ascending=[False, True]).iloc[0]
    overall = (per_handset["mean"] * per_handset["users"]).sum() / per_handset["users"].sum()
    text = (
        f"{worst['handset']} users retransmit the most: {human_bytes(worst['mean'])} per user on "
        f"average ({worst['mean'] / overall:.1f}x the average over reported handsets, "
        f"{human_bytes(overall)}). Retransmission that follows the device rather than the cell "
        f"points to firmware or radio issues."
    )
    action = (f"The retransmission of the {worst['handset']} is worth raising with its vendor "
              "as a possible firmware or radio issue.")
    return finding("experience.worst_handset_tcp", text, action=action, evidence=[
        row_evidence(TCP, worst, ["handset"], ["mean", "users"]),
        Evidence(TCP, {}, {"sum(mean * users)": float((per_handset["mean"]
                                                       * per_handset["users"]).sum()),
                           "sum(users)": int(per_handset["users"].sum())}),
    ], numbers={"handset": str(worst["handset"]), "mean_bytes": float(worst["mean"]),
                "overall_mean_bytes": float(overall)})


def frequent_values_insight(values: pd.DataFrame, users: int) -> Finding | None:
    """Warn when one value is shared by many of the `users` (typically the cleaning replacement)."""
    freq = values[(values["kind"] == "frequent") & (values["rank"] == 1)]
    if freq.empty:
        return None
    row = freq.sort_values(["count", "metric"], ascending=[False, True]).iloc[0]
    if row["count"] < 2:
        return None
    text = (
        f"The most frequent per-user {row['metric']} value, {row['value']:,.4g}, is shared by "
        f"{int(row['count']):,} users ({share_text(row['count'] / users)}): a value this common is "
        f"typically the cleaning replacement given to missing or outlying sessions, so the "
        f"experience of these users is known only roughly."
    )
    return finding("experience.frequent_value", text, priority=3, evidence=[
        row_evidence(VALUES, row, ["metric", "kind", "rank"], ["value", "count"]),
        Evidence(CLUSTERS, {}, {"sum(users)": users}),
    ], numbers={"metric": str(row["metric"]), "value": float(row["value"]),
                "count": int(row["count"])})


def experience_insights(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """The experience findings that the available tables support."""
    insights = []
    if (clusters := nonempty_table(tables, CLUSTERS)) is not None:
        insights += [worst_cluster_insight(clusters), clusters_overview_insight(clusters)]
    if (tp := nonempty_table(tables, THROUGHPUT)) is not None and len(tp) >= 2:
        insights.append(throughput_handset_insight(tp))
    if (tcp := nonempty_table(tables, TCP)) is not None and len(tcp) >= 2:
        insights.append(tcp_handset_insight(tcp))
    values = nonempty_table(tables, VALUES)
    if values is not None and clusters is not None:
        insight = frequent_values_insight(values, int(clusters["users"].sum()))
        if insight is not None:
            insights.append(insight)
    return insights
