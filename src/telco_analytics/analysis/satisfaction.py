"""User satisfaction (SPEC rule 10): distance scores, satisfaction clusters, regression.

engagement_score = Euclidean distance, in the engagement z-space, from the user to the
centroid of engagement cluster 0 (least engaged); experience_score = the same in the
experience z-space to experience cluster 0 (worst experience); satisfaction_score = their
mean. The farther a user is from the "bad" cluster, the more satisfied we take them to be.

Node functions: satisfaction_scores, then satisfaction_clustering and satisfaction_regression
(independent of each other), then satisfaction_tables; `satisfaction_analysis` is all four.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from .. import schema
from ..config import AnalysisParams
from ..models.clustering import predict_labels, sample_rows
from ..models.distance import DistanceToCluster
from ..models.ordered_kmeans import TARGET_MEAN
from ..models.regression import (
    BASELINE_NAME,
    FEATURES,
    MODEL_NAME,
    RegressionFit,
    fit_satisfaction_regression,
)
from .clusters import fit_clustering, kmeans_facts
from .overview import keys_equal, keys_sorted, top_n_positions
from .result import AnalysisResult

log = logging.getLogger(__name__)

KEY = schema.USER_KEY
SCORE_COLUMNS = ["engagement_score", "experience_score"]  # the satisfaction k-means inputs
TARGET = "satisfaction_score"  # orders the satisfaction clusters (higher label, higher mean)
TOP_N = 10


def distance_to_cluster0(users: pd.DataFrame, model: Pipeline) -> np.ndarray:
    """Per user, the Euclidean distance (z-units) to cluster 0's centroid in the model's z-space.

    users must hold the columns the model was fitted on (in any order); cluster 0 is the
    ordered label (least engaged / worst experience). The fitted model is used as it is.
    """
    fitted_on = getattr(model, "feature_names_in_", None)
    X = users if fitted_on is None else users[list(fitted_on)]
    distance = DistanceToCluster(FrozenEstimator(model), cluster=0).fit(X)
    return distance.transform(X)[:, 0]


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
    engagement_model: Pipeline,
    experience_model: Pipeline,
) -> pd.DataFrame:
    """Users of both tables (inner join on msisdn, sorted by msisdn) with their raw metrics
    and engagement_score, experience_score, satisfaction_score (z-units).

    The models are the fitted engagement / experience clusterings (cluster 0 = least
    engaged / worst experience)."""
    users = _aligned_users(engagement_users, experience_users)
    bad = {c: int(n) for c in FEATURES if (n := users[c].isna().sum())}
    if bad:
        raise ValueError(f"satisfaction: missing metric values {bad}")
    users["engagement_score"] = distance_to_cluster0(
        users[schema.ENGAGEMENT_METRICS], engagement_model
    )
    users["experience_score"] = distance_to_cluster0(
        users[schema.EXPERIENCE_METRICS], experience_model
    )
    users[TARGET] = (users["engagement_score"] + users["experience_score"]) / 2
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


def satisfaction_clustering(scores: pd.DataFrame, params: AnalysisParams) -> Pipeline:
    """The fitted satisfaction clustering: k-means (k = k_satisfaction) on the
    (engagement_score, experience_score) z-scores, a higher label a higher mean satisfaction
    of its members (k-means sees each user's satisfaction_score as y for that order)."""
    X = scores[SCORE_COLUMNS].astype("float64")
    return fit_clustering(X, params.k_satisfaction, TARGET_MEAN, params, y=scores[TARGET])


def satisfaction_regression(scores: pd.DataFrame, params: AnalysisParams) -> RegressionFit:
    """The satisfaction regression: satisfaction_score from the six raw metrics (never the
    scores), on a seeded hold-out split.

    Beyond kmeans_sample_threshold users it learns from (and is scored on) a uniform sample of
    regression_sample_size users: the score is a smooth function of six metrics, 250k users
    are plenty.
    """
    n = len(scores)
    rows = sample_rows(
        n,
        params.regression_sample_size if n > params.kmeans_sample_threshold else None,
        params.random_state,
    )
    columns = [KEY, *FEATURES, TARGET]
    training = scores[columns] if rows is None else scores[columns].iloc[rows]
    if rows is not None:
        log.info("satisfaction regression on a sample of %d of %d users", len(rows), n)
    return fit_satisfaction_regression(
        training,
        max_iter=params.regression_max_iter,
        learning_rate=params.regression_learning_rate,
        test_size=params.test_size,
        random_state=params.random_state,
    )


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


def satisfaction_tables(scores: pd.DataFrame, clustering: Pipeline, regression: RegressionFit,
                        params: AnalysisParams) -> AnalysisResult:
    """Satisfaction tables: satisfaction, satisfaction_top10, satisfaction_clusters,
    regression_metrics, regression_loss, regression_predictions; models
    satisfaction_clusters and satisfaction_regression."""
    labels = predict_labels(clustering, scores[SCORE_COLUMNS].astype("float64"))
    satisfaction = scores[[KEY, "engagement_score", "experience_score", TARGET]]
    satisfaction["cluster"] = labels  # copy-on-write: the selected columns are not copied
    kmeans = clustering.named_steps["kmeans"]
    tables = {
        "satisfaction": satisfaction,
        "satisfaction_top10": satisfaction_top(satisfaction),
        "satisfaction_clusters": satisfaction_cluster_summary(satisfaction, params.k_satisfaction),
        "regression_metrics": regression.metrics,
        "regression_loss": regression.loss_curve,
        "regression_predictions": regression.predictions,
    }
    metrics = {
        **_tracking_metrics(satisfaction, regression.metrics, int(regression.model.n_iter_)),
        "regression_fit_rows": float(regression.n_fit_rows),
        "cluster_fit_rows": float(kmeans.n_fit_rows_),
    }
    return AnalysisResult(
        tables=tables,
        models={"satisfaction_clusters": clustering, "satisfaction_regression": regression.model},
        metrics=metrics,
        sampling={
            "satisfaction_kmeans": bool(kmeans.fitted_on_sample_),
            "satisfaction_regression": regression.n_fit_rows < len(scores),
        },
        facts=kmeans_facts("satisfaction", kmeans),
    )


def satisfaction_analysis(
    engagement_users: pd.DataFrame,
    experience_users: pd.DataFrame,
    engagement_model: Pipeline,
    experience_model: Pipeline,
    params: AnalysisParams,
) -> AnalysisResult:
    """Scores, top 10, satisfaction clusters and the satisfaction regression (SPEC rule 10):
    the four satisfaction nodes one after the other.

    engagement_users: msisdn + ENGAGEMENT_METRICS; experience_users: msisdn +
    EXPERIENCE_METRICS; the models are the fitted engagement / experience clusterings.
    """
    scores = satisfaction_scores(engagement_users, experience_users, engagement_model,
                                 experience_model)
    clustering = satisfaction_clustering(scores, params)
    regression = satisfaction_regression(scores, params)
    return satisfaction_tables(scores, clustering, regression, params)
