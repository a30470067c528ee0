"""k-means whose cluster numbers mean something: 0 = least engaged, worst experience, ...

SPEC rules 8-10 give cluster numbers a business meaning, so the clusters k-means finds are
renumbered by a rule named in the `order` parameter (a constructor parameter: `clone` and
`get_params` keep it). `scaled_kmeans` builds the scaler + ordered k-means pipeline that the
analyses fit, track and serve; `fit_scaled_kmeans` fits it as Pipeline.fit does, without a
scaled copy of every row.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    clone,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing, assert_all_finite, check_random_state
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from .clustering import sample_rows
from .kmeans_fit import fit_kmeans
from .scaler import fit_scaler

# order rules by name (a sequence of per-feature weights is the third kind)
CENTROID_MEAN = "centroid_mean"  # ascending mean of the centroid's coordinates (rule 8)
TARGET_MEAN = "target_mean"  # ascending mean of y over the cluster's members (rule 10)
ORDER_RULES = (CENTROID_MEAN, TARGET_MEAN)
FLOAT_DTYPES = [np.float64, np.float32]  # what k-means is fitted on (others become float64)


class OrderedKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
                    BaseEstimator):
    """k-means++ (scikit-learn's KMeans inside) with clusters renumbered by a rule.

    Parameters
    ----------
    n_clusters : number of clusters.
    order : how clusters are numbered, ascending (ties keep k-means' own order):
        "centroid_mean": by the mean of the centroid's coordinates (cluster 0 lowest; SPEC
        rule 8 on z-scores: the least engaged);
        a sequence of one weight per feature: by the weighted sum of the centroid's
        coordinates (SPEC rule 9 on z-scores of (tcp, rtt, throughput): weights (-1, -1, 1)
        make cluster 0 the one with the largest z_tcp + z_rtt - z_throughput);
        "target_mean": by the mean of y over the cluster's members among the rows k-means
        is fitted on, as predict labels them (fit needs y; SPEC rule 10: y = each user's
        satisfaction score, so cluster k-1 is the most satisfied).
    n_init, random_state : as KMeans (k-means++ restarts; seed of the restarts and sample).
    sample_size : when X has more rows, k-means is fitted on a uniform sample of this many
        rows (sorted positions drawn as `clustering.sample_rows`); every row is still
        labelled by `predict`.
    restart_sample_size, refine : when k-means is fitted on more rows than
        restart_sample_size, its n_init restarts run on a weighted sample of that many of them
        and the `refine` best are refined on all of them (kmeans_fit.fit_kmeans); None: every
        restart on every row (scikit-learn's KMeans(n_init), as is).

    Attributes
    ----------
    cluster_centers_ : centroids in the new order (k x features).
    labels_ : label of each row k-means was fitted on (the sample when fitted_on_sample_:
        a label per user of tens of millions of users is not kept in the model).
    inertia_, n_iter_ : of the fit (on those rows).
    cluster_order_ : cluster_order_[new] = k-means' own number of that cluster.
    fitted_on_sample_ : bool; n_fit_rows_ : rows k-means was fitted on.
    kmeans_ : the fitted KMeans, in its own numbering.
    fit_facts_ : how k-means was fitted (method, restarts, rows of the restarts, restarts
        refined and their iterations): plain values for the run's manifest.
    """

    def __init__(self, n_clusters: int = 8, *, order: str | Sequence[float] = CENTROID_MEAN,
                 n_init: int | str = 10, random_state: Any = None,
                 sample_size: int | None = None, restart_sample_size: int | None = None,
                 refine: int = 2) -> None:
        self.n_clusters = n_clusters
        self.order = order
        self.n_init = n_init
        self.random_state = random_state
        self.sample_size = sample_size
        self.restart_sample_size = restart_sample_size
        self.refine = refine

    def fit(self, X: Any, y: Any = None) -> Self:
        """Fit k-means (on a sample beyond sample_size rows) and number its clusters by `order`."""
        X = validate_data(self, X, dtype=FLOAT_DTYPES)
        self._check_params(X.shape[1])
        y = self._checked_target(X, y)
        rows = self._drawn_rows(X.shape[0])
        return self._fit_drawn(X if rows is None else X[rows], _drawn(y, rows),
                               on_sample=rows is not None)

    def _fit_scaled(self, scaler: StandardScaler, X: Any, y: Any = None) -> Self:
        """fit(scaler.transform(X), y) with only the rows k-means is fitted on scaled.

        scaler: a StandardScaler fitted on X (it counts X's values that are not missing, so
        a missing value is found without a scan). fit's checks in fit's order, a missing
        value refused wherever it is, but the scaled X, all of it, is never held.
        """
        n_rows = X.shape[0]
        if np.any(np.asarray(scaler.n_samples_seen_) < n_rows):
            _refuse_missing(X, type(self).__name__)
        self._check_params(scaler.n_features_in_)
        y = self._checked_target(X, y)
        rows = self._drawn_rows(n_rows)
        Z = scaler.transform(X if rows is None else _safe_indexing(X, rows))
        Z = validate_data(self, Z, dtype=FLOAT_DTYPES)
        return self._fit_drawn(Z, _drawn(y, rows), on_sample=rows is not None)

    def _drawn_rows(self, n_rows: int) -> np.ndarray | None:
        """Sorted positions of the rows k-means is fitted on (None: every row)."""
        return sample_rows(n_rows, self.sample_size, _seed(self.random_state))

    def _fit_drawn(self, X: np.ndarray, y: np.ndarray | None, *, on_sample: bool) -> Self:
        """Fit k-means on the drawn rows X (checked) and number its clusters by `order`."""
        fit = fit_kmeans(X, self.n_clusters, n_init=self.n_init, random_state=self.random_state,
                         restart_rows=self.restart_sample_size, refine=self.refine)
        self.kmeans_ = fit.kmeans
        self.fit_facts_ = fit.facts()
        order = _ascending(self._scores(X, y))
        self.cluster_order_ = order
        self.cluster_centers_ = self.kmeans_.cluster_centers_[order]
        self.labels_ = np.argsort(order).astype(self.kmeans_.labels_.dtype)[self.kmeans_.labels_]
        self.inertia_ = self.kmeans_.inertia_
        self.n_iter_ = self.kmeans_.n_iter_
        self.fitted_on_sample_ = on_sample
        self.n_fit_rows_ = int(X.shape[0])
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """fit(X, y).labels_ (y reaches fit, which the 'target_mean' order needs)."""
        return self.fit(X, y).labels_

    def predict(self, X: Any) -> np.ndarray:
        """The ordered cluster of each row (nearest centroid)."""
        X = self._checked(X)
        new_of_old = np.argsort(self.cluster_order_).astype(np.int32)
        return new_of_old[self.kmeans_.predict(X)]

    def transform(self, X: Any) -> np.ndarray:
        """Distance of each row to each centroid, columns in the new cluster order."""
        X = self._checked(X)
        return self.kmeans_.transform(X)[:, self.cluster_order_]

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of the within-cluster sum of squares of X (the numbering does not matter)."""
        X = self._checked(X)
        return self.kmeans_.score(X)

    @property
    def _n_features_out(self) -> int:
        return self.cluster_centers_.shape[0]

    def _checked(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)

    def _checked_target(self, X: np.ndarray, y: Any) -> np.ndarray | None:
        """y as floats when the order needs it (else None: y is ignored)."""
        if self._rule() != TARGET_MEAN:
            return None
        if y is None:
            raise ValueError("OrderedKMeans(order='target_mean') needs y: the value whose "
                             "mean over a cluster's members orders the clusters")
        y = check_array(y, ensure_2d=False, dtype=np.float64)
        check_consistent_length(X, y)
        return y

    def _rule(self) -> str | None:
        """The order rule's name, None for per-feature weights."""
        return self.order if isinstance(self.order, str) else None

    def _check_params(self, n_features: int) -> None:
        if not isinstance(self.n_clusters, numbers.Integral) or self.n_clusters < 1:
            raise ValueError(f"n_clusters must be an integer >= 1, got {self.n_clusters!r}")
        if self.sample_size is not None and (
            not isinstance(self.sample_size, numbers.Integral) or self.sample_size < 1
        ):
            raise ValueError(f"sample_size must be None or an integer >= 1, "
                             f"got {self.sample_size!r}")
        if self.restart_sample_size is not None and (
            not isinstance(self.restart_sample_size, numbers.Integral)
            or self.restart_sample_size < self.n_clusters
        ):
            raise ValueError(f"restart_sample_size must be None or an integer >= n_clusters "
                             f"({self.n_clusters}), got {self.restart_sample_size!r}")
        if not isinstance(self.refine, numbers.Integral) or self.refine < 1:
            raise ValueError(f"refine must be an integer >= 1, got {self.refine!r}")
        if isinstance(self.order, str):
            if self.order not in ORDER_RULES:
                raise ValueError(f"order must be one of {ORDER_RULES} or one weight per "
                                 f"feature, got {self.order!r}")
        elif np.shape(self.order) != (n_features,):
            raise ValueError(f"order: expected {n_features} weights (one per feature), "
                             f"got {self.order!r}")

    def _scores(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """Per k-means cluster, the number whose ascending order numbers the clusters."""
        centers = self.kmeans_.cluster_centers_
        if self._rule() == CENTROID_MEAN:
            return centers.mean(axis=1)
        if self._rule() == TARGET_MEAN:
            # the members as predict labels them (as every user is labelled), not labels_:
            # k-means computes those on its own centred copy of X, which can put a point on
            # the boundary on the other side by a rounding
            members = self.kmeans_.predict(X)
            sums = np.bincount(members, weights=y, minlength=self.n_clusters)
            counts = np.bincount(members, minlength=self.n_clusters)
            # an empty cluster (k-means relocates them: in principle only) sorts first
            return np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
        return centers @ np.asarray(self.order, dtype=np.float64)


def _ascending(score: np.ndarray) -> np.ndarray:
    """order[new] = old: clusters by ascending score, ties by their current number."""
    return np.lexsort((np.arange(len(score)), score))


def _drawn(y: np.ndarray | None, rows: np.ndarray | None) -> np.ndarray | None:
    """The values of y at the drawn rows (y itself when every row is drawn)."""
    return y if y is None or rows is None else _safe_indexing(y, rows)


def _refuse_missing(X: Any, estimator: str) -> None:
    """Raise the error fit raises for a missing value in its input (scaling keeps a missing
    value missing): the first column holding one is checked as fit checks its whole input."""
    for j in range(X.shape[1]):
        column = _safe_indexing(X, j, axis=1)
        assert_all_finite(np.asarray(column, dtype=np.float64), estimator_name=estimator,
                          input_name="X")


def _seed(random_state: Any) -> int | None:
    """The seed of the row sample: the int (or None) itself, or one drawn from a RandomState."""
    if random_state is None or isinstance(random_state, numbers.Integral):
        return random_state
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def scaled_kmeans(n_clusters: int, *, order: str | Sequence[float], n_init: int,
                  random_state: int, sample_size: int | None = None,
                  restart_sample_size: int | None = None, refine: int = 2) -> Pipeline:
    """The unfitted clustering model: StandardScaler (population std, SPEC rules 8-10) then
    OrderedKMeans. The scaler always sees every row; only k-means fits on a sample."""
    return Pipeline([
        ("scaler", StandardScaler()),
        ("kmeans", OrderedKMeans(n_clusters, order=order, n_init=n_init,
                                 random_state=random_state, sample_size=sample_size,
                                 restart_sample_size=restart_sample_size, refine=refine)),
    ])


def fit_scaled_kmeans(model: Pipeline, X: Any, y: Any = None) -> Pipeline:
    """model.fit(X, y) for a StandardScaler + OrderedKMeans pipeline (scaled_kmeans), without
    a scaled copy of every row: the same fitted attributes, bit for bit.

    Pipeline.fit scales all of X (n x d floats, besides the scaler's own temporaries) before
    OrderedKMeans draws the rows it is fitted on: 1.7 GB at 72M users x 3 metrics. Here the
    scaler is fitted a column at a time (scaler.fit_scaler) and only the drawn rows are
    scaled. Returns a clone of model (same parameters) holding the fitted steps.
    """
    (scaler_name, scaler), (kmeans_name, kmeans) = _scaler_and_kmeans(model)
    if not isinstance(X, pd.DataFrame | np.ndarray):
        X = np.asarray(X)  # lists and other array-likes: indexable by rows and columns
    scaler = fit_scaler(scaler, X)
    kmeans = clone(kmeans)._fit_scaled(scaler, X, y)
    return clone(model).set_params(**{scaler_name: scaler, kmeans_name: kmeans})


def _scaler_and_kmeans(model: Pipeline) -> list[tuple[str, Any]]:
    """The (name, step) pairs of a StandardScaler + OrderedKMeans pipeline (TypeError else)."""
    steps = getattr(model, "steps", None)
    if (not isinstance(model, Pipeline) or len(steps) != 2
            or not isinstance(steps[0][1], StandardScaler)
            or not isinstance(steps[1][1], OrderedKMeans)):
        raise TypeError("fit_scaled_kmeans fits a Pipeline of a StandardScaler then an "
                        f"OrderedKMeans, got {model!r}")
    return steps
