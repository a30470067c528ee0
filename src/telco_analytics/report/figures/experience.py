"""Charts of the experience section: pure functions from experience tables to Altair charts.

Per-handset charts are drawn from the per-handset quantile tables (never from all users); the
scatter embeds at most MAX_POINTS users, a fixed-seed sample stratified by cluster.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ... import schema
from . import charts_for
from .engagement import MAX_POINTS, sample_points
from .style import FONT_SIZE, HEIGHT, PRIMARY, SI, WIDTH, cluster_scale, themed

TOP_HANDSETS = 10
METRIC_TITLES = {
    "tcp_retrans_bytes": "TCP retransmission (bytes)",
    "rtt_ms": "Round-trip time (ms)",
    "throughput_kbps": "Throughput DL+UL (kbps)",
}
METRIC_FORMATS = {"tcp_retrans_bytes": SI, "rtt_ms": ",.0f", "throughput_kbps": ",.0f"}
QUALITY = {0: "worst", 1: "middle", 2: "best"}
# log axes reach below 1 (an RTT of 0.2 ms): ",.0f" labelled those ticks "0"
LOG_TICKS = ",.2~f"


def cluster_name(cluster: int, k: int) -> str:
    """Legend label of an ordered experience cluster (0 = worst experience)."""
    if k == 3:
        return f"{cluster}: {QUALITY[cluster]} experience"
    return f"{cluster}" + (": worst" if cluster == 0 else ": best" if cluster == k - 1 else "")


def _top(table: pd.DataFrame, n: int = TOP_HANDSETS) -> pd.DataFrame:
    """The n handsets with the most users (the tables are already sorted by users desc)."""
    return table.sort_values(["users", "handset"], ascending=[False, True]).head(n)


def throughput_per_handset_chart(throughput_per_handset: pd.DataFrame) -> alt.LayerChart:
    """Per top handset: interquartile bar (p25-p75), median tick and mean point of throughput."""
    top = _top(throughput_per_handset).copy()
    order = top["handset"].tolist()
    y = alt.Y("handset:N", sort=order, title=None)
    # a log axis cannot show 0 kbps, and one p25 of 0.001 kbps stretched it down to ticks
    # labelled "0 0 0": values are drawn from a floor of at least 1 kbps, said in the subtitle
    columns = ["p25", "median", "p75", "mean"]
    positive = top[columns].to_numpy(dtype="float64")
    positive = positive[positive > 0]
    floor = 10.0 ** np.floor(np.log10(max(1.0, float(positive.min()) if positive.size else 1.0)))
    below = int((top[columns] < floor).to_numpy().sum())
    top[columns] = top[columns].astype("float64").clip(lower=floor)
    scale = alt.Scale(type="log", domainMin=floor)
    x_title = "Average throughput per user, DL+UL (kbps, log)"
    tooltip = ["handset:N", alt.Tooltip("users:Q", format=","),
               *[alt.Tooltip(f"{c}:Q", format=",.0f") for c in ("p25", "median", "p75", "mean")]]
    iqr = alt.Chart(top).mark_bar(color=PRIMARY, opacity=0.35, height=16).encode(
        y=y, x=alt.X("p25:Q", scale=scale, title=x_title, axis=alt.Axis(format=",.0f")),
        x2="p75:Q", tooltip=tooltip,
    )
    median = alt.Chart(top).mark_tick(color=PRIMARY, thickness=3, size=20).encode(
        y=y, x=alt.X("median:Q", scale=scale), tooltip=tooltip
    )
    mean = alt.Chart(top).mark_point(color="#e15759", filled=True, size=60).encode(
        y=y, x=alt.X("mean:Q", scale=scale), tooltip=tooltip
    )
    return themed(
        (iqr + median + mean).properties(
            width=WIDTH - 200, height=28 * len(top),
            title=alt.TitleParams(
                "Throughput per handset",
                subtitle=[(f"{len(top)} handsets with the most users: bar = p25-p75, "
                           "tick = median, red dot = mean")]
                + ([f"values below {floor:,.0f} kbps drawn at {floor:,.0f} kbps"] if below
                   else []),
            ),
        )
    )


def tcp_per_handset_chart(tcp_per_handset: pd.DataFrame) -> alt.LayerChart:
    """Per top handset: mean (bar) and median (tick) TCP retransmission per user."""
    top = _top(tcp_per_handset)
    order = top["handset"].tolist()
    y = alt.Y("handset:N", sort=order, title=None)
    tooltip = ["handset:N", alt.Tooltip("users:Q", format=","),
               alt.Tooltip("mean:Q", format=SI), alt.Tooltip("median:Q", format=SI)]
    bars = alt.Chart(top).mark_bar(color="#f28e2b", opacity=0.8).encode(
        y=y, x=alt.X("mean:Q", title="TCP retransmitted volume per user (bytes)",
                     axis=alt.Axis(format=SI)),
        tooltip=tooltip,
    )
    median = alt.Chart(top).mark_tick(color="black", thickness=3, size=20).encode(
        y=y, x="median:Q", tooltip=tooltip
    )
    return themed(
        (bars + median).properties(
            width=WIDTH - 200, height=28 * len(top),
            title=alt.TitleParams(
                "TCP retransmission per handset",
                subtitle=f"{len(top)} handsets with the most users: bar = mean, tick = median",
            ),
        )
    )


def cluster_profile(experience_clusters: pd.DataFrame) -> alt.HConcatChart:
    """Mean retransmission, RTT and throughput per user in each experience cluster."""
    k = len(experience_clusters)
    table = experience_clusters.copy()
    table["name"] = [cluster_name(int(c), k) for c in table["cluster"]]
    panels = []
    for metric in schema.EXPERIENCE_METRICS:
        column = f"{metric}_mean"
        panels.append(
            alt.Chart(table, title=alt.TitleParams(METRIC_TITLES[metric], fontSize=FONT_SIZE))
            .mark_bar()
            .encode(
                x=alt.X("cluster:O", title="Cluster (0 = worst)", axis=alt.Axis(labelAngle=0)),
                y=alt.Y(f"{column}:Q", title="Mean per user",
                        axis=alt.Axis(format=METRIC_FORMATS[metric])),
                color=alt.Color("cluster:O", scale=cluster_scale(k), legend=None),
                tooltip=["name:N", "description:N", alt.Tooltip("users:Q", format=","),
                         alt.Tooltip(f"{column}:Q", format=",.4~r", title="mean")],
            )
            .properties(width=180, height=HEIGHT - 80)
        )
    return themed(
        alt.hconcat(*panels).properties(
            title=alt.TitleParams("Experience cluster profiles",
                                  subtitle="mean per user in each cluster")
        )
    )


def experience_scatter(experience_users: pd.DataFrame) -> alt.Chart:
    """Users by RTT and throughput (log axes), coloured by experience cluster."""
    k = int(experience_users["cluster"].max()) + 1
    points = sample_points(experience_users, MAX_POINTS)
    points = points[[*schema.EXPERIENCE_METRICS, "cluster"]].copy()
    points = points[(points[["rtt_ms", "throughput_kbps"]] > 0).all(axis=1)]
    points["name"] = [cluster_name(int(c), k) for c in points["cluster"]]
    chart = (
        alt.Chart(points)
        .mark_circle(size=16, opacity=0.5)
        .encode(
            x=alt.X("rtt_ms:Q", title="Average round-trip time per user (ms, log)",
                    scale=alt.Scale(type="log"), axis=alt.Axis(format=LOG_TICKS)),
            y=alt.Y("throughput_kbps:Q", title="Average throughput per user (kbps, log)",
                    scale=alt.Scale(type="log"), axis=alt.Axis(format=LOG_TICKS)),
            color=alt.Color("name:N", title="Experience cluster", scale=alt.Scale(
                domain=[cluster_name(c, k) for c in range(k)], range=cluster_scale(k).range
            )),
            tooltip=[alt.Tooltip("tcp_retrans_bytes:Q", format=SI),
                     alt.Tooltip("rtt_ms:Q", format=",.1f"),
                     alt.Tooltip("throughput_kbps:Q", format=",.0f"), "name:N"],
        )
        .properties(
            width=WIDTH - 120, height=HEIGHT,
            title=alt.TitleParams(
                "Users by experience cluster",
                subtitle=f"{len(points):,} of {len(experience_users):,} users shown "
                "(sample stratified by cluster)",
            ),
        )
    )
    return themed(chart)


HOTSPOT_METRICS = ("rtt_ms", "throughput_kbps")  # the metrics the hotspot charts show
TOP_CELLS = 15


def _interval_panel(table: pd.DataFrame, metric: str, y: alt.Y, tooltip: list,
                    color: alt.Color | str) -> alt.LayerChart:
    """One metric per row: a bar to the mean and a rule across its interval."""
    bars = alt.Chart(table).mark_bar(opacity=0.8).encode(
        y=y, x=alt.X(f"{metric}:Q", title=METRIC_TITLES[metric],
                     axis=alt.Axis(format=METRIC_FORMATS[metric])),
        color=color, tooltip=tooltip)
    interval = alt.Chart(table).mark_rule(color="black", strokeWidth=2).encode(
        y=y, x=f"{metric}_low:Q", x2=f"{metric}_high:Q", tooltip=tooltip)
    return (bars + interval).properties(width=(WIDTH - 220) // 2, height=22 * len(table))


def experience_per_cell_chart(experience_per_cell: pd.DataFrame) -> alt.HConcatChart:
    """The worst cells (worst first): mean RTT and throughput of their recorded sessions with
    the interval of each, red where the cell stands out beyond chance."""
    top = experience_per_cell.sort_values("rank").head(TOP_CELLS).copy()
    top["stands out"] = np.where(top["stands_out"].astype(bool), "beyond chance", "not surely")
    y = alt.Y("cell:N", sort=top["cell"].tolist(), title=None)
    color = alt.Color("stands out:N", title="Worse than the network",
                      scale=alt.Scale(domain=["beyond chance", "not surely"],
                                      range=["#e15759", "#bab0ac"]))
    tooltip = ["cell:N", "rank:Q", alt.Tooltip("sessions:Q", format=","),
               alt.Tooltip("users:Q", format=","),
               *[alt.Tooltip(f"{m}:Q", format=METRIC_FORMATS[m]) for m in HOTSPOT_METRICS]]
    panels = [_interval_panel(top, m, y if i == 0 else y.axis(None), tooltip, color)
              for i, m in enumerate(HOTSPOT_METRICS)]
    level = float(top["interval_level"].iloc[0])
    return themed(alt.hconcat(*panels).properties(title=alt.TitleParams(
        "Worst cells by recorded experience",
        subtitle=f"{len(top)} worst of {len(experience_per_cell):,} cells ranked, worst first; "
        f"bar = mean of the recorded sessions, line = {level:.0%} interval")))


def experience_per_hour_chart(experience_per_hour: pd.DataFrame) -> alt.HConcatChart:
    """Mean RTT and throughput of the recorded sessions by hour of the day, with the interval
    of each hour as a band."""
    table = experience_per_hour.sort_values("hour")
    x = alt.X("hour:Q", title="Hour of the day (session start)",
              scale=alt.Scale(domain=[0, 23]), axis=alt.Axis(tickCount=12))
    panels = []
    # hours differ by fractions of a millisecond: one decimal on the RTT axis
    formats = {**METRIC_FORMATS, "rtt_ms": ",.1f"}
    for metric in HOTSPOT_METRICS:
        tooltip = ["hour:Q", alt.Tooltip("sessions:Q", format=","),
                   alt.Tooltip(f"{metric}:Q", format=formats[metric])]
        band = alt.Chart(table).mark_area(opacity=0.25, color=PRIMARY).encode(
            x=x, y=alt.Y(f"{metric}_low:Q", title=METRIC_TITLES[metric], scale=alt.Scale(
                zero=False), axis=alt.Axis(format=formats[metric])),
            y2=f"{metric}_high:Q")
        line = alt.Chart(table).mark_line(point=True, color=PRIMARY).encode(
            x=x, y=f"{metric}:Q", tooltip=tooltip)
        panels.append((band + line).properties(width=(WIDTH - 80) // 2, height=HEIGHT - 80))
    level = float(table["interval_level"].iloc[0])
    return themed(alt.hconcat(*panels).properties(title=alt.TitleParams(
        "Recorded experience by hour of the day",
        subtitle=f"line = mean of the recorded sessions, band = {level:.0%} interval")))


def experience_figures(tables: dict[str, pd.DataFrame]) -> dict[str, alt.TopLevelMixin]:
    """Figure file stem -> chart for every experience table present."""
    builders = {
        "experience_throughput_per_handset": ("throughput_per_handset",
                                              throughput_per_handset_chart),
        "experience_tcp_per_handset": ("tcp_per_handset", tcp_per_handset_chart),
        "experience_cluster_profile": ("experience_clusters", cluster_profile),
        "experience_scatter": ("experience_users", experience_scatter),
        "experience_per_cell": ("experience_per_cell", experience_per_cell_chart),
        "experience_per_hour": ("experience_per_hour", experience_per_hour_chart),
    }
    return charts_for(tables, builders)
