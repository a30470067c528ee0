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
    add up to 1) and std_ratio (its std over the other score's).

    From means and dot products of the columns as they are (no centered copies: at 72M users
    each would be 576 MB); the scores are O(1) distances, so nothing cancels badly.
    """
    n = max(len(satisfaction), 1)
    target = satisfaction[TARGET].to_numpy(dtype="float64")
    target_mean = float(target.mean())
    target_var = max(float(np.dot(target, target)) / n - target_mean ** 2, 0.0)
    moments = {}
    for name in SCORES:
        values = satisfaction[name].to_numpy(dtype="float64")
        mean = float(values.mean())
        variance = max(float(np.dot(values, values)) / n - mean ** 2, 0.0)
        cov = float(np.dot(values, target)) / n - mean * target_mean
        moments[name] = (mean, np.sqrt(variance), cov)
    rows = []
    for name, other in (SCORES, SCORES[::-1]):
        mean, std, cov = moments[name]
        other_std = moments[other][1]
        denominator = std * np.sqrt(target_var)
        rows.append({
            "score": name,
            "mean": mean,
            "std": float(std),
            "corr": cov / denominator if denominator > 0 else np.nan,
            "variance_share": cov / (2 * target_var) if target_var > 0 else np.nan,
            "std_ratio": std / other_std if other_std > 0 else np.nan,
        })
    return pd.DataFrame(rows)
