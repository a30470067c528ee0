"""User engagement (SPEC rule 8): how much each user uses the network, in three clusters.

Metrics per user: sessions (xDR count), duration_ms (summed session time) and total_bytes
(DL + UL). They are standardized to z-scores (population std) and clustered by k-means (k=3);
cluster 0 is the least engaged (lowest mean of its centroid's z-coordinates), k-1 the most.
The elbow over k = 1..elbow_k_max picks a data-driven k (the knee), reported alongside.

Node functions (the run layer wires them; independent ones run side by side):
engagement_model, engagement_elbow_fits (in parts), then engagement_tables.
`engagement_analysis` is the three one after the other.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .. import schema
from ..config import AnalysisParams
from ..models.clustering import predict_labels
from ..models.ordered_kmeans import CENTROID_MEAN, OrderedKMeans
from ..models.scaler import fit_scaler
from .clusters import (
    elbow_facts,
    fit_clustering,
    kmeans_facts,
    model_silhouette,
    restart_params,
)
from .elbow import elbow_plan, elbow_table
from .overview import keys_sorted, top_n_positions
from .relative import with_relative_description
from .result import AnalysisResult
from .users import canonical_order, require_columns, require_users

log = logging.getLogger(__name__)

KEY = schema.USER_KEY
METRICS = list(schema.ENGAGEMENT_METRICS)
TOP_N = 10


def _users(user_overview: pd.DataFrame, params: AnalysisParams) -> pd.DataFrame:
    """user_overview checked and in canonical (msisdn) order."""
    require_columns(user_overview, [KEY, *METRICS, *schema.USER_APP_BYTES], "user_overview")
    require_users(user_overview, params.k_engagement, "user_overview", "engagement")
    return canonical_order(user_overview)


def _metrics(users: pd.DataFrame) -> pd.DataFrame:
    """The clustering input: the engagement metrics as floats (raw units)."""
    return users[METRICS].astype("float64")


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
    (both 0-1). Every cluster 0..k-1 gets a row (an empty one has users = 0). Then the
    cluster against the population (relative.relative_columns, relative_description).
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
    values = {m: users[m].to_numpy(dtype="float64") for m in METRICS}  # one at a time below
    return with_relative_description(out, values, k, [engagement_label(c, k) for c in range(k)])


def engagement_label(rank: int, k: int) -> str:
    """Engagement word of an ordered cluster: 0 = least engaged, k-1 = most engaged."""
    if rank == 0:
        return "least engaged"
    return "most engaged" if rank == k - 1 else "moderately engaged"


def engagement_model(user_overview: pd.DataFrame, params: AnalysisParams) -> Pipeline:
    """The fitted engagement clustering: scaler + k-means (k = k_engagement), cluster 0 the
    least engaged; beyond kmeans_sample_threshold users k-means learns from a sample."""
    X = _metrics(_users(user_overview, params))
    return fit_clustering(X, params.k_engagement, CENTROID_MEAN, params)


def engagement_elbow_fits(user_overview: pd.DataFrame, params: AnalysisParams, part: int = 0,
                          parts: int = 1) -> dict[int, OrderedKMeans]:
    """Part `part` of `parts` of the elbow curve's k-means fits: k -> fitted OrderedKMeans.

    The k the elbow fits itself (all of 1..elbow_k_max but the main model's k when the curve
    is on the main model's rows: engagement_tables then takes the main fit), shared so that
    the parts cost about the same (ElbowPlan.part_k). Each fit sees the curve's users only (see
    analysis.elbow), z-scored with the scaler the main model has: the same rows and the same
    call give the same mean and scale, bit for bit.
    """
    users = _users(user_overview, params)
    plan = elbow_plan(len(users), params)
    k_values = plan.part_k(params.k_engagement, part, parts)
    if not k_values:
        return {}
    X = _metrics(users)
    # a column at a time: StandardScaler().fit(X) bit for bit, without its n x d temporaries
    scaler = fit_scaler(StandardScaler(), X)
    rows = plan.rows(params.random_state)
    Z = scaler.transform(X if rows is None else X.iloc[rows])
    del X
    if plan.on_sample:
        log.info("engagement elbow fitted on a sample of %d of %d users", len(Z), len(users))
    return {
        k: OrderedKMeans(k, order=CENTROID_MEAN, n_init=plan.restarts,
                         random_state=params.random_state, **restart_params(params)).fit(Z)
        for k in k_values
    }


def engagement_tables(user_overview: pd.DataFrame, model: Pipeline,
                      elbow_fits: list[dict[int, OrderedKMeans]],
                      params: AnalysisParams) -> AnalysisResult:
    """Engagement tables from the fitted model and elbow fits (all parts of the curve).

    tables: engagement_users, engagement_top10, engagement_clusters, app_top10_users,
    engagement_elbow, engagement_clusters_best_k. models: engagement, engagement_best_k (the
    knee's k, ordered the same way).
    """
    users = _users(user_overview, params)
    X = _metrics(users)
    n, k = len(users), params.k_engagement
    labels = predict_labels(model, X)
    kmeans = model.named_steps["kmeans"]

    plan = elbow_plan(n, params)
    fits = {kk: fit for part in elbow_fits for kk, fit in part.items()}
    if plan.reuse_main:
        fits[k] = kmeans
    missing = [kk for kk in plan.k_values if kk not in fits]
    if missing:
        raise ValueError(f"engagement_tables: no elbow fit for k = {missing}")
    elbow, chosen_k = elbow_table(plan.k_values, [float(fits[kk].inertia_)
                                                  for kk in plan.k_values])
    if chosen_k == k:
        best, best_labels = model, labels
    else:
        # the elbow's fit with the main model's scaler: its z-scores are the elbow's
        best = Pipeline([("scaler", copy.deepcopy(model.named_steps["scaler"])),
                         ("kmeans", fits[chosen_k])])
        best_labels = predict_labels(best, X)

    silhouette = model_silhouette(model, X, labels, params.random_state)
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
        "inertia": float(kmeans.inertia_),
        "silhouette": silhouette,
        "chosen_k": float(chosen_k),
        "fit_rows": float(kmeans.n_fit_rows_),
        "elbow_fit_rows": float(plan.n_rows),
        **{f"users_cluster_{c}": float(n) for c, n in zip(clusters["cluster"], clusters["users"])},
    }
    log.info(
        "engagement: %d users, k=%d, knee at k=%d, cluster sizes %s",
        n, k, chosen_k, clusters["users"].tolist(),
    )
    return AnalysisResult(
        tables=tables,
        models={"engagement": model, "engagement_best_k": best},
        metrics=metrics,
        sampling={
            "engagement_kmeans": bool(kmeans.fitted_on_sample_),
            "engagement_elbow": plan.on_sample,
            "engagement_elbow_restarts": plan.restarts,
        },
        facts={"engagement_chosen_k": chosen_k,
               **_merged(kmeans_facts("engagement", kmeans),
                         elbow_facts("engagement_elbow", {kk: fits[kk] for kk in plan.k_values}))},
    )


def _merged(a: dict, b: dict) -> dict:
    """Two kmeans_fits records in one."""
    return {"kmeans_fits": {**a["kmeans_fits"], **b["kmeans_fits"]}}


def engagement_analysis(user_overview: pd.DataFrame, params: AnalysisParams) -> AnalysisResult:
    """Cluster users by engagement, rank the most engaged users per metric and per app, elbow:
    the three engagement nodes one after the other."""
    model = engagement_model(user_overview, params)
    elbow_fits = engagement_elbow_fits(user_overview, params)
    return engagement_tables(user_overview, model, [elbow_fits], params)
