"""Satisfaction regression: raw features only, hold-out metrics, mean baseline, loss curve."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from telco_analytics import schema
from telco_analytics.models.regression import (
    BASELINE_NAME,
    FEATURES,
    MODEL_NAME,
    fit_satisfaction_regression,
)

SEED = 42


def _users(n: int, seed: int, noise: float = 0.05) -> pd.DataFrame:
    """Raw metrics and a target that depends on them (plus a little noise)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "msisdn": [f"3366{i:07d}" for i in range(n)],
            "sessions": rng.integers(1, 10, n).astype("float64"),
            "duration_ms": rng.gamma(2.0, 50_000.0, n),
            "total_bytes": rng.gamma(3.0, 2e8, n),
            "tcp_retrans_bytes": rng.gamma(1.5, 1e6, n),
            "rtt_ms": rng.gamma(4.0, 25.0, n),
            "throughput_kbps": rng.gamma(2.0, 5_000.0, n),
        }
    )
    df["satisfaction_score"] = (
        0.3 * df["sessions"]
        + df["total_bytes"] / 5e8
        + df["throughput_kbps"] / 1e4
        - df["rtt_ms"] / 100
        + rng.normal(0, noise, n)
    )
    return df


@pytest.fixture(scope="module")
def fitted():
    users = _users(2_000, seed=3)
    return users, fit_satisfaction_regression(users, max_iter=60, test_size=0.2, random_state=SEED)


def test_features_are_the_raw_metrics_never_the_scores():
    assert FEATURES == [*schema.ENGAGEMENT_METRICS, *schema.EXPERIENCE_METRICS]
    assert not {"engagement_score", "experience_score", "satisfaction_score", "msisdn"} & set(
        FEATURES
    )


def test_model_is_fitted_on_the_features_only(fitted):
    _, fit = fitted
    assert list(fit.model.feature_names_in_) == FEATURES


def test_metrics_shape(fitted):
    _, fit = fitted
    m = fit.metrics
    assert list(m.columns) == ["model", "split", "r2", "rmse", "mae", "n"]
    assert list(zip(m["model"], m["split"])) == [
        (MODEL_NAME, "train"),
        (MODEL_NAME, "test"),
        (BASELINE_NAME, "train"),
        (BASELINE_NAME, "test"),
    ]
    # 20% of 2000 users held out
    assert m["n"].tolist() == [1600, 400, 1600, 400]
    assert fit.n_fit_rows == 2000


def _split(users: pd.DataFrame):
    train, test = train_test_split(np.arange(len(users)), test_size=0.2, random_state=SEED)
    return users.iloc[train], users.iloc[test]


def test_metrics_equal_numpy_recomputation(fitted):
    users, fit = fitted
    train, test = _split(users)
    m = fit.metrics.set_index(["model", "split"])
    y = test["satisfaction_score"].to_numpy()
    pred = fit.model.predict(test[FEATURES])
    err = y - pred
    assert m.loc[(MODEL_NAME, "test"), "rmse"] == pytest.approx(math.sqrt((err**2).mean()))
    assert m.loc[(MODEL_NAME, "test"), "mae"] == pytest.approx(np.abs(err).mean())
    r2 = 1 - (err**2).sum() / ((y - y.mean()) ** 2).sum()
    assert m.loc[(MODEL_NAME, "test"), "r2"] == pytest.approx(r2)
    # baseline: the training mean, whatever the features
    base = train["satisfaction_score"].mean()
    assert m.loc[(BASELINE_NAME, "test"), "rmse"] == pytest.approx(
        math.sqrt(((y - base) ** 2).mean())
    )
    assert m.loc[(BASELINE_NAME, "test"), "mae"] == pytest.approx(np.abs(y - base).mean())
    assert m.loc[(BASELINE_NAME, "train"), "r2"] == pytest.approx(0.0, abs=1e-12)


def test_model_beats_baseline_on_data_with_signal(fitted):
    _, fit = fitted
    m = fit.metrics.set_index(["model", "split"])
    assert m.loc[(MODEL_NAME, "test"), "r2"] > 0.9
    assert m.loc[(MODEL_NAME, "test"), "rmse"] < 0.5 * m.loc[(BASELINE_NAME, "test"), "rmse"]
    assert m.loc[(BASELINE_NAME, "test"), "r2"] <= 0.01


def test_no_signal_means_no_better_than_baseline():
    users = _users(1_000, seed=5)
    users["satisfaction_score"] = np.random.default_rng(9).normal(0, 1, len(users))
    fit = fit_satisfaction_regression(users, max_iter=40, test_size=0.2, random_state=SEED)
    m = fit.metrics.set_index(["model", "split"])
    assert m.loc[(MODEL_NAME, "test"), "r2"] < 0.05


def test_loss_curve(fitted):
    users, fit = fitted
    curve = fit.loss_curve
    assert list(curve.columns) == ["iteration", "train_loss", "validation_loss"]
    assert curve["iteration"].tolist() == list(range(1, 61))
    train, test = _split(users)
    # the last iteration's losses are the final model's MSE on each split
    final_train = ((train["satisfaction_score"] - fit.model.predict(train[FEATURES])) ** 2).mean()
    final_test = ((test["satisfaction_score"] - fit.model.predict(test[FEATURES])) ** 2).mean()
    assert curve["train_loss"].iloc[-1] == pytest.approx(final_train)
    assert curve["validation_loss"].iloc[-1] == pytest.approx(final_test)
    assert curve["train_loss"].iloc[-1] < 0.2 * curve["train_loss"].iloc[0]
    assert (curve[["train_loss", "validation_loss"]] >= 0).all().all()


def test_predictions_table(fitted):
    users, fit = fitted
    pred = fit.predictions
    assert list(pred.columns) == ["msisdn", "actual", "predicted"]
    assert len(pred) == 400  # all hold-out users (fewer than the 5000 cap)
    _, test = _split(users)
    assert set(pred["msisdn"]) == set(test["msisdn"])
    actual = users.set_index("msisdn").loc[pred["msisdn"], "satisfaction_score"].to_numpy()
    np.testing.assert_allclose(pred["actual"], actual)


def test_deterministic(fitted):
    users, fit = fitted
    again = fit_satisfaction_regression(users, max_iter=60, test_size=0.2, random_state=SEED)
    pd.testing.assert_frame_equal(again.metrics, fit.metrics)
    pd.testing.assert_frame_equal(again.loss_curve, fit.loss_curve)


def test_missing_feature_is_refused():
    users = _users(50, seed=1).drop(columns=["rtt_ms"])
    with pytest.raises(ValueError, match="rtt_ms"):
        fit_satisfaction_regression(users, max_iter=5, test_size=0.2, random_state=SEED)
