"""OrderedKMeans: k-means++ with SPEC cluster numbers (rules 8-10) and the scaled pipeline."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from telco_analytics.models.clustering import sample_rows
from telco_analytics.models.distance import DistanceToCluster
from telco_analytics.models.ordered_kmeans import OrderedKMeans, fit_scaled_kmeans, scaled_kmeans
from tests.unit.cluster_data import blobs


def _z(X: pd.DataFrame) -> np.ndarray:
    return StandardScaler().fit_transform(X.to_numpy())


def test_pipeline_equals_plain_scaler_plus_kmeans_renumbered():
    X = blobs()
    pipe = scaled_kmeans(3, order="centroid_mean", n_init=10, random_state=7).fit(X)
    ref = KMeans(n_clusters=3, init="k-means++", n_init=10, random_state=7).fit(_z(X))
    order = np.argsort(ref.cluster_centers_.mean(axis=1))  # cluster 0 = lowest z-mean
    kmeans = pipe.named_steps["kmeans"]
    np.testing.assert_array_equal(kmeans.cluster_centers_, ref.cluster_centers_[order])
    np.testing.assert_array_equal(kmeans.cluster_order_, order)
    new_of_old = np.argsort(order)
    np.testing.assert_array_equal(pipe.predict(X), new_of_old[ref.labels_])
    np.testing.assert_array_equal(kmeans.labels_, new_of_old[ref.labels_])
    assert kmeans.inertia_ == ref.inertia_
    assert kmeans.fitted_on_sample_ is False
    assert kmeans.n_fit_rows_ == len(X)
    # population std, as SPEC rule 8 says
    np.testing.assert_allclose(pipe.named_steps["scaler"].scale_, X.std(ddof=0).to_numpy())
    # blobs in raw order low, mid, high: the first block is cluster 0, the last cluster 2
    assert set(pipe.predict(X)[:60]) == {0} and set(pipe.predict(X)[120:]) == {2}


def test_transform_is_the_distance_to_each_ordered_centre():
    Z = _z(blobs(n_per=20))
    model = OrderedKMeans(3, n_init=2, random_state=0).fit(Z)
    distances = model.transform(Z)
    expected = np.linalg.norm(Z[:, None, :] - model.cluster_centers_[None, :, :], axis=2)
    np.testing.assert_allclose(distances, expected, atol=1e-12)
    np.testing.assert_array_equal(model.predict(Z), distances.argmin(axis=1))
    assert model.score(Z) == pytest.approx(-model.inertia_)


def test_sampled_fit_scales_on_every_row_and_clusters_a_sample():
    X = blobs(n_per=100)
    pipe = scaled_kmeans(3, order="centroid_mean", n_init=3, random_state=1,
                         sample_size=50).fit(X)
    kmeans = pipe.named_steps["kmeans"]
    assert kmeans.fitted_on_sample_ is True
    assert kmeans.n_fit_rows_ == 50 and len(kmeans.labels_) == 50
    # the scaler saw every row (SPEC z-scores are over all users) ...
    np.testing.assert_allclose(pipe.named_steps["scaler"].mean_, X.mean().to_numpy())
    # ... k-means exactly the sampled rows of their z-scores (sample_rows: sorted positions)
    rows = np.sort(np.random.default_rng(1).choice(300, size=50, replace=False))
    np.testing.assert_array_equal(rows, sample_rows(300, 50, 1))
    ref = KMeans(n_clusters=3, n_init=3, random_state=1).fit(_z(X)[rows])
    np.testing.assert_array_equal(kmeans.kmeans_.cluster_centers_, ref.cluster_centers_)
    labels = pipe.predict(X)
    assert labels.shape == (300,)
    # well-separated groups: every group gets one label even though only 50 rows were fitted
    for g in range(3):
        assert len(set(labels[g * 100 : (g + 1) * 100])) == 1


def test_no_sampling_when_data_not_larger_than_sample_size():
    Z = _z(blobs(n_per=10))
    model = OrderedKMeans(3, n_init=2, random_state=0, sample_size=30).fit(Z)
    assert model.fitted_on_sample_ is False
    assert model.n_fit_rows_ == 30


def test_weights_order_puts_the_largest_weighted_centroid_last():
    X = blobs()
    # weight -1 on "a": ascending -a, so the block with the largest raw "a" is cluster 0
    pipe = scaled_kmeans(3, order=(-1.0, 0.0, 0.0), n_init=5, random_state=3).fit(X)
    labels = pipe.predict(X)
    assert set(labels[:60]) == {2} and set(labels[60:120]) == {1} and set(labels[120:]) == {0}
    centres = pipe.named_steps["kmeans"].cluster_centers_
    assert list(centres[:, 0]) == sorted(centres[:, 0], reverse=True)


def test_target_mean_order_and_ties_keep_kmeans_own_order():
    Z = _z(blobs(n_per=20))
    plain = OrderedKMeans(3, order="target_mean", n_init=2, random_state=0).fit(
        Z, np.zeros(len(Z)))
    # every mean ties: k-means' own numbering
    np.testing.assert_array_equal(plain.cluster_order_, [0, 1, 2])
    own = plain.kmeans_.labels_
    # members' means 5, 1, 5 (k-means' clusters 0, 1, 2): old 1 first, then the tied 0 before 2
    y = np.array([5.0, 1.0, 5.0])[own]
    ordered = OrderedKMeans(3, order="target_mean", n_init=2, random_state=0).fit(Z, y)
    np.testing.assert_array_equal(ordered.cluster_order_, [1, 0, 2])
    np.testing.assert_array_equal(ordered.cluster_centers_, plain.cluster_centers_[[1, 0, 2]])
    np.testing.assert_array_equal(ordered.labels_, np.array([1, 0, 2])[own])
    np.testing.assert_array_equal(ordered.predict(Z), ordered.labels_)
    assert ordered.fit_predict(Z, y).tolist() == ordered.labels_.tolist()


def test_order_is_a_plain_parameter_kept_by_clone():
    model = OrderedKMeans(4, order=(1.0, -1.0), n_init=3, random_state=5, sample_size=100)
    assert clone(model).get_params() == model.get_params()
    assert model.get_params()["order"] == (1.0, -1.0)


@pytest.mark.parametrize(
    ("model", "y", "message"),
    [
        (OrderedKMeans(3, order=(1.0, 2.0)), None, "expected 3 weights"),
        (OrderedKMeans(3, order="largest"), None, "order must be one of"),
        (OrderedKMeans(3, order="target_mean"), None, "needs y"),
        (OrderedKMeans(3, sample_size=0), None, "sample_size"),
    ],
)
def test_bad_parameters_are_refused_at_fit(model, y, message):
    with pytest.raises(ValueError, match=message):
        model.fit(_z(blobs(n_per=10)), y)


def test_k1_inertia_of_standardized_data_is_rows_times_columns():
    Z = _z(blobs(n_per=30))
    for k in range(1, 6):
        inertia = OrderedKMeans(k, n_init=4, random_state=0).fit(Z).inertia_
        assert inertia == KMeans(n_clusters=k, n_init=4, random_state=0).fit(Z).inertia_
    # k=1: total sum of squares of standardized data = n * d
    assert OrderedKMeans(1, n_init=1, random_state=0).fit(Z).inertia_ == pytest.approx(90 * 3)


def _fitted_state(estimator: object) -> dict[str, object]:
    """The fitted attributes (name_ ...) of an estimator, KMeans' inside too."""
    state = {k: v for k, v in vars(estimator).items() if k.endswith("_") and not k.startswith("_")}
    if "kmeans_" in state:
        state["kmeans_"] = _fitted_state(state["kmeans_"])
    return state


def _assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name, value in a.items():
        other = b[name]
        if isinstance(value, dict):
            _assert_same_state(value, other)
        elif isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and value.tobytes() == other.tobytes(), name
        else:
            assert type(value) is type(other) and value == other, name


def _wide_blobs(n_per: int = 400) -> tuple[pd.DataFrame, pd.Series]:
    """blobs with an int column and values over orders of magnitude, and a target y."""
    X = blobs(n_per=n_per)
    X["a"] = (X["a"] * 1e3).round().astype("int64")
    X["c"] = X["c"] * np.random.default_rng(5).lognormal(0.0, 2.0, len(X))
    return X, pd.Series(np.random.default_rng(6).normal(size=len(X)) + X["b"] / 1e3)


@pytest.mark.parametrize("sample_size", [None, 100, 1_200],
                         ids=["all rows", "a sample", "sample_size = rows"])
@pytest.mark.parametrize("order", ["centroid_mean", (-1.0, 1.0, -1.0), "target_mean"])
def test_lean_fit_equals_pipeline_fit_bit_for_bit(order, sample_size):
    X, y = _wide_blobs()
    model = scaled_kmeans(3, order=order, n_init=3, random_state=4, sample_size=sample_size)
    expected = clone(model).fit(X, y)
    fitted = fit_scaled_kmeans(model, X, y)
    assert not hasattr(model.named_steps["kmeans"], "kmeans_")  # the given model is unfitted
    assert type(fitted) is Pipeline and vars(fitted).keys() == vars(expected).keys()
    assert fitted.get_params(deep=False).keys() == expected.get_params(deep=False).keys()
    for (name, step), (expected_name, expected_step) in zip(fitted.steps, expected.steps,
                                                             strict=True):
        assert name == expected_name and type(step) is type(expected_step)
        assert step.get_params() == expected_step.get_params()
        _assert_same_state(_fitted_state(step), _fitted_state(expected_step))
    assert fitted.named_steps["kmeans"].fitted_on_sample_ is (sample_size == 100)
    np.testing.assert_array_equal(fitted.predict(X), expected.predict(X))
    np.testing.assert_array_equal(fitted.transform(X), expected.transform(X))
    distance = DistanceToCluster(FrozenEstimator(fitted)).fit(X)
    np.testing.assert_array_equal(distance.transform(X),
                                  DistanceToCluster(FrozenEstimator(expected)).fit(X).transform(X))
    unfitted = clone(fitted)  # the contract: clone gives the unfitted model, same parameters
    assert unfitted.get_params(deep=True).keys() == model.get_params(deep=True).keys()
    assert not hasattr(unfitted.named_steps["kmeans"], "kmeans_")


def test_lean_fit_draws_as_fit_with_a_random_state_object():
    X, _ = _wide_blobs()
    model = scaled_kmeans(3, order="centroid_mean", n_init=2, random_state=0, sample_size=100)
    model.set_params(kmeans__random_state=np.random.RandomState(9))
    expected, fitted = clone(model).fit(X), fit_scaled_kmeans(model, X)
    _assert_same_state(_fitted_state(fitted[-1]), _fitted_state(expected[-1]))


def test_lean_fit_refuses_what_fit_refuses():
    X, y = _wide_blobs()
    X["b"] = X["b"].astype("float64")
    X.loc[5, "b"] = np.nan  # not among the 100 drawn rows: refused all the same
    assert 5 not in sample_rows(len(X), 100, 4)
    bad = [
        (X, None, "centroid_mean"),
        (_wide_blobs()[0], None, "target_mean"),  # y missing
        (_wide_blobs()[0], y.iloc[:10], "target_mean"),  # y of other rows
        (_wide_blobs()[0], None, (1.0, 2.0)),  # weights of 2 features for 3
    ]
    for data, target, order in bad:
        model = scaled_kmeans(3, order=order, n_init=2, random_state=4, sample_size=100)
        with pytest.raises(ValueError) as expected:
            clone(model).fit(data, target)
        with pytest.raises(ValueError) as raised:
            fit_scaled_kmeans(model, data, target)
        assert str(raised.value) == str(expected.value)
    with pytest.raises(TypeError, match="StandardScaler then an OrderedKMeans"):
        fit_scaled_kmeans(Pipeline([("kmeans", OrderedKMeans(3))]), X)


def test_lean_fit_never_scales_every_row():
    X, _ = _wide_blobs(n_per=100_000)
    model = scaled_kmeans(3, order="centroid_mean", n_init=1, random_state=0, sample_size=3_000)
    table = len(X) * 3 * 8  # n x 3 floats

    def peak(fit) -> int:
        tracemalloc.start()
        try:
            fit()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(lambda: clone(model).fit(X)) > 1.5 * table  # a float copy, its scaled copy, ...
    assert peak(lambda: fit_scaled_kmeans(model, X)) < table  # a column's temporaries
