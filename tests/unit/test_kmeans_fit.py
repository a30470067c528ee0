"""k-means with its restarts on a weighted sample (models/kmeans_fit.py): no worse than
scikit-learn's KMeans(n_init=10) on every row, the SPEC numbering unchanged, its record."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from telco_analytics.analysis.clusters import elbow_facts, kmeans_facts, restart_params
from telco_analytics.config import AnalysisParams
from telco_analytics.errors import ConfigError
from telco_analytics.models.kmeans_fit import CORESET, EXACT, fit_kmeans, weighted_sample
from telco_analytics.models.ordered_kmeans import OrderedKMeans
from tests.unit.kmeans_data import DATASETS, tiny_cluster

QUALITY = 1.005  # the partition's inertia on every row: at most this times KMeans(n_init=10)'s
SEED = 42  # the product's random_state; KMeans gets the same one

# (dataset, users, k, rows the restarts run on): k as the analyses use it (3 engagement and
# experience, 2 satisfaction); the restart sample 5-15% of the users (the product's default,
# 200k, samples only larger fits; its ratio to 1M users is the 20k of 120k here)
CASES = [
    ("engagement_like", 60_000, 3, 5_000),
    ("engagement_like", 120_000, 3, 20_000),
    ("pareto_mixture", 40_000, 3, 4_000),
    ("lognormal_duplicates", 50_000, 3, 5_000),
    ("tiny_cluster", 80_000, 3, 5_000),
    ("tiny_cluster", 30_000, 2, 3_000),
    ("scores_like", 50_000, 2, 5_000),
    ("scores_like", 70_000, 3, 7_000),
]


@pytest.fixture(autouse=True)
def _one_thread():
    """One OpenMP thread, as the run layer gives a fit on a busy machine: KMeans' threads
    spin-waiting on a loaded shared machine made a 0.3 s fit take a minute."""
    with threadpool_limits(limits=1):
        yield


@pytest.mark.parametrize(("name", "n", "k", "restart_rows"), CASES,
                         ids=[f"{c[0]}-{c[1]}-k{c[2]}" for c in CASES])
def test_inertia_within_half_a_percent_of_kmeans_n_init_10(name, n, k, restart_rows):
    X = DATASETS[name](n, seed=n % 7)
    model = OrderedKMeans(k, n_init=10, random_state=SEED,
                          restart_sample_size=restart_rows).fit(X)
    assert model.fit_facts_["method"] == CORESET  # the sampled restarts, not the exact path
    assert model.fit_facts_["restart_rows"] == restart_rows and model.fit_facts_["rows"] == n
    reference = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit(X)
    inertia = -model.score(X)  # of the partition predict gives every row
    assert inertia == pytest.approx(model.inertia_, rel=1e-9)
    assert inertia <= QUALITY * reference.inertia_, inertia / reference.inertia_


def test_tiny_far_group_keeps_a_cluster_of_its_own():
    """The weighted sample draws the 25 far users (a uniform 5% sample would hold about one):
    as KMeans on every row, one of the clusters is exactly them."""
    X = tiny_cluster(80_000, seed=3, tiny=25)
    labels = OrderedKMeans(3, n_init=10, random_state=SEED, restart_sample_size=4_000
                           ).fit(X).predict(X)
    reference = KMeans(n_clusters=3, n_init=10, random_state=SEED).fit(X).labels_
    assert np.unique(reference[:25]).size == 1 and np.sum(reference == reference[0]) == 25
    assert np.unique(labels[:25]).size == 1 and np.sum(labels == labels[0]) == 25


def test_spec_numbering_rules_on_the_sampled_path():
    X = DATASETS["engagement_like"](40_000, seed=1)
    common = {"n_init": 10, "random_state": SEED, "restart_sample_size": 4_000}
    # rule 8: ascending mean of the centroid's z-coordinates
    model = OrderedKMeans(3, order="centroid_mean", **common).fit(X)
    assert model.fit_facts_["method"] == CORESET
    means = model.cluster_centers_.mean(axis=1)
    assert list(means) == sorted(means)
    np.testing.assert_array_equal(model.cluster_centers_,
                                  model.kmeans_.cluster_centers_[model.cluster_order_])
    # rule 9: ascending weighted sum (cluster 0 the largest z_tcp + z_rtt - z_throughput)
    weights = np.array([-1.0, -1.0, 1.0])
    model = OrderedKMeans(3, order=tuple(weights), **common).fit(X)
    scores = model.cluster_centers_ @ weights
    assert list(scores) == sorted(scores)
    # rule 10: ascending mean of y over the members, as predict labels them
    y = X[:, 0] - X[:, 2]
    model = OrderedKMeans(2, order="target_mean", **common).fit(X, y)
    labels = model.predict(X)
    assert y[labels == 0].mean() < y[labels == 1].mean()


def test_same_seed_same_fit_and_small_data_is_plain_kmeans():
    X = DATASETS["pareto_mixture"](20_000, seed=2)
    a = fit_kmeans(X, 3, n_init=10, random_state=7, restart_rows=2_000)
    b = fit_kmeans(X, 3, n_init=10, random_state=7, restart_rows=2_000)
    assert a.method == CORESET and a.facts() == b.facts()
    assert a.kmeans.cluster_centers_.tobytes() == b.kmeans.cluster_centers_.tobytes()
    # up to restart_rows rows: KMeans(n_init) itself, bit for bit
    small = X[:2_000]
    exact = fit_kmeans(small, 3, n_init=10, random_state=7, restart_rows=2_000)
    reference = KMeans(n_clusters=3, n_init=10, random_state=7).fit(small)
    assert exact.method == EXACT and exact.restart_rows == 2_000 and exact.refined == 1
    assert exact.kmeans.cluster_centers_.tobytes() == reference.cluster_centers_.tobytes()
    assert exact.kmeans.inertia_ == reference.inertia_


def test_refine_count_and_n_init_auto():
    X = DATASETS["scores_like"](20_000, seed=4)
    fit = fit_kmeans(X, 3, n_init=10, random_state=0, restart_rows=2_000, refine=3)
    # distinct restarts only: at most 3, and each refined one reports its iterations
    assert 1 <= fit.refined <= 3 and len(fit.refine_iterations) == fit.refined
    assert fit.kmeans.n_iter_ in fit.refine_iterations
    auto = fit_kmeans(X, 3, n_init="auto", random_state=0, restart_rows=2_000)
    assert auto.restarts == 1 and auto.refined == 1
    with pytest.raises(ValueError, match="n_init must be 'auto' or an integer >= 1"):
        fit_kmeans(X, 3, n_init=0, random_state=0, restart_rows=2_000)


def test_weighted_sample_estimates_sums_over_every_row():
    X = tiny_cluster(50_000, seed=5, tiny=25)
    S, w = weighted_sample(X, 5_000, np.random.RandomState(0))
    assert S.shape == (5_000, 3) and w.shape == (5_000,) and np.all(w > 0)
    assert w.sum() == pytest.approx(len(X), rel=0.05)  # estimates the number of rows
    d2 = ((X - X.mean(axis=0)) ** 2).sum(axis=1)
    s2 = ((S - X.mean(axis=0)) ** 2).sum(axis=1)
    assert (w * s2).sum() == pytest.approx(d2.sum(), rel=0.05)  # and the total inertia (k=1)
    # the far group is drawn far more often than its share of rows
    far = np.isin(S[:, 0], X[:25, 0])
    assert far.sum() > 100 * 25 / len(X) * 5_000
    # identical rows: every chance uniform, every weight n / m
    S, w = weighted_sample(np.ones((1_000, 2)), 100, np.random.RandomState(0))
    np.testing.assert_allclose(w, 10.0)


def test_bad_restart_parameters_are_refused():
    X = DATASETS["scores_like"](1_000, seed=0)
    with pytest.raises(ValueError, match="restart_sample_size must be None or an integer >= "
                                         "n_clusters"):
        OrderedKMeans(3, restart_sample_size=2).fit(X)
    with pytest.raises(ValueError, match="refine must be an integer >= 1"):
        OrderedKMeans(3, restart_sample_size=100, refine=0).fit(X)
    with pytest.raises(ConfigError, match="kmeans_restart_sample_size must be >= the largest k"):
        AnalysisParams(kmeans_restart_sample_size=5)
    with pytest.raises(ConfigError, match="kmeans_refine must be an integer >= 1"):
        AnalysisParams(kmeans_refine=0)


def test_the_method_and_its_parameters_are_recorded():
    params = AnalysisParams(kmeans_restart_sample_size=3_000, kmeans_refine=2)
    X = DATASETS["engagement_like"](30_000, seed=6)
    model = OrderedKMeans(3, n_init=params.kmeans_n_init, random_state=params.random_state,
                          **restart_params(params)).fit(X)
    facts = kmeans_facts("engagement", model)["kmeans_fits"]["engagement"]
    assert facts["method"] == CORESET and facts["seed"] == params.random_state
    assert facts["restarts"] == 10 and facts["restart_rows"] == 3_000 and facts["rows"] == 30_000
    assert facts["refined"] <= 2 and facts["iterations"] == model.kmeans_.n_iter_
    fits = {k: OrderedKMeans(k, n_init=3, random_state=0, **restart_params(params)).fit(X)
            for k in (1, 2, 4)}
    elbow = elbow_facts("engagement_elbow", fits)["kmeans_fits"]["engagement_elbow"]
    assert elbow["k"] == [1, 2, 4] and elbow["restarts"] == 3 and len(elbow["iterations"]) == 3
    assert elbow["method"] == CORESET and elbow["restart_rows"] == 3_000
