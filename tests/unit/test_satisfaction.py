"""Satisfaction (SPEC rule 10): scores, top 10, ordered k=2 clusters, tables and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from telco_analytics import schema
from telco_analytics.analysis.result import AnalysisResult
from telco_analytics.analysis.satisfaction import (
    _aligned_users,
    distance_to_cluster0,
    satisfaction_analysis,
    satisfaction_clustering,
    satisfaction_regression,
    satisfaction_scores,
    satisfaction_tables,
    satisfaction_top,
)
from telco_analytics.config import AnalysisParams
from telco_analytics.models.ordered_kmeans import scaled_kmeans

ENG = schema.ENGAGEMENT_METRICS
EXP = schema.EXPERIENCE_METRICS
CONFIG = AnalysisParams(regression_max_iter=30)  # short regression: these tests are about the scores


def _hand_pipeline(center0: list[float]) -> Pipeline:
    """Scaler with mean 1 and std 1 in every column (fitted on rows of 0s and 2s), k-means
    whose cluster 0 sits at `center0` in z-space."""
    columns = ["a", "b", "c"]
    scaler = StandardScaler().fit(pd.DataFrame([[0.0] * 3, [2.0] * 3], columns=columns))
    kmeans = KMeans(n_clusters=2)
    kmeans.cluster_centers_ = np.array([center0, [9.0, 9.0, 9.0]])
    return Pipeline([("scaler", scaler), ("kmeans", kmeans)])


def test_distance_to_cluster0_by_hand():
    pipe = _hand_pipeline([0.0, 0.0, -4.0])
    users = pd.DataFrame({"a": [4.0, 1.0], "b": [1.0, 1.0], "c": [1.0, 1.0]})
    # z = (x - 1) / 1: user 0 -> (3, 0, 0), distance to (0, 0, -4) = sqrt(9 + 16) = 5;
    # user 1 -> (0, 0, 0), distance 4
    np.testing.assert_allclose(distance_to_cluster0(users, pipe), [5.0, 4.0])


def test_distance_uses_the_fitted_column_order():
    pipe = _hand_pipeline([0.0, 0.0, -4.0])
    users = pd.DataFrame({"c": [1.0], "b": [1.0], "a": [4.0]})  # shuffled columns
    np.testing.assert_allclose(distance_to_cluster0(users, pipe), [5.0])


def _users(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Engagement and experience per-user tables with some signal, same users, other order."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"3366{i:07d}" for i in rng.permutation(n)])
    eng = pd.DataFrame(
        {
            "msisdn": ids,
            "sessions": rng.integers(1, 8, n).astype("float64"),
            "duration_ms": rng.gamma(2.0, 50_000.0, n),
            "total_bytes": rng.gamma(3.0, 2e8, n),
        }
    )
    eng["cluster"] = 0  # extra columns must be ignored
    order = rng.permutation(n)
    exp = pd.DataFrame(
        {
            "msisdn": ids[order],
            "tcp_retrans_bytes": rng.gamma(1.5, 1e6, n),
            "rtt_ms": rng.gamma(4.0, 25.0, n),
            "throughput_kbps": rng.gamma(2.0, 5_000.0, n),
            "handset": "Samsung Galaxy",
            "cluster": 1,
        }
    )
    return eng, exp


def _ordered_pipelines(eng: pd.DataFrame, exp: pd.DataFrame) -> tuple[Pipeline, Pipeline]:
    """Engagement / experience pipelines ordered as SPEC rules 8 and 9 say."""
    pe = scaled_kmeans(3, order="centroid_mean", n_init=10, random_state=42).fit(eng[ENG])
    assert list(np.diff(pe.named_steps["kmeans"].cluster_centers_.mean(axis=1)) > 0) == [True] * 2
    # worst experience = largest z_rtt + z_tcp - z_throughput -> must get label 0
    weights = [{"rtt_ms": -1.0, "tcp_retrans_bytes": -1.0, "throughput_kbps": 1.0}[m] for m in EXP]
    px = scaled_kmeans(3, order=weights, n_init=10, random_state=42).fit(exp[EXP])
    cz = px.named_steps["kmeans"].cluster_centers_
    badness = (
        cz[:, EXP.index("rtt_ms")]
        + cz[:, EXP.index("tcp_retrans_bytes")]
        - cz[:, EXP.index("throughput_kbps")]
    )
    assert list(np.diff(badness) < 0) == [True] * 2
    return pe, px


@pytest.fixture(scope="module")
def generated():
    eng, exp = _users(600, seed=7)
    pe, px = _ordered_pipelines(eng, exp)
    result = satisfaction_analysis(eng, exp, pe, px, CONFIG)
    return eng, exp, pe, px, result


def _numpy_distance(values: np.ndarray, pipe: Pipeline) -> np.ndarray:
    """SPEC rule 10 from the published numbers: (x - mean) / scale, minus centroid 0, norm."""
    scaler = pipe.named_steps["scaler"]
    centre = pipe.named_steps["kmeans"].cluster_centers_[0]
    z = (values - scaler.mean_) / scaler.scale_
    return np.sqrt(((z - centre) ** 2).sum(axis=1))


def test_scores_equal_numpy_recomputation(generated):
    eng, exp, pe, px, result = generated
    sat = result.tables["satisfaction"].set_index("msisdn")
    e = eng.set_index("msisdn")[ENG]
    x = exp.set_index("msisdn")[EXP]
    eng_score = pd.Series(_numpy_distance(e.to_numpy(), pe), index=e.index)
    exp_score = pd.Series(_numpy_distance(x.to_numpy(), px), index=x.index)
    assert len(sat) == 600
    np.testing.assert_allclose(sat["engagement_score"], eng_score.loc[sat.index], rtol=1e-12)
    np.testing.assert_allclose(sat["experience_score"], exp_score.loc[sat.index], rtol=1e-12)
    np.testing.assert_allclose(
        sat["satisfaction_score"],
        (eng_score.loc[sat.index] + exp_score.loc[sat.index]) / 2,
        rtol=1e-12,
    )
    assert (sat[["engagement_score", "experience_score"]] >= 0).all().all()


def test_satisfaction_table_columns(generated):
    *_, result = generated
    assert isinstance(result, AnalysisResult)
    assert list(result.tables["satisfaction"].columns) == [
        "msisdn",
        "engagement_score",
        "experience_score",
        "satisfaction_score",
        "cluster",
    ]
    assert list(result.tables["satisfaction_top10"].columns) == [
        "rank",
        "msisdn",
        "satisfaction_score",
        "engagement_score",
        "experience_score",
    ]
    assert list(result.tables["satisfaction_clusters"].columns) == [
        "cluster",
        "users",
        "mean_satisfaction",
        "mean_experience",
        "mean_engagement",
    ]
    assert list(result.tables["regression_loss"].columns) == [
        "iteration", "train_loss", "validation_loss"]
    # the regression learns from the six raw metrics, never the scores (leakage)
    assert list(result.models["satisfaction_regression"].feature_names_in_) == [*ENG, *EXP]


def test_k2_clusters_match_sklearn_and_cluster1_is_more_satisfied(generated):
    *_, result = generated
    sat = result.tables["satisfaction"]
    # plain scikit-learn: z-scores of the two scores, k-means k=2 with the run's seed
    z = StandardScaler().fit_transform(sat[["engagement_score", "experience_score"]])
    raw = KMeans(n_clusters=2, n_init=10, random_state=42).fit_predict(z)
    means = pd.Series(sat["satisfaction_score"].to_numpy()).groupby(raw).mean()
    expected = np.where(raw == means.idxmax(), 1, 0)
    np.testing.assert_array_equal(sat["cluster"].to_numpy(), expected)

    clusters = result.tables["satisfaction_clusters"].set_index("cluster")
    assert clusters.loc[1, "mean_satisfaction"] > clusters.loc[0, "mean_satisfaction"]
    # the labels are int8 (label_dtype), the summary's cluster numbers int64
    by_pandas = sat.groupby(sat["cluster"].astype("int64")).agg(
        users=("msisdn", "size"),
        mean_satisfaction=("satisfaction_score", "mean"),
        mean_experience=("experience_score", "mean"),
        mean_engagement=("engagement_score", "mean"),
    )
    pd.testing.assert_frame_equal(clusters, by_pandas, check_dtype=False)
    assert clusters["users"].sum() == len(sat)


def test_top10_is_the_ten_largest(generated):
    *_, result = generated
    sat = result.tables["satisfaction"]
    top = result.tables["satisfaction_top10"]
    expected = sat.sort_values(["satisfaction_score", "msisdn"], ascending=[False, True]).head(10)
    assert top["rank"].tolist() == list(range(1, 11))
    assert top["msisdn"].tolist() == expected["msisdn"].tolist()
    np.testing.assert_allclose(top["satisfaction_score"], expected["satisfaction_score"])


def test_top10_ties_by_msisdn():
    sat = pd.DataFrame(
        {
            "msisdn": ["12", "05", "11", "03", "04", "01", "02", "06", "07", "08", "09", "10"],
            "engagement_score": [1.0] * 12,
            "experience_score": [1.0] * 12,
            "satisfaction_score": [1.0, 5.0, 1.0, 5.0, 2.0, 0.5, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    top = satisfaction_top(sat)
    # 5.0: 03, 05; 2.0: 02, 04; then the 1.0s by msisdn: 06 07 08 09 10 11 (12 and 01 out)
    assert top["msisdn"].tolist() == ["03", "05", "02", "04", "06", "07", "08", "09", "10", "11"]
    assert top["rank"].tolist() == list(range(1, 11))


def test_row_order_does_not_change_results(generated):
    eng, exp, pe, px, result = generated
    again = satisfaction_analysis(
        eng.sample(frac=1.0, random_state=1), exp.sample(frac=1.0, random_state=2), pe, px, CONFIG
    )
    pd.testing.assert_frame_equal(again.tables["satisfaction"], result.tables["satisfaction"])
    pd.testing.assert_frame_equal(
        again.tables["regression_metrics"], result.tables["regression_metrics"]
    )


def test_inputs_not_mutated(generated):
    eng, exp, pe, px, _ = generated
    before_e, before_x = eng.copy(), exp.copy()
    satisfaction_analysis(eng, exp, pe, px, CONFIG)
    pd.testing.assert_frame_equal(eng, before_e)
    pd.testing.assert_frame_equal(exp, before_x)


def test_tracking_metrics_come_from_the_metrics_table(generated):
    *_, result = generated
    m = result.tables["regression_metrics"].set_index(["model", "split"])
    assert result.metrics["regression_test_r2"] == m.loc[("hist_gradient_boosting", "test"), "r2"]
    assert result.metrics["baseline_test_rmse"] == m.loc[("baseline_mean", "test"), "rmse"]
    assert result.metrics["satisfaction_users"] == 600


def test_tiny_case_end_to_end():
    """Two obvious groups per space: the far group gets the larger scores and cluster 1."""
    n = 40
    ids = [f"u{i:02d}" for i in range(n)]
    far = np.arange(n) >= 30  # ten users far from the bad clusters
    eng = pd.DataFrame(
        {
            "msisdn": ids,
            "sessions": np.where(far, 20.0, 1.0),
            "duration_ms": np.where(far, 9e6, 1e5) + np.arange(n),
            "total_bytes": np.where(far, 5e9, 1e8) + np.arange(n),
        }
    )
    exp = pd.DataFrame(
        {
            "msisdn": ids,
            "tcp_retrans_bytes": np.where(far, 1e3, 1e7),
            "rtt_ms": np.where(far, 20.0, 300.0) + np.arange(n) % 3,
            "throughput_kbps": np.where(far, 40_000.0, 100.0),
            "handset": "h",
        }
    )
    pe, px = _ordered_pipelines(eng, exp)
    result = satisfaction_analysis(eng, exp, pe, px, CONFIG)
    sat = result.tables["satisfaction"].set_index("msisdn")
    assert sat.loc[[i for i, f in zip(ids, far) if f], "cluster"].eq(1).all()
    assert sat.loc[[i for i, f in zip(ids, far) if not f], "cluster"].eq(0).all()
    assert set(result.tables["satisfaction_top10"]["msisdn"]) == {i for i, f in zip(ids, far) if f}


# --------------------------------------------------------------------------- figures, narrative


def test_figures_cover_the_tables_and_sample_the_scatter(generated):
    from telco_analytics.report.figures.satisfaction import satisfaction_figures

    *_, result = generated
    big = result.tables["satisfaction"].sample(n=6_000, replace=True, random_state=0)
    figures = satisfaction_figures({**result.tables, "satisfaction": big})
    assert set(figures) == {
        "satisfaction_scatter",
        "satisfaction_top10",
        "satisfaction_clusters",
        "regression_predictions",
        "regression_loss",
        "regression_metrics",
    }
    specs = {stem: chart.to_dict() for stem, chart in figures.items()}
    rows = specs["satisfaction_scatter"]["datasets"]
    assert max(len(v) for v in rows.values()) == 5_000  # 6000 users sampled down
    assert satisfaction_figures(
        {"satisfaction_top10": result.tables["satisfaction_top10"]}
    ).keys() == {"satisfaction_top10"}
    assert satisfaction_figures({}) == {}


def _metrics_table(test_rmse: float, base_rmse: float, test_r2: float, train_r2: float):
    return pd.DataFrame(
        {
            "model": ["hist_gradient_boosting"] * 2 + ["baseline_mean"] * 2,
            "split": ["train", "test"] * 2,
            "r2": [train_r2, test_r2, 0.0, -0.001],
            "rmse": [test_rmse / 2, test_rmse, base_rmse, base_rmse],
            "mae": [0.1, 0.2, 0.5, 0.5],
            "n": [80, 20, 80, 20],
        }
    )


def test_insights_from_hand_made_tables():
    from telco_analytics.narrative.satisfaction import satisfaction_insights

    tables = {
        "satisfaction_clusters": pd.DataFrame(
            {
                "cluster": [0, 1],
                "users": [75, 25],
                "mean_satisfaction": [1.0, 3.0],
                "mean_experience": [1.5, 2.0],
                "mean_engagement": [0.5, 4.0],
            }
        ),
        "regression_metrics": _metrics_table(0.25, 1.0, 0.95, 0.99),
        "regression_loss": pd.DataFrame(
            {
                "iteration": [1, 2, 3, 4],
                "train_loss": [4.0, 2.0, 1.0, 0.5],
                "validation_loss": [4.0, 2.0, 3.0, 3.0],
            }
        ),
    }
    insights = satisfaction_insights(tables)
    assert all(i.section == "satisfaction" for i in insights)
    assert 1 <= sum(i.priority == 1 for i in insights) <= 2
    cluster = insights[0]
    # 25 of 100 users in cluster 1; engagement gap 3.5 > experience gap 0.5
    assert cluster.numbers["satisfied_share"] == 0.25 and "25%" in cluster.text
    assert "mainly engagement" in cluster.text
    assert cluster.action == ("Retention actions for the less satisfied group (cluster 0) "
                              "should start with engagement.")
    reg = next(i for i in insights if i.topic == "satisfaction.model_quality")
    assert reg.numbers["rmse_reduction"] == pytest.approx(0.75)  # 1 - 0.25 / 1.0
    assert "beats the baseline" in reg.text and "75% lower error" in reg.text
    assert any(i.topic == "satisfaction.model_leakage" for i in insights)
    loss = next(i for i in insights if i.topic == "satisfaction.training_loss")
    assert loss.numbers["best_iteration"] == 2  # 2.0 is the lowest validation loss
    assert "rises 50%" in loss.text  # 3.0 / 2.0 - 1
    assert "(about 2)" in loss.action and "fewer" not in loss.text


def test_insights_when_the_model_loses_to_the_baseline():
    from telco_analytics.narrative.satisfaction import satisfaction_insights

    insights = satisfaction_insights({"regression_metrics": _metrics_table(1.2, 1.0, -0.1, 0.9)})
    reg = next(i for i in insights if i.topic == "satisfaction.model_quality")
    assert "does not beat the baseline" in reg.text and "overfitting" in reg.text
    leakage = next(i for i in insights if i.topic == "satisfaction.model_leakage")
    assert leakage.action is not None and "with care" in leakage.action
    assert satisfaction_insights({}) == []


def test_insights_on_generated_run(generated):
    from telco_analytics.narrative.satisfaction import satisfaction_insights

    *_, result = generated
    insights = satisfaction_insights(result.tables)
    numbers = {k: v for i in insights for k, v in i.numbers.items()}
    sat = result.tables["satisfaction"]
    assert numbers["pearson_r"] == pytest.approx(
        sat["engagement_score"].corr(sat["experience_score"]), abs=0.005
    )
    assert numbers["satisfied_users"] == int((sat["cluster"] == 1).sum())
    assert numbers["top_score"] == sat["satisfaction_score"].max()


def test_beyond_the_threshold_models_learn_from_a_sample_but_every_user_is_scored():
    eng, exp = _users(400, seed=3)
    pe, px = _ordered_pipelines(eng, exp)
    config = AnalysisParams(
        kmeans_sample_threshold=300, kmeans_sample_size=200, regression_sample_size=200
    )
    result = satisfaction_analysis(eng, exp, pe, px, config)
    assert len(result.tables["satisfaction"]) == 400
    assert result.models["satisfaction_clusters"].named_steps["kmeans"].fitted_on_sample_
    metrics = result.tables["regression_metrics"]
    model_rows = metrics[metrics["model"] != "baseline_mean"]
    assert model_rows["n"].sum() == 200  # train + test come from the 200-user sample


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("msisdn").reset_index(drop=True)


def test_aligned_join_by_position_equals_the_merge(generated):
    eng, exp, *_ = generated
    # same users, both sorted: the positional path
    fast = _aligned_users(_sorted(eng), _sorted(exp))
    merged = (
        eng[["msisdn", *ENG]]
        .merge(exp[["msisdn", *EXP]], on="msisdn", validate="one_to_one")
        .sort_values("msisdn", ignore_index=True)
    )
    pd.testing.assert_frame_equal(fast, merged, check_exact=True)
    # different orders (the merge fallback) give the same table
    pd.testing.assert_frame_equal(_aligned_users(eng, exp), merged, check_exact=True)
    # same order but not sorted by msisdn: merged and sorted, not taken by position
    shuffled = _sorted(eng).sample(frac=1.0, random_state=4)
    same_order = _sorted(exp).set_index("msisdn").loc[shuffled["msisdn"]].reset_index()
    pd.testing.assert_frame_equal(_aligned_users(shuffled, same_order), merged, check_exact=True)


def test_aligned_join_when_users_differ(generated, caplog):
    eng, exp, pe, px, _ = generated
    eng_s, exp_s = _sorted(eng), _sorted(exp)
    fewer = exp_s.drop(index=[0, 10, 20]).reset_index(drop=True)
    with caplog.at_level("WARNING"):
        users = _aligned_users(eng_s, fewer)
    assert len(users) == len(eng_s) - 3
    assert "missing from one of the two tables" in caplog.text
    assert users["msisdn"].is_monotonic_increasing
    # one user swapped for another: same length, different keys -> inner join
    other = exp_s.copy()
    other.loc[5, "msisdn"] = "3399999999"
    users = _aligned_users(eng_s, other)
    assert len(users) == len(eng_s) - 1 and "3399999999" not in set(users["msisdn"])
    result = satisfaction_analysis(eng_s, fewer, pe, px, CONFIG)
    assert len(result.tables["satisfaction"]) == len(eng_s) - 3


def test_duplicate_users_are_rejected(generated):
    eng, exp, *_ = generated
    eng_s, exp_s = _sorted(eng), _sorted(exp)
    dup_e = pd.concat([eng_s.iloc[:1], eng_s], ignore_index=True)
    dup_x = pd.concat([exp_s.iloc[:1], exp_s], ignore_index=True)
    with pytest.raises(ValueError):
        _aligned_users(dup_e, dup_x)  # equal, sorted keys, not unique: merge rejects them
    with pytest.raises(ValueError):
        _aligned_users(dup_e, exp_s)  # merge fallback: one_to_one validation


def test_sorted_inputs_give_the_same_results_as_shuffled(generated):
    eng, exp, pe, px, result = generated
    fast = satisfaction_analysis(_sorted(eng), _sorted(exp), pe, px, CONFIG)
    for name in ("satisfaction", "satisfaction_top10", "satisfaction_clusters",
                 "regression_metrics"):
        pd.testing.assert_frame_equal(fast.tables[name], result.tables[name], check_exact=True)


def test_sampling_flags_and_exact_path_below_the_threshold(generated):
    eng, exp, pe, px, result = generated
    assert result.sampling == {"satisfaction_kmeans": False, "satisfaction_regression": False}
    assert result.metrics["regression_fit_rows"] == 600
    config = AnalysisParams(
        regression_max_iter=30, kmeans_sample_threshold=500, kmeans_sample_size=450,
        regression_sample_size=300,
    )
    sampled = satisfaction_analysis(eng, exp, pe, px, config)
    assert sampled.sampling == {"satisfaction_kmeans": True, "satisfaction_regression": True}
    assert sampled.metrics["regression_fit_rows"] == 300
    assert sampled.metrics["cluster_fit_rows"] == 450
    # the scores do not depend on the sampling: every user scored on the full data
    pd.testing.assert_frame_equal(
        sampled.tables["satisfaction"].drop(columns="cluster"),
        result.tables["satisfaction"].drop(columns="cluster"),
        check_exact=True,
    )
    assert len(sampled.tables["regression_loss"]) == 30


def test_nodes_give_the_analysis_tables(generated):
    """The run layer runs the clustering and the regression side by side: same tables."""
    eng, exp, pe, px, result = generated
    scores = satisfaction_scores(eng, exp, pe, px)
    clustering = satisfaction_clustering(scores, CONFIG)
    regression = satisfaction_regression(scores, CONFIG)
    assert regression.n_fit_rows == 600
    nodes = satisfaction_tables(scores, clustering, regression, CONFIG)
    for name, table in result.tables.items():
        pd.testing.assert_frame_equal(nodes.tables[name], table, check_exact=True, obj=name)
    assert nodes.metrics == result.metrics and nodes.sampling == result.sampling
    assert set(nodes.models) == {"satisfaction_clusters", "satisfaction_regression"}
    # the fitted clustering labels every user as the table does
    labels = clustering.predict(scores[["engagement_score", "experience_score"]])
    np.testing.assert_array_equal(labels, nodes.tables["satisfaction"]["cluster"])
