"""Scaled k-means pipeline, cluster renumbering, elbow and knee rule (SPEC rule 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from telco_analytics.models.clustering import (
    KMEANS_THREADS,
    centroids_z,
    elbow_inertia,
    fit_kmeans_pipeline,
    knee_k,
    order_clusters,
    sample_rows,
    silhouette_sample,
)


def _blobs(n_per: int = 60, seed: int = 0) -> pd.DataFrame:
    """Three well-separated groups in raw units of very different scale."""
    rng = np.random.default_rng(seed)
    centers = np.array([[1.0, 1_000.0, 1e6], [5.0, 5_000.0, 5e6], [9.0, 9_000.0, 9e6]])
    spread = np.array([0.3, 300.0, 3e5])
    rows = [c + rng.normal(size=(n_per, 3)) * spread for c in centers]
    return pd.DataFrame(np.vstack(rows), columns=["a", "b", "c"])


def test_pipeline_equals_plain_scaler_plus_kmeans():
    X = _blobs()
    pipe = fit_kmeans_pipeline(X, 3, n_init=10, random_state=7)
    Z = StandardScaler().fit_transform(X.to_numpy())
    ref = KMeans(n_clusters=3, init="k-means++", n_init=10, random_state=7).fit(Z)
    np.testing.assert_allclose(centroids_z(pipe), ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(pipe.predict(X), ref.labels_)
    assert pipe.fitted_on_sample_ is False
    assert pipe.n_fit_rows_ == len(X)
    # population std, as SPEC rule 8 says
    np.testing.assert_allclose(pipe.named_steps["scaler"].scale_, X.std(ddof=0).to_numpy())


def test_sampled_fit_assigns_every_row_and_scales_on_the_sample():
    X = _blobs(n_per=100)
    pipe = fit_kmeans_pipeline(X, 3, n_init=3, random_state=1, sample_size=50)
    assert pipe.fitted_on_sample_ is True
    assert pipe.n_fit_rows_ == 50
    labels = pipe.predict(X)
    assert labels.shape == (300,)
    assert set(labels) == {0, 1, 2}
    # the scaler saw exactly the sampled rows (not all 300)
    rows = np.sort(np.random.default_rng(1).choice(300, size=50, replace=False))
    np.testing.assert_allclose(pipe.named_steps["scaler"].mean_, X.iloc[rows].mean().to_numpy())
    assert not np.allclose(pipe.named_steps["scaler"].mean_, X.mean().to_numpy())
    # well-separated groups: every group gets one label even though only 50 rows were fitted
    for g in range(3):
        assert len(set(labels[g * 100 : (g + 1) * 100])) == 1


def test_no_sampling_when_data_not_larger_than_sample_size():
    X = _blobs(n_per=10)
    pipe = fit_kmeans_pipeline(X, 3, n_init=2, random_state=0, sample_size=30)
    assert pipe.fitted_on_sample_ is False
    assert pipe.n_fit_rows_ == 30


def test_order_clusters_permutes_centres_without_mutating_input():
    X = _blobs()
    pipe = fit_kmeans_pipeline(X, 3, n_init=5, random_state=3)
    before = centroids_z(pipe).copy()
    labels_before = pipe.predict(X)
    # order by the first centroid coordinate descending -> score = -coordinate
    score = -before[:, 0]
    ordered = order_clusters(pipe, score)
    np.testing.assert_array_equal(centroids_z(pipe), before)  # input untouched
    np.testing.assert_array_equal(pipe.predict(X), labels_before)
    expected_order = np.argsort(score)
    np.testing.assert_array_equal(centroids_z(ordered), before[expected_order])
    new = ordered.predict(X)
    mapping = {old: new_label for new_label, old in enumerate(expected_order)}
    np.testing.assert_array_equal(new, [mapping[v] for v in labels_before])
    np.testing.assert_array_equal(ordered.named_steps["kmeans"].labels_, new)
    # the group with the largest raw "a" (third block) is now cluster 0
    assert set(new[120:]) == {0}


def test_order_clusters_ties_keep_current_label_order():
    X = _blobs(n_per=20)
    pipe = fit_kmeans_pipeline(X, 3, n_init=2, random_state=0)
    centres = centroids_z(pipe)
    ordered = order_clusters(pipe, np.array([5.0, 1.0, 5.0]))
    # old 1 first, then the tied 0 before 2
    np.testing.assert_array_equal(centroids_z(ordered), centres[[1, 0, 2]])


def test_order_clusters_rejects_wrong_number_of_scores():
    pipe = fit_kmeans_pipeline(_blobs(n_per=10), 3, n_init=1, random_state=0)
    with pytest.raises(ValueError):
        order_clusters(pipe, np.array([1.0, 2.0]))


def test_elbow_inertia_matches_plain_kmeans():
    Z = StandardScaler().fit_transform(_blobs(n_per=30).to_numpy())
    elbow = elbow_inertia(Z, range(1, 6), n_init=4, random_state=0)
    assert list(elbow.columns) == ["k", "inertia"]
    assert elbow["k"].tolist() == [1, 2, 3, 4, 5]
    for k, inertia in zip(elbow["k"], elbow["inertia"]):
        ref = KMeans(n_clusters=k, n_init=4, random_state=0).fit(Z).inertia_
        assert inertia == pytest.approx(ref)
    # k=1: total sum of squares of standardized data = n * d
    assert elbow["inertia"].iloc[0] == pytest.approx(90 * 3)


@pytest.mark.parametrize(
    ("inertia", "expected"),
    [
        # chord (1,100)-(5,18): vertical gaps 39.5, 34, 18.5 -> knee at 2
        ([100, 40, 25, 20, 18], 2),
        # chord (1,100)-(5,20): gaps 0, 30, 15 -> knee at 3
        ([100, 80, 30, 25, 20], 3),
        # chord (1,10)-(4,0): |gap| 5/3 at both k=2 and k=3 -> tie -> smallest k
        ([10, 5, 5, 0], 2),
    ],
)
def test_knee_on_hand_made_curves(inertia, expected):
    assert knee_k(list(range(1, len(inertia) + 1)), inertia) == expected


def test_knee_does_not_depend_on_input_order():
    assert knee_k([5, 3, 1, 4, 2], [18, 25, 100, 20, 40]) == 2


def test_knee_perpendicular_and_vertical_distance_agree():
    rng = np.random.default_rng(11)
    for _ in range(200):
        k = np.arange(1, 11)
        inertia = np.sort(rng.uniform(1, 1000, size=10))[::-1] * rng.uniform(1, 1e6)
        line = inertia[0] + (inertia[-1] - inertia[0]) * (k - k[0]) / (k[-1] - k[0])
        vertical = np.abs(inertia - line)
        assert knee_k(k, inertia) == k[int(np.argmax(vertical))]


def test_sample_rows_is_none_for_small_data_and_sorted_unique_otherwise():
    assert sample_rows(10, None, 0) is None
    assert sample_rows(10, 10, 0) is None
    rows = sample_rows(100, 20, 5)
    assert len(rows) == 20 and len(set(rows)) == 20
    assert (np.diff(rows) > 0).all()
    np.testing.assert_array_equal(rows, sample_rows(100, 20, 5))  # deterministic


def test_silhouette_sample_matches_sklearn_when_not_sampled_and_is_nan_for_one_cluster():
    X = _blobs(n_per=30)
    Z = StandardScaler().fit_transform(X.to_numpy())
    labels = np.repeat([0, 1, 2], 30)
    assert silhouette_sample(Z, labels, max_rows=1000, random_state=0) == pytest.approx(
        silhouette_score(Z, labels)
    )
    sampled = silhouette_sample(Z, labels, max_rows=40, random_state=0)
    assert 0.5 < sampled <= 1.0  # well separated blobs
    assert np.isnan(silhouette_sample(Z, np.zeros(90, dtype=int), max_rows=1000, random_state=0))


def test_fitted_kmeans_is_single_threaded():
    pipe = fit_kmeans_pipeline(_blobs(n_per=10), 3, n_init=1, random_state=0)
    assert pipe.named_steps["kmeans"]._n_threads == KMEANS_THREADS


def test_predict_labels_in_chunks_equals_predict(monkeypatch):
    from telco_analytics.models import clustering

    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(1_000, 3)), columns=["a", "b", "c"])
    pipeline = clustering.fit_kmeans_pipeline(X, 3, n_init=2, random_state=0)
    monkeypatch.setattr(clustering, "PREDICT_CHUNK_ROWS", 128)  # 8 chunks, the last partial
    labels = clustering.predict_labels(pipeline, X)
    assert labels.dtype == np.int8  # label_dtype(3)
    np.testing.assert_array_equal(labels, pipeline.predict(X))


def test_label_dtype_is_the_narrowest_that_holds_every_label():
    from telco_analytics.models.clustering import label_dtype

    assert label_dtype(2) == np.int8 and label_dtype(128) == np.int8
    assert label_dtype(129) == np.int16 and label_dtype(32_768) == np.int16
    assert label_dtype(32_769) == np.int32
