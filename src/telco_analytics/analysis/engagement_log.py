"""Engagement segments that mean something on heavy tails: beside the SPEC clustering (rule 8),
the same k-means on log-scaled metrics, and how stable both are across seeds.

On z-scores of heavy-tailed metrics k-means may spend a whole cluster on a handful of extreme
users (one user with 1,008 sessions), leaving one cluster with nearly everyone. On log1p of
the metrics the clusters follow the bulk of the users. The SPEC clustering stays the
reference; this one is an option (AnalysisParams.engagement_log_scale, in the manifest).

Stability: the clustering refitted with `stability_seeds` seeds (random_state, +1, ...) on one
uniform sample of at most `stability_sample_size` users; the adjusted Rand index between every
pair of seeds' labels (1 = the same partition, about 0 = no more alike than chance).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from .. import schema
from ..config import AnalysisParams
from ..models.clustering import predict_labels, sample_rows
from ..models.ordered_kmeans import CENTROID_MEAN, fit_scaled_kmeans, scaled_kmeans
from .clusters import fit_clustering
from .engagement import METRICS, engagement_clusters
from .users import canonical_order, require_columns

SPEC, LOG_SCALED = "spec", "log_scaled"
STABILITY_COLUMNS = ["clustering", "seeds", "users", "ari_mean", "ari_min",
                     "smallest_cluster_share_min", "smallest_cluster_share_max"]


def log_metrics(users: pd.DataFrame) -> pd.DataFrame:
    """The engagement metrics as log(1 + value), a column at a time."""
    return pd.DataFrame({m: np.log1p(users[m].to_numpy(dtype="float64")) for m in METRICS})


def _inputs(users: pd.DataFrame, clustering: str) -> pd.DataFrame:
    """The clustering's input: raw metrics (SPEC) or their log1p (log_scaled)."""
    if clustering == SPEC:
        return users[METRICS].astype("float64")
    return log_metrics(users)


def engagement_log_clusters(user_overview: pd.DataFrame, params: AnalysisParams
                            ) -> pd.DataFrame:
    """engagement_clusters of the k-means on log1p-scaled metrics (k = k_engagement, cluster 0
    the least engaged; per-cluster statistics in raw units, relative descriptions), learnt
    from a sample of log_scale_sample_size users beyond that many (every user assigned).
    Empty (same columns) when engagement_log_scale is off."""
    require_columns(user_overview, [schema.USER_KEY, *METRICS], "user_overview")
    users = canonical_order(user_overview)
    k = params.k_engagement
    if not params.engagement_log_scale:
        return engagement_clusters(users.iloc[:0], np.zeros(0, dtype=int), k).iloc[:0]
    X = log_metrics(users)
    sampled = replace(params, kmeans_sample_threshold=params.log_scale_sample_size,
                      kmeans_sample_size=params.log_scale_sample_size)
    model = fit_clustering(X, k, CENTROID_MEAN, sampled)
    labels = predict_labels(model, X)
    del X
    return engagement_clusters(users, labels, k)


def engagement_stability(user_overview: pd.DataFrame, params: AnalysisParams) -> pd.DataFrame:
    """Per clustering (spec, and log_scaled when the option is on): seeds, users (the sample),
    ari_mean and ari_min over every pair of seeds, and the smallest cluster's share of users
    (min and max over the seeds)."""
    users = canonical_order(user_overview)
    rows = sample_rows(len(users), params.stability_sample_size, params.random_state)
    sample = users if rows is None else users.iloc[rows]
    kinds = [SPEC, LOG_SCALED] if params.engagement_log_scale else [SPEC]
    out = []
    for kind in kinds:
        X = _inputs(sample, kind)
        labelings = []
        for i in range(params.stability_seeds):
            model = scaled_kmeans(params.k_engagement, order=CENTROID_MEAN,
                                  n_init=params.kmeans_n_init, random_state=params.random_state + i)
            labelings.append(fit_scaled_kmeans(model, X).predict(X))
        ari = [adjusted_rand_score(a, b) for a, b in combinations(labelings, 2)]
        smallest = [np.bincount(labels, minlength=params.k_engagement).min() / len(X)
                    for labels in labelings]
        out.append({"clustering": kind, "seeds": params.stability_seeds, "users": len(X),
                    "ari_mean": float(np.mean(ari)), "ari_min": float(np.min(ari)),
                    "smallest_cluster_share_min": float(min(smallest)),
                    "smallest_cluster_share_max": float(max(smallest))})
    return pd.DataFrame(out, columns=STABILITY_COLUMNS)
