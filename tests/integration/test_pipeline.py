"""The whole run on a small generated extract: outputs, manifest, database, pseudonyms."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3

import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.run.runner import RunOptions, run
from telco_analytics.synth import write_extract
from tests.helpers import pandas_clean

SPEC_TABLES = {
    "cleaning_report": ["column", "missing", "outliers", "lower_fence", "upper_fence", "replacement"],
    "handsets_top10": ["rank", "handset", "manufacturer", "sessions", "users"],
    "manufacturers_top3": ["rank", "manufacturer", "sessions", "users"],
    "handsets_top5_per_manufacturer": ["manufacturer", "rank", "handset", "sessions", "users"],
    "user_overview": schema.USER_OVERVIEW_COLUMNS,
    "variables": ["column", "dtype", "kind", "description", "missing"],
    "univariate": ["variable", "count", "mean", "median", "std", "var", "min", "q1", "q3", "iqr",
                   "max", "range", "skew", "kurtosis", "cv"],
    "decile_data": ["decile", "users", "min_duration_ms", "max_duration_ms", "total_bytes"],
    "app_correlation": ["app"],
    "pca": ["component", "explained_variance_ratio", "cumulative_ratio"],
    "engagement_users": ["msisdn", "sessions", "duration_ms", "total_bytes", "cluster"],
    "engagement_top10": ["metric", "rank", "msisdn", "value"],
    "engagement_clusters": ["cluster", "users", "sessions_min", "sessions_max", "sessions_mean",
                            "sessions_sum", "duration_ms_sum", "total_bytes_sum"],
    "app_top10_users": ["app", "rank", "msisdn", "bytes"],
    "app_totals": ["app", "bytes", "users"],
    "engagement_elbow": ["k", "inertia", "chosen"],
    "experience_users": ["msisdn", "tcp_retrans_bytes", "rtt_ms", "throughput_kbps", "handset",
                         "cluster"],
    "experience_values": ["metric", "kind", "rank", "value", "count"],
    "throughput_per_handset": ["handset", "users", "mean", "median", "p25", "p75"],
    "tcp_per_handset": ["handset", "users", "mean", "median"],
    "experience_clusters": ["cluster", "users", "description"],
    "satisfaction": ["msisdn", "engagement_score", "experience_score", "satisfaction_score",
                     "cluster"],
    "satisfaction_top10": ["rank", "msisdn", "satisfaction_score", "engagement_score",
                           "experience_score"],
    "satisfaction_clusters": ["cluster", "users", "mean_satisfaction", "mean_experience",
                              "mean_engagement"],
    "regression_metrics": ["model", "split", "r2", "rmse", "mae", "n"],
}


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return write_extract(tmp_path_factory.mktemp("in") / "x.csv", rows=3000, seed=7)


@pytest.fixture(scope="module")
def result(extract, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    return run(str(extract), out, options=RunOptions(report=False, tracking=False))


def test_every_spec_table_is_written_with_its_columns(result):
    for name, columns in SPEC_TABLES.items():
        parquet = pd.read_parquet(result.out / "tables" / f"{name}.parquet")
        csv = pd.read_csv(result.out / "tables" / f"{name}.csv")
        assert len(parquet) == len(csv), name
        missing = [c for c in columns if c not in parquet.columns]
        assert not missing, f"{name} lacks {missing}"
    assert (result.out / "tables" / "insights.json").exists()


def test_manifest_records_input_rows_parameters_and_times(result, extract):
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["input"]["files"][0]["bytes"] == extract.stat().st_size
    assert len(manifest["input"]["files"][0]["sha256"]) == 64
    rows = manifest["rows"]
    assert rows["read"] == 3001 and rows["dropped_artifact"] == 1 and rows["sessions"] == 3000
    users = pd.read_parquet(result.out / "tables" / "user_overview.parquet")
    assert rows["users"] == len(users)
    assert users["sessions"].sum() == rows["sessions"] - rows["sessions_without_msisdn"]
    assert manifest["parameters"]["k_engagement"] == 3
    assert manifest["parameters"]["iqr_factor"] == 1.5
    assert set(manifest["seconds_per_step"]) >= {"read and validate", "clean", "engagement"}
    cpu = manifest["cpu_seconds_per_step"]
    assert set(cpu) == set(manifest["seconds_per_step"])
    assert cpu["engagement"] > 0 and sum(cpu.values()) > 0
    assert manifest["code"]["version"]
    assert "cleaning" in manifest["definitions"]
    # 3,000 sessions: far below the sampling threshold, every model saw every user
    sampling = manifest["sampling"]
    assert sampling["users"] == rows["users"]
    assert not any(v for k, v in sampling.items()
                   if k not in ("rule", "users", "engagement_elbow_restarts"))
    assert sampling["engagement_elbow_restarts"] == manifest["parameters"]["kmeans_n_init"]
    assert {"engagement_kmeans", "engagement_elbow", "experience_kmeans",
            "satisfaction_kmeans", "satisfaction_regression"} <= set(sampling)


def test_user_overview_matches_plain_pandas_from_the_raw_csv(result, extract):
    raw = pd.read_csv(extract, dtype={"MSISDN/Number": str, "IMSI": str, "IMEI": str,
                                      "Bearer Id": str})
    raw = raw.iloc[:-1]  # the artifact last row
    raw = raw.rename(columns={c.raw: c.name for c in schema.COLUMNS})
    clean = pandas_clean(raw, schema.MEASUREMENT_COLUMNS)
    clean = clean[clean["msisdn"].notna()]
    ref = clean.groupby("msisdn").agg(
        sessions=("msisdn", "size"), duration_ms=("duration_ms", "sum"),
        dl_bytes=("total_dl_bytes", "sum"), ul_bytes=("total_ul_bytes", "sum"))
    got = pd.read_parquet(result.out / "tables" / "user_overview.parquet").set_index("msisdn")
    assert sorted(got.index) == sorted(ref.index)
    np.testing.assert_allclose(got[["sessions", "duration_ms", "dl_bytes", "ul_bytes"]].to_numpy(),
                               ref.loc[got.index].to_numpy(), rtol=1e-12)


def test_database_table_equals_the_satisfaction_table(result):
    table = pd.read_parquet(result.out / "tables" / "satisfaction.parquet")
    with sqlite3.connect(result.out / "telco.db") as db:
        stored = pd.read_sql("SELECT * FROM satisfaction ORDER BY msisdn", db)
    assert len(stored) == len(table)
    merged = table.merge(stored, on="msisdn", suffixes=("", "_db"))
    np.testing.assert_allclose(merged["satisfaction_score"], merged["satisfaction_score_db"])
    assert (merged["cluster"] == merged["cluster_db"]).all()
    assert "satisfaction_score" in (result.out / "db_select.txt").read_text()


def test_pseudonymized_run_has_no_raw_msisdn_in_any_export(extract, tmp_path, monkeypatch):
    monkeypatch.setenv("TELCO_PSEUDONYM_KEY", "test-key")
    out = tmp_path / "p"
    run(str(extract), out, options=RunOptions(report=False, tracking=False, figures=False,
                                               pseudonymize=True))
    raw_ids = set(pd.read_csv(extract, dtype=str)["MSISDN/Number"].dropna())
    for path in (out / "tables").glob("*.csv"):
        text = path.read_text()
        leaked = [m for m in list(raw_ids)[:200] if m in text]
        assert not leaked, f"{path.name} holds raw MSISDNs"
    with sqlite3.connect(out / "telco.db") as db:
        stored = {r[0] for r in db.execute("SELECT msisdn FROM satisfaction")}
    assert not stored & raw_ids and all(len(m) == 16 for m in stored)
    assert not any(m in (out / "db_select.txt").read_text() for m in raw_ids)


def test_pseudonymize_without_key_fails_before_any_work(extract, tmp_path, monkeypatch):
    from telco_analytics.errors import ConfigError

    monkeypatch.delenv("TELCO_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigError, match="TELCO_PSEUDONYM_KEY"):
        run(str(extract), tmp_path / "q", options=RunOptions(pseudonymize=True, tracking=False,
                                                             report=False))
    assert not (tmp_path / "q").exists()


@pytest.mark.mysql
def test_mariadb_export_equals_the_satisfaction_table(extract, tmp_path):
    import sqlalchemy as sa

    url = "mysql+pymysql://root:@127.0.0.1:3306/test"
    out = tmp_path / "m"
    run(str(extract), out, options=RunOptions(report=False, tracking=False, figures=False,
                                               db_url=url))
    table = pd.read_parquet(out / "tables" / "satisfaction.parquet").set_index("msisdn")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = pd.read_sql("SELECT * FROM satisfaction", conn).set_index("msisdn")
    engine.dispose()
    assert sorted(stored.index) == sorted(table.index)
    for column in ("engagement_score", "experience_score", "satisfaction_score"):
        np.testing.assert_allclose(stored.loc[table.index, column], table[column], rtol=1e-12)
    assert (stored.loc[table.index, "cluster"] == table["cluster"]).all()
    assert (stored["run_id"] == json.loads((out / "manifest.json").read_text())["run_id"]).all()


def test_fits_side_by_side_give_the_same_tables_as_one_after_the_other(result, extract, tmp_path):
    """Nodes side by side (experience beside engagement, the elbow beside the main fit) are a
    matter of speed only: one after the other (beyond side_by_side_max_users), every table is
    identical."""
    from telco_analytics.config import ExecutionSettings

    serial = run(str(extract), tmp_path / "serial", settings=ExecutionSettings(side_by_side_max_users=1),
                 options=RunOptions(report=False, tracking=False, figures=False))
    assert "experience" in serial.manifest["seconds_per_step"]
    for name in ("engagement_users", "engagement_elbow", "engagement_clusters", "experience_users",
                 "experience_clusters", "satisfaction", "satisfaction_clusters",
                 "regression_metrics"):
        pd.testing.assert_frame_equal(serial.tables[name].reset_index(drop=True),
                                      result.tables[name].reset_index(drop=True), obj=name)


def test_engine_steps_in_a_child_process_give_the_same_tables(result, extract, tmp_path):
    """Large DuckDB input runs read/clean/handsets/per-user in a child process handing the
    per-user table over as Parquet: a matter of memory only, every table is identical."""
    from telco_analytics.config import ExecutionSettings

    child = run(str(extract), tmp_path / "child", settings=ExecutionSettings(engine_child_min_bytes=0),
                options=RunOptions(report=False, tracking=False, figures=False))
    assert child.manifest["engine_in_child_process"] is True
    assert result.manifest["engine_in_child_process"] is False
    steps = child.manifest["seconds_per_step"]
    assert {"read and validate", "clean", "handsets", "per-user tables"} <= set(steps)
    # CPU of the engine child (its ended process) counts in its nodes
    child_cpu = child.manifest["cpu_seconds_per_step"]
    assert child_cpu["clean"] > 0 and child_cpu["per-user tables"] > 0
    assert child.manifest["rows"] == result.manifest["rows"]
    assert child.manifest["handsets"] == result.manifest["handsets"]
    assert child.manifest["missing"] == result.manifest["missing"]
    for name, table in result.tables.items():
        pd.testing.assert_frame_equal(child.tables[name].reset_index(drop=True),
                                      table.reset_index(drop=True), obj=name)


def test_an_input_error_in_the_engine_child_is_reported_as_in_process(tmp_path):
    """The child's one-line error reaches the user unchanged, and no output is written."""
    from telco_analytics.config import ExecutionSettings
    from telco_analytics.errors import SchemaError

    bad = tmp_path / "bad.csv"
    bad.write_text("Bearer Id,MSISDN/Number\n1,2\n")
    with pytest.raises(SchemaError, match="bad.csv: not an xDR extract") as in_process:
        run(str(bad), tmp_path / "a", options=RunOptions(report=False, tracking=False))
    with pytest.raises(SchemaError, match="bad.csv: not an xDR extract") as in_child:
        run(str(bad), tmp_path / "b", settings=ExecutionSettings(engine_child_min_bytes=0),
            options=RunOptions(report=False, tracking=False))
    assert str(in_child.value) == str(in_process.value)
    assert not (tmp_path / "b").exists()


def most_engaged_cluster(engagement_clusters: pd.DataFrame) -> pd.DataFrame:
    """A toy analysis: the most engaged cluster's size and traffic share."""
    return engagement_clusters.tail(1)[["cluster", "users", "traffic_share"]].reset_index(drop=True)


def test_an_analysis_is_a_function_and_one_node(result, extract, tmp_path):
    """What adding an analysis takes: a plain function and one node declaration. The runner
    orders it after what it reads, publishes its table and times it."""
    from telco_analytics.run.graph import node
    from telco_analytics.run.nodes import NODES

    toy = node(most_engaged_cluster, name="most engaged cluster",
               inputs=("engagement_clusters",), outputs=("most_engaged",))
    got = run(str(extract), tmp_path / "toy", nodes=[*NODES, toy],
              options=RunOptions(report=False, tracking=False, figures=False))
    table = pd.read_parquet(tmp_path / "toy" / "tables" / "most_engaged.parquet")
    expected = result.tables["engagement_clusters"].tail(1)
    assert table["users"].tolist() == expected["users"].tolist()
    assert "most_engaged" in got.manifest["tables"]
    assert "most engaged cluster" in got.manifest["seconds_per_step"]
    start, _ = got.manifest["node_intervals"]["most engaged cluster"]
    assert start >= got.manifest["node_intervals"]["engagement"][1]


def test_a_run_with_every_output(extract, tmp_path):
    """Every node on: figures, tables, database, tracking into a throw-away store, report and
    slides; the nodes that write files run after the files they log or show exist."""
    store = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    out = tmp_path / "full"
    got = run(str(extract), out, options=RunOptions(tracking_uri=store))
    for name in ("report.html", "slides.pptx", "db_select.txt", "tracking/runs.csv",
                 "figures/db_select.png", "tables/insights.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tracking"]["model_version"] == "1"
    intervals = manifest["node_intervals"]
    for before in ("figures", "write tables", "database export", "save insights"):
        assert intervals[before][1] <= intervals["tracking"][0], before
        assert intervals[before][1] <= intervals["report charts"][0], before
    assert intervals["tracking"][1] <= intervals["report"][0]
    assert intervals["report charts"][1] <= intervals["report"][0]
    # tracking ran in its own process, which ended with the run
    assert not [p for p in multiprocessing.active_children() if p.name == "telco-tracking"]
    assert set(manifest["seconds_per_step"]) == set(intervals)
    assert got.manifest["run_id"] == manifest["run_id"]


def test_a_failing_tracking_store_fails_the_run_and_ends_the_tracking_process(extract,
                                                                              tmp_path):
    """The tracking process meets the store's trouble, the run reports it and leaves neither
    a run folder nor a process behind."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    store = f"sqlite:///{blocker / 'mlflow.db'}"
    out = tmp_path / "failed"
    with pytest.raises(Exception, match="not-a-folder|Not a directory|File exists"):
        run(str(extract), out, options=RunOptions(tracking_uri=store, report=False))
    assert not out.exists()
    assert not [p for p in multiprocessing.active_children() if p.name == "telco-tracking"]
