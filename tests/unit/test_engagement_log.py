"""Engagement on heavy tails: the log-scaled k-means beside the SPEC one, and the stability of
both across seeds; by hand on separated groups, against plain scikit-learn on generated users."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from telco_analytics.analysis.engagement import engagement_analysis
from telco_analytics.analysis.engagement_log import (
    engagement_log_clusters,
    engagement_stability,
)
from telco_analytics.config import AnalysisParams
from tests.unit.test_engagement import METRICS, _random_users, _tiny, _users

PARAMS = AnalysisParams(kmeans_n_init=10, random_state=42)


def heavy_tail_users(n: int = 2000, seed: int = 4) -> pd.DataFrame:
    """Users with lognormal engagement and one extreme user: 1,008 sessions."""
    users = _random_users(n, seed)
    users.loc[0, ["sessions", "duration_ms", "total_bytes"]] = [1008, 4e10, 3e12]
    return users


def test_on_separated_groups_both_clusterings_agree_and_are_perfectly_stable():
    # three groups 10x apart: in z-space and in log space the same partition, every seed
    got = engagement_log_clusters(_tiny(), PARAMS)
    assert got["users"].tolist() == [3, 3, 3]
    assert got["sessions_mean"].tolist() == [1.0, 5.0, 20.0]  # raw units, least engaged first
    stability = engagement_stability(_tiny(), AnalysisParams(stability_seeds=3))
    assert stability["clustering"].tolist() == ["spec", "log_scaled"]
    assert stability["ari_mean"].tolist() == [1.0, 1.0]
    assert stability["smallest_cluster_share_min"].tolist() == [1 / 3, 1 / 3]
    assert stability["seeds"].tolist() == [3, 3] and stability["users"].tolist() == [9, 9]


def test_a_heavy_user_gets_a_spec_cluster_of_its_own_but_not_a_log_one():
    users = heavy_tail_users()
    spec = engagement_analysis(users, PARAMS).tables["engagement_clusters"]
    assert spec["users"].min() == 1 and spec.loc[spec["cluster"] == 2, "users"].item() == 1
    log = engagement_log_clusters(users, PARAMS)
    assert log["users_share"].min() >= 0.01  # every log-scaled cluster is a real segment
    assert log["users"].sum() == len(users)


def test_log_clusters_match_plain_sklearn():
    users = heavy_tail_users(800, seed=6).sort_values("msisdn").reset_index(drop=True)
    Z = StandardScaler().fit_transform(np.log1p(users[METRICS].to_numpy(dtype=float)))
    km = KMeans(n_clusters=3, init="k-means++", n_init=10, random_state=42).fit(Z)
    order = np.argsort(km.cluster_centers_.mean(axis=1))
    labels = np.argsort(order)[km.labels_]  # cluster 0 = lowest centroid mean
    got = engagement_log_clusters(users, PARAMS)
    expected = users.groupby(labels)[METRICS].mean()
    assert got["users"].tolist() == np.bincount(labels, minlength=3).tolist()
    for metric in METRICS:
        np.testing.assert_allclose(got[f"{metric}_mean"], expected[metric], rtol=1e-12)


def test_stability_matches_pairwise_adjusted_rand_of_plain_sklearn_fits():
    users = _random_users(400, seed=9).sort_values("msisdn").reset_index(drop=True)
    params = AnalysisParams(stability_seeds=3, kmeans_n_init=4)
    got = engagement_stability(users, params).set_index("clustering")
    for kind, X in (("spec", users[METRICS].to_numpy(dtype=float)),
                    ("log_scaled", np.log1p(users[METRICS].to_numpy(dtype=float)))):
        Z = StandardScaler().fit_transform(X)
        labels = [KMeans(3, n_init=4, random_state=42 + i).fit_predict(Z) for i in range(3)]
        ari = [adjusted_rand_score(labels[a], labels[b]) for a, b in ((0, 1), (0, 2), (1, 2))]
        assert got.loc[kind, "ari_mean"] == np.mean(ari)
        assert got.loc[kind, "ari_min"] == min(ari)


def test_the_option_off_gives_empty_log_tables_and_spec_stability_only():
    params = AnalysisParams(engagement_log_scale=False)
    assert engagement_log_clusters(_tiny(), params).empty
    assert engagement_stability(_tiny(), params)["clustering"].tolist() == ["spec"]


def test_stability_is_fitted_on_a_sample_beyond_its_size():
    users = _users([1, 2, 3] * 40, [1.0, 2.0, 3.0] * 40, [1.0, 2.0, 3.0] * 40)
    got = engagement_stability(users, AnalysisParams(stability_sample_size=50))
    assert got["users"].tolist() == [50, 50]


def test_the_log_fit_learns_from_a_sample_beyond_its_size_and_assigns_everyone():
    users = _random_users(300, seed=2)
    got = engagement_log_clusters(users, AnalysisParams(log_scale_sample_size=100))
    assert got["users"].sum() == 300
    exact = engagement_log_clusters(users, AnalysisParams())
    assert exact["users"].sum() == 300
