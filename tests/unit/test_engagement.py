"""Engagement analysis (SPEC rule 8): hand-checked tiny data and a plain pandas/sklearn reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from telco_analytics import schema
from telco_analytics.analysis.engagement import (
    engagement_analysis,
    engagement_elbow_fits,
    engagement_model,
    engagement_tables,
)
from telco_analytics.analysis.result import AnalysisResult
from telco_analytics.config import AnalysisParams
from telco_analytics.errors import SchemaError

METRICS = schema.ENGAGEMENT_METRICS
CONFIG = AnalysisParams(kmeans_n_init=10, random_state=42)


def _users(sessions, duration_ms, total_bytes, msisdn=None, seed=0) -> pd.DataFrame:
    """A user_overview table; app bytes split the total evenly with a little noise."""
    n = len(sessions)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "msisdn": msisdn if msisdn is not None else [f"3360{i:07d}" for i in range(n)],
            "sessions": np.asarray(sessions, dtype="int64"),
            "duration_ms": np.asarray(duration_ms, dtype="float64"),
        }
    )
    total = np.asarray(total_bytes, dtype="float64")
    df["dl_bytes"] = total * 0.9
    df["ul_bytes"] = total * 0.1
    df["total_bytes"] = total
    weights = rng.dirichlet(np.ones(len(schema.APPS)), size=n)
    for j, col in enumerate(schema.USER_APP_BYTES):
        df[col] = np.round(total * weights[:, j])
    return df


def _random_users(n: int = 500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sessions = rng.poisson(1.0, n) + 1
    ids = [f"3366{i:07d}" for i in rng.permutation(n)]
    return _users(
        sessions,
        sessions * rng.lognormal(11.5, 0.8, n),
        sessions * rng.lognormal(19, 0.6, n),
        msisdn=ids,
        seed=seed,
    )


def _tiny() -> pd.DataFrame:
    # three obvious groups: light (users 0-2), medium (3-5), heavy (6-8)
    return _users(
        sessions=[1, 1, 1, 5, 5, 5, 20, 20, 20],
        duration_ms=[1_000, 2_000, 3_000, 50_000, 60_000, 70_000, 900_000, 950_000, 1_000_000],
        total_bytes=[10, 20, 30, 500, 600, 700, 9_000, 9_500, 10_000],
    )


def test_tiny_clusters_are_ordered_least_to_most_engaged():
    result = engagement_analysis(_tiny(), CONFIG)
    users = result.tables["engagement_users"]
    assert list(users.columns) == ["msisdn", *METRICS, "cluster"]
    assert users["cluster"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    clusters = result.tables["engagement_clusters"]
    assert clusters["users"].tolist() == [3, 3, 3]
    assert clusters["sessions_sum"].tolist() == [3, 15, 60]
    assert clusters["duration_ms_min"].tolist() == [1_000, 50_000, 900_000]
    assert clusters["duration_ms_max"].tolist() == [3_000, 70_000, 1_000_000]
    assert clusters["total_bytes_mean"].tolist() == [20, 600, 9_500]
    assert clusters["total_bytes_sum"].tolist() == [60, 1_800, 28_500]
    # traffic share: 60 / 30360, 1800 / 30360, 28500 / 30360
    np.testing.assert_allclose(clusters["traffic_share"], np.array([60, 1_800, 28_500]) / 30_360)
    for metric in METRICS:
        for stat in ("min", "max", "mean", "sum"):
            assert f"{metric}_{stat}" in clusters.columns
    assert result.sampling["engagement_kmeans"] is False
    assert result.metrics["users_cluster_2"] == 3


def test_top10_per_metric_ties_broken_by_msisdn():
    # 12 users: sessions 7 for users 0..11 except two with 9; the rest tie at 7
    sessions = [7] * 12
    sessions[5] = sessions[10] = 9
    ids = [f"33{i:02d}" for i in (11, 3, 7, 1, 9, 0, 10, 2, 8, 4, 6, 5)]  # not in order
    df = _users(sessions, np.arange(12) * 1000.0 + 1, np.arange(12) * 10.0 + 5, msisdn=ids)
    top = engagement_analysis(df, CONFIG).tables["engagement_top10"]
    assert list(top.columns) == ["metric", "rank", "msisdn", "value"]
    s = top[top["metric"] == "sessions"]
    assert s["rank"].tolist() == list(range(1, 11))
    # the two 9s first (ids[5]='3300' < ids[10]='3306'), then the ties at 7 in msisdn order,
    # skipping the two largest ids ('3310', '3311')
    assert s["msisdn"].tolist() == ["3300", "3306", "3301", "3302", "3303", "3304", "3305",
                                    "3307", "3308", "3309"]
    assert s["value"].tolist() == [9, 9] + [7] * 8
    d = top[top["metric"] == "duration_ms"]
    assert d["value"].tolist() == [11_001, 10_001, 9_001, 8_001, 7_001, 6_001, 5_001, 4_001,
                                   3_001, 2_001]
    assert d["msisdn"].iloc[0] == ids[11]


def test_app_top10_ties_by_msisdn():
    df = _users([1] * 12, np.arange(12) + 1.0, np.arange(12) + 1.0,
                msisdn=[f"33{i:02d}" for i in range(12)[::-1]])
    df["gaming_bytes"] = 100.0  # everyone ties
    df.loc[df["msisdn"] == "3305", "gaming_bytes"] = 200.0
    top = engagement_analysis(df, CONFIG).tables["app_top10_users"]
    assert list(top.columns) == ["app", "rank", "msisdn", "bytes"]
    g = top[top["app"] == "gaming"]
    assert g["msisdn"].tolist() == ["3305", "3300", "3301", "3302", "3303", "3304", "3306",
                                    "3307", "3308", "3309"]
    assert g["bytes"].tolist() == [200.0] + [100.0] * 9
    assert set(top["app"]) == set(schema.APPS)


def _reference(df: pd.DataFrame, k: int = 3):
    """SPEC rule 8 written plainly: z-scores, k-means, relabel by centroid z-mean, group-by."""
    users = df.sort_values("msisdn").reset_index(drop=True)
    Z = StandardScaler().fit_transform(users[METRICS].to_numpy(dtype=float))
    km = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=42).fit(Z)
    order = np.argsort(km.cluster_centers_.mean(axis=1))
    relabel = {old: new for new, old in enumerate(order)}
    users["cluster"] = [relabel[v] for v in km.labels_]
    return users, Z, km


def test_engagement_matches_plain_pandas_sklearn_reference():
    df = _random_users()
    result = engagement_analysis(df, CONFIG)
    ref_users, Z, km = _reference(df)
    got = result.tables["engagement_users"]
    assert got["msisdn"].tolist() == ref_users["msisdn"].tolist()
    np.testing.assert_array_equal(got["cluster"].to_numpy(), ref_users["cluster"].to_numpy())

    ref = ref_users.groupby("cluster")[METRICS].agg(["min", "max", "mean", "sum"])
    clusters = result.tables["engagement_clusters"].set_index("cluster")
    for metric in METRICS:
        for stat in ("min", "max", "mean", "sum"):
            np.testing.assert_allclose(clusters[f"{metric}_{stat}"], ref[(metric, stat)])
    np.testing.assert_array_equal(clusters["users"], ref_users["cluster"].value_counts().sort_index())
    # cluster 0 least engaged: its mean of centroid z-coordinates is the lowest
    z_means = [Z[ref_users["cluster"] == c].mean() for c in range(3)]
    assert z_means == sorted(z_means)

    # top 10 per metric: sort by value desc then msisdn asc
    top = result.tables["engagement_top10"]
    for metric in METRICS:
        exp = ref_users.sort_values([metric, "msisdn"], ascending=[False, True]).head(10)
        got_m = top[top["metric"] == metric]
        assert got_m["msisdn"].tolist() == exp["msisdn"].tolist()
        np.testing.assert_allclose(got_m["value"], exp[metric])
    apps = result.tables["app_top10_users"]
    for app in schema.APPS:
        exp = ref_users.sort_values([f"{app}_bytes", "msisdn"], ascending=[False, True]).head(10)
        assert apps[apps["app"] == app]["msisdn"].tolist() == exp["msisdn"].tolist()

    # elbow: k=1..10 on the same z-scores; k=1 inertia = n * d; k=3 = the main fit
    elbow = result.tables["engagement_elbow"]
    assert elbow["k"].tolist() == list(range(1, 11))
    assert elbow["inertia"].iloc[0] == pytest.approx(len(df) * 3)
    assert elbow["inertia"].iloc[2] == pytest.approx(km.inertia_)
    for k in (2, 5, 10):
        ref_inertia = KMeans(n_clusters=k, n_init=10, random_state=42).fit(Z).inertia_
        # on all users every k gets the k=3 fit's 10 restarts, seeded the same
        assert elbow["inertia"].iloc[k - 1] == pytest.approx(ref_inertia, rel=1e-9)
    assert elbow["chosen"].sum() == 1
    assert int(elbow.loc[elbow["chosen"], "k"].iloc[0]) == result.facts["engagement_chosen_k"]


def test_elbow_chosen_k_is_the_knee_of_the_curve():
    result = engagement_analysis(_random_users(seed=8), CONFIG)
    elbow = result.tables["engagement_elbow"]
    k, y = elbow["k"].to_numpy(float), elbow["inertia"].to_numpy()
    line = y[0] + (y[-1] - y[0]) * (k - k[0]) / (k[-1] - k[0])
    chosen_k = result.facts["engagement_chosen_k"]
    assert chosen_k == int(k[np.argmax(np.abs(y - line))])
    best = result.tables["engagement_clusters_best_k"]
    assert best["cluster"].tolist() == list(range(chosen_k))
    assert best["users"].sum() == 500
    # best-k clusters are ordered by engagement too
    z = result.models["engagement_best_k"].named_steps["kmeans"].cluster_centers_.mean(axis=1)
    assert list(z) == sorted(z)


def test_labels_do_not_depend_on_row_order():
    df = _random_users(seed=5)
    a = engagement_analysis(df, CONFIG).tables["engagement_users"].set_index("msisdn")
    shuffled = df.sample(frac=1.0, random_state=1).reset_index(drop=True)
    b = engagement_analysis(shuffled, CONFIG).tables["engagement_users"].set_index("msisdn")
    pd.testing.assert_series_equal(a["cluster"], b.loc[a.index, "cluster"])


def test_sampled_fit_assigns_every_user():
    config = AnalysisParams(kmeans_sample_threshold=200, kmeans_sample_size=150)
    df = _random_users(n=400)
    result = engagement_analysis(df, config)
    users = result.tables["engagement_users"]
    model = result.models["engagement"]
    assert result.sampling["engagement_kmeans"] is True
    assert model.named_steps["kmeans"].n_fit_rows_ == 150
    assert result.metrics["fit_rows"] == 150
    # z-scores over every user (SPEC rule 8); only k-means learnt from the sample
    np.testing.assert_allclose(model.named_steps["scaler"].mean_, df[METRICS].mean().to_numpy())
    assert len(users) == 400 and users["cluster"].notna().all()
    assert set(users["cluster"]) == {0, 1, 2}
    assert result.tables["engagement_clusters"]["users"].sum() == 400
    # pipeline labels = table labels (the pipeline is what satisfaction and serving reuse)
    np.testing.assert_array_equal(model.predict(users[METRICS]), users["cluster"])


def test_input_is_not_mutated_and_bad_input_is_reported():
    df = _random_users(n=60)
    before = df.copy()
    engagement_analysis(df, CONFIG)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(SchemaError, match="duration_ms"):
        engagement_analysis(df.drop(columns=["duration_ms"]), CONFIG)
    with pytest.raises(SchemaError, match="at least 3 users"):
        engagement_analysis(df.head(2), CONFIG)



def _distinct_colours(png: bytes) -> int:
    import io

    import matplotlib.image as mpimg

    image = mpimg.imread(io.BytesIO(png), format="png")
    return len(np.unique(image.reshape(-1, image.shape[-1]), axis=0))


def test_engagement_figures_render_non_blank_png():
    from telco_analytics.analysis.overview import app_totals
    from telco_analytics.report.figures.engagement import MAX_POINTS, engagement_figures
    from telco_analytics.report.render import chart_png

    df = _random_users(n=300)
    tables = dict(engagement_analysis(df, CONFIG).tables)
    tables["app_totals"] = app_totals(df)
    figures = engagement_figures(tables)
    assert set(figures) == {"engagement_scatter", "engagement_cluster_profile",
                            "engagement_top3_apps", "engagement_elbow"}
    for name, chart in figures.items():
        assert _distinct_colours(chart_png(chart, scale=1.0)) > 1, name
    # missing tables are skipped, not an error
    assert set(engagement_figures({"engagement_elbow": tables["engagement_elbow"]})) == {
        "engagement_elbow"}
    assert MAX_POINTS <= 5000


def test_scatter_sample_is_capped_deterministic_and_keeps_every_cluster():
    from telco_analytics.report.figures.engagement import sample_points

    rng = np.random.default_rng(0)
    users = pd.DataFrame({"msisdn": [str(i) for i in range(20_000)],
                          "cluster": np.r_[np.zeros(19_900, int), np.full(100, 2)]})
    users["x"] = rng.random(20_000)
    a, b = sample_points(users, 1000), sample_points(users, 1000)
    assert len(a) <= 1000
    pd.testing.assert_frame_equal(a, b)
    assert (a["cluster"] == 2).sum() >= 50  # the small cluster stays visible


def test_engagement_insights_are_written_from_the_numbers():
    from telco_analytics.analysis.overview import app_totals
    from telco_analytics.narrative.engagement import engagement_insights

    tables = dict(engagement_analysis(_tiny(), CONFIG).tables)
    tables["app_totals"] = app_totals(_tiny())
    insights = engagement_insights(tables)
    assert all(i.section == "engagement" for i in insights)
    assert 1 <= sum(i.priority == 1 for i in insights) <= 2
    top = insights[0]
    # heavy cluster: 3 of 9 users, 28,500 of 30,360 bytes = 94%
    assert "33% of users" in top.text and "94% of the traffic" in top.text
    assert top.numbers["traffic_share"] == pytest.approx(28_500 / 30_360)
    # the evidence names the row of the heavy cluster and the share the text prints
    assert top.evidence[0].table == "engagement_clusters"
    assert top.evidence[0].values["traffic_share"] == pytest.approx(28_500 / 30_360)
    assert top.action.startswith("Network capacity and retention offers should go to the users "
                                 f"of the most engaged cluster (cluster {top.numbers['cluster']})")
    assert engagement_insights({}) == []


def test_elbow_is_exact_below_the_threshold():
    df = _random_users(n=300, seed=8)
    result = engagement_analysis(df, CONFIG)
    assert result.sampling["engagement_elbow"] is False
    assert result.metrics["elbow_fit_rows"] == 300
    elbow = result.tables["engagement_elbow"]
    # the elbow's k=3 point is the main fit itself (same data, same seed)
    k3 = float(elbow.loc[elbow["k"] == 3, "inertia"].iloc[0])
    assert k3 == result.metrics["inertia"]
    z = StandardScaler().fit_transform(df[METRICS].astype("float64"))
    k5 = KMeans(n_clusters=5, init="k-means++", n_init=10, random_state=42).fit(
        z[np.argsort(df["msisdn"].to_numpy(), kind="stable")]
    )
    assert float(elbow.loc[elbow["k"] == 5, "inertia"].iloc[0]) == pytest.approx(k5.inertia_)


def test_elbow_on_a_sample_beyond_elbow_sample_size_while_kmeans_stays_exact():
    config = AnalysisParams(elbow_sample_size=150, elbow_n_init=2)
    df = _random_users(n=400, seed=4)
    result = engagement_analysis(df, config)
    assert result.sampling["engagement_kmeans"] is False
    assert result.models["engagement"].named_steps["kmeans"].n_fit_rows_ == 400
    assert result.sampling["engagement_elbow"] is True
    assert result.sampling["engagement_elbow_restarts"] == 2
    assert result.metrics["elbow_fit_rows"] == 150
    exact = engagement_analysis(df, AnalysisParams())
    assert exact.sampling["engagement_elbow"] is False
    assert exact.sampling["engagement_elbow_restarts"] == 10
    # the main fit is the same either way; only the elbow curve was estimated
    pd.testing.assert_frame_equal(result.tables["engagement_users"],
                                  exact.tables["engagement_users"])


def test_elbow_on_a_sample_beyond_the_threshold():
    config = AnalysisParams(
        kmeans_sample_threshold=200, kmeans_sample_size=300, elbow_sample_size=120
    )
    result = engagement_analysis(_random_users(n=400, seed=4), config)
    assert result.sampling["engagement_kmeans"] is True
    assert result.models["engagement"].named_steps["kmeans"].n_fit_rows_ == 300
    assert result.sampling["engagement_elbow"] is True
    assert result.metrics["elbow_fit_rows"] == 120
    elbow = result.tables["engagement_elbow"]
    assert elbow["k"].tolist() == list(range(1, 11))
    # every k fitted on the same 120 users, standardized with the main model's scaler (fitted
    # on all users), and the curve decreases
    assert np.all(np.diff(elbow["inertia"].to_numpy()) <= 1e-9 * elbow["inertia"].iloc[0])
    assert elbow["chosen"].sum() == 1
    chosen_k = result.facts["engagement_chosen_k"]
    assert chosen_k == int(elbow.loc[elbow["chosen"], "k"].iloc[0])
    # every user is labelled by both pipelines
    best = result.tables["engagement_clusters_best_k"]
    assert best["users"].sum() == 400 and len(best) == chosen_k
    if chosen_k != 3:
        assert result.models["engagement_best_k"].named_steps["kmeans"].n_fit_rows_ == 120


def test_sorted_and_unsorted_inputs_give_identical_tables():
    df = _random_users(n=500, seed=6)
    ordered = df.sort_values("msisdn").reset_index(drop=True)
    shuffled = df.sample(frac=1.0, random_state=2)  # unsorted, with a shuffled index
    a = engagement_analysis(ordered, CONFIG).tables
    b = engagement_analysis(shuffled, CONFIG).tables
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


def test_top10_ties_by_msisdn_on_sorted_and_unsorted_tables():
    n = 40
    df = _users(
        sessions=np.full(n, 3),  # every user tied on sessions
        duration_ms=np.r_[np.full(20, 5_000.0), np.arange(20) * 10.0],
        total_bytes=np.arange(n, dtype="float64"),
        msisdn=[f"3361{(n - i):07d}" for i in range(n)],  # descending ids: unsorted table
    )
    for table in (df, df.sort_values("msisdn")):
        top = engagement_analysis(table, CONFIG).tables["engagement_top10"]
        sessions = top[top["metric"] == "sessions"]
        # all tied: the ten smallest msisdn
        assert sessions["msisdn"].tolist() == sorted(df["msisdn"])[:10]
        duration = top[top["metric"] == "duration_ms"]
        expected = (
            df.sort_values(["duration_ms", "msisdn"], ascending=[False, True])["msisdn"][:10]
        )
        assert duration["msisdn"].tolist() == expected.tolist()


def test_new_config_fields_are_validated():
    from telco_analytics.errors import ConfigError

    for bad in ({"elbow_sample_size": 0}, {"elbow_sample_size": 5},
                {"regression_sample_size": 3}, {"kmeans_sample_threshold": 0},
                {"regression_learning_rate": 0.0}, {"regression_max_iter": 0}):
        with pytest.raises(ConfigError):
            AnalysisParams(**bad)


@pytest.mark.parametrize("params", [CONFIG, AnalysisParams(elbow_sample_size=150)])
def test_nodes_in_parts_give_the_analysis_tables(params):
    """The run layer fits the model and the elbow's parts side by side: same tables."""
    df = _random_users(n=400, seed=2)
    whole = engagement_analysis(df, params)
    model = engagement_model(df, params)
    parts = [engagement_elbow_fits(df, params, part, 3) for part in range(3)]
    fitted = [k for part in parts for k in part]
    assert len(fitted) == len(set(fitted))  # each k in one part
    reused = params.elbow_sample_size >= len(df)
    # on the main model's rows its fit serves for k=3; on a sample every k is fitted there
    assert sorted(fitted) == [k for k in range(1, 11) if not (reused and k == 3)]
    result = engagement_tables(df, model, parts, params)
    assert isinstance(result, AnalysisResult)
    for name, table in whole.tables.items():
        pd.testing.assert_frame_equal(result.tables[name], table, check_exact=True, obj=name)
    assert result.metrics == whole.metrics and result.facts == whole.facts
    assert set(result.models) == {"engagement", "engagement_best_k"}
    assert set(result.sampling) == {"engagement_kmeans", "engagement_elbow",
                                    "engagement_elbow_restarts"}


def test_tables_refuse_an_elbow_with_a_missing_part():
    df = _random_users(n=200, seed=2)
    model = engagement_model(df, CONFIG)
    first_half = engagement_elbow_fits(df, CONFIG, 0, 2)
    with pytest.raises(ValueError, match="no elbow fit for k"):
        engagement_tables(df, model, [first_half], CONFIG)


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_the_elbow_parts_fit_every_k_once_at_about_equal_cost(parts):
    from telco_analytics.analysis.elbow import elbow_plan

    plan = elbow_plan(1_000, AnalysisParams())
    shares = [plan.part_k(3, part, parts) for part in range(parts)]
    assert sorted(k for share in shares for k in share) == plan.fitted_k(3)
    assert 3 not in plan.fitted_k(3) and plan.fitted_k(3) == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    costs = [sum(share) for share in shares]
    # 52 in all: 26 and 26 in two parts (every 2nd k gave 29 and 23), 19/17/16 in three
    assert max(costs) - min(costs) <= (0 if parts <= 2 else max(plan.fitted_k(3)) // 2)
    assert all(share == sorted(share) for share in shares)
