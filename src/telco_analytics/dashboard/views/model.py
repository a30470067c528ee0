"""Model page: the satisfaction regression's quality and training, and how the run was made."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ...report.figures import satisfaction as fig
from .. import data
from . import common

MODEL = "hist_gradient_boosting"
BASELINE = "baseline_mean"
# one drawn at a time (see common.sections); the first is the first view
SECTIONS = ["Quality", "Training", "This run"]


def _metric_row(run_dir: Path) -> None:
    """Test R², RMSE and MAE of the model, with the gain over the mean baseline as the delta."""
    metrics = data.table(run_dir, "regression_metrics")
    if metrics is None:
        st.warning("This run has no regression_metrics table.")
        return
    test = metrics[metrics["split"] == "test"].set_index("model")
    if MODEL not in test.index:
        st.dataframe(metrics, hide_index=True)
        return
    model = test.loc[MODEL]
    base = test.loc[BASELINE] if BASELINE in test.index else None
    cols = st.columns(4)
    cols[0].metric("Test R²", f"{model['r2']:.4f}",
                   None if base is None else f"{model['r2'] - base['r2']:+.4f} vs baseline")
    for col, name in zip(cols[1:3], ("rmse", "mae")):
        col.metric(f"Test {name.upper()}", f"{model[name]:.4f}",
                   None if base is None else f"{model[name] - base[name]:+.4f} vs baseline",
                   delta_color="inverse")  # lower error is better
    cols[3].metric("Test users", f"{int(model['n']):,}")


def model_page(run_dir: Path) -> None:
    """Regression quality, predicted vs actual, loss per iteration; run parameters and versions."""
    st.title("Satisfaction model")
    st.caption("Predicts the satisfaction score from the user's raw engagement and experience "
               "metrics (never from the two scores); scored on held-out users.")
    _metric_row(run_dir)
    shown = common.sections("model-section", SECTIONS)
    if "Quality" in shown:
        st.header("Quality on held-out users")
        _predictions(data.table(run_dir, "regression_predictions"))
        common.chart(fig.quality_chart, data.table(run_dir, "regression_metrics"))
        common.small_table(run_dir, "regression_metrics", "regression_metrics")
    if "Training" in shown:
        st.header("Training")
        common.chart(fig.loss_chart, data.table(run_dir, "regression_loss"))
    if "This run" in shown:
        _this_run(run_dir)


def _this_run(run_dir: Path) -> None:
    """The run's id, duration, commit, tracking, parameters, definitions and versions."""
    st.header("This run")
    manifest = data.manifest(run_dir)
    cols = st.columns(3)
    cols[0].metric("Run id", str(manifest.get("run_id", "?"))[:12])
    cols[1].metric("Seconds", f"{manifest.get('seconds', float('nan')):,.1f}")
    commit = (manifest.get("code") or {}).get("commit") or "unknown"
    cols[2].metric("Code commit", commit[:10])
    if manifest.get("tracking"):
        st.subheader("Tracking")
        st.json(manifest["tracking"])
    st.subheader("Parameters")
    st.json(manifest.get("parameters", {}))
    with st.expander("Definitions, timings and library versions"):
        st.json({k: manifest.get(k) for k in ("definitions", "seconds_per_step", "libraries")})


def _predictions(predictions: pd.DataFrame | None) -> None:
    """Predicted vs actual on held-out users: a seeded sample of common.SCATTER_POINTS of them
    (the report's chart names its points 'test users': here the subtitle says how many of
    how many)."""
    if predictions is None:
        return
    shown = min(len(predictions), common.SCATTER_POINTS)
    of = f"sample of {shown:,} of {len(predictions):,}" if shown < len(predictions) \
        else f"{shown:,}"
    common.chart(fig.predictions_chart, predictions, common.SCATTER_POINTS,
                 subtitle=f"{of} test users; dashed line = perfect prediction")
