"""Findings of the satisfaction section, written from the tables' numbers; a finding whose
table is missing or empty is skipped."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from . import nonempty_table, share_text
from .records import Evidence, Finding, finding, plain, row_evidence

log = logging.getLogger(__name__)

CLUSTERS, TOP10, SATISFACTION, METRICS, LOSS, DRIVERS = (
    "satisfaction_clusters", "satisfaction_top10", "satisfaction", "regression_metrics",
    "regression_loss", "satisfaction_drivers")
# one score's spread this many times the other's: its scale, not customers, drives satisfaction
SCALE_DOMINATES = 1.5
SCORES = ["mean_satisfaction", "mean_engagement", "mean_experience"]
MODEL = "hist_gradient_boosting"
BASELINE = "baseline_mean"
OVERFIT_GAP = 0.05  # train R² above test R² by more than this: say the model overfits
HIGH_R2 = 0.8  # above this the model reproduces the scoring rule well


def cluster_insight(clusters: pd.DataFrame, drivers: pd.DataFrame | None) -> Finding | None:
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
        f"{share_text(share)} of users ({int(high['users']):,} of {total:,}) form the most satisfied "
        f"group (cluster {int(high['cluster'])}): mean satisfaction score "
        f"{high['mean_satisfaction']:.2f} against {low['mean_satisfaction']:.2f} for cluster "
        f"{int(low['cluster'])}. What separates the groups is mainly {driver} "
        f"(mean {driver} score {high[f'mean_{driver}']:.2f} vs {low[f'mean_{driver}']:.2f}; "
        f"{other}: {high[f'mean_{other}']:.2f} vs {low[f'mean_{other}']:.2f})."
    )
    evidence = [row_evidence(CLUSTERS, high, ["cluster"], ["users", *SCORES]),
                row_evidence(CLUSTERS, low, ["cluster"], SCORES),
                Evidence(CLUSTERS, {}, {"sum(users)": total})]
    scale = _dominant_scale(drivers)
    if scale is not None and scale["score"] == f"{driver}_score":
        text += (f" The gap is largely the scale of the scores: the {driver} score spreads "
                 f"{scale['std_ratio']:.1f}x as wide as the {other} score, so it moves the mean "
                 "more whatever customers care about.")
        evidence.append(row_evidence(DRIVERS, scale, ["score"], ["std_ratio"]))
        action = (f"Retention actions for the less satisfied group (cluster "
                  f"{int(low['cluster'])}) should weigh {driver} and {other} on their own "
                  "numbers: the satisfaction score favours the wider-spread one.")
    else:
        action = (f"Retention actions for the less satisfied group (cluster "
                  f"{int(low['cluster'])}) should start with {driver}.")
    return finding(
        "satisfaction.satisfied_group",
        text,
        action=action,
        priority=1,
        evidence=evidence,
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
    evidence.append(Evidence(TOP10, {}, {
        "count(experience_score > engagement_score)": by_experience,
        "count(experience_score <= engagement_score)": len(top10) - by_experience}))
    if satisfaction is not None:
        median = float(satisfaction["satisfaction_score"].median())
        numbers["median_score"] = median
        text += f" (median user: {median:.2f})"
        evidence.append(Evidence(SATISFACTION, {}, {"median(satisfaction_score)": median}))
    by_engagement = len(top10) - by_experience
    if by_experience == 0:
        text += "; for every one of them the engagement score is the larger part."
    elif by_engagement == 0:
        text += "; for every one of them the experience score is the larger part."
    else:
        text += (f"; for {by_experience} of them the experience score is the larger part, for "
                 f"{by_engagement} the engagement score.")
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
    text += f" ({share_text(reduction)} lower error)." if reduction > 0 else "."
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
        Evidence(METRICS, {}, {"1 - rmse(model) / rmse(baseline), test": reduction}),
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
            f"then rises {share_text(rise)} by iteration {n_iter} while the training loss keeps "
            f"falling."
        )
        action = (f"The satisfaction model would generalise better with fewer boosting "
                  f"iterations (about {best_iter}).")
    else:
        tail = f"then stays flat (within {share_text(max(rise, 0.0))}) up to iteration {n_iter}."
    columns = ["validation_loss", "train_loss"]
    return finding(
        "satisfaction.training_loss",
        f"Validation loss (MSE) falls from {loss['validation_loss'].iloc[0]:.3g} to its "
        f"minimum {best['validation_loss']:.3g} at iteration {best_iter}, {tail}",
        action=action,
        priority=3,
        evidence=[*(row_evidence(LOSS, r, ["iteration"], columns)
                    for r in (loss.iloc[0], best, last)),
                  Evidence(LOSS, {}, {"last / best validation loss - 1": rise})],
        numbers={
            "best_iteration": best_iter,
            "iterations": n_iter,
            "best_validation_loss": float(best["validation_loss"]),
            "final_validation_loss": float(last["validation_loss"]),
            "final_train_loss": float(last["train_loss"]),
        },
    )


def _dominant_scale(drivers: pd.DataFrame | None) -> pd.Series | None:
    """The score whose spread is at least SCALE_DOMINATES times the other's, or None."""
    if drivers is None:
        return None
    wide = drivers[drivers["std_ratio"] >= SCALE_DOMINATES]
    return None if wide.empty else wide.iloc[0]


def drivers_insight(drivers: pd.DataFrame) -> Finding:
    """How much each score drives satisfaction, and whether the scale of one decides it."""
    rows = {r["score"]: r for _, r in drivers.iterrows()}
    eng, exp = rows["engagement_score"], rows["experience_score"]
    text = (
        f"Satisfaction (the mean of the two scores) correlates {eng['corr']:.2f} with the "
        f"engagement score and {exp['corr']:.2f} with the experience score; the engagement "
        f"score accounts for {share_text(eng['variance_share'])} of its variance, the "
        f"experience score for {share_text(exp['variance_share'])}. The standard deviation of "
        f"the engagement score is {eng['std']:.2f}, of the experience score {exp['std']:.2f}."
    )
    scale = _dominant_scale(drivers)
    if scale is not None:
        name = str(scale["score"]).split("_")[0]
        text += (f" The {name} score spreads {scale['std_ratio']:.1f}x as wide, so it dominates "
                 "satisfaction by the scale of its distances, not because it matters more to "
                 "customers: read the two scores side by side before ranking what to fix.")
    else:
        text += " Neither score's scale dominates: both move satisfaction comparably."
    columns = ["std", "corr", "variance_share", "std_ratio"]
    return finding("satisfaction.drivers", text, priority=1 if scale is not None else 2,
                   evidence=[row_evidence(DRIVERS, r, ["score"], columns) for r in (eng, exp)],
                   numbers={"dominant": None if scale is None else str(scale["score"]),
                            "engagement_variance_share": float(eng["variance_share"])})


def satisfaction_insights(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Findings of the satisfaction section from whichever tables are present."""
    out: list[Finding | None] = []
    satisfaction = nonempty_table(tables, SATISFACTION)
    drivers = nonempty_table(tables, DRIVERS)
    if drivers is not None and len(drivers) == 2:
        out.append(drivers_insight(drivers))
    if (clusters := nonempty_table(tables, CLUSTERS)) is not None:
        out.append(cluster_insight(clusters, drivers))
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
