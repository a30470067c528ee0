"""Findings of the experience section, written from the experience tables' numbers; a finding
whose table is missing or empty is skipped."""

from __future__ import annotations

import pandas as pd

from ..report.figures.style import human_bytes
from . import Insight, nonempty_table, share_text

SECTION = "experience"


def worst_cluster_insight(clusters: pd.DataFrame) -> Insight:
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
        f"{human_bytes(best['tcp_retrans_bytes_mean'])} in the best cluster. The network team "
        f"should start with the cells these users attach to."
    )
    return Insight(SECTION, text, {
        "users": int(worst["users"]), "users_share": float(share),
        "rtt_ms_mean": float(worst["rtt_ms_mean"]),
        "throughput_kbps_mean": float(worst["throughput_kbps_mean"]),
        "tcp_retrans_bytes_mean": float(worst["tcp_retrans_bytes_mean"]),
    }, priority=1)


def clusters_overview_insight(clusters: pd.DataFrame) -> Insight:
    """One line per experience cluster: size and description."""
    total = clusters["users"].sum()
    parts = [
        f"cluster {int(r['cluster'])} ({share_text(r['users'] / total)} of users) is {r['description']}"
        for _, r in clusters.sort_values("cluster").iterrows()
    ]
    return Insight(SECTION, "Experience clusters: " + "; ".join(parts) + ".",
                   {"users": clusters["users"].astype(int).tolist()})


def throughput_handset_insight(per_handset: pd.DataFrame) -> Insight:
    """Which popular device gets the lowest and the highest typical throughput."""
    low = per_handset.sort_values(["median", "handset"]).iloc[0]
    high = per_handset.sort_values(["median", "handset"], ascending=[False, True]).iloc[0]
    ratio = high["median"] / low["median"] if low["median"] else float("nan")
    text = (
        f"Among the {len(per_handset)} handsets with enough users, {low['handset']} has the "
        f"lowest median throughput ({low['median']:,.0f} kbps over {int(low['users']):,} users) "
        f"and {high['handset']} the highest ({high['median']:,.0f} kbps), {ratio:.1f}x more. "
        f"Device capability (4G categories, carrier aggregation) explains part of the gap: "
        f"marketing can target device upgrades at the slowest models."
    )
    return Insight(SECTION, text, {
        "lowest": str(low["handset"]), "lowest_median_kbps": float(low["median"]),
        "highest": str(high["handset"]), "highest_median_kbps": float(high["median"]),
    }, priority=1)


def tcp_handset_insight(per_handset: pd.DataFrame) -> Insight:
    """Which popular device suffers the most TCP retransmission."""
    worst = per_handset.sort_values(["mean", "handset"], ascending=[False, True]).iloc[0]
    overall = (per_handset["mean"] * per_handset["users"]).sum() / per_handset["users"].sum()
    text = (
        f"{worst['handset']} users retransmit the most: {human_bytes(worst['mean'])} per user on "
        f"average ({worst['mean'] / overall:.1f}x the average over reported handsets, "
        f"{human_bytes(overall)}). Retransmission that follows the device rather than the cell "
        f"points to firmware or radio issues worth raising with the vendor."
    )
    return Insight(SECTION, text, {"handset": str(worst["handset"]),
                                   "mean_bytes": float(worst["mean"]),
                                   "overall_mean_bytes": float(overall)})


def frequent_values_insight(values: pd.DataFrame, users: int) -> Insight | None:
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
    return Insight(SECTION, text, {"metric": str(row["metric"]), "value": float(row["value"]),
                                   "count": int(row["count"])}, priority=3)


def experience_insights(tables: dict[str, pd.DataFrame]) -> list[Insight]:
    """The experience findings that the available tables support."""
    insights = []
    if (clusters := nonempty_table(tables, "experience_clusters")) is not None:
        insights += [worst_cluster_insight(clusters), clusters_overview_insight(clusters)]
    if (tp := nonempty_table(tables, "throughput_per_handset")) is not None and len(tp) >= 2:
        insights.append(throughput_handset_insight(tp))
    if (tcp := nonempty_table(tables, "tcp_per_handset")) is not None and len(tcp) >= 2:
        insights.append(tcp_handset_insight(tcp))
    values = nonempty_table(tables, "experience_values")
    if values is not None and clusters is not None:
        insight = frequent_values_insight(values, int(clusters["users"].sum()))
        if insight is not None:
            insights.append(insight)
    return insights
