"""Findings of the experience section, written from the experience tables' numbers; a finding
whose table is missing or empty is skipped.

Imputation-aware: device advice rests on the values the network recorded (per handset of the
session, experience_per_handset), never on the cleaning replacement; a finding built on a
metric that is mostly filled says so and recommends nothing from it. The network hotspots
(cells, hours) are in network.py.
"""

from __future__ import annotations

from statistics import NormalDist

import pandas as pd

from .. import schema
from ..analysis.measured import BADNESS_SIGN
from . import nonempty_table, share_text
from .measured import LABEL, LONG_LABEL, MEASUREMENT, ORDER, Measurement, metric_text
from .network import network_insights
from .records import Evidence, Finding, finding, row_evidence

CLUSTERS, VALUES, HANDSETS = "experience_clusters", "experience_values", "experience_per_handset"
EXPERIENCE_MEANS = ["rtt_ms_mean", "throughput_kbps_mean", "tcp_retrans_bytes_mean"]


def _means_text(row: pd.Series) -> str:
    return (f"{metric_text('rtt_ms', row['rtt_ms_mean'])} RTT, "
            f"{metric_text('throughput_kbps', row['throughput_kbps_mean'])} and "
            f"{metric_text('tcp_retrans_bytes', row['tcp_retrans_bytes_mean'])} retransmitted")


def worst_cluster_insight(clusters: pd.DataFrame, measured: Measurement) -> Finding:
    """Who gets the worst experience, what sets them apart, and whether that can be acted on
    (not when it is a metric that is mostly filled in)."""
    clusters = clusters.sort_values("cluster")
    worst, best = clusters.iloc[0], clusters.iloc[-1]
    total = int(clusters["users"].sum())
    share = worst["users"] / total
    # the metric that makes the centroid worst: the largest signed z
    driver = max(ORDER, key=lambda m: BADNESS_SIGN[m] * float(worst[f"z_{m}"]))
    text = (
        f"{share_text(share)} of users ({int(worst['users']):,}) fall in the worst-experience "
        f"cluster (cluster {int(worst['cluster'])}): {_means_text(worst)} per user on average, "
        f"against {_means_text(best)} in the best cluster (cluster {int(best['cluster'])}). "
        f"The worst cluster is set apart mainly by {LABEL[driver]} (centroid z-score "
        f"{float(worst[f'z_{driver}']):.2f}, {float(worst[f'{driver}_vs_median']):.2f}x the "
        f"median user)."
    )
    evidence = [
        row_evidence(CLUSTERS, worst, ["cluster"], ["users", *EXPERIENCE_MEANS, f"z_{driver}",
                                                    f"{driver}_vs_median"]),
        row_evidence(CLUSTERS, best, ["cluster"], EXPERIENCE_MEANS),
        Evidence(CLUSTERS, {}, {"sum(users)": total}),
    ]
    text, action = measured.advice(
        driver, text, evidence, ": the cluster rests on the cleaning replacement and is no "
        "target for action.",
        "The network team should start with the cells named under network hotspots, and "
        f"marketing should follow up with the {int(worst['users']):,} users of the "
        "worst-experience cluster once those are fixed.")
    users, effect = None, None
    if action is not None:
        users, effect = int(worst["users"]), float(worst[f"{driver}_vs_median"]) - 1
    return finding("experience.worst_cluster", text, action=action, priority=1,
                   evidence=evidence, users_affected=users, effect_size=effect, numbers={
                       "users": int(worst["users"]), "users_share": float(share),
                       "driver": driver, "metrics": [driver],
                       "rtt_ms_mean": float(worst["rtt_ms_mean"]),
                       "throughput_kbps_mean": float(worst["throughput_kbps_mean"]),
                       "tcp_retrans_bytes_mean": float(worst["tcp_retrans_bytes_mean"])})


def clusters_overview_insight(clusters: pd.DataFrame) -> Finding:
    """One line per experience cluster: its size and how it stands against the population."""
    total = clusters["users"].sum()
    rows = clusters.sort_values("cluster")
    column = "relative_description" if "relative_description" in rows else "description"
    # one sentence per cluster: a single sentence over every cluster ran to 1,000 characters
    parts = [f"Cluster {int(r['cluster'])} ({share_text(r['users'] / total)} of users) is "
             f"{r[column]}." for _, r in rows.iterrows()]
    return finding(
        "experience.clusters", f"The {len(rows)} experience clusters against the population. "
        + " ".join(parts),
        evidence=[*(row_evidence(CLUSTERS, r, ["cluster"], ["users", column])
                    for _, r in rows.iterrows()),
                  Evidence(CLUSTERS, {}, {"sum(users)": int(total)})],
        numbers={"users": clusters["users"].astype(int).tolist()})


def measurement_insight(measured: Measurement, values: pd.DataFrame | None) -> Finding:
    """How much of each experience metric is measured rather than filled in, and what that
    means for the figures built on it."""
    table = measured.table
    parts = [f"{LONG_LABEL[m]} in {share_text(table.loc[m, 'measured_share'])} of sessions "
             f"({share_text(table.loc[m, 'users_measured_share'])} of users have a measured one)"
             for m in ORDER]
    text = ("Measured rather than filled in by cleaning (a missing value or an outlier "
            "replaced by the mean): " + ", ".join(parts) + ".")
    evidence = [measured.evidence(m, ["measured_share", "users_measured_share", "mostly_filled"])
                for m in ORDER]
    filled = measured.filled_metrics()
    if filled:
        names = " and ".join(LABEL[m] for m in filled)
        text += (f" {names.capitalize()} {'is' if len(filled) == 1 else 'are'} mostly filled "
                 "in: per-user, per-handset and per-cluster figures of "
                 f"{'it' if len(filled) == 1 else 'them'} rest largely on the replacement value")
        row = _frequent_value(values, filled[0])
        if row is not None:
            users = measured.value(filled[0], "users")
            text += (f" ({metric_text(filled[0], row['value'])} for "
                     f"{share_text(row['count'] / users)} of users)")
            evidence += [row_evidence(VALUES, row, ["metric", "kind", "rank"], ["value", "count"]),
                         measured.evidence(filled[0], ["users"])]
        text += ", so no advice in this report rests on them."
    else:
        text += " Every metric is measured in most sessions."
    return finding("experience.measurement", text, priority=1 if filled else 2,
                   evidence=evidence, numbers={
                       "mostly_filled": filled, "metrics": list(ORDER),
                       **{f"{m}_measured_share": float(table.loc[m, "measured_share"])
                          for m in ORDER}})


def _frequent_value(values: pd.DataFrame | None, metric: str) -> pd.Series | None:
    """The most frequent per-user value of a metric (experience_values), or None."""
    if values is None:
        return None
    rows = values[(values["metric"] == metric) & (values["kind"] == "frequent")
                  & (values["rank"] == 1)]
    return None if rows.empty else rows.iloc[0]


def _handset_row_text(row: pd.Series, metric: str) -> str:
    """'7,044 kbps on average over 4,814 sessions with a value (6,689 kbps to 7,400 kbps, 95%
    interval)'."""
    sessions = int(row[_sessions_column(metric)])
    return (f"{metric_text(metric, row[metric])} on average over {sessions:,} sessions with a "
            f"value ({metric_text(metric, row[f'{metric}_low'])} to "
            f"{metric_text(metric, row[f'{metric}_high'])}, "
            f"{share_text(row['interval_level'])} interval)")


def _sessions_column(metric: str) -> str:
    return schema.measured_sessions(metric)


def familywise_high(row: pd.Series, metric: str, groups: int) -> float:
    """The upper end of the row's interval of `metric` widened for the number of groups
    compared (Bonferroni): below the network even then, a gap is no chance finding."""
    level = float(row["interval_level"])
    z_level = NormalDist().inv_cdf(0.5 + level / 2)
    z_family = NormalDist().inv_cdf(1 - (1 - level) / (2 * max(groups, 1)))
    return float(row[metric] + (row[f"{metric}_high"] - row[metric]) * z_family / z_level)


def handset_throughput_insight(handsets: pd.DataFrame, measured: Measurement) -> Finding:
    """Which device surely gets the lowest throughput (the lowest upper end of its interval)
    and which the highest, from the values the network recorded."""
    metric = "throughput_kbps"
    rows = handsets.dropna(subset=[metric])
    slow = rows.sort_values([f"{metric}_high", "handset"]).iloc[0]
    fast = rows.sort_values([f"{metric}_low", "handset"], ascending=[False, True]).iloc[0]
    network = measured.value(metric, "mean") if measured.known() else float(
        (rows[metric] * rows[_sessions_column(metric)]).sum()
        / rows[_sessions_column(metric)].sum())
    text = (
        f"Among the {len(handsets):,} handsets ranked (each with {int(handsets['users'].min()):,}"
        f" users or more), the {slow['handset']} is the slowest: "
        f"{_handset_row_text(slow, metric)}. Even the top of its interval is below that of "
        f"every other handset; the average over all sessions is {metric_text(metric, network)}."
        f" The fastest is the {fast['handset']}: {_handset_row_text(fast, metric)}, "
        f"{fast[metric] / slow[metric]:.1f}x more."
    )
    columns = [metric, f"{metric}_low", f"{metric}_high", _sessions_column(metric),
               "interval_level", "users"]
    evidence = [row_evidence(HANDSETS, slow, ["handset"], columns),
                row_evidence(HANDSETS, fast, ["handset"], columns),
                Evidence(HANDSETS, {}, {"count(rows)": len(handsets),
                                        "min(users)": int(handsets["users"].min())}),
                Evidence(MEASUREMENT, {"metric": metric}, {"mean": network})]
    action, users, effect = None, None, None
    high = familywise_high(slow, metric, len(handsets))
    evidence.append(Evidence(HANDSETS, {"handset": slow["handset"]}, {
        f"{metric} + ({metric}_high - {metric}) x family-wise / per-handset z": high}))
    if high >= network:
        text += (f" Allowing for the {len(handsets):,} handsets compared, even the slowest is "
                 f"not surely below the network (up to {metric_text(metric, high)}): no device "
                 "advice follows.")
    else:
        action = (f"Marketing can target device upgrades at the {int(slow['users']):,} users "
                  f"of the {slow['handset']}, the handset with the lowest recorded throughput.")
    text, action = measured.advice(metric, text, evidence, ": no device advice follows from it.",
                                   action)
    if action is not None:
        users, effect = int(slow["users"]), 1 - float(slow[metric]) / network
    return finding("experience.handset_throughput", text, action=action, priority=1,
                   evidence=evidence, users_affected=users, effect_size=effect, numbers={
                       "lowest": str(slow["handset"]), "lowest_kbps": float(slow[metric]),
                       "highest": str(fast["handset"]), "highest_kbps": float(fast[metric]),
                       "metrics": [metric]})


def handset_tcp_insight(handsets: pd.DataFrame, measured: Measurement) -> Finding:
    """Which device surely retransmits the most (the highest lower end of its interval); a
    vendor question only when retransmission is measured in most sessions."""
    metric = "tcp_retrans_bytes"
    rows = handsets.dropna(subset=[metric])
    worst = rows.sort_values([f"{metric}_low", "handset"], ascending=[False, True]).iloc[0]
    text = (f"The {worst['handset']} has the highest recorded TCP retransmission: "
            f"{_handset_row_text(worst, metric)}.")
    evidence = [row_evidence(HANDSETS, worst, ["handset"], [
        metric, f"{metric}_low", f"{metric}_high", _sessions_column(metric), "interval_level",
        "users"])]
    text, action = measured.advice(
        metric, text, evidence, ", so this is shown for reference only: no device or vendor "
        "advice rests on it.", f"The retransmission of the {worst['handset']} is worth raising "
        "with its vendor as a possible firmware or radio issue.")
    return finding("experience.worst_handset_tcp", text, action=action, evidence=evidence,
                   numbers={"handset": str(worst["handset"]), "mean_bytes": float(worst[metric]),
                            "metrics": [metric]})


def frequent_values_insight(values: pd.DataFrame, users: int) -> Finding | None:
    """Warn when one value is shared by many of the `users` (typically the cleaning replacement)."""
    freq = values[(values["kind"] == "frequent") & (values["rank"] == 1)]
    if freq.empty:
        return None
    row = freq.sort_values(["count", "metric"], ascending=[False, True]).iloc[0]
    if row["count"] < 2:
        return None
    text = (
        f"The most frequent per-user {LONG_LABEL.get(row['metric'], row['metric'])} value, "
        f"{metric_text(str(row['metric']), float(row['value']))}, is shared by "
        f"{int(row['count']):,} users ({share_text(row['count'] / users)}): a value this common "
        f"is typically the cleaning replacement given to missing or outlying sessions, so the "
        f"experience of these users is known only roughly."
    )
    return finding("experience.frequent_value", text, priority=3, evidence=[
        row_evidence(VALUES, row, ["metric", "kind", "rank"], ["value", "count"]),
        Evidence(CLUSTERS, {}, {"sum(users)": users}),
    ], numbers={"metric": str(row["metric"]), "value": float(row["value"]),
                "count": int(row["count"])})


def experience_insights(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """The experience findings that the available tables support, network hotspots included."""
    measured = Measurement(nonempty_table(tables, MEASUREMENT))
    values = nonempty_table(tables, VALUES)
    insights = []
    if (clusters := nonempty_table(tables, CLUSTERS)) is not None:
        insights += [worst_cluster_insight(clusters, measured),
                     clusters_overview_insight(clusters)]
    if measured.known():
        insights.append(measurement_insight(measured, values))
    if (handsets := nonempty_table(tables, HANDSETS)) is not None and len(handsets) >= 2:
        insights += [handset_throughput_insight(handsets, measured),
                     handset_tcp_insight(handsets, measured)]
    insights += network_insights(tables, measured)
    if values is not None and clusters is not None:
        insight = frequent_values_insight(values, int(clusters["users"].sum()))
        if insight is not None:
            insights.append(insight)
    return insights
