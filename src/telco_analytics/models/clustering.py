"""Helpers of the clustering models: samples of rows, labels a chunk at a time, the knee.

The estimators themselves are `OrderedKMeans` (ordered_kmeans.py) and `DistanceToCluster`
(distance.py). Nothing here limits threads: the run's execution layer runs every fit under
its own OpenMP/BLAS limits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

# rows a model transforms at a time (predict_labels, DistanceToCluster): a chunk's scaled copy
# is small where the whole table's was n x d floats (1.7 GB at 72M users x 3 metrics)
PREDICT_CHUNK_ROWS = 1 << 21


def sample_rows(n: int, sample_size: int | None, random_state: int | None) -> np.ndarray | None:
    """Sorted positions of a uniform sample of `sample_size` of n rows, or None if n is small."""
    if sample_size is None or n <= sample_size:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=sample_size, replace=False))


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


def predict_labels(model: Any, X: pd.DataFrame) -> np.ndarray:
    """model.predict(X), a chunk of rows at a time, as label_dtype (int8 for k <= 128).

    model: a fitted clustering pipeline (scaler + OrderedKMeans). predict copies X into one
    float array and scales it into another: two n x d copies (3.4 GB at 72M users x 3
    metrics). Each row's label depends only on that row, so chunks give the same labels with
    a chunk's temporaries only.
    """
    k = model[-1].cluster_centers_.shape[0]
    labels = np.empty(len(X), dtype=label_dtype(k))
    for rows in row_chunks(len(X)):
        labels[rows] = model.predict(X.iloc[rows])
    return labels


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
    return float(silhouette_score(Z, labels))
