"""Charts of the engagement section: pure functions from engagement tables to Altair charts.

Scatter plots embed at most MAX_POINTS users, a fixed-seed sample stratified by cluster (so
the small, most engaged cluster stays visible), whatever the number of users.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ... import schema
from . import charts_for
from .overview import app_label
from .style import FONT_SIZE, HEIGHT, PRIMARY, SI, WIDTH, cluster_scale, themed

MAX_POINTS = 5000
SAMPLE_SEED = 0
MS_PER_HOUR = 3_600_000
ENGAGEMENT_NAMES = {0: "least engaged", 1: "moderately engaged", 2: "most engaged"}


def cluster_name(cluster: int, k: int) -> str:
    """Legend label of an ordered engagement cluster (0 = least engaged)."""
    if k == 3:
        return f"{cluster}: {ENGAGEMENT_NAMES[cluster]}"
    return f"{cluster}" + (": least engaged" if cluster == 0 else ": most engaged"
                           if cluster == k - 1 else "")


def sample_points(users: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most max_points rows, each cluster keeping its share (at least 50 rows if it has them)."""
    if len(users) <= max_points:
        return users
    sizes = users.groupby("cluster", sort=True).size()
    quota = {c: min(n, max(50, round(max_points * n / len(users)))) for c, n in sizes.items()}
    # the floor of 50 for small clusters is paid for by the largest cluster
    largest = max(quota, key=quota.get)
    quota[largest] -= max(0, sum(quota.values()) - max_points)
    parts = [group.sample(n=quota[c], random_state=SAMPLE_SEED)
             for c, group in users.groupby("cluster", sort=True)]
    return pd.concat(parts)


def _display(users: pd.DataFrame) -> pd.DataFrame:
    """Engagement metrics in display units (duration in hours)."""
    out = users[schema.ENGAGEMENT_METRICS + ["cluster"]].astype({"cluster": "int64"}).copy()
    out["duration_ms"] = out["duration_ms"].astype("float64") / MS_PER_HOUR
    return out


AXIS_TITLES = {
    "sessions": "Sessions (xDRs)",
    "duration_ms": "Total duration (h)",
    "total_bytes": "Total volume DL+UL (bytes)",
}
AXIS_FORMATS = {"sessions": "d", "duration_ms": ",.3~r", "total_bytes": SI}
PROFILE_FORMATS = {"sessions": ",.2~f", "duration_ms": ",.2~f", "total_bytes": SI}


def _pair_scatter(points: pd.DataFrame, x: str, y: str, k: int) -> alt.Chart:
    """One log-log panel of two engagement metrics."""
    return (
        alt.Chart(points)
        .mark_circle(size=14, opacity=0.5)
        .encode(
            x=alt.X(f"{x}:Q", title=AXIS_TITLES[x], scale=alt.Scale(type="log"),
                    axis=alt.Axis(format=AXIS_FORMATS[x], tickCount=5)),
            y=alt.Y(f"{y}:Q", title=AXIS_TITLES[y], scale=alt.Scale(type="log"),
                    axis=alt.Axis(format=AXIS_FORMATS[y], tickCount=5)),
            color=alt.Color("name:N", scale=alt.Scale(
                domain=[cluster_name(c, k) for c in range(k)], range=cluster_scale(k).range
            ), title="Engagement cluster", legend=alt.Legend(orient="bottom", labelLimit=400)),
        )
        # three panels and the legend below them fit the report's 1,100 px column
        .properties(width=220, height=220)
    )


def engagement_scatter(engagement_users: pd.DataFrame) -> alt.HConcatChart:
    """Users by sessions, duration and volume (three log-log pairs), coloured by cluster."""
    k = int(engagement_users["cluster"].max()) + 1
    points = _display(sample_points(engagement_users))
    points = points[(points[schema.ENGAGEMENT_METRICS] > 0).all(axis=1)]  # log axes
    points["name"] = [cluster_name(int(c), k) for c in points["cluster"]]
    pairs = [("sessions", "duration_ms"), ("sessions", "total_bytes"),
             ("duration_ms", "total_bytes")]
    chart = alt.hconcat(*[_pair_scatter(points, x, y, k) for x, y in pairs]).properties(
        title=alt.TitleParams(
            "Users by engagement cluster",
            subtitle=f"log axes; {len(points):,} of {len(engagement_users):,} users shown "
            "(sample stratified by cluster)",
        )
    )
    return themed(chart)


def cluster_profile(engagement_clusters: pd.DataFrame) -> alt.HConcatChart:
    """Mean sessions, duration and volume per user in each cluster, one panel per metric."""
    k = len(engagement_clusters)
    table = engagement_clusters.copy()
    table["name"] = [cluster_name(int(c), k) for c in table["cluster"]]
    table["duration_ms_mean"] = table["duration_ms_mean"].astype("float64") / MS_PER_HOUR
    panels = []
    for metric in schema.ENGAGEMENT_METRICS:
        column = f"{metric}_mean"
        panels.append(
            alt.Chart(table, title=alt.TitleParams(AXIS_TITLES[metric], fontSize=FONT_SIZE))
            .mark_bar()
            .encode(
                x=alt.X("cluster:O", title="Cluster (0 = least engaged)",
                        axis=alt.Axis(labelAngle=0)),
                y=alt.Y(f"{column}:Q", title="Mean per user",
                        axis=alt.Axis(format=PROFILE_FORMATS[metric])),
                color=alt.Color("cluster:O", scale=cluster_scale(k), legend=None),
                tooltip=["name:N", alt.Tooltip(f"{column}:Q", format=",.4~r", title="mean"),
                         alt.Tooltip("users:Q", format=",")],
            )
            .properties(width=180, height=HEIGHT - 80)
        )
    chart = alt.hconcat(*panels).properties(
        title=alt.TitleParams("Engagement cluster profiles",
                              subtitle="mean per user in each cluster")
    )
    return themed(chart)


def top_apps(app_totals: pd.DataFrame, n: int = 3) -> alt.LayerChart:
    """The n apps carrying the most traffic (DL + UL bytes over all users)."""
    top = app_totals.sort_values(["bytes", "app"], ascending=[False, True]).head(n).copy()
    top["label"] = [app_label(a) if a in schema.APPS else a for a in top["app"]]
    grand = float(app_totals["bytes"].sum())
    top["share"] = top["bytes"] / grand if grand > 0 else np.nan
    base = alt.Chart(top).encode(
        y=alt.Y("label:N", sort=top["label"].tolist(), title=None),
        x=alt.X("bytes:Q", title="Total volume DL+UL (bytes)",
                axis=alt.Axis(format=SI, tickCount=5)),
    )
    bars = base.mark_bar(color=PRIMARY).encode(
        tooltip=["label:N", alt.Tooltip("bytes:Q", format=SI), alt.Tooltip("users:Q", format=","),
                 alt.Tooltip("share:Q", format=".1%")]
    )
    text = base.mark_text(align="left", dx=4).encode(text=alt.Text("share:Q", format=".1%"))
    return themed(
        (bars + text).properties(
            width=WIDTH - 160, height=60 * n,
            title=alt.TitleParams(f"Top {n} apps by traffic",
                                  subtitle="labels: share of all app traffic"),
        )
    )


def elbow_chart(engagement_elbow: pd.DataFrame) -> alt.LayerChart:
    """Within-cluster sum of squares against k, with the knee (chosen k) marked."""
    table = engagement_elbow.copy()
    table["chosen"] = table["chosen"].astype(bool)
    base = alt.Chart(table).encode(
        x=alt.X("k:O", title="Number of clusters k", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("inertia:Q", title="Inertia (sum of squared z-distances)",
                axis=alt.Axis(format="~s")),
    )
    line = base.mark_line(color=PRIMARY, point=True).encode(
        tooltip=["k:O", alt.Tooltip("inertia:Q", format=",.0f")]
    )
    chosen = table[table["chosen"]]
    knee = alt.Chart(chosen).mark_point(size=300, color="#e15759", strokeWidth=3).encode(
        x="k:O", y="inertia:Q"
    )
    label = alt.Chart(chosen).mark_text(dx=14, dy=-14, align="left", color="#e15759",
                                        fontSize=14).encode(
        x="k:O", y="inertia:Q", text=alt.Text("k:O", format="d")
    ).transform_calculate(k_label="'knee: k = ' + datum.k").encode(text="k_label:N")
    return themed(
        (line + knee + label).properties(
            width=WIDTH, height=HEIGHT,
            title=alt.TitleParams("Elbow of k-means on engagement",
                                  subtitle="knee = farthest point from the first-last chord"),
        )
    )


def engagement_figures(tables: dict[str, pd.DataFrame]) -> dict[str, alt.TopLevelMixin]:
    """Figure file stem -> chart for every engagement table present."""
    builders = {
        "engagement_scatter": ("engagement_users", engagement_scatter),
        "engagement_cluster_profile": ("engagement_clusters", cluster_profile),
        "engagement_top3_apps": ("app_totals", top_apps),
        "engagement_elbow": ("engagement_elbow", elbow_chart),
    }
    return charts_for(tables, builders)
