"""User satisfaction (SPEC rule 10): distance scores, satisfaction clusters, regression.

engagement_score = Euclidean distance, in the engagement z-space, from the user to the
centroid of engagement cluster 0 (least engaged); experience_score = the same in the
experience z-space to experience cluster 0 (worst experience); satisfaction_score = their
mean. The farther a user is from the "bad" cluster, the more satisfied we take them to be.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .. import schema
from ..config import RunConfig
from ..models.clustering import (
    centroids_z,
    fit_kmeans_pipeline,
    order_clusters,
    predict_labels,
    sample_rows,
)
from ..models.parallel import SideBySide
from ..models.regression import (
    BASELINE_NAME,
    FEATURES,
    MODEL_NAME,
    fit_satisfaction_regression,
)
from .overview import keys_equal, keys_sorted, top_n_positions

log = logging.getLogger(__name__)

KEY = schema.USER_KEY
SCORE_COLUMNS = ["engagement_score", "experience_score"]  # the satisfaction k-means inputs
TOP_N = 10


@dataclass(frozen=True)
class SatisfactionResult:
    """Satisfaction tables, the fitted score-cluster pipeline and the fitted regression.

    tables: satisfaction, satisfaction_top10, satisfaction_clusters, regression_metrics,
    regression_loss, regression_predictions. metrics: flat name -> float, for tracking.

    clusters_fitted_on_sample: the k=2 k-means was fitted on a sample of users;
    regression_fitted_on_sample: the regression was trained and evaluated on a sample of
    `regression_sample_size` users (both only beyond kmeans_sample_threshold users).
    """

    tables: dict[str, pd.DataFrame]
    cluster_pipeline: Pipeline
    regression: object  # the fitted scikit-learn regressor
    loss_curve: pd.DataFrame
    metrics: dict[str, float] = field(default_factory=dict)
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    clusters_fitted_on_sample: bool = False
    regression_fitted_on_sample: bool = False


def _z_distance(columns: list[np.ndarray], pipeline: Pipeline) -> np.ndarray:
    """Euclidean distance (z-units) of each row to cluster 0's centroid, column by column.

    The same arithmetic as scaler.transform + np.linalg.norm (x - mean) / scale, squared
    differences summed left to right, without the n x d temporaries of a whole table.
    """
    scaler = pipeline.named_steps["scaler"]
    centre = centroids_z(pipeline)[0]
    total = None
    for j, values in enumerate(columns):
        z = np.asarray(values, dtype="float64") - scaler.mean_[j]
        z /= scaler.scale_[j]
        z -= centre[j]
        z *= z
        total = z if total is None else np.add(total, z, out=total)
    return np.sqrt(total, out=total)


def distance_to_cluster0(users: pd.DataFrame, pipeline: Pipeline) -> np.ndarray:
    """Per user, the Euclidean distance (z-units) to cluster 0's centroid in the pipeline's z-space.

    users must hold the columns the pipeline was fitted on; cluster 0 is the ordered label
    (least engaged / worst experience).
    """
    scaler = pipeline.named_steps["scaler"]
    fitted_on = getattr(scaler, "feature_names_in_", None)
    columns = list(users.columns) if fitted_on is None else list(fitted_on)
    return _z_distance([users[c].to_numpy(dtype="float64") for c in columns], pipeline)


def _aligned_users(engagement_users: pd.DataFrame, experience_users: pd.DataFrame) -> pd.DataFrame:
    """msisdn + FEATURES of the users in both tables, sorted by msisdn.

    The two tables come from the same per-user aggregation, sorted by msisdn: when their key
    columns are equal and strictly increasing (vectorized checks, ~50 ms at 10M users) the
    columns are combined by position without a copy; otherwise (other order, other users,
    duplicates) an inner one-to-one merge on msisdn, sorted.
    """
    if keys_equal(engagement_users[KEY], experience_users[KEY]) and keys_sorted(
        engagement_users[KEY], strict=True
    ):
        return pd.concat(
            [
                engagement_users[[KEY, *schema.ENGAGEMENT_METRICS]].reset_index(drop=True),
                experience_users[schema.EXPERIENCE_METRICS].reset_index(drop=True),
            ],
            axis=1,
        )
    eng = engagement_users[[KEY, *schema.ENGAGEMENT_METRICS]]
    exp = experience_users[[KEY, *schema.EXPERIENCE_METRICS]]
    users = eng.merge(exp, on=KEY, how="inner", validate="one_to_one")
    dropped = max(len(eng), len(exp)) - len(users)
    if dropped:
        log.warning("satisfaction: %d users are missing from one of the two tables", dropped)
    return users.sort_values(KEY, kind="stable", ignore_index=True)


def satisfaction_scores(
    engagement_users: pd.DataFrame,
    experience_users: pd.DataFrame,
    engagement_pipeline: Pipeline,
    experience_pipeline: Pipeline,
) -> pd.DataFrame:
    """Users of both tables (inner join on msisdn, sorted by msisdn) with their raw metrics
    and engagement_score, experience_score, satisfaction_score (z-units)."""
    users = _aligned_users(engagement_users, experience_users)
    bad = {c: int(n) for c in FEATURES if (n := users[c].isna().sum())}
    if bad:
        raise ValueError(f"satisfaction: missing metric values {bad}")
    users["engagement_score"] = distance_to_cluster0(
        users[schema.ENGAGEMENT_METRICS], engagement_pipeline
    )
    users["experience_score"] = distance_to_cluster0(
        users[schema.EXPERIENCE_METRICS], experience_pipeline
    )
    users["satisfaction_score"] = (users["engagement_score"] + users["experience_score"]) / 2
    return users


def satisfaction_top(scores: pd.DataFrame, n: int = TOP_N) -> pd.DataFrame:
    """The n most satisfied users (ties by msisdn): rank, msisdn, the three scores.

    Partial selection in O(users), never a sort of the whole table.
    """
    rows = top_n_positions(scores["satisfaction_score"].to_numpy(dtype="float64"), scores[KEY], n)
    out = scores[[KEY, "satisfaction_score", "engagement_score", "experience_score"]].iloc[rows]
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype="int64"))
    return out


def satisfaction_clustering(scores: pd.DataFrame, config: RunConfig) -> tuple[Pipeline, np.ndarray]:
    """k-means on the (engagement_score, experience_score) z-scores, renumbered so that a
    higher label means a higher mean satisfaction of its members; returns (pipeline, labels)."""
    X = scores[SCORE_COLUMNS].astype("float64")
    sample = config.kmeans_sample_size if len(X) > config.kmeans_sample_threshold else None
    # both limit themselves to one OpenMP thread (clustering.KMEANS_THREADS)
    pipeline = fit_kmeans_pipeline(
        X,
        config.k_satisfaction,
        n_init=config.kmeans_n_init,
        random_state=config.random_state,
        sample_size=sample,
    )
    raw = predict_labels(pipeline, X)
    k = config.k_satisfaction
    sat = scores["satisfaction_score"].to_numpy()
    sums = np.bincount(raw, weights=sat, minlength=k)
    counts = np.bincount(raw, minlength=k)
    # an empty cluster (possible only when fitted on a sample) sorts first
    mean_sat = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    ordered = order_clusters(pipeline, mean_sat)
    # the reordered pipeline predicts new_of_old[raw]: relabel instead of predicting again
    new_of_old = np.empty(k, dtype=raw.dtype)  # int8 labels stay int8
    new_of_old[ordered.cluster_order_] = np.arange(k)
    return ordered, new_of_old[raw]


def satisfaction_cluster_summary(satisfaction: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per satisfaction cluster: users and mean satisfaction, experience and engagement scores.

    A mask per cluster (k is 2): only a cluster's values of one score are copied at a time,
    where a grouped aggregation held about twice the scores (16 bytes a user)."""
    labels = satisfaction["cluster"].to_numpy()
    columns = {"mean_satisfaction": "satisfaction_score", "mean_experience": "experience_score",
               "mean_engagement": "engagement_score"}
    rows = []
    for cluster in range(k):
        member = labels == cluster
        # pandas' mean skips missing values, as experience_clusters' does
        means = {name: pd.Series(satisfaction[column].to_numpy(dtype="float64")[member]).mean()
                 for name, column in columns.items()}
        rows.append({"cluster": cluster, "users": int(np.count_nonzero(member)), **means})
    out = pd.DataFrame(rows, columns=["cluster", "users", *columns])
    out["cluster"] = out["cluster"].astype("int64")
    out["users"] = out["users"].astype("int64")
    return out


def _tracking_metrics(
    satisfaction: pd.DataFrame, regression_metrics: pd.DataFrame, n_iter: int
) -> dict[str, float]:
    """Flat numbers for the tracking hook: regression_test_r2, baseline_test_rmse, ..."""
    prefix = {MODEL_NAME: "regression", BASELINE_NAME: "baseline"}
    metrics: dict[str, float] = {}
    for row in regression_metrics.itertuples(index=False):
        for name in ("r2", "rmse", "mae"):
            metrics[f"{prefix[row.model]}_{row.split}_{name}"] = float(getattr(row, name))
    metrics["regression_iterations"] = float(n_iter)
    metrics["satisfaction_users"] = float(len(satisfaction))
    metrics["satisfaction_score_mean"] = float(satisfaction["satisfaction_score"].mean())
    return metrics


def satisfaction_analysis(
    engagement_users: pd.DataFrame,
    experience_users: pd.DataFrame,
    engagement_pipeline: Pipeline,
    experience_pipeline: Pipeline,
    config: RunConfig,
) -> SatisfactionResult:
    """Scores, top 10, satisfaction clusters and the satisfaction regression (SPEC rule 10).

    engagement_users: msisdn + ENGAGEMENT_METRICS; experience_users: msisdn +
    EXPERIENCE_METRICS; the pipelines are the ordered engagement / experience k-means
    pipelines (cluster 0 = least engaged / worst experience).
    """
    users = satisfaction_scores(
        engagement_users, experience_users, engagement_pipeline, experience_pipeline
    )
    # beyond the sampling threshold the model learns from (and is scored on) a uniform sample
    # of users: the score is a smooth function of six metrics, 250k users are plenty
    n = len(users)
    rows = sample_rows(
        n,
        config.regression_sample_size if n > config.kmeans_sample_threshold else None,
        config.random_state,
    )
    columns = [KEY, *FEATURES, "satisfaction_score"]
    training = users[columns] if rows is None else users[columns].iloc[rows]
    if rows is not None:
        log.info("satisfaction regression on a sample of %d of %d users", len(rows), n)
    # the regression and the k=2 clustering are independent: one core each
    with SideBySide(
        fit_satisfaction_regression,
        training,
        max_iter=config.regression_max_iter,
        learning_rate=config.regression_learning_rate,
        test_size=config.test_size,
        random_state=config.random_state,
    ) as regression:
        pipeline, labels = satisfaction_clustering(users, config)
    fit = regression.result()
    satisfaction = users[[KEY, "engagement_score", "experience_score", "satisfaction_score"]]
    satisfaction["cluster"] = labels  # copy-on-write: the selected columns are not copied
    tables = {
        "satisfaction": satisfaction,
        "satisfaction_top10": satisfaction_top(satisfaction),
        "satisfaction_clusters": satisfaction_cluster_summary(satisfaction, config.k_satisfaction),
        "regression_metrics": fit.metrics,
        "regression_loss": fit.loss_curve,
        "regression_predictions": fit.predictions,
    }
    return SatisfactionResult(
        tables=tables,
        cluster_pipeline=pipeline,
        regression=fit.model,
        loss_curve=fit.loss_curve,
        metrics={
            **_tracking_metrics(satisfaction, fit.metrics, int(fit.model.n_iter_)),
            "regression_fit_rows": float(len(training)),
            "cluster_fit_rows": float(pipeline.n_fit_rows_),
        },
        features=list(FEATURES),
        clusters_fitted_on_sample=bool(pipeline.fitted_on_sample_),
        regression_fitted_on_sample=rows is not None,
    )
