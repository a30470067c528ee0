"""Scaled k-means: one scikit-learn Pipeline (StandardScaler + KMeans), ordered labels, elbow, knee.

The fitted Pipeline is the object that is tracked, logged and served. Cluster numbers carry
business meaning (0 = least engaged / worst experience), so the analyses renumber the fitted
centroids with `order_clusters`; `predict` of the reordered pipeline then returns those labels.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

# k-means on a few columns is memory-bound: on this shared 2-core machine two OpenMP threads
# were 1.5-10x SLOWER than one as soon as another process competed for a core (OpenMP threads
# spin-wait for each other). KMeans remembers the thread count at fit time, so predict of the
# fitted (and served) pipeline stays single-threaded too.
KMEANS_THREADS = 1


@contextmanager
def kmeans_threads() -> Iterator[None]:
    """Limit OpenMP threads for k-means fits (see KMEANS_THREADS)."""
    with threadpool_limits(limits=KMEANS_THREADS):
        yield


def sample_rows(n: int, sample_size: int | None, random_state: int | None) -> np.ndarray | None:
    """Sorted positions of a uniform sample of `sample_size` of n rows, or None if n is small."""
    if sample_size is None or n <= sample_size:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=sample_size, replace=False))


def fit_kmeans_pipeline(
    X: pd.DataFrame,
    k: int,
    *,
    n_init: int,
    random_state: int,
    sample_size: int | None = None,
) -> Pipeline:
    """Fit StandardScaler (population std) + k-means++ on the users' metrics.

    X: one row per user, one float column per metric (raw units). When `sample_size` is given
    and X has more rows, scaler and k-means are both fitted on a uniform random sample of
    `sample_size` rows (seeded by `random_state`); every user is still labelled by `predict`.
    The pipeline records `fitted_on_sample_` (bool) and `n_fit_rows_` (int). It is fitted on a
    DataFrame, so `predict` expects a DataFrame with the same columns.
    """
    X = X.astype("float64")
    # sorted positions keep the sample in the caller's (canonical) row order
    rows = sample_rows(len(X), sample_size, random_state)
    fitted_on_sample = rows is not None
    if fitted_on_sample:
        X_fit = X.iloc[rows]
        log.info("k-means (k=%d) fitted on a sample of %d of %d rows", k, len(X_fit), len(X))
    else:
        X_fit = X
    pipeline = Pipeline(
        [
            ("scaler", StandardScaler()),
            (
                "kmeans",
                KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=random_state),
            ),
        ]
    )
    with kmeans_threads():
        pipeline.fit(X_fit)
    pipeline.fitted_on_sample_ = bool(fitted_on_sample)
    pipeline.n_fit_rows_ = len(X_fit)
    return pipeline


# rows a model transforms at a time (predict_labels, DistanceToCluster): a chunk's scaled copy
# is small where the whole table's was n x d floats (1.7 GB at 72M users x 3 metrics)
PREDICT_CHUNK_ROWS = 1 << 21


def row_chunks(n: int) -> Iterator[slice]:
    """Consecutive slices of PREDICT_CHUNK_ROWS rows (the last one shorter) covering n rows."""
    for start in range(0, n, PREDICT_CHUNK_ROWS):
        yield slice(start, min(start + PREDICT_CHUNK_ROWS, n))


def label_dtype(k: int) -> np.dtype:
    """The narrowest integer type for cluster labels 0..k-1: int8 up to 128 clusters (a label
    column of 72M users is 72 MB instead of 576 MB as int64)."""
    for dtype in (np.int8, np.int16, np.int32):
        if k - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def predict_labels(pipeline: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """pipeline.predict(X), a chunk of rows at a time, as label_dtype (int8 for k <= 128).

    predict copies X into one float array and scales it into another: two n x d copies (3.4
    GB at 72M users x 3 metrics). Each row's label depends only on that row, so chunks give
    the same labels with a chunk's temporaries only.
    """
    k = pipeline.named_steps["kmeans"].cluster_centers_.shape[0]
    labels = np.empty(len(X), dtype=label_dtype(k))
    with kmeans_threads():
        for start in range(0, len(X), PREDICT_CHUNK_ROWS):
            chunk = X.iloc[start:start + PREDICT_CHUNK_ROWS]
            labels[start:start + len(chunk)] = pipeline.predict(chunk)
    return labels


def order_clusters(pipeline: Pipeline, score: np.ndarray) -> Pipeline:
    """A copy of the pipeline whose clusters are renumbered by ascending score.

    score[i] is the score of the pipeline's current cluster i; ties keep the current order.
    The input pipeline is not modified. The copy records `cluster_order_` (new -> old label).
    """
    score = np.asarray(score, dtype="float64")
    kmeans = pipeline.named_steps["kmeans"]
    k = kmeans.cluster_centers_.shape[0]
    if score.shape != (k,):
        raise ValueError(f"order_clusters: expected {k} scores, got shape {score.shape}")
    # lexsort: last key is primary -> by score, then by current label
    order = np.lexsort((np.arange(k), score))  # order[new] = old
    new_of_old = np.empty(k, dtype=np.int64)
    new_of_old[order] = np.arange(k)
    ordered = copy.deepcopy(pipeline)
    km = ordered.named_steps["kmeans"]
    km.cluster_centers_ = km.cluster_centers_[order].copy()
    if hasattr(km, "labels_"):
        km.labels_ = new_of_old[km.labels_].astype(km.labels_.dtype)
    ordered.cluster_order_ = order
    return ordered


def centroids_z(pipeline: Pipeline) -> np.ndarray:
    """Cluster centroids (k x d) in the scaler's z-score space."""
    return np.asarray(pipeline.named_steps["kmeans"].cluster_centers_, dtype="float64")


def kmeans_fits(
    Z: np.ndarray, k_values: Sequence[int], *, n_init: int, random_state: int
) -> dict[int, KMeans]:
    """Fitted k-means++ models on already standardized data, one per k."""
    fits = {}
    with kmeans_threads():
        for k in k_values:
            fits[int(k)] = KMeans(
                n_clusters=int(k), init="k-means++", n_init=n_init, random_state=random_state
            ).fit(Z)
    return fits


def elbow_inertia(
    Z: np.ndarray, k_values: Sequence[int], *, n_init: int, random_state: int
) -> pd.DataFrame:
    """Within-cluster sum of squares (z-units squared) per k: columns k, inertia."""
    fits = kmeans_fits(Z, k_values, n_init=n_init, random_state=random_state)
    return pd.DataFrame(
        {
            "k": np.array(list(fits), dtype="int64"),
            "inertia": np.array([m.inertia_ for m in fits.values()], dtype="float64"),
        }
    )


def knee_k(k: Sequence[int], inertia: Sequence[float]) -> int:
    """The elbow's knee (SPEC rule 8): the k farthest from the chord of the inertia curve.

    The chord joins the first and last points (smallest and largest k) in raw (k, inertia)
    coordinates; ties go to the smallest k. For a fixed chord the perpendicular distance is the
    vertical distance times a constant (cos of the chord's angle), so the argmax is the same
    whichever of the two is used.
    """
    ks = np.asarray(k, dtype="float64")
    ys = np.asarray(inertia, dtype="float64")
    if ks.shape != ys.shape or ks.size == 0:
        raise ValueError("knee_k: k and inertia must be non-empty and of equal length")
    order = np.argsort(ks, kind="stable")
    ks, ys = ks[order], ys[order]
    if ks.size < 3:
        return int(ks[0])
    dx, dy = ks[-1] - ks[0], ys[-1] - ys[0]
    # |cross product| / chord length = perpendicular distance of each point to the chord
    distance = np.abs(dx * (ys - ys[0]) - dy * (ks - ks[0])) / np.hypot(dx, dy)
    return int(ks[int(np.argmax(distance))])  # argmax returns the first (smallest k) on ties


def silhouette_sample(
    Z: np.ndarray, labels: np.ndarray, *, max_rows: int, random_state: int
) -> float:
    """Mean silhouette (-1..1) on a fixed-seed sample of at most max_rows rows; NaN if undefined.

    The exact silhouette is quadratic in the number of users; a few thousand rows estimate it
    to about two decimals, which is what tracking needs.
    """
    labels = np.asarray(labels)
    n_labels = np.unique(labels).size
    if n_labels < 2 or n_labels >= len(labels):
        return float("nan")
    rows = sample_rows(len(labels), max_rows, random_state)
    if rows is not None:
        Z, labels = Z[rows], labels[rows]
        if not 2 <= np.unique(labels).size < len(labels):
            return float("nan")
    with kmeans_threads():  # pairwise distances use BLAS threads: same contention as k-means
        return float(silhouette_score(Z, labels))
