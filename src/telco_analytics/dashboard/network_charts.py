"""Charts of the network hotspots (cells and hours of the day): pure functions from the
`experience_per_cell` and `experience_per_hour` tables to Altair charts, in the report's style.

Both tables hold per group the measured mean of each experience metric (`rtt_ms`,
`tcp_retrans_bytes`, `throughput_kbps`) and its session count; cells come ranked worst first
(`rank`). Where a table also holds an interval of a metric (`<metric>_low`, `<metric>_high`),
it is drawn as whiskers or a band.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ..report.figures.experience import METRIC_FORMATS, METRIC_TITLES
from ..report.figures.style import HEIGHT, PALETTE, PRIMARY, THOUSANDS, WIDTH, themed

WORST_CELLS = 15
SESSIONS = {"rtt_ms": "rtt_sessions", "tcp_retrans_bytes": "tcp_sessions",
            "throughput_kbps": "throughput_sessions"}
BETTER = {"rtt_ms": "lower is better", "tcp_retrans_bytes": "lower is better",
          "throughput_kbps": "higher is better"}


def interval(table: pd.DataFrame, metric: str) -> tuple[str, str] | None:
    """The (low, high) columns of the metric's interval, when the table has them."""
    low, high = f"{metric}_low", f"{metric}_high"
    return (low, high) if low in table and high in table else None


def typical(table: pd.DataFrame, metric: str) -> float:
    """The metric over all the table's measured sessions (each group weighted by them)."""
    weights = table[SESSIONS[metric]] if SESSIONS[metric] in table else table["sessions"]
    kept = table[metric].notna() & (weights > 0)
    return float((table.loc[kept, metric] * weights[kept]).sum() / weights[kept].sum()) \
        if kept.any() else float("nan")


def _tooltip(table: pd.DataFrame, key: str, metric: str) -> list[alt.Tooltip]:
    fmt = METRIC_FORMATS[metric]
    tips = [alt.Tooltip(f"{key}:N"), alt.Tooltip(f"{metric}:Q", format=fmt,
                                                 title=METRIC_TITLES[metric])]
    if bounds := interval(table, metric):
        tips += [alt.Tooltip(f"{c}:Q", format=fmt) for c in bounds]
    tips += [alt.Tooltip(f"{c}:Q", format=THOUSANDS) for c in ("sessions", "users",
                                                                 SESSIONS[metric]) if c in table]
    return tips


def worst_cells_chart(cells: pd.DataFrame, metric: str, n: int = WORST_CELLS) -> alt.LayerChart:
    """The metric in the n worst cells (ranked on all metrics together), with the typical
    value over the ranked cells as a line and the metric's interval as whiskers."""
    top = cells.sort_values("rank").head(n).copy()
    top["cell"] = top["cell"].astype(str)
    order = top["cell"].tolist()
    y = alt.Y("cell:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    x_title = f"{METRIC_TITLES[metric]}, mean of the cell's sessions ({BETTER[metric]})"
    base = alt.Chart(top).encode(y=y, tooltip=_tooltip(top, "cell", metric))
    layers = [base.mark_bar(color=PRIMARY, opacity=0.85).encode(
        x=alt.X(f"{metric}:Q", title=x_title, axis=alt.Axis(format=METRIC_FORMATS[metric])))]
    if bounds := interval(top, metric):
        layers.append(base.mark_rule(color="black").encode(x=f"{bounds[0]}:Q", x2=f"{bounds[1]}:Q"))
    level = typical(cells, metric)
    layers.append(alt.Chart(pd.DataFrame({"level": [level]})).mark_rule(
        color=PALETTE[3], strokeDash=[6, 4], size=2).encode(x="level:Q"))
    return themed(alt.layer(*layers).properties(
        width=WIDTH, height=max(22 * len(top), HEIGHT // 2),
        title=alt.TitleParams(
            f"The {len(top)} worst cells: {METRIC_TITLES[metric].lower()}",
            subtitle="ranked on round-trip time, retransmission and throughput together, worst "
            "first; dashed line: all ranked cells" + ("; whiskers: interval" if bounds else ""),
        )))


def hours_chart(hours: pd.DataFrame, metric: str) -> alt.LayerChart:
    """The metric by hour of the day (0-23), with its interval as a band."""
    table = hours.sort_values("hour")
    x = alt.X("hour:Q", title="Hour of the day (session start)",
              scale=alt.Scale(domain=[0, 23]), axis=alt.Axis(tickCount=24, format="d"))
    # which way is better goes in the subtitle: on the vertical axis it made the title longer
    # than the plot is high, and its first letters were cut off
    y_title = METRIC_TITLES[metric]
    base = alt.Chart(table).encode(x=x, tooltip=_tooltip(table, "hour", metric))
    layers = []
    if bounds := interval(table, metric):
        layers.append(base.mark_area(color=PRIMARY, opacity=0.15).encode(
            y=alt.Y(f"{bounds[0]}:Q"), y2=f"{bounds[1]}:Q"))
    layers.append(base.mark_line(color=PRIMARY, point=True).encode(
        y=alt.Y(f"{metric}:Q", title=y_title, axis=alt.Axis(format=METRIC_FORMATS[metric]),
                scale=alt.Scale(zero=False))))
    return themed(alt.layer(*layers).properties(
        width=WIDTH, height=HEIGHT,
        title=alt.TitleParams(
            f"{METRIC_TITLES[metric]} by hour of the day",
            subtitle=f"mean of the sessions that started in each hour ({BETTER[metric]})"
            + ("; band: interval" if interval(table, metric) else ""),
        )))
