"""What drives satisfaction: by hand on three users, against plain pandas on random scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics.analysis.satisfaction_drivers import satisfaction_drivers


def _scores(engagement, experience) -> pd.DataFrame:
    e, x = np.asarray(engagement, float), np.asarray(experience, float)
    return pd.DataFrame({"engagement_score": e, "experience_score": x,
                         "satisfaction_score": (e + x) / 2})


def test_by_hand_one_score_flat():
    # engagement 0, 2, 4 (std sqrt(8/3)); experience 1, 1, 1 (std 0): satisfaction follows
    # engagement entirely
    got = satisfaction_drivers(_scores([0, 2, 4], [1, 1, 1])).set_index("score")
    assert got.loc["engagement_score", "std"] == pytest.approx(np.sqrt(8 / 3))
    assert got.loc["engagement_score", "corr"] == pytest.approx(1.0)
    assert got.loc["engagement_score", "variance_share"] == pytest.approx(1.0)
    assert got.loc["experience_score", "variance_share"] == 0.0
    assert np.isnan(got.loc["experience_score", "corr"])  # no spread, no correlation
    assert np.isnan(got.loc["engagement_score", "std_ratio"])


def test_by_hand_twice_the_spread():
    # engagement 0, 2 (std 1), experience 1, 0 (std 0.5, opposite): satisfaction 0.5, 1
    got = satisfaction_drivers(_scores([0, 2], [1, 0])).set_index("score")
    # var(sat) = 1/16; cov(eng, sat) = 0.25 -> share 0.25 / (2/16) = 2; cov(exp, sat) = -1/8
    assert got["variance_share"].tolist() == pytest.approx([2.0, -1.0])
    assert got.loc["engagement_score", "std_ratio"] == 2.0
    assert got["corr"].tolist() == pytest.approx([1.0, -1.0])


def test_matches_plain_pandas():
    rng = np.random.default_rng(2)
    table = _scores(rng.gamma(2, 0.7, 500), rng.gamma(3, 0.3, 500))
    got = satisfaction_drivers(table).set_index("score")
    for name in ("engagement_score", "experience_score"):
        assert got.loc[name, "std"] == pytest.approx(table[name].std(ddof=0), rel=1e-12)
        assert got.loc[name, "corr"] == pytest.approx(
            table[name].corr(table["satisfaction_score"]), rel=1e-12)
        share = table[name].cov(table["satisfaction_score"]) / (
            2 * table["satisfaction_score"].var())
        assert got.loc[name, "variance_share"] == pytest.approx(share, rel=1e-12)
    assert got["variance_share"].sum() == pytest.approx(1.0)
