"""The pandas baseline (benchmarks/pandas_baseline.py) computes what the product computes.

It is the comparison point of the equal-work benchmark (benchmarks/equal_work.py), so it must
do the same work: the same SPEC definitions and the same sampling rules (k-means, elbow and
regression samples, restarts, iterations), from the product's own AnalysisParams. Being written
independently (plain pandas on raw column names), it is also a second cross-check of the
product's tables. Every model table is compared twice: on all users (everything exact) and with
parameters that make every model learn from a sample, so that the sampling rules are exercised
on both sides.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from telco_analytics import schema
from telco_analytics.config import AnalysisParams
from telco_analytics.run.runner import RunOptions, run
from telco_analytics.synth import write_extract

BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "pandas_baseline.py"
RTOL = 1e-9
# model numbers: the same fits, but OpenMP reductions may add in another order
MODEL_RTOL = 1e-6
# 2,139 users: every model below learns from a sample of them
SAMPLED = AnalysisParams(kmeans_sample_threshold=1000, kmeans_sample_size=800,
                         elbow_sample_size=500, regression_sample_size=600,
                         log_scale_sample_size=700, stability_sample_size=400)
MODES = {"exact": AnalysisParams(), "sampled": SAMPLED}
MODES_ITER = AnalysisParams().regression_max_iter


def _load_baseline():
    spec = importlib.util.spec_from_file_location("pandas_baseline", BASELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def baseline():
    return _load_baseline()


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return write_extract(tmp_path_factory.mktemp("in") / "x.parquet", rows=3000, seed=1)


def _product(extract, tmp_path_factory, params):
    out = tmp_path_factory.mktemp("runs") / "r"
    return run(str(extract), out, params=params,
               options=RunOptions(report=False, tracking=False, figures=False))


@pytest.fixture(scope="module")
def product(extract, tmp_path_factory):
    return _product(extract, tmp_path_factory, AnalysisParams())


@pytest.fixture(scope="module", params=sorted(MODES))
def both(request, baseline, extract, tmp_path_factory):
    """(product run, baseline results) with the same parameters: exact, then sampled."""
    params = MODES[request.param]
    ours = _product(extract, tmp_path_factory, params)
    with threadpool_limits(limits=1):  # small data: one thread is fastest on a busy machine
        theirs = baseline.run(str(extract), params)
    return ours, theirs


@pytest.fixture(scope="module")
def cleaned(baseline, extract):
    df, artifact = baseline.drop_artifact(baseline.load(str(extract)))
    report = baseline.clean(df)
    return df, artifact, report


def _by_msisdn(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["msisdn"] = out["msisdn"].astype(str)
    return out.sort_values("msisdn").reset_index(drop=True)


def _assert_close(ours: pd.Series, theirs: pd.Series, name: str) -> None:
    a = ours.to_numpy(dtype="float64")
    b = theirs.to_numpy(dtype="float64")
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=name)


def test_artifact_row_dropped(cleaned, product):
    _, artifact, _ = cleaned
    assert artifact == 1 == product.manifest["rows"]["dropped_artifact"]


def test_cleaning_fences_and_replacements_match(cleaned, product):
    _, _, report = cleaned
    ours = product.tables["cleaning_report"].set_index("column")
    raw_to_name = {c.raw: c.name for c in schema.COLUMNS}
    theirs = report.assign(column=report["column"].map(raw_to_name)).set_index("column")
    assert sorted(theirs.index) == sorted(ours.index)
    theirs = theirs.loc[ours.index]
    for col in ("lower_fence", "upper_fence", "replacement"):
        _assert_close(ours[col], theirs[col], col)
    for col in ("missing", "outliers"):
        assert ours[col].astype(int).tolist() == theirs[col].astype(int).tolist(), col


def test_user_table_equals_product_user_overview(baseline, cleaned, product):
    df, _, _ = cleaned
    theirs = _by_msisdn(baseline.user_table(df))
    ours = _by_msisdn(product.tables["user_overview"])
    assert len(ours) == len(theirs) > 1000
    assert ours["msisdn"].tolist() == theirs["msisdn"].tolist()
    assert ours["sessions"].astype(int).tolist() == theirs["sessions"].astype(int).tolist()
    assert ours["sessions"].max() > 1  # some users have several sessions: sums are exercised
    for col in ["duration_ms", "dl_bytes", "ul_bytes", "total_bytes", *schema.USER_APP_BYTES]:
        _assert_close(ours[col], theirs[col], col)


def test_experience_table_equals_product_user_experience(baseline, cleaned, product):
    df, _, _ = cleaned
    theirs = _by_msisdn(baseline.experience_table(df))
    ours = _by_msisdn(product.tables["user_experience"])
    assert ours["msisdn"].tolist() == theirs["msisdn"].tolist()
    for col in schema.EXPERIENCE_METRICS:
        _assert_close(ours[col], theirs[col], col)
    assert ours["handset"].astype(str).tolist() == theirs["handset"].astype(str).tolist()


def test_handset_rankings_match(baseline, cleaned, product):
    df, _, _ = cleaned
    hs = baseline.handsets(df)
    ours = product.tables["handsets_top10"]
    top10 = hs["handsets_top10"]
    assert ours["handset"].tolist() == top10[baseline.HANDSET].tolist()
    assert ours["sessions"].tolist() == top10["sessions"].tolist()
    assert ours["users"].tolist() == top10["users"].tolist()
    assert ours["manufacturer"].tolist() == top10["manufacturer"].tolist()
    top3 = hs["manufacturers_top3"]
    ours3 = product.tables["manufacturers_top3"]
    assert ours3["manufacturer"].tolist() == top3[baseline.MAKER].tolist()
    assert ours3["users"].tolist() == top3["users"].tolist()


def test_baseline_reads_csv_as_parquet(baseline, extract, tmp_path):
    csv = write_extract(tmp_path / "x.csv", rows=3000, seed=1)
    a, _ = baseline.drop_artifact(baseline.load(str(extract)))
    b, _ = baseline.drop_artifact(baseline.load(str(csv)))
    pd.testing.assert_frame_equal(baseline.user_table(a), baseline.user_table(b))


def test_same_rows_learnt_from(both):
    ours, theirs = both
    rows = theirs["fit_rows"]
    sampling = ours.manifest["sampling"]
    sampled = rows["engagement"] < theirs["users"]
    assert sampling["engagement_kmeans"] == sampled
    assert sampling["experience_kmeans"] == (rows["experience"] < theirs["users"])
    assert sampling["satisfaction_kmeans"] == (rows["satisfaction"] < theirs["users"])
    assert sampling["satisfaction_regression"] == (rows["regression"] < theirs["users"])
    assert sampling["engagement_elbow"] == (rows["elbow"] < theirs["users"])
    assert sampling["engagement_elbow_restarts"] == rows["elbow_restarts"]
    n_regression = ours.tables["regression_metrics"].groupby("model")["n"].sum().iloc[0]
    assert n_regression == rows["regression"]


def _cluster_columns(ours: pd.DataFrame, theirs: pd.DataFrame, columns: list[str]) -> None:
    assert ours["users"].astype(int).tolist() == theirs["users"].astype(int).tolist()
    for col in columns:
        _assert_close(ours[col], theirs[col], col)


def test_engagement_clusters_elbow_and_log_scaled_match(both):
    ours, theirs = both
    eng = theirs["results"]["engagement"]
    elbow = ours.tables["engagement_elbow"]
    assert elbow["k"].tolist() == eng["elbow"]["k"].tolist()
    np.testing.assert_allclose(elbow["inertia"], eng["elbow"]["inertia"], rtol=MODEL_RTOL)
    assert int(elbow.loc[elbow["chosen"], "k"].iloc[0]) == theirs["knee"]
    stats = [f"{m}_{s}" for m in ("sessions", "duration_ms", "total_bytes")
             for s in ("min", "max", "mean", "sum")]
    _cluster_columns(ours.tables["engagement_clusters"], eng["clusters"].reset_index(), stats)
    _cluster_columns(ours.tables["engagement_clusters_best_k"],
                     eng["clusters_best_k"].reset_index(), stats)
    _cluster_columns(ours.tables["engagement_clusters_log"],
                     theirs["results"]["engagement_log"].reset_index(), stats)
    stability = ours.tables["engagement_stability"].set_index("clustering")
    base = theirs["results"]["stability"].set_index("clustering")
    assert list(stability.index) == list(base.index)
    np.testing.assert_allclose(stability["ari_mean"], base["ari_mean"], rtol=MODEL_RTOL)


def test_engagement_top10_match(both):
    ours, theirs = both
    top = ours.tables["engagement_top10"]
    for metric, table in theirs["results"]["engagement"]["top10"].items():
        mine = top[top["metric"] == metric]
        assert mine["msisdn"].astype(str).tolist() == table["msisdn"].astype(str).tolist()


def test_experience_clusters_and_handsets_match(both):
    ours, theirs = both
    xp = theirs["results"]["experience"]
    clusters = ours.tables["experience_clusters"]
    base = xp["clusters"].reset_index()
    _cluster_columns(clusters, base, [])
    for m in schema.EXPERIENCE_METRICS:
        _assert_close(clusters[f"{m}_mean"], base[m], m)
    assert clusters["top_handset"].tolist() == base["top_handset"].tolist()
    for name, key, cols in (("throughput_per_handset", "tp", ["mean", "median", "p25", "p75"]),
                            ("tcp_per_handset", "tcp", ["mean", "median"])):
        mine = ours.tables[name]
        assert mine["handset"].astype(str).tolist() == xp[key]["handset"].tolist(), name
        _cluster_columns(mine, xp[key], cols)


def test_satisfaction_scores_clusters_and_regression_match(both):
    ours, theirs = both
    sat = theirs["results"]["satisfaction"]
    mine = _by_msisdn(ours.tables["satisfaction"])
    base = _by_msisdn(sat["scores"])
    assert mine["msisdn"].tolist() == base["msisdn"].tolist()
    for col in ("engagement_score", "experience_score", "satisfaction_score"):
        np.testing.assert_allclose(mine[col], base[col], rtol=MODEL_RTOL, err_msg=col)
    assert (mine["cluster"].astype(int) == base["cluster"].astype(int)).mean() > 0.999
    clusters = ours.tables["satisfaction_clusters"]
    np.testing.assert_allclose(clusters["mean_satisfaction"],
                               sat["clusters"]["satisfaction_score"], rtol=1e-4)
    metrics = ours.tables["regression_metrics"]
    pd.testing.assert_frame_equal(metrics[["model", "split", "n"]].astype({"n": "int64"}),
                                  sat["regression"]["metrics"][["model", "split", "n"]]
                                  .astype({"n": "int64"}))
    # the same users, split and iterations; the trees themselves may differ: the per-user means
    # differ in the last bit between DuckDB and pandas, which can split a tie of values into
    # two and move a histogram bin edge (the same data gives the same model: checked by hand)
    np.testing.assert_allclose(metrics["r2"], sat["regression"]["metrics"]["r2"], atol=0.01)
    mean_model = metrics["model"] == "baseline_mean"
    np.testing.assert_allclose(metrics.loc[mean_model, "rmse"],
                               sat["regression"]["metrics"].loc[mean_model, "rmse"], rtol=1e-9)
    assert len(ours.tables["regression_loss"]) == len(sat["regression"]["losses"]) \
        == MODES_ITER


def test_baseline_runs_end_to_end(both, baseline):
    _, theirs = both
    assert theirs["artifact_rows"] == 1
    assert theirs["users"] > 1000
    assert set(baseline.TIMINGS) >= {"read and validate", "clean", "per-user tables", "handsets",
                                     "overview", "engagement", "engagement log-scaled",
                                     "experience", "satisfaction"}
