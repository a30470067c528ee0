"""Charts of the satisfaction section: pure functions from tables to Altair charts.

The per-user scatter is drawn from a seeded sample (at most MAX_POINTS users) so that the
embedded data stays small whatever the number of users.
"""

from __future__ import annotations

import logging

import altair as alt
import pandas as pd

from . import charts_for
from .style import CLUSTER_COLORS, DECIMAL, HEIGHT, PALETTE, THOUSANDS, WIDTH, cluster_scale, themed

log = logging.getLogger(__name__)

MAX_POINTS = 5000
SAMPLE_SEED = 0
MODEL_LABELS = {"hist_gradient_boosting": "Gradient boosting", "baseline_mean": "Baseline (mean)"}
SPLITS = ["train", "test"]
SCORE_LABELS = {
    "mean_engagement": "Engagement score",
    "mean_experience": "Experience score",
    "mean_satisfaction": "Satisfaction score",
}


def _sample(table: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most max_points rows, a seeded uniform sample (same picture on every run)."""
    if len(table) <= max_points:
        return table
    return table.sample(n=max_points, random_state=SAMPLE_SEED)


def score_scatter(satisfaction: pd.DataFrame, max_points: int = MAX_POINTS) -> alt.Chart:
    """Engagement vs experience score per user, coloured by satisfaction cluster."""
    k = int(satisfaction["cluster"].max()) + 1 if len(satisfaction) else 2
    data = _sample(satisfaction, max_points)[
        ["engagement_score", "experience_score", "satisfaction_score", "cluster"]
    ]
    subtitle = "Distance (z-units) from the least-engaged and the worst-experience cluster"
    if len(data) < len(satisfaction):
        subtitle += f"; sample of {len(data):,} of {len(satisfaction):,} users"
    chart = (
        alt.Chart(data)
        .mark_circle(size=14, opacity=0.55)
        .encode(
            x=alt.X("engagement_score:Q", title="Engagement score", scale=alt.Scale(zero=True)),
            y=alt.Y("experience_score:Q", title="Experience score", scale=alt.Scale(zero=True)),
            color=alt.Color(
                "cluster:O", title="Satisfaction cluster", scale=cluster_scale(max(k, 2))
            ),
            tooltip=[
                alt.Tooltip("engagement_score:Q", format=DECIMAL),
                alt.Tooltip("experience_score:Q", format=DECIMAL),
                alt.Tooltip("satisfaction_score:Q", format=DECIMAL),
                alt.Tooltip("cluster:O"),
            ],
        )
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title=alt.TitleParams("Users by engagement and experience score", subtitle=subtitle),
        )
    )
    return themed(chart)


def top10_chart(top10: pd.DataFrame) -> alt.Chart:
    """The ten most satisfied users; each bar split into its engagement and experience halves."""
    long = top10.melt(
        id_vars=["rank", "msisdn", "satisfaction_score"],
        value_vars=["engagement_score", "experience_score"],
        var_name="part",
        value_name="score",
    )
    # satisfaction = (engagement + experience) / 2: each half is one stacked segment
    long["contribution"] = long["score"] / 2
    long["part"] = long["part"].map(
        {"engagement_score": "Engagement / 2", "experience_score": "Experience / 2"}
    )
    long["user"] = long["rank"].astype(str) + ". " + long["msisdn"].astype(str)
    order = top10.sort_values("rank")
    labels = (order["rank"].astype(str) + ". " + order["msisdn"].astype(str)).tolist()
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("user:N", sort=labels, title=None),
            x=alt.X("contribution:Q", stack="zero", title="Satisfaction score (z-units)"),
            color=alt.Color("part:N", title=None, scale=alt.Scale(range=[PALETTE[0], PALETTE[1]])),
            tooltip=[
                alt.Tooltip("user:N", title="rank. msisdn"),
                alt.Tooltip("part:N"),
                alt.Tooltip("score:Q", format=DECIMAL),
                alt.Tooltip("satisfaction_score:Q", format=DECIMAL),
            ],
        )
        .properties(
            width=WIDTH - 200,
            height=HEIGHT,
            title=alt.TitleParams(
                "Ten most satisfied users",
                subtitle="Satisfaction = mean of engagement and experience scores",
            ),
        )
    )
    return themed(chart)


def clusters_chart(clusters: pd.DataFrame) -> alt.Chart:
    """Mean scores of each satisfaction cluster (grouped bars), users in the axis labels."""
    long = clusters.melt(
        id_vars=["cluster", "users"],
        value_vars=list(SCORE_LABELS),
        var_name="score",
        value_name="mean",
    )
    long["score"] = long["score"].map(SCORE_LABELS)
    long["group"] = (
        "Cluster " + long["cluster"].astype(str) + " (" + long["users"].map("{:,}".format) + ")"
    )
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("score:N", title=None, sort=list(SCORE_LABELS.values()), axis=None),
            y=alt.Y("mean:Q", title="Mean score (z-units)"),
            color=alt.Color(
                "score:N",
                title=None,
                sort=list(SCORE_LABELS.values()),
                scale=alt.Scale(range=PALETTE[:3]),
            ),
            column=alt.Column(
                "group:N", title="Satisfaction cluster (users)", header=alt.Header(labelFontSize=14)
            ),
            tooltip=[
                alt.Tooltip("group:N", title="cluster"),
                alt.Tooltip("score:N"),
                alt.Tooltip("mean:Q", format=DECIMAL),
            ],
        )
        .properties(
            width=WIDTH / max(len(clusters), 1) - 40,
            height=HEIGHT,
            title=alt.TitleParams(
                "Satisfaction clusters",
                subtitle="k-means on the z-scored engagement and "
                "experience scores; higher cluster = more satisfied",
            ),
        )
    )
    return themed(chart)


def predictions_chart(predictions: pd.DataFrame, max_points: int = MAX_POINTS) -> alt.LayerChart:
    """Predicted vs actual satisfaction on held-out users, with the perfect-prediction line."""
    data = _sample(predictions, max_points)[["actual", "predicted"]]
    low = float(min(data["actual"].min(), data["predicted"].min()))
    high = float(max(data["actual"].max(), data["predicted"].max()))
    points = (
        alt.Chart(data)
        .mark_circle(size=14, opacity=0.5, color=PALETTE[0])
        .encode(
            x=alt.X("actual:Q", title="Actual satisfaction score"),
            y=alt.Y("predicted:Q", title="Predicted satisfaction score"),
            tooltip=[
                alt.Tooltip("actual:Q", format=DECIMAL),
                alt.Tooltip("predicted:Q", format=DECIMAL),
            ],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"actual": [low, high], "predicted": [low, high]}))
        .mark_line(color=CLUSTER_COLORS[0], strokeDash=[6, 4])
        .encode(x="actual:Q", y="predicted:Q")
    )
    chart = (points + diagonal).properties(
        width=WIDTH,
        height=HEIGHT,
        title=alt.TitleParams(
            "Satisfaction regression on held-out users",
            subtitle=f"{len(data):,} test users; dashed line = perfect prediction",
        ),
    )
    return themed(chart)


def loss_chart(loss: pd.DataFrame) -> alt.Chart:
    """Training and validation loss (MSE) after each boosting iteration."""
    long = loss.melt(
        id_vars=["iteration"],
        value_vars=["train_loss", "validation_loss"],
        var_name="split",
        value_name="mse",
    )
    long["split"] = long["split"].map({"train_loss": "Training", "validation_loss": "Validation"})
    chart = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("iteration:Q", title="Boosting iteration"),
            y=alt.Y("mse:Q", title="Mean squared error (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color("split:N", title=None, scale=alt.Scale(range=PALETTE[:2])),
            tooltip=[
                alt.Tooltip("iteration:Q", format=THOUSANDS),
                alt.Tooltip("split:N"),
                alt.Tooltip("mse:Q", format=".4g"),
            ],
        )
        .properties(
            width=WIDTH,
            height=HEIGHT,
            title=alt.TitleParams(
                "Learning curve of the satisfaction regression",
                subtitle="Validation = the held-out test users",
            ),
        )
    )
    return themed(chart)


def quality_chart(metrics: pd.DataFrame) -> alt.Chart:
    """RMSE of the model and of the mean baseline, on training and test users."""
    data = metrics.assign(model_label=metrics["model"].map(MODEL_LABELS).fillna(metrics["model"]))
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("split:N", title=None, sort=SPLITS, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("rmse:Q", title="RMSE (satisfaction score units)"),
            color=alt.Color(
                "split:N", title="Split", scale=alt.Scale(domain=SPLITS, range=PALETTE[:2])
            ),
            column=alt.Column("model_label:N", title=None, header=alt.Header(labelFontSize=14)),
            tooltip=[
                alt.Tooltip("model_label:N", title="model"),
                alt.Tooltip("split:N"),
                alt.Tooltip("r2:Q", format=".3f"),
                alt.Tooltip("rmse:Q", format=".4g"),
                alt.Tooltip("mae:Q", format=".4g"),
                alt.Tooltip("n:Q", format=THOUSANDS),
            ],
        )
        .properties(
            width=WIDTH / 2 - 60,
            height=HEIGHT,
            title=alt.TitleParams("Regression error vs baseline", subtitle="Lower is better"),
        )
    )
    return themed(chart)


def satisfaction_figures(tables: dict[str, pd.DataFrame]) -> dict[str, alt.TopLevelMixin]:
    """Every satisfaction chart the available tables allow, keyed by figure file stem."""
    makers = {
        "satisfaction_scatter": ("satisfaction", score_scatter),
        "satisfaction_top10": ("satisfaction_top10", top10_chart),
        "satisfaction_clusters": ("satisfaction_clusters", clusters_chart),
        "regression_predictions": ("regression_predictions", predictions_chart),
        "regression_loss": ("regression_loss", loss_chart),
        "regression_metrics": ("regression_metrics", quality_chart),
    }
    figures = charts_for(tables, makers)
    log.debug("satisfaction figures: %d charts", len(figures))
    return figures
