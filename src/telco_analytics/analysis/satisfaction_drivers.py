"""What drives the satisfaction score (SPEC rule 10: the mean of the engagement and experience
scores): each score's spread, its correlation with satisfaction and its share of the
satisfaction variance.

A score that spreads wider moves the mean more: when one score's standard deviation is much
larger, satisfaction follows it because of the scale of its z-space, not because customers
care more about it. This table lets the findings say which it is; the SPEC definition is
unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCORES = ("engagement_score", "experience_score")
TARGET = "satisfaction_score"


def satisfaction_drivers(satisfaction: pd.DataFrame) -> pd.DataFrame:
    """Per score (engagement_score, experience_score): mean, std (population), corr (Pearson r
    with satisfaction_score), variance_share (its share of the satisfaction variance: with
    satisfaction = (a + b) / 2, cov(a, satisfaction) / (2 var(satisfaction)); the two shares
    add up to 1) and std_ratio (its std over the other score's). A column at a time."""
    centered, stds = {}, {}
    for name in SCORES:
        values = satisfaction[name].to_numpy(dtype="float64")
        centered[name] = values - values.mean()
        stds[name] = float(np.sqrt(np.mean(centered[name] ** 2)))
    target = satisfaction[TARGET].to_numpy(dtype="float64")
    target = target - target.mean()
    target_var = float(np.mean(target ** 2))
    rows = []
    for name, other in (SCORES, SCORES[::-1]):
        cov = float(np.mean(centered[name] * target))
        denominator = stds[name] * np.sqrt(target_var)
        rows.append({
            "score": name,
            "mean": float(satisfaction[name].mean()),
            "std": stds[name],
            "corr": cov / denominator if denominator > 0 else np.nan,
            "variance_share": cov / (2 * target_var) if target_var > 0 else np.nan,
            "std_ratio": stds[name] / stds[other] if stds[other] > 0 else np.nan,
        })
    return pd.DataFrame(rows)
