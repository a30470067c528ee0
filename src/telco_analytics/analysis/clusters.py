"""The clustering model of an analysis: which users it learns from, its fit, its silhouette."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ..config import AnalysisParams
from ..models.clustering import sample_rows, silhouette_sample
from ..models.ordered_kmeans import OrderedKMeans, fit_scaled_kmeans, scaled_kmeans

# The silhouette is quadratic in users; a fixed-seed sample this size keeps it under ~0.1 s.
SILHOUETTE_ROWS = 3_000


def kmeans_sample_size(n_users: int, params: AnalysisParams) -> int | None:
    """Users k-means learns from: None (all) up to the threshold, else the configured sample."""
    return params.kmeans_sample_size if n_users > params.kmeans_sample_threshold else None


def fit_clustering(X: pd.DataFrame, k: int, order: str | Sequence[float],
                   params: AnalysisParams, y: pd.Series | None = None) -> Pipeline:
    """The fitted scaler + ordered k-means of X (one row per user, raw units; SPEC rules 8-10).

    The scaler sees every user (SPEC z-scores are over all users); beyond the threshold
    k-means learns from a uniform sample of them (see kmeans_sample_size), and only those
    users are scaled (fit_scaled_kmeans: model.fit(X, y), bit for bit, without a scaled copy
    of every user). Beyond kmeans_restart_sample_size of those users, the restarts run on a
    weighted sample and the best are refined on all of them (models/kmeans_fit.py). y: the
    values the 'target_mean' order needs.
    """
    model = scaled_kmeans(k, order=order, n_init=params.kmeans_n_init,
                          random_state=params.random_state,
                          sample_size=kmeans_sample_size(len(X), params),
                          **restart_params(params))
    return fit_scaled_kmeans(model, X, y)


def restart_params(params: AnalysisParams) -> dict[str, int]:
    """OrderedKMeans' parameters of where its restarts run (every k-means of the run)."""
    return {"restart_sample_size": params.kmeans_restart_sample_size,
            "refine": params.kmeans_refine}


def kmeans_facts(name: str, kmeans: OrderedKMeans) -> dict[str, Any]:
    """The manifest's record of how a clustering's k-means was fitted, under kmeans_fits."""
    return {"kmeans_fits": {name: {**kmeans.fit_facts_, "seed": _plain(kmeans.random_state)}}}


def elbow_facts(name: str, fits: Mapping[int, OrderedKMeans]) -> dict[str, Any]:
    """kmeans_facts of an elbow curve: the method once, the iterations per k."""
    ks = sorted(fits)
    first = fits[ks[0]]
    summary = {key: value for key, value in first.fit_facts_.items()
               if key not in ("refine_iterations", "iterations", "refined")}
    return {"kmeans_fits": {name: {
        **summary, "seed": _plain(first.random_state), "k": ks,
        "refined": [int(fits[k].fit_facts_["refined"]) for k in ks],
        "iterations": [int(fits[k].fit_facts_["iterations"]) for k in ks],
    }}}


def _plain(seed: Any) -> Any:
    """A seed as the manifest can hold it (an int or None; a RandomState object by name)."""
    return seed if seed is None or isinstance(seed, int) else type(seed).__name__


def model_silhouette(model: Pipeline, X: pd.DataFrame, labels: np.ndarray,
                     random_state: int) -> float:
    """Mean silhouette of the labels in the model's z-space, on a sample of SILHOUETTE_ROWS
    users: only those users' z-scores are computed."""
    rows = sample_rows(len(X), SILHOUETTE_ROWS, random_state)
    rows = np.arange(len(X)) if rows is None else rows
    z = np.ascontiguousarray(model[:-1].transform(X.iloc[rows]))
    return silhouette_sample(z, labels[rows], max_rows=SILHOUETTE_ROWS, random_state=random_state)
