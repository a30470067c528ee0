"""Clustering helpers: knee rule (SPEC rule 8), samples, silhouette, labels by chunks; no threads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from telco_analytics.models.clustering import knee_k, sample_rows, silhouette_sample
from telco_analytics.models.ordered_kmeans import scaled_kmeans
from tests.unit.cluster_data import blobs


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
    X = blobs(n_per=30)
    Z = StandardScaler().fit_transform(X.to_numpy())
    labels = np.repeat([0, 1, 2], 30)
    assert silhouette_sample(Z, labels, max_rows=1000, random_state=0) == pytest.approx(
        silhouette_score(Z, labels)
    )
    sampled = silhouette_sample(Z, labels, max_rows=40, random_state=0)
    assert 0.5 < sampled <= 1.0  # well separated blobs
    assert np.isnan(silhouette_sample(Z, np.zeros(90, dtype=int), max_rows=1000, random_state=0))


def test_predict_labels_in_chunks_equals_predict(monkeypatch):
    from telco_analytics.models import clustering

    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(1_000, 3)), columns=["a", "b", "c"])
    pipeline = scaled_kmeans(3, order="centroid_mean", n_init=2, random_state=0).fit(X)
    monkeypatch.setattr(clustering, "PREDICT_CHUNK_ROWS", 128)  # 8 chunks, the last partial
    labels = clustering.predict_labels(pipeline, X)
    assert labels.dtype == np.int8  # label_dtype(3)
    np.testing.assert_array_equal(labels, pipeline.predict(X))


def test_label_dtype_is_the_narrowest_that_holds_every_label():
    from telco_analytics.models.clustering import label_dtype

    assert label_dtype(2) == np.int8 and label_dtype(128) == np.int8
    assert label_dtype(129) == np.int16 and label_dtype(32_768) == np.int16
    assert label_dtype(32_769) == np.int32


def test_analyses_and_models_leave_threads_to_the_run_layer():
    """Issue 15: analyses are single-threaded and engine-agnostic; one execution module owns
    threads, processes and OpenMP/BLAS limits."""
    package = Path(__file__).resolve().parents[2] / "src" / "telco_analytics"
    forbidden = ("threadpool", "ThreadPoolExecutor", "ProcessPool", "threading", "SideBySide",
                 "models.parallel", "engine ==", "engine==")
    offenders = [
        f"{path.relative_to(package)}: {word}"
        for folder in ("analysis", "models")
        for path in sorted((package / folder).glob("*.py"))
        if path.name != "parallel.py"  # the old side-by-side helper, deleted by the run layer
        for word in forbidden
        if word in path.read_text()
    ]
    assert offenders == []
