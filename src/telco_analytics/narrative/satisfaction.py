"""Findings of the satisfaction section, written from the tables' numbers; a finding whose
table is missing or empty is skipped."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from . import nonempty_table
from .records import Evidence, Finding, finding, plain, row_evidence

log = logging.getLogger(__name__)

CLUSTERS, TOP10, SATISFACTION, METRICS, LOSS = (
    "satisfaction_clusters", "satisfaction_top10", "satisfaction", "regression_metrics",
    "regression_loss")
SCORES = ["mean_satisfaction", "mean_engagement", "mean_experience"]
MODEL = "hist_gradient_boosting"
BASELINE = "baseline_mean"
OVERFIT_GAP = 0.05
HIGH_R2 = 0.8  # above this the model reproduces the scoring rule well  # train R² above test R² by more than this: say the model overfits


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if abs(x) < 0.1 else f"{100 * x:.0f}%"


def cluster_insight(clusters: pd.DataFrame) -> Finding | None:
    """How many users are in the satisfied group and which score sets the groups apart."""
    clusters = clusters[clusters["users"] > 0].sort_values("cluster")
    if len(clusters) < 2:
        return None
    low, high = clusters.iloc[0], clusters.iloc[-1]
    total = int(clusters["users"].sum())
    share = float(high["users"]) / total
    gap_eng = float(high["mean_engagement"] - low["mean_engagement"])
    gap_exp = float(high["mean_experience"] - low["mean_experience"])
    driver = "engagement" if abs(gap_eng) >= abs(gap_exp) else "experience"
    other = "experience" if driver == "engagement" else "engagement"
    text = (
        f"{_pct(share)} of users ({int(high['users']):,} of {total:,}) form the most satisfied "
        f"group (cluster {int(high['cluster'])}): mean satisfaction score "
        f"{high['mean_satisfaction']:.2f} against {low['mean_satisfaction']:.2f} for cluster "
        f"{int(low['cluster'])}. What separates the groups is mainly {driver} "
        f"(mean {driver} score {high[f'mean_{driver}']:.2f} vs {low[f'mean_{driver}']:.2f}; "
        f"{other}: {high[f'mean_{other}']:.2f} vs {low[f'mean_{other}']:.2f})."
    )
    action = (f"Retention actions for the less satisfied group (cluster {int(low['cluster'])}) "
              f"should start with {driver}.")
    return finding(
        "satisfaction.satisfied_group",
        text,
        action=action,
        priority=1,
        evidence=[row_evidence(CLUSTERS, high, ["cluster"], ["users", *SCORES]),
                  row_evidence(CLUSTERS, low, ["cluster"], SCORES),
                  Evidence(CLUSTERS, {}, {"sum(users)": total})],
        numbers={
            "satisfied_cluster": int(high["cluster"]),
            "satisfied_users": int(high["users"]),
            "satisfied_share": share,
            "mean_satisfaction_high": float(high["mean_satisfaction"]),
            "mean_satisfaction_low": float(low["mean_satisfaction"]),
            "engagement_gap": gap_eng,
            "experience_gap": gap_exp,
        },
    )


def top10_insight(top10: pd.DataFrame, satisfaction: pd.DataFrame | None) -> Finding:
    """How far the most satisfied users stand out and where their score comes from."""
    top10 = top10.sort_values("rank")
    by_experience = int((top10["experience_score"] > top10["engagement_score"]).sum())
    numbers = {
        "top_score": float(top10["satisfaction_score"].iloc[0]),
        "tenth_score": float(top10["satisfaction_score"].iloc[-1]),
        "top10_driven_by_experience": by_experience,
    }
    text = (
        f"The ten most satisfied users score between {numbers['tenth_score']:.2f} and "
        f"{numbers['top_score']:.2f}"
    )
    scores = ["satisfaction_score", "engagement_score", "experience_score"]
    evidence = [row_evidence(TOP10, r, ["rank"], scores) for _, r in top10.iterrows()]
    if satisfaction is not None:
        median = float(satisfaction["satisfaction_score"].median())
        numbers["median_score"] = median
        text += f" (median user: {median:.2f})"
        evidence.append(Evidence(SATISFACTION, {}, {"median(satisfaction_score)": median}))
    text += (
        f"; for {by_experience} of them the experience score is the larger part, for "
        f"{len(top10) - by_experience} the engagement score."
    )
    return finding("satisfaction.top_users", text, evidence=evidence, numbers=numbers)


def score_relation_insight(satisfaction: pd.DataFrame) -> Finding | None:
    """Whether engagement and experience scores measure the same thing (their correlation)."""
    if len(satisfaction) < 3:
        return None
    eng = satisfaction["engagement_score"].to_numpy(dtype="float64")
    exp = satisfaction["experience_score"].to_numpy(dtype="float64")
    if np.std(eng) == 0 or np.std(exp) == 0:
        return None
    r = float(np.corrcoef(eng, exp)[0, 1])
    r = 0.0 if abs(r) < 0.005 else r  # no "-0.00" in the text
    strength = "strongly" if abs(r) >= 0.7 else "moderately" if abs(r) >= 0.3 else "weakly"
    meaning = (
        "they largely tell the same story"
        if abs(r) >= 0.7
        else "each adds information the other lacks: a heavy user is not necessarily well served"
    )
    return finding(
        "satisfaction.score_correlation",
        f"Engagement and experience scores are {strength} correlated (Pearson r = {r:.2f} over "
        f"{len(satisfaction):,} users): {meaning}.",
        evidence=[Evidence(SATISFACTION, {}, {
            "pearson_r(engagement_score, experience_score)": r, "count(rows)": len(satisfaction),
        })],
        numbers={"pearson_r": r, "users": len(satisfaction)},
    )


def regression_insights(metrics: pd.DataFrame) -> list[Finding]:
    """Model quality against the mean baseline on held-out users, overfitting, leakage."""
    m = metrics.set_index(["model", "split"])
    if (MODEL, "test") not in m.index or (BASELINE, "test") not in m.index:
        return []
    test, base = m.loc[(MODEL, "test")], m.loc[(BASELINE, "test")]
    reduction = 1 - float(test["rmse"]) / float(base["rmse"]) if base["rmse"] > 0 else 0.0
    numbers = {
        "test_r2": float(test["r2"]),
        "test_rmse": float(test["rmse"]),
        "test_mae": float(test["mae"]),
        "baseline_rmse": float(base["rmse"]),
        "rmse_reduction": reduction,
        "test_users": int(test["n"]),
    }
    verdict = "beats" if test["rmse"] < base["rmse"] else "does not beat"
    text = (
        f"The satisfaction model (gradient-boosted trees on the six raw engagement and "
        f"experience metrics) reaches R² = {test['r2']:.3f} on {int(test['n']):,} held-out "
        f"users: RMSE {test['rmse']:.3g} against {base['rmse']:.3g} for a baseline that "
        f"always predicts the average; it {verdict} the baseline"
    )
    text += f" ({_pct(reduction)} lower error)." if reduction > 0 else "."
    if (MODEL, "train") in m.index:
        train_r2 = float(m.loc[(MODEL, "train"), "r2"])
        numbers["train_r2"] = train_r2
        if train_r2 - float(test["r2"]) > OVERFIT_GAP:
            text += (
                f" It fits the training users better (R² {train_r2:.3f}) than unseen ones: "
                f"some overfitting."
            )
    evidence = [
        Evidence(METRICS, {"model": MODEL, "split": "test"},
                 {c: plain(test[c]) for c in ("r2", "rmse", "mae", "n")}),
        Evidence(METRICS, {"model": BASELINE, "split": "test"}, {"rmse": plain(base["rmse"])}),
    ]
    if "train_r2" in numbers:
        evidence.append(Evidence(METRICS, {"model": MODEL, "split": "train"},
                                 {"r2": numbers["train_r2"]}))
    out = [finding("satisfaction.model_quality", text, priority=1, evidence=evidence,
                   numbers=numbers)]
    leakage = (
        "The model is deliberately not given the engagement and experience scores: the "
        "target is their mean, so using them would be leakage (a perfect but useless fit). "
        "The score itself is a fixed function of the six metrics through the cluster centroids"
    )
    action = None
    if test["r2"] >= HIGH_R2:
        leakage += (
            f", so R² = {test['r2']:.3f} means the model has learned the scoring rule and can "
            "score new users from their raw metrics, not that it has found an independent "
            "driver of satisfaction."
        )
    else:
        leakage += (
            f"; that R² is only {test['r2']:.3f} although the rule is exact shows how hard the "
            "distance-to-centroid shape is for the trees."
        )
        action = "Single predictions of the satisfaction model should be treated with care."
    out.append(finding("satisfaction.model_leakage", leakage, action=action, evidence=[
        Evidence(METRICS, {"model": MODEL, "split": "test"}, {"r2": plain(test["r2"])}),
    ], numbers={"test_r2": float(test["r2"])}))
    return out


def loss_insight(loss: pd.DataFrame) -> Finding | None:
    """Where the validation loss bottoms out along the boosting iterations."""
    if len(loss) < 2:
        return None
    best = loss.loc[loss["validation_loss"].idxmin()]
    last = loss.iloc[-1]
    best_iter, n_iter = int(best["iteration"]), int(last["iteration"])
    rise = float(last["validation_loss"]) / float(best["validation_loss"]) - 1
    action = None
    if best_iter == n_iter:
        tail = "still falling at the last iteration."
        action = "More boosting iterations could help the satisfaction model a little."
    elif rise > 0.05:
        tail = (
            f"then rises {_pct(rise)} by iteration {n_iter} while the training loss keeps "
            f"falling."
        )
        action = (f"The satisfaction model would generalise better with fewer boosting "
                  f"iterations (about {best_iter}).")
    else:
        tail = f"then stays flat (within {_pct(max(rise, 0.0))}) up to iteration {n_iter}."
    columns = ["validation_loss", "train_loss"]
    return finding(
        "satisfaction.training_loss",
        f"Validation loss (MSE) falls from {loss['validation_loss'].iloc[0]:.3g} to its "
        f"minimum {best['validation_loss']:.3g} at iteration {best_iter}, {tail}",
        action=action,
        priority=3,
        evidence=[row_evidence(LOSS, r, ["iteration"], columns)
                  for r in (loss.iloc[0], best, last)],
        numbers={
            "best_iteration": best_iter,
            "iterations": n_iter,
            "best_validation_loss": float(best["validation_loss"]),
            "final_validation_loss": float(last["validation_loss"]),
            "final_train_loss": float(last["train_loss"]),
        },
    )


def satisfaction_insights(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Findings of the satisfaction section from whichever tables are present."""
    out: list[Finding | None] = []
    satisfaction = nonempty_table(tables, SATISFACTION)
    if (clusters := nonempty_table(tables, CLUSTERS)) is not None:
        out.append(cluster_insight(clusters))
    if (top10 := nonempty_table(tables, TOP10)) is not None:
        out.append(top10_insight(top10, satisfaction))
    if satisfaction is not None:
        out.append(score_relation_insight(satisfaction))
    if (metrics := nonempty_table(tables, METRICS)) is not None:
        out.extend(regression_insights(metrics))
    if (loss := nonempty_table(tables, LOSS)) is not None:
        out.append(loss_insight(loss))
    insights = [i for i in out if i is not None]
    log.debug("satisfaction insights: %d", len(insights))
    return insights
