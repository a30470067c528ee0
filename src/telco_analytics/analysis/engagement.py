"""User engagement (SPEC rule 8): how much each user uses the network, in three clusters.

Metrics per user: sessions (xDR count), duration_ms (summed session time) and total_bytes
(DL + UL). They are standardized to z-scores (population std) and clustered by k-means (k=3);
cluster 0 is the least engaged (lowest mean of its centroid's z-coordinates), k-1 the most.
The elbow over k = 1..elbow_k_max picks a data-driven k (the knee), reported alongside.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .. import schema
from ..config import RunConfig
from ..errors import SchemaError
from ..models.clustering import (
    centroids_z,
    fit_kmeans_pipeline,
    kmeans_fits,
    knee_k,
    order_clusters,
    predict_labels,
    sample_rows,
    silhouette_sample,
)
from ..models.parallel import SideBySide
from .overview import keys_sorted, top_n_positions

log = logging.getLogger(__name__)

KEY = schema.USER_KEY
METRICS = list(schema.ENGAGEMENT_METRICS)
TOP_N = 10
# The silhouette is quadratic in users; a fixed-seed sample this size keeps it under ~0.1 s.
SILHOUETTE_ROWS = 3_000
# Restarts per elbow fit on a SAMPLE of users (beyond elbow_sample_size users) unless the
# config sets `elbow_n_init`: there the curve is an estimate anyway, and 3 restarts gave the
# same knee as 10 restarts on every generated dataset tried, at a third of the cost. On all
# users the elbow is exact: every k gets the k=3 fit's kmeans_n_init restarts (3 restarts had
# left the inertia up to 10% above 10 restarts' at some k, on an independent cross-check).
ELBOW_N_INIT = 3


@dataclass(frozen=True)
class EngagementResult:
    """Engagement tables, the ordered k-means pipeline (k from config) and the one at the knee.

    tables: engagement_users, engagement_top10, engagement_clusters, app_top10_users,
    engagement_elbow, engagement_clusters_best_k. metrics: flat name -> float, for tracking.

    fitted_on_sample: the k-means (k from config) was fitted on a sample of users;
    elbow_fitted_on_sample: the elbow curve (and the knee's model) was fitted on a sample of
    `elbow_sample_size` users (only beyond that many users); elbow_restarts: the k-means
    restarts of each of its fits.
    """

    tables: dict[str, pd.DataFrame]
    pipeline: Pipeline
    best_k_pipeline: Pipeline
    chosen_k: int
    fitted_on_sample: bool
    metrics: dict[str, float] = field(default_factory=dict)
    elbow_fitted_on_sample: bool = False
    elbow_restarts: int = 0


def require_columns(table: pd.DataFrame, columns: list[str], name: str) -> None:
    """Raise SchemaError naming every missing column of a per-user table."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SchemaError(
            f"{name}: missing column(s) {', '.join(missing)}; expected at least {', '.join(columns)}"
        )


def kmeans_sample_size(n_users: int, config: RunConfig) -> int | None:
    """Users to fit k-means on: None (all) up to the threshold, else the configured sample."""
    return config.kmeans_sample_size if n_users > config.kmeans_sample_threshold else None


def elbow_sample_size(n_users: int, config: RunConfig) -> int | None:
    """Users to fit the elbow curve on: None (all) up to `elbow_sample_size` users, else a
    sample of that many. The exact curve fits nine more k with kmeans_n_init restarts each: at
    1M users that is about 35 CPU-seconds, more than all the other analyses together."""
    return config.elbow_sample_size if n_users > config.elbow_sample_size else None


def canonical_order(table: pd.DataFrame) -> pd.DataFrame:
    """The table sorted by msisdn with a fresh RangeIndex; no copy when it already is sorted
    (the per-user tables come sorted: checking costs 25 ms at 10M users, sorting seconds)."""
    if keys_sorted(table[KEY]):
        return table.reset_index(drop=True)  # copy-on-write: shares the columns
    return table.sort_values(KEY, kind="mergesort").reset_index(drop=True)


def elbow_n_init(config: RunConfig) -> int:
    """k-means restarts per elbow fit on a sample: `elbow_n_init` if configured, else
    ELBOW_N_INIT (on all users the elbow uses kmeans_n_init)."""
    value = getattr(config, "elbow_n_init", None) or config.extra.get("elbow_n_init")
    return int(value) if value else min(ELBOW_N_INIT, config.kmeans_n_init)


def top_n_by(
    table: pd.DataFrame, column: str, n: int = TOP_N, *, sorted_keys: bool | None = None
) -> pd.DataFrame:
    """The n rows with the largest `column` (missing values ignored), ties by msisdn ascending.

    Partial selection in O(users) (see overview.top_n_positions); `sorted_keys` says whether
    the table is sorted by msisdn (checked when None).
    """
    values = table[column].to_numpy(dtype="float64", na_value=np.nan)
    rows = top_n_positions(values, table[KEY], n, sorted_keys=sorted_keys)
    return table[[KEY, column]].iloc[rows]


def top10_table(
    table: pd.DataFrame, columns: dict[str, str], label: str, value: str
) -> pd.DataFrame:
    """For each label -> column, the ten rows with the largest value (ties by msisdn):
    DataFrame[label, rank, msisdn, value], one block of up to ten rows per label."""
    parts = []
    sorted_keys = keys_sorted(table[KEY])
    for name, column in columns.items():
        top = top_n_by(table, column, sorted_keys=sorted_keys)
        parts.append(
            pd.DataFrame(
                {
                    label: name,
                    "rank": np.arange(1, len(top) + 1, dtype="int64"),
                    KEY: top[KEY].to_numpy(),
                    value: top[column].to_numpy(dtype="float64"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def engagement_top10(users: pd.DataFrame) -> pd.DataFrame:
    """Per engagement metric, the ten users with the largest value: metric, rank, msisdn, value."""
    return top10_table(users, {m: m for m in METRICS}, "metric", "value")


def app_top10_users(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Per app, the ten users with the most `<app>_bytes` (DL + UL): app, rank, msisdn, bytes."""
    return top10_table(
        user_overview, dict(zip(schema.APPS, schema.USER_APP_BYTES, strict=True)), "app", "bytes"
    )


def engagement_clusters(users: pd.DataFrame, labels: np.ndarray, k: int) -> pd.DataFrame:
    """Per cluster: users, users_share, `<metric>_min/_max/_mean/_sum` (raw units), traffic_share.

    users_share = the cluster's fraction of users, traffic_share = its fraction of total_bytes
    (both 0-1). Every cluster 0..k-1 gets a row (an empty one has users = 0).
    """
    grouped = users[METRICS].astype("float64").groupby(np.asarray(labels))
    stats = grouped.agg(["min", "max", "mean", "sum"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats.insert(0, "users", grouped.size().astype("int64"))
    stats = stats.reindex(range(k))
    stats["users"] = stats["users"].fillna(0).astype("int64")
    out = stats.rename_axis("cluster").reset_index()
    out["cluster"] = out["cluster"].astype("int64")
    out.insert(2, "users_share", out["users"] / max(len(users), 1))
    total = users["total_bytes"].astype("float64").sum()
    out["traffic_share"] = out["total_bytes_sum"].fillna(0.0) / total if total > 0 else np.nan
    return out


def _ordered_pipeline(pipeline: Pipeline) -> Pipeline:
    """Renumber clusters by ascending mean centroid z-coordinate (0 = least engaged)."""
    return order_clusters(pipeline, centroids_z(pipeline).mean(axis=1))


def engagement_analysis(user_overview: pd.DataFrame, config: RunConfig) -> EngagementResult:
    """Cluster users by engagement, rank the most engaged users per metric and per app, elbow."""
    require_columns(user_overview, [KEY, *METRICS, *schema.USER_APP_BYTES], "user_overview")
    k = config.k_engagement
    if len(user_overview) < k:
        raise SchemaError(
            f"user_overview: engagement clustering needs at least {k} users, found {len(user_overview)}"
        )
    # a canonical row order makes labels independent of how the input happened to be sorted
    users = canonical_order(user_overview)
    X = users[METRICS].astype("float64")
    n = len(users)
    sample_size = kmeans_sample_size(n, config)

    # Elbow: up to `elbow_sample_size` users on every user, reusing the main fit for its k
    # (same data, same seed, same restarts); beyond it on a uniform sample of that many
    # users, every k fitted there so the inertias are comparable. The elbow needs only the
    # scaler, so its fits run on other threads beside the main fit.
    fit_rows = sample_rows(n, sample_size, config.random_state)  # the main fit's rows
    # the same rows as the pipeline's own scaler sees: the same mean and scale, bit for bit
    scaler = StandardScaler().fit(X if fit_rows is None else X.iloc[fit_rows])
    elbow_rows = sample_rows(n, elbow_sample_size(n, config), config.random_state)
    reuse_main = elbow_rows is None and fit_rows is None
    if elbow_rows is None and fit_rows is not None:
        elbow_rows, reuse_main = fit_rows, True
    Z_fit = scaler.transform(X if elbow_rows is None else X.iloc[elbow_rows])
    elbow_on_sample = elbow_rows is not None
    if elbow_on_sample:
        log.info("engagement elbow fitted on a sample of %d of %d users", len(Z_fit), n)
    k_values = list(range(1, min(config.elbow_k_max, len(Z_fit)) + 1))
    elbow_k = [kk for kk in k_values if not (reuse_main and kk == k)]
    # two interleaved halves of the curve (similar cost) on two threads beside the main fit
    restarts = elbow_n_init(config) if elbow_on_sample else config.kmeans_n_init
    halves = [
        SideBySide(kmeans_fits, Z_fit, part, n_init=restarts, random_state=config.random_state)
        for part in (elbow_k[0::2], elbow_k[1::2]) if part
    ]
    try:
        pipeline = _ordered_pipeline(
            fit_kmeans_pipeline(
                X, k, n_init=config.kmeans_n_init, random_state=config.random_state,
                sample_size=sample_size,
            )
        )
        labels = predict_labels(pipeline, X)
        fits = {kk: fit for half in halves for kk, fit in half.result().items()}
    finally:
        for half in halves:
            half.close()
    scaler = pipeline.named_steps["scaler"]
    if reuse_main:
        fits[k] = pipeline.named_steps["kmeans"]
    inertia = [float(fits[kk].inertia_) for kk in k_values]
    chosen_k = knee_k(k_values, inertia)
    elbow = pd.DataFrame(
        {
            "k": np.array(k_values, dtype="int64"),
            "inertia": np.array(inertia, dtype="float64"),
            "chosen": np.array([kk == chosen_k for kk in k_values], dtype="bool"),
        }
    )
    del Z_fit

    if chosen_k == k:
        best = pipeline
    else:
        best = Pipeline([("scaler", copy.deepcopy(scaler)), ("kmeans", fits[chosen_k])])
        best.fitted_on_sample_ = pipeline.fitted_on_sample_ or elbow_on_sample
        best.n_fit_rows_ = len(elbow_rows) if elbow_on_sample else pipeline.n_fit_rows_
        best = _ordered_pipeline(best)
    best_labels = labels if best is pipeline else predict_labels(best, X)

    # the silhouette needs z-scores of its few thousand sampled rows only
    sil_rows = sample_rows(n, SILHOUETTE_ROWS, config.random_state)
    sil_rows = np.arange(n) if sil_rows is None else sil_rows
    silhouette = silhouette_sample(
        np.ascontiguousarray(scaler.transform(X.iloc[sil_rows])), labels[sil_rows],
        max_rows=SILHOUETTE_ROWS, random_state=config.random_state,
    )
    del X
    engagement_users = users[[KEY, *METRICS]]  # copy-on-write: no copy of the columns
    engagement_users["cluster"] = labels  # int8 (label_dtype)
    clusters = engagement_clusters(users, labels, k)
    tables = {
        "engagement_users": engagement_users,
        "engagement_top10": engagement_top10(users),
        "engagement_clusters": clusters,
        "app_top10_users": app_top10_users(users),
        "engagement_elbow": elbow,
        "engagement_clusters_best_k": engagement_clusters(users, best_labels, chosen_k),
    }
    metrics = {
        "inertia": float(pipeline.named_steps["kmeans"].inertia_),
        "silhouette": silhouette,
        "chosen_k": float(chosen_k),
        "fit_rows": float(pipeline.n_fit_rows_),
        "elbow_fit_rows": float(len(elbow_rows) if elbow_on_sample else n),
        **{f"users_cluster_{c}": float(n) for c, n in zip(clusters["cluster"], clusters["users"])},
    }
    log.info(
        "engagement: %d users, k=%d, knee at k=%d, cluster sizes %s",
        len(users), k, chosen_k, clusters["users"].tolist(),
    )
    return EngagementResult(
        tables=tables,
        pipeline=pipeline,
        best_k_pipeline=best,
        chosen_k=chosen_k,
        fitted_on_sample=bool(pipeline.fitted_on_sample_),
        metrics=metrics,
        elbow_fitted_on_sample=bool(elbow_on_sample),
        elbow_restarts=restarts,
    )
