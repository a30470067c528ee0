"""Charts of model tracking and monitoring: the regression's loss curves, the drift report.

Pure functions from tables to Altair charts, like every other figures module.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .style import HEIGHT, PALETTE, WIDTH, themed

LOG_RANGE = 20.0  # largest / smallest loss beyond which the loss axis is logarithmic
LOSS_LABELS = {"train_loss": "training", "validation_loss": "validation (hold-out)"}


def loss_curve_chart(loss: pd.DataFrame) -> alt.TopLevelMixin:
    """Training and validation loss (MSE) of the satisfaction regression by boosting iteration.

    loss: iteration, train_loss, validation_loss. A validation curve that turns up while the
    training curve keeps falling is the sign of over-fitting.
    """
    present = [c for c in LOSS_LABELS if c in loss.columns]
    long = loss.melt(id_vars="iteration", value_vars=present, var_name="split",
                     value_name="loss")
    long["split"] = long["split"].map(LOSS_LABELS)
    values = long["loss"].dropna()
    # boosting losses fall by orders of magnitude: on a linear axis everything after the first
    # few iterations is a flat line, so a log axis whenever the range is wide (and positive)
    wide = len(values) > 0 and values.min() > 0 and values.max() / values.min() > LOG_RANGE
    scale = alt.Scale(type="log") if wide else alt.Scale(zero=False)
    chart = alt.Chart(long).mark_line(strokeWidth=2.5).encode(
        x=alt.X("iteration:Q", title="Boosting iteration"),
        y=alt.Y("loss:Q", title="Mean squared error (score units²)"
                + (", log scale" if wide else ""), scale=scale),
        color=alt.Color("split:N", title=None,
                        scale=alt.Scale(domain=[LOSS_LABELS[c] for c in present],
                                        range=PALETTE[:len(present)]),
                        legend=alt.Legend(orient="top-right")),
        tooltip=["iteration:Q", "split:N", alt.Tooltip("loss:Q", format=",.4f")],
    ).properties(width=WIDTH, height=HEIGHT,
                 title="Satisfaction regression: training and validation loss")
    return themed(chart)


def drift_chart(report: pd.DataFrame, psi_threshold: float) -> alt.TopLevelMixin:
    """Population stability index of each model input, served traffic vs training data.

    report: the drift report (feature, psi, drift); bars past the dashed threshold line are
    inputs whose distribution moved enough to question the model's predictions.
    """
    data = report[["feature", "psi", "drift"]].copy()
    data["status"] = data["drift"].map({True: "drift", False: "stable"})
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("psi:Q", title="Population stability index (PSI)"),
        y=alt.Y("feature:N", title=None, sort=list(data["feature"])),
        color=alt.Color("status:N", title=None,
                        scale=alt.Scale(domain=["stable", "drift"],
                                        range=[PALETTE[2], PALETTE[3]])),
        tooltip=["feature:N", alt.Tooltip("psi:Q", format=".3f"), "status:N"],
    )
    rule = alt.Chart(pd.DataFrame({"psi": [psi_threshold]})).mark_rule(
        strokeDash=[6, 4], color="black", size=2).encode(x="psi:Q")
    chart = (bars + rule).properties(
        width=WIDTH, height=max(40 * len(data), 120),
        title=f"Input drift: served requests vs training data (threshold {psi_threshold:g})")
    return themed(chart)


def tracking_figures(tables: dict[str, pd.DataFrame]) -> dict[str, alt.TopLevelMixin]:
    """{"loss_curve": chart} when the regression's loss table is present, else {}."""
    loss = tables.get("regression_loss")
    if loss is None or loss.empty:
        return {}
    return {"loss_curve": loss_curve_chart(loss)}
