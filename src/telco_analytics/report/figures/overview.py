"""Charts of the user overview (EDA) section: pure functions from tables to Altair charts.

Large tables are aggregated in pandas before charting (histogram bins, 2-D bins) so that no
chart embeds more than a few thousand rows, whatever the number of users.
"""

from __future__ import annotations

import logging

import altair as alt
import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from ... import schema
from .style import HEIGHT, PALETTE, PRIMARY, SI, THOUSANDS, WIDTH, themed

log = logging.getLogger(__name__)

# Three names of analysis.overview, restated here: importing that module imports scikit-learn
# (seconds), and `telco report` draws charts without fitting anything. A unit test checks that
# the two stay the same.
PCA_VARIABLES: list[str] = [*schema.USER_APP_BYTES, "dl_bytes", "ul_bytes"]


def app_bytes_column(app: str) -> str:
    """Per-user column holding an app's DL+UL bytes (e.g. 'youtube' -> 'youtube_bytes')."""
    return f"{app}_bytes"


def quantitative_columns(user_overview: pd.DataFrame) -> list[str]:
    """The per-user quantitative variables: every numeric column except the user key."""
    return [c for c in user_overview.columns
            if c != schema.USER_KEY and is_numeric_dtype(user_overview[c])]


MAX_POINTS = 5000  # above this many users the app-vs-total scatter becomes a 2-D histogram
HIST_BINS = 40
SCATTER_BINS = 40
MS_PER_HOUR = 3_600_000
# a variable is drawn on a log axis when its largest value is this many times its median:
# at 50 the app volumes (max ~20-30x the median) squeezed every bar into the left third
LOG_RATIO = 8.0
SMALL_COUNTS = 50  # integer variables up to this value (sessions) keep one bar per value


def app_label(app: str) -> str:
    """Display name of an app, taken from the schema description ('youtube' -> 'YouTube')."""
    dl, _ = schema.app_columns(app)
    return schema.BY_NAME[dl].description.split(" data volume")[0]


def variable_label(column: str) -> str:
    """Axis title with unit for a per-user variable (durations are charted in hours)."""
    fixed = {
        "sessions": "Sessions per user (xDRs)",
        "duration_ms": "Total session duration per user (h)",
        "dl_bytes": "Download volume per user (bytes)",
        "ul_bytes": "Upload volume per user (bytes)",
        "total_bytes": "Total volume DL+UL per user (bytes)",
    }
    if column in fixed:
        return fixed[column]
    for app in schema.APPS:
        if column == app_bytes_column(app):
            return f"{app_label(app)} volume DL+UL per user (bytes)"
    return column


def _lower_first(label: str) -> str:
    """'Download volume ...' -> 'download volume ...', but app names keep their capital
    ('Netflix volume ...')."""
    first = label.split(" ", 1)[0]
    if any(first == app_label(app).split(" ", 1)[0] for app in schema.APPS):
        return label
    return label[0].lower() + label[1:]


def _display_values(values: pd.Series, column: str) -> pd.Series:
    """Values in the unit the chart shows (duration ms -> hours)."""
    v = values.astype("float64")
    return v / MS_PER_HOUR if column == "duration_ms" else v


def _axis_format(column: str) -> str:
    """d3 number format for a variable's axis."""
    if column.endswith("_bytes"):
        return SI
    # 4 significant digits, no useless decimals: 0.5 h, 12 h, 1,200 h
    return THOUSANDS if column == "sessions" else ",.4~r"


def _use_log(values: np.ndarray) -> bool:
    """Heavy-tailed positive data reads better on a log axis."""
    positive = values[values > 0]
    if len(positive) < 2:
        return False
    if positive.max() <= SMALL_COUNTS and np.allclose(positive, np.round(positive)):
        return False
    return bool(positive.max() / np.median(positive) >= LOG_RATIO)


def histogram_bins(values: pd.Series, bins: int = HIST_BINS, log: bool = False) -> pd.DataFrame:
    """Binned counts: DataFrame[bin_start, bin_end, users]; log bins drop values <= 0."""
    v = values.dropna().to_numpy(dtype="float64")
    if log:
        v = v[v > 0]
    if len(v) == 0:
        return pd.DataFrame({"bin_start": [], "bin_end": [], "users": [], "zero": []})
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        # a constant variable: one bar of unit width around the value
        edges = np.array([lo - 0.5, hi + 0.5]) if not log else np.array([lo / 1.5, hi * 1.5])
    elif log:
        edges = np.geomspace(lo, hi, bins + 1)
    else:
        n_distinct = len(np.unique(v)) if len(v) <= 100_000 else bins + 1
        # one bar per integer only when the range is short (not 10 users' byte counts)
        if n_distinct <= bins and hi - lo <= bins and np.allclose(v, np.round(v)):
            # small integer counts (sessions): one bar per value
            edges = np.arange(np.floor(lo), np.ceil(hi) + 2) - 0.5
        else:
            edges = np.linspace(lo, hi, bins + 1)
    counts, edges = np.histogram(v, bins=edges)
    return pd.DataFrame(
        {
            "bin_start": edges[:-1],
            "bin_end": edges[1:],
            "users": counts,
            "zero": np.zeros(len(counts), dtype="int64"),
        }
    )


def histogram(user_overview: pd.DataFrame, column: str, bins: int = HIST_BINS) -> alt.Chart:
    """Distribution of one per-user variable over users (log x axis when heavy-tailed)."""
    values = _display_values(user_overview[column], column)
    log_axis = _use_log(values.dropna().to_numpy())
    table = histogram_bins(values, bins=bins, log=log_axis)
    hidden = int((values.dropna() <= 0).sum()) if log_axis else 0
    label = variable_label(column)
    subtitle = [f"{len(values.dropna()):,} users" + (", log scale" if log_axis else "")]
    if hidden:
        subtitle.append(f"{hidden:,} users with 0 not shown on the log axis")
    x_scale = alt.Scale(type="log") if log_axis else alt.Scale(zero=False)
    # ranged x with an explicit zero baseline (y2): a bar per bin, upright
    chart = (
        alt.Chart(table)
        .mark_rect(color=PRIMARY, stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "bin_start:Q",
                title=label,
                scale=x_scale,
                axis=alt.Axis(format=_axis_format(column)),
            ),
            x2="bin_end:Q",
            y=alt.Y("users:Q", title="Users", axis=alt.Axis(format=THOUSANDS)),
            y2="zero:Q",
            tooltip=[
                alt.Tooltip("bin_start:Q", title="from", format=",.4~g"),
                alt.Tooltip("bin_end:Q", title="to", format=",.4~g"),
                alt.Tooltip("users:Q", title="users", format=THOUSANDS),
            ],
        )
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title=alt.TitleParams(
                f"Distribution of {_lower_first(label)}", subtitle=subtitle
            ),
        )
    )
    return themed(chart)


def _ranked_bars(
    table: pd.DataFrame,
    label: str,
    title: str,
    subtitle: str,
    color: alt.Color | alt.value | None = None,
    order: list[str] | None = None,
) -> alt.LayerChart:
    """Horizontal bars of sessions per label, largest first, with value labels and users."""
    sort = order if order is not None else "-x"
    base = alt.Chart(table).encode(
        y=alt.Y(f"{label}:N", sort=sort, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("sessions:Q", title="Sessions (xDRs)", axis=alt.Axis(format=SI)),
        tooltip=[
            alt.Tooltip(f"{label}:N"),
            alt.Tooltip("sessions:Q", format=THOUSANDS),
            alt.Tooltip("users:Q", format=THOUSANDS),
        ],
    )
    bars = base.mark_bar(color=PRIMARY) if color is None else base.mark_bar().encode(color=color)
    text = base.mark_text(align="left", dx=3, fontSize=12).encode(
        text=alt.Text("sessions:Q", format=THOUSANDS)
    )
    chart = (bars + text).properties(
        width=WIDTH - 260, height=HEIGHT, title=alt.TitleParams(title, subtitle=subtitle)
    )
    return themed(chart)


def handsets_top10_chart(handsets_top10: pd.DataFrame) -> alt.LayerChart:
    """Top 10 handset types by sessions."""
    return _ranked_bars(
        handsets_top10,
        "handset",
        "Top 10 handsets by sessions",
        "Known handsets only (missing and 'undefined' excluded)",
    )


def manufacturers_top3_chart(manufacturers_top3: pd.DataFrame) -> alt.LayerChart:
    """Top 3 handset manufacturers by sessions."""
    return _ranked_bars(
        manufacturers_top3,
        "manufacturer",
        "Top 3 handset manufacturers",
        "Sessions on their devices (known handsets only)",
    )


def handsets_top5_per_manufacturer_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Top 5 handsets of each top manufacturer, grouped by manufacturer (colour)."""
    makers = (
        table.groupby("manufacturer", sort=False)["sessions"]
        .sum()
        .sort_values(ascending=False, kind="mergesort")
        .index.tolist()
    )
    ordered = table.assign(_m=table["manufacturer"].map({m: i for i, m in enumerate(makers)}))
    ordered = ordered.sort_values(["_m", "rank"], kind="mergesort").drop(columns="_m")
    color = alt.Color(
        "manufacturer:N",
        sort=makers,
        title="Manufacturer",
        scale=alt.Scale(domain=makers, range=PALETTE[: len(makers)]),
        legend=alt.Legend(orient="bottom-right"),
    )
    return _ranked_bars(
        ordered,
        "handset",
        "Top 5 handsets of the top manufacturers",
        "Sessions per handset type",
        color=color,
        order=ordered["handset"].tolist(),
    )


def scatter_data(
    user_overview: pd.DataFrame,
    x: str,
    y: str,
    max_points: int = MAX_POINTS,
    bins: int = SCATTER_BINS,
) -> tuple[pd.DataFrame, bool]:
    """Points to draw for x vs y: the raw points when few, else non-empty 2-D bins with counts.

    Returns (DataFrame, binned); binned tables hold x, x2, y, y2 (bin edges) and users.
    """
    data = user_overview[[x, y]].dropna().astype("float64")
    if len(data) <= max_points:
        return data.rename(columns={x: "x", y: "y"}).reset_index(drop=True), False
    counts, xe, ye = np.histogram2d(data[x].to_numpy(), data[y].to_numpy(), bins=bins)
    ix, iy = np.nonzero(counts)
    table = pd.DataFrame(
        {
            "x": xe[ix],
            "x2": xe[ix + 1],
            "y": ye[iy],
            "y2": ye[iy + 1],
            "users": counts[ix, iy].astype("int64"),
        }
    )
    return table, True


def app_vs_total(user_overview: pd.DataFrame, app: str, max_points: int = MAX_POINTS) -> alt.Chart:
    """Per-user volume of one app against the user's total DL+UL volume (2-D bins when many)."""
    col = app_bytes_column(app)
    table, binned = scatter_data(user_overview, col, "total_bytes", max_points=max_points)
    x_title, y_title = variable_label(col), variable_label("total_bytes")
    x = alt.X("x:Q", title=x_title, axis=alt.Axis(format=SI), scale=alt.Scale(zero=False))
    y = alt.Y("y:Q", title=y_title, axis=alt.Axis(format=SI), scale=alt.Scale(zero=False))
    n = len(user_overview)
    if binned:
        chart = (
            alt.Chart(table)
            .mark_rect()
            .encode(
                x=x,
                x2="x2:Q",
                y=y,
                y2="y2:Q",
                color=alt.Color(
                    "users:Q",
                    title="Users",
                    scale=alt.Scale(type="log", scheme="blues"),
                    legend=alt.Legend(format=THOUSANDS),
                ),
                tooltip=[alt.Tooltip("users:Q", format=THOUSANDS)],
            )
        )
        subtitle = f"{n:,} users, counted in {SCATTER_BINS}x{SCATTER_BINS} bins"
    else:
        chart = alt.Chart(table).mark_circle(size=18, opacity=0.5, color=PRIMARY).encode(x=x, y=y)
        subtitle = f"{n:,} users, one dot each"
    return themed(
        chart.properties(
            width=WIDTH,
            height=HEIGHT,
            title=alt.TitleParams(
                f"{app_label(app)} volume vs total volume per user", subtitle=subtitle
            ),
        )
    )


def _heatmap(
    long: pd.DataFrame,
    x: str,
    y: str,
    x_order: list[str],
    y_order: list[str],
    title: str,
    subtitle: str,
    legend: str,
) -> alt.LayerChart:
    """Diverging heatmap in [-1, 1] with the value written in each cell."""
    base = alt.Chart(long).encode(
        x=alt.X(f"{x}:N", sort=x_order, title=None, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y(f"{y}:N", sort=y_order, title=None),
    )
    rect = base.mark_rect().encode(
        color=alt.Color(
            "value:Q", title=legend, scale=alt.Scale(domain=[-1, 1], scheme="redblue", reverse=True)
        ),
        tooltip=[f"{x}:N", f"{y}:N", alt.Tooltip("value:Q", format=".3f")],
    )
    text = base.mark_text(fontSize=12).encode(
        text=alt.Text("value:Q", format=".2f"),
        color=alt.condition("abs(datum.value) > 0.6", alt.value("white"), alt.value("black")),
    )
    return themed(
        (rect + text).properties(
            width=WIDTH - 220, height=HEIGHT, title=alt.TitleParams(title, subtitle=subtitle)
        )
    )


def correlation_heatmap(app_correlation: pd.DataFrame) -> alt.LayerChart:
    """Pearson correlation between per-user app volumes."""
    apps = app_correlation["app"].tolist()
    labels = {a: app_label(a) if a in schema.APPS else a for a in apps}
    long = app_correlation.melt(id_vars="app", var_name="with", value_name="value")
    long["app"] = long["app"].map(labels)
    long["with"] = long["with"].map(labels)
    order = [labels[a] for a in apps]
    return _heatmap(
        long,
        "with",
        "app",
        order,
        order,
        "Correlation between app volumes",
        "Pearson r over users' DL+UL bytes per app",
        "Pearson r",
    )


def _pc_label(component: int) -> str:
    return f"PC{int(component)}"


def pca_scree(pca: pd.DataFrame) -> alt.LayerChart:
    """Explained variance per principal component, with the cumulative share as a line."""
    table = pca[["component", "explained_variance_ratio", "cumulative_ratio"]].copy()
    table["pc"] = table["component"].map(_pc_label)
    order = table["pc"].tolist()
    x = alt.X("pc:N", sort=order, title="Principal component", axis=alt.Axis(labelAngle=0))
    pct = alt.Axis(format=".0%")
    bars = (
        alt.Chart(table)
        .mark_bar(color=PRIMARY)
        .encode(
            x=x,
            y=alt.Y(
                "explained_variance_ratio:Q",
                title="Share of variance",
                axis=pct,
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=[
                "pc:N",
                alt.Tooltip("explained_variance_ratio:Q", format=".1%"),
                alt.Tooltip("cumulative_ratio:Q", format=".1%"),
            ],
        )
    )
    point = alt.OverlayMarkDef(color=PALETTE[1])
    line = (
        alt.Chart(table)
        .mark_line(color=PALETTE[1], point=point)
        .encode(x=x, y=alt.Y("cumulative_ratio:Q", axis=pct))
    )
    labels = (
        alt.Chart(table)
        .mark_text(dy=-10, color=PALETTE[1], fontSize=12)
        .encode(x=x, y="cumulative_ratio:Q", text=alt.Text("cumulative_ratio:Q", format=".0%"))
    )
    rules = (
        alt.Chart(pd.DataFrame({"level": [0.8, 0.9]}))
        .mark_rule(strokeDash=[4, 4], color="grey")
        .encode(y="level:Q")
    )
    return themed(
        (bars + line + labels + rules).properties(
            width=WIDTH,
            height=HEIGHT,
            title=alt.TitleParams(
                "PCA of app volumes and total DL/UL",
                subtitle="Bars: variance per component; line: cumulative (dashed at 80% and 90%)",
            ),
        )
    )


def pca_loadings(pca: pd.DataFrame, components: int = 4) -> alt.LayerChart:
    """Loadings of the first principal components on each standardized input variable."""
    variables = [v for v in PCA_VARIABLES if v in pca.columns]
    first = pca.head(components)
    long = first.melt(
        id_vars="component", value_vars=variables, var_name="variable", value_name="value"
    )
    names = {
        v: variable_label(v).split(" per user")[0].replace(" volume DL+UL", "") for v in variables
    }
    long["variable"] = long["variable"].map(names)
    long["pc"] = long["component"].map(_pc_label)
    shares = ", ".join(
        f"{_pc_label(c)} {r:.0%}"
        for c, r in zip(first["component"], first["explained_variance_ratio"], strict=True)
    )
    return _heatmap(
        long,
        "pc",
        "variable",
        long["pc"].unique().tolist(),
        [names[v] for v in variables],
        "PCA loadings",
        f"Variance explained: {shares}",
        "Loading",
    )


def decile_chart(deciles: pd.DataFrame) -> alt.LayerChart:
    """Total traffic of each duration decile (1 = the 10% of users with the longest sessions)."""
    table = deciles.copy()
    if "total_bytes_share" not in table:
        table["total_bytes_share"] = table["total_bytes"] / table["total_bytes"].sum()
    x = alt.X(
        "decile:O",
        title="Duration decile (1 = longest total session time)",
        axis=alt.Axis(labelAngle=0),
    )
    base = alt.Chart(table).encode(
        x=x,
        y=alt.Y("total_bytes:Q", title="Total volume DL+UL (bytes)", axis=alt.Axis(format=SI)),
        tooltip=[
            "decile:O",
            alt.Tooltip("users:Q", format=THOUSANDS),
            alt.Tooltip("total_bytes:Q", format=SI),
            alt.Tooltip("total_bytes_share:Q", format=".1%"),
        ],
    )
    bars = base.mark_bar(color=PRIMARY)
    text = base.mark_text(dy=-8, fontSize=12).encode(
        text=alt.Text("total_bytes_share:Q", format=".1%")
    )
    return themed(
        (bars + text).properties(
            width=WIDTH,
            height=HEIGHT,
            title=alt.TitleParams(
                "Data volume by session-duration decile",
                subtitle="Label: share of all users' traffic",
            ),
        )
    )


def app_totals_chart(app_totals: pd.DataFrame) -> alt.LayerChart:
    """Total traffic per app over all users."""
    table = app_totals.copy()
    table["label"] = table["app"].map(lambda a: app_label(a) if a in schema.APPS else a)
    # "Other" is traffic the extract does not classify by app, not an app
    table.loc[table["app"] == "other", "label"] = "Other (unclassified)"
    if "share" not in table:
        table["share"] = table["bytes"] / table["bytes"].sum()
    base = alt.Chart(table).encode(
        y=alt.Y("label:N", sort="-x", title=None),
        x=alt.X("bytes:Q", title="Total volume DL+UL (bytes)", axis=alt.Axis(format=SI)),
        tooltip=[
            alt.Tooltip("label:N", title="app"),
            alt.Tooltip("bytes:Q", format=SI),
            alt.Tooltip("users:Q", format=THOUSANDS),
            alt.Tooltip("share:Q", format=".1%"),
        ],
    )
    bars = base.mark_bar(color=PRIMARY)
    text = base.mark_text(align="left", dx=3, fontSize=12).encode(
        text=alt.Text("share:Q", format=".1%")
    )
    return themed(
        (bars + text).properties(
            width=WIDTH - 120,
            height=HEIGHT,
            title=alt.TitleParams(
                "Traffic per application",
                subtitle="All users, DL+UL; label: share of the app columns (recorded apart "
                "from total traffic, Total DL + Total UL)",
            ),
        )
    )


def overview_figures(tables: dict[str, pd.DataFrame]) -> dict[str, alt.TopLevelMixin]:
    """Every overview chart that the available tables allow, keyed by figure file stem.

    Keys used: user_overview, handsets_top10, manufacturers_top3, handsets_top5_per_manufacturer,
    app_correlation, pca, decile_data (or decile_data_all, preferred: all ten deciles), app_totals.
    """
    figures: dict[str, alt.TopLevelMixin] = {}

    def present(name: str) -> bool:
        table = tables.get(name)
        return table is not None and len(table) > 0

    if present("handsets_top10"):
        figures["handsets_top10"] = handsets_top10_chart(tables["handsets_top10"])
    if present("manufacturers_top3"):
        figures["manufacturers_top3"] = manufacturers_top3_chart(tables["manufacturers_top3"])
    if present("handsets_top5_per_manufacturer"):
        figures["handsets_top5_per_manufacturer"] = handsets_top5_per_manufacturer_chart(
            tables["handsets_top5_per_manufacturer"]
        )
    if present("app_totals"):
        figures["app_totals"] = app_totals_chart(tables["app_totals"])
    for name in ("decile_data_all", "decile_data"):
        if present(name):
            figures["decile_data"] = decile_chart(tables[name])
            break
    if present("app_correlation"):
        figures["app_correlation"] = correlation_heatmap(tables["app_correlation"])
    if present("pca"):
        figures["pca_scree"] = pca_scree(tables["pca"])
        figures["pca_loadings"] = pca_loadings(tables["pca"])
    if present("user_overview"):
        users = tables["user_overview"]
        for column in quantitative_columns(users):
            figures[f"hist_{column}"] = histogram(users, column)
        if "total_bytes" in users:
            for app in schema.APPS:
                if app_bytes_column(app) in users:
                    figures[f"app_vs_total_{app}"] = app_vs_total(users, app)
    log.debug("overview figures: %d charts", len(figures))
    return figures
