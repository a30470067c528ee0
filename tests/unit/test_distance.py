"""DistanceToCluster (SPEC rule 10): distance in a clustering's z-space to a reference centroid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from telco_analytics.models.distance import DistanceToCluster
from telco_analytics.models.ordered_kmeans import OrderedKMeans, scaled_kmeans

COLUMNS = ["a", "b", "c"]


def _hand_pipeline(center0: list[float]) -> Pipeline:
    """Scaler with mean 1 and std 1 in every column (fitted on rows of 0s and 2s), k-means
    whose cluster 0 sits at `center0` in z-space."""
    scaler = StandardScaler().fit(pd.DataFrame([[0.0] * 3, [2.0] * 3], columns=COLUMNS))
    kmeans = KMeans(n_clusters=2)
    kmeans.cluster_centers_ = np.array([center0, [9.0, 9.0, 9.0]])
    return Pipeline([("scaler", scaler), ("kmeans", kmeans)])


def _users(n: int = 1_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.gamma(2.0, 3.0, n), "b": rng.lognormal(10, 1, n),
                         "c": rng.integers(1, 20, n).astype("float64")})


def _column_by_column(X: pd.DataFrame, model: Pipeline, cluster: int = 0) -> np.ndarray:
    """The scores as the analyses computed them before the transformer: per column
    (x - mean) / scale - centre, squared, summed left to right, square root."""
    scaler = model.named_steps["scaler"]
    centre = model.named_steps["kmeans"].cluster_centers_[cluster]
    total = None
    for j, column in enumerate(COLUMNS):
        z = X[column].to_numpy(dtype="float64") - scaler.mean_[j]
        z /= scaler.scale_[j]
        z -= centre[j]
        z *= z
        total = z if total is None else total + z
    return np.sqrt(total)


def test_distance_by_hand():
    users = pd.DataFrame({"a": [4.0, 1.0], "b": [1.0, 1.0], "c": [1.0, 1.0]})
    # z = (x - 1) / 1: user 0 -> (3, 0, 0), distance to (0, 0, -4) = sqrt(9 + 16) = 5;
    # user 1 -> (0, 0, 0), distance 4; to cluster 1 at (9, 9, 9): sqrt(36 + 81 + 81), sqrt(243)
    frozen = FrozenEstimator(_hand_pipeline([0.0, 0.0, -4.0]))
    np.testing.assert_allclose(DistanceToCluster(frozen).fit_transform(users), [[5.0], [4.0]])
    np.testing.assert_allclose(DistanceToCluster(frozen, cluster=1).fit_transform(users),
                               [[np.sqrt(198)], [np.sqrt(243)]])


def test_equals_the_column_by_column_scores_bit_for_bit(monkeypatch):
    from telco_analytics.models import clustering

    X = _users()
    model = scaled_kmeans(3, order="centroid_mean", n_init=3, random_state=0).fit(X)
    expected = _column_by_column(X, model)
    got = DistanceToCluster(FrozenEstimator(model)).fit(X).transform(X)
    assert got.shape == (len(X), 1) and got.dtype == np.float64
    np.testing.assert_array_equal(got[:, 0], expected)
    # a chunk of rows at a time: the same numbers (7 chunks, the last partial)
    monkeypatch.setattr(clustering, "PREDICT_CHUNK_ROWS", 150)
    np.testing.assert_array_equal(DistanceToCluster(FrozenEstimator(model)).fit(X).transform(X),
                                  got)


def test_frozen_model_is_used_as_is_and_an_unfitted_one_is_fitted_on_a_clone():
    X = _users(300)
    fitted = scaled_kmeans(3, order="centroid_mean", n_init=2, random_state=0).fit(X)
    frozen = DistanceToCluster(FrozenEstimator(fitted)).fit(X.iloc[:10])  # not refitted
    assert frozen.clustering_.estimator is fitted
    unfitted = scaled_kmeans(3, order="centroid_mean", n_init=2, random_state=0)
    fresh = DistanceToCluster(unfitted).fit(X)
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(unfitted)  # the parameter is never fitted itself
    np.testing.assert_array_equal(fresh.transform(X), frozen.transform(X))
    assert list(fresh.feature_names_in_) == COLUMNS and fresh.n_features_in_ == 3


def test_bare_clusterer_measures_in_its_input_space():
    Z = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0], [11.0, 10.0]])
    clusterer = OrderedKMeans(2, n_init=1, random_state=0).fit(Z)
    centre = clusterer.cluster_centers_[0]  # the lower one: mean of rows 0 and 1, (1.5, 2)
    np.testing.assert_allclose(centre, [1.5, 2.0])
    got = DistanceToCluster(FrozenEstimator(clusterer)).fit(Z).transform(Z)
    np.testing.assert_allclose(got[:, 0], np.linalg.norm(Z - centre, axis=1))


def test_pandas_output_and_feature_name():
    X = _users(200)
    model = DistanceToCluster(scaled_kmeans(2, order="centroid_mean", n_init=1,
                                            random_state=0)).fit(X)
    assert model.get_feature_names_out().tolist() == ["distance_to_cluster_0"]
    out = model.set_output(transform="pandas").transform(X)
    assert list(out.columns) == ["distance_to_cluster_0"] and out.index.equals(X.index)


def test_bad_reference_cluster_and_missing_values_are_refused():
    X = _users(100)
    frozen = FrozenEstimator(scaled_kmeans(2, order="centroid_mean", n_init=1,
                                           random_state=0).fit(X))
    with pytest.raises(ValueError, match="cluster must be"):
        DistanceToCluster(frozen, cluster=2).fit(X)
    missing = X.copy()
    missing.loc[5, "b"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DistanceToCluster(frozen).fit(X).transform(missing)
