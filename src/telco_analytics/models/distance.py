"""Distance to a reference cluster (SPEC rule 10): how far a user is from the 'bad' cluster.

engagement_score is the Euclidean distance, in the engagement z-space, from a user to the
centroid of engagement cluster 0 (least engaged); experience_score the same in the experience
z-space to cluster 0 (worst experience).
"""

from __future__ import annotations

import numbers
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .clustering import row_chunks
from .ordered_kmeans import OrderedKMeans


class DistanceToCluster(TransformerMixin, BaseEstimator):
    """Per row, the Euclidean distance in a clustering's own space to one of its centroids.

    Parameters
    ----------
    clustering : the clustering model: a Pipeline whose last step has `cluster_centers_`
        (the steps before it, e.g. the scaler, map a row into the centroids' space) or a bare
        clusterer (the rows are in its space already). `fit` fits a clone of it; wrap an
        already fitted one in `sklearn.frozen.FrozenEstimator` to use it as it is. None: a
        StandardScaler + OrderedKMeans pipeline.
    cluster : the reference cluster (0: least engaged / worst experience).

    The output is one column, `distance_to_cluster_<cluster>` (the units of that space:
    z-units for a scaler + k-means pipeline). Rows are transformed a chunk at a time
    (clustering.PREDICT_CHUNK_ROWS), so the scaled copy of tens of millions of rows is never
    held; the squared differences are summed feature by feature, left to right.
    """

    def __init__(self, clustering: Any = None, cluster: int = 0) -> None:
        self.clustering = clustering
        self.cluster = cluster

    def fit(self, X: Any, y: Any = None) -> Self:
        """Fit (a clone of) the clustering; a frozen one is kept as it is."""
        model = self.clustering if self.clustering is not None else _default_clustering()
        self.clustering_ = clone(model).fit(X, y)
        k = len(self._centroids())
        if not isinstance(self.cluster, numbers.Integral) or not 0 <= self.cluster < k:
            raise ValueError(f"cluster must be an integer in [0, {k - 1}], got {self.cluster!r}")
        self.n_features_in_ = self.clustering_.n_features_in_
        names = getattr(self.clustering_, "feature_names_in_", None)
        if names is not None:
            self.feature_names_in_ = names
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Distances, shape (rows, 1)."""
        check_is_fitted(self)
        if not isinstance(X, pd.DataFrame | np.ndarray):
            X = check_array(X, dtype=np.float64)  # lists and other array-likes: sliceable
        centre = self._centroids()[self.cluster].astype(np.float64)
        out = np.empty((X.shape[0], 1), dtype=np.float64)
        for rows in row_chunks(len(out)):
            chunk = X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]
            z = np.asarray(self._to_space(chunk), dtype=np.float64)
            assert_all_finite(z)  # a missing value has no distance (the scaler lets NaN by)
            total = out[rows, 0]
            np.subtract(z[:, 0], centre[0], out=total)
            total *= total
            for j in range(1, z.shape[1]):
                diff = z[:, j] - centre[j]
                diff *= diff
                total += diff
            np.sqrt(total, out=total)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self)
        return np.asarray([f"distance_to_cluster_{self.cluster}"], dtype=object)

    def _to_space(self, chunk: Any) -> Any:
        """Rows mapped into the centroids' space by the clustering's own fitted steps."""
        if _is_pipeline(self.clustering_):
            return self.clustering_[:-1].transform(chunk)
        return validate_data(self, chunk, reset=False, dtype=np.float64)

    def _centroids(self) -> np.ndarray:
        model = self.clustering_
        return (model[-1] if _is_pipeline(model) else model).cluster_centers_


def _is_pipeline(model: Any) -> bool:
    """A Pipeline, frozen or not (FrozenEstimator hands `steps` and `[...]` through)."""
    return hasattr(model, "steps")


def _default_clustering() -> Pipeline:
    return Pipeline([("scaler", StandardScaler()), ("kmeans", OrderedKMeans())])
