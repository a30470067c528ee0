"""Tracking: a pipeline-shaped run logged to a throwaway SQLite MLflow store, read back.

The inputs are small real models fitted here (a gradient-boosting regressor on random data
with the FEATURES columns, scaler + k-means pipelines) and small tables: no pipeline run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from telco_analytics import tracking
from telco_analytics.models.ordered_kmeans import OrderedKMeans
from telco_analytics.models.regression import BASELINE_NAME, FEATURES, MODEL_NAME
from telco_analytics.report.figures.tracking import loss_curve_chart, tracking_figures
from telco_analytics.report.render import chart_png
from telco_analytics.run.catalog import RunCatalog

ENGAGEMENT = FEATURES[:3]
EXPERIENCE = FEATURES[3:]
N_ITER = 25


def _quality(model: str, split: str, y: np.ndarray, pred: np.ndarray) -> dict:
    return {"model": model, "split": split, "r2": r2_score(y, pred),
            "rmse": float(np.sqrt(mean_squared_error(y, pred))),
            "mae": mean_absolute_error(y, pred), "n": len(y)}


def build_run(folder: Path, seed: int = 0, users: int = 400) -> dict:
    """Everything log_run needs, from small real models; also written as a run folder."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.gamma(2.0, 50.0, (users, len(FEATURES))), columns=FEATURES)
    X["sessions"] = rng.integers(1, 20, users).astype("float64")
    y = (X["sessions"] / 5 + X["rtt_ms"] / 100 - X["throughput_kbps"] / 200
         + rng.normal(0, 0.1, users)).to_numpy()
    msisdn = [f"3361{i:07d}" for i in range(users)]
    train, test = np.arange(users) < 300, np.arange(users) >= 300
    model = HistGradientBoostingRegressor(max_iter=N_ITER, early_stopping=False,
                                          random_state=seed).fit(X[train], y[train])
    loss = pd.DataFrame({
        "iteration": np.arange(1, N_ITER + 1),
        "train_loss": [mean_squared_error(y[train], p) for p in model.staged_predict(X[train])],
        "validation_loss": [mean_squared_error(y[test], p) for p in model.staged_predict(X[test])],
    })
    mean = y[train].mean()
    metrics_table = pd.DataFrame([
        _quality(MODEL_NAME, "train", y[train], model.predict(X[train])),
        _quality(MODEL_NAME, "test", y[test], model.predict(X[test])),
        _quality(BASELINE_NAME, "test", y[test], np.full(test.sum(), mean)),
    ])

    def kmeans(columns: list[str]) -> Pipeline:  # as the analyses fit them
        return Pipeline([("scaler", StandardScaler()),
                         ("kmeans", OrderedKMeans(3, n_init=3, random_state=seed))]
                        ).fit(X[columns])

    engagement, experience = kmeans(ENGAGEMENT), kmeans(EXPERIENCE)
    tables = {
        "engagement_users": pd.DataFrame({"msisdn": msisdn, **{c: X[c] for c in ENGAGEMENT},
                                          "cluster": engagement.predict(X[ENGAGEMENT])}),
        "experience_users": pd.DataFrame({"msisdn": msisdn, **{c: X[c] for c in EXPERIENCE},
                                          "cluster": experience.predict(X[EXPERIENCE])}),
        "regression_metrics": metrics_table,
        "regression_loss": loss,
    }
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "input.csv"
    data.write_text(f"fake xdr extract {seed}\n")
    for name, df in tables.items():
        (folder / "tables").mkdir(exist_ok=True)
        df.to_csv(folder / "tables" / f"{name}.csv", index=False)
    (folder / "figures").mkdir(exist_ok=True)
    (folder / "figures" / "loss_curve.png").write_bytes(chart_png(loss_curve_chart(loss), 1))
    manifest = {
        "run_id": f"{seed:032x}",
        "started_at": "2024-05-01T10:00:00+00:00",
        "ended_at": "2024-05-01T10:00:12+00:00",
        "seconds": 12.0,
        "seconds_per_step": {"read and validate": 1.5, "engagement": 2.0},
        "code": {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": True,
                 "version": "0.1.0"},
        "input": {"source": str(data), "files": [{
            "path": str(data), "bytes": data.stat().st_size,
            "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}]},
        "parameters": {"k_engagement": 3, "random_state": seed, "engine": "duckdb",
                       "extra": {"note": "nested"}},
        "rows": {"read": 1000, "users": users},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return {
        "catalog": RunCatalog(folder), "manifest": manifest, "tables": tables,
        "models": {"engagement": engagement, "experience": experience},
        "metrics": {"engagement_inertia": float(engagement.named_steps["kmeans"].inertia_),
                    "engagement_cluster_0_users": 123.0},
        "loss_curve": loss, "features": list(FEATURES), "regression_model": model,
        "X": X,
    }


def log(store: str, run: dict, **kw) -> dict:
    args = {k: v for k, v in run.items() if k != "X"}
    return tracking.log_run(tracking_uri=store, **args, **kw)


def log_in_tracking_process(store: str, run: dict) -> tuple[dict, bytes]:
    """As `telco run` logs: in a tracking process prepared beforehand, sent only the part of
    the tables log_run reads and the model's input example."""
    from telco_analytics.run.execution import ChildWorker

    args = {k: v for k, v in run.items() if k != "X"}
    args["sample"] = tracking.feature_sample(args["tables"], args["features"])
    args["tables"] = tracking.tables_to_log(args["tables"])
    worker = ChildWorker(tracking.warm_up, store)
    try:
        return worker.call(tracking.log_run_and_list, store, **args)
    finally:
        worker.close()


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """Two runs logged to a fresh SQLite store, from a working folder that must stay clean."""
    root = tmp_path_factory.mktemp("tracking")
    cwd = root / "cwd"
    cwd.mkdir()
    store = f"sqlite:///{root / 'store' / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        first_run = build_run(root / "run1", seed=1)
        first = log(store, first_run)
        second_run = build_run(root / "run2", seed=2)
        second, second_runs_csv = log_in_tracking_process(store, second_run)
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=store)
    return {"store": store, "root": root, "cwd": cwd, "client": client,
            "first": first, "first_run": first_run, "second": second,
            "second_run": second_run, "second_runs_csv": second_runs_csv}


def test_run_has_code_version_source_and_times_as_tags(tracked):
    run = tracked["client"].get_run(tracked["first"]["run_id"])
    manifest = tracked["first_run"]["manifest"]
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == manifest["code"]["commit"]
    assert tags["telco.git_commit"] == manifest["code"]["commit"]
    assert tags["telco.git_dirty"] == "True"
    assert tags["telco.version"] == "0.1.0"
    assert tags["mlflow.source.name"] == "telco run"
    data = Path(manifest["input"]["source"])
    assert tags["telco.input.sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert tags["telco.started_at"] == manifest["started_at"]
    assert tags["telco.ended_at"] == manifest["ended_at"]
    assert run.info.status == "FINISHED"
    assert run.info.end_time >= run.info.start_time


def test_run_has_every_parameter_flattened(tracked):
    params = tracked["client"].get_run(tracked["first"]["run_id"]).data.params
    assert params == {"k_engagement": "3", "random_state": "1", "engine": "duckdb",
                      "extra.note": "nested"}


def test_run_has_regression_and_cluster_metrics(tracked):
    metrics = tracked["client"].get_run(tracked["first"]["run_id"]).data.metrics
    table = tracked["first_run"]["tables"]["regression_metrics"].set_index(["model", "split"])
    assert metrics["test_r2"] == pytest.approx(table.loc[(MODEL_NAME, "test"), "r2"])
    assert metrics["train_rmse"] == pytest.approx(table.loc[(MODEL_NAME, "train"), "rmse"])
    assert metrics["baseline_test_rmse"] == pytest.approx(
        table.loc[(BASELINE_NAME, "test"), "rmse"])
    assert metrics["test_n"] == 100
    inertia = tracked["first_run"]["models"]["engagement"].named_steps["kmeans"].inertia_
    assert metrics["engagement_inertia"] == pytest.approx(inertia)
    assert metrics["engagement_cluster_0_users"] == 123
    assert metrics["rows_users"] == 400
    assert metrics["seconds_read_and_validate"] == 1.5


def test_loss_is_logged_per_iteration(tracked):
    client, run_id = tracked["client"], tracked["first"]["run_id"]
    loss = tracked["first_run"]["loss_curve"]
    for column in ("train_loss", "validation_loss"):
        history = sorted(client.get_metric_history(run_id, column), key=lambda m: m.step)
        assert [m.step for m in history] == list(range(1, N_ITER + 1))
        assert [m.value for m in history] == pytest.approx(loss[column].tolist())
    # boosting on its own training data: the loss falls
    train = loss["train_loss"].to_numpy()
    assert train[-1] < train[0]


def test_artifacts_hold_tables_figures_manifest_and_models(tracked):
    import mlflow

    client, run_id = tracked["client"], tracked["first"]["run_id"]
    top = {a.path for a in client.list_artifacts(run_id)}
    assert {"tables", "figures", "manifest.json"} <= top
    assert "tables/engagement_users.csv" in {a.path for a in client.list_artifacts(run_id, "tables")}
    assert "figures/loss_curve.png" in {a.path for a in client.list_artifacts(run_id, "figures")}
    mlflow.set_tracking_uri(tracked["store"])
    logged = mlflow.search_logged_models(
        experiment_ids=[tracked["first"]["experiment_id"]],
        filter_string=f"source_run_id = '{run_id}'", output_format="list")
    assert {m.name for m in logged} == {"satisfaction_regression", "engagement", "experience"}
    # the cluster pipelines load back (our k-means is a trusted type) and predict as fitted
    run = tracked["first_run"]
    for model in (m for m in logged if m.name == "engagement"):
        loaded = mlflow.sklearn.load_model(model.model_uri)
        X = run["X"][list(run["models"]["engagement"].feature_names_in_)]
        np.testing.assert_array_equal(loaded.predict(X), run["models"]["engagement"].predict(X))


def test_artifacts_stay_next_to_the_sqlite_store(tracked):
    assert not (tracked["cwd"] / "mlruns").exists()
    assert list(tracked["cwd"].iterdir()) == []
    assert (tracked["root"] / "store" / "mlartifacts").is_dir()


def test_registered_model_predicts_like_the_fitted_one(tracked):
    import mlflow

    first = tracked["first"]
    assert first["model_version"] == "1"
    assert first["model_uri"] == "models:/telco-satisfaction/1"
    mlflow.set_registry_uri(tracked["store"])
    mlflow.set_tracking_uri(tracked["store"])
    loaded = mlflow.sklearn.load_model("models:/telco-satisfaction/1")
    X = tracked["first_run"]["X"]
    np.testing.assert_allclose(loaded.predict(X),
                               tracked["first_run"]["regression_model"].predict(X))
    info = mlflow.models.get_model_info("models:/telco-satisfaction/1")
    assert info.signature.inputs.input_names() == list(FEATURES)


def test_each_run_registers_a_new_version(tracked):
    second = tracked["second"]
    assert second["model_version"] == "2"
    assert second["run_id"] != tracked["first"]["run_id"]
    versions = tracked["client"].search_model_versions("name = 'telco-satisfaction'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    latest = tracking.load_registered_model("models:/telco-satisfaction/latest",
                                            tracked["store"])
    assert (latest.version, latest.run_id) == ("2", second["run_id"])


def test_the_tracking_process_logs_what_the_run_logs_here(tracked):
    """The second run went through a tracking process with the compact tables: the same
    input example and cluster-model examples as from the whole tables, the runs list back."""
    import io

    import mlflow

    run = tracked["second_run"]
    mlflow.set_tracking_uri(tracked["store"])
    local = mlflow.artifacts.download_artifacts(tracked["second"]["logged_model_uri"])
    example = mlflow.models.Model.load(local).load_input_example(local)
    expected = tracking.feature_sample(run["tables"], run["features"])
    pd.testing.assert_frame_equal(example.reset_index(drop=True), expected, check_dtype=False)
    compact = tracking.tables_to_log(run["tables"])  # what was sent: a few rows a table
    for name, table in compact.items():
        if name == "regression_metrics":
            pd.testing.assert_frame_equal(table, run["tables"][name])
        else:
            pd.testing.assert_frame_equal(table, run["tables"][name].head(tracking.SAMPLE_ROWS))
    listed = pd.read_csv(io.BytesIO(tracked["second_runs_csv"]))
    assert listed["run_id"].tolist() == [tracked["first"]["run_id"],
                                         tracked["second"]["run_id"]]


def test_runs_table_has_one_row_per_run(tracked):
    table = tracking.runs_table(tracked["store"])
    assert table["run_id"].tolist() == [tracked["first"]["run_id"], tracked["second"]["run_id"]]
    assert (table["commit"] == "0123456789abcdef0123456789abcdef01234567").all()
    assert (table["duration_s"] >= 0).all()
    assert table["params.random_state"].tolist() == ["1", "2"]
    assert "metrics.test_r2" in table.columns
    assert tracking.runs_table(tracked["store"], experiment="nothing-here").empty


def test_tracking_uri_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert tracking.resolve_tracking_uri("sqlite:///x.db") == "sqlite:///x.db"
    assert tracking.resolve_tracking_uri(None) == "http://tracking.example:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.chdir(tmp_path)
    uri = tracking.resolve_tracking_uri(None)
    assert uri == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert tracking.sqlite_file(uri) == tmp_path.resolve() / "mlflow.db"
    assert tracking.artifact_location(uri, "telco-analytics") == str(
        tmp_path.resolve() / "mlartifacts" / "telco-analytics")
    assert tracking.artifact_location("http://h:5000", "telco-analytics") is None


def test_passwords_are_masked_in_tracking_uris():
    masked = tracking.mask_uri("https://alice:s3cret@mlflow.example:5000/path")
    assert "s3cret" not in masked and "alice" in masked and "mlflow.example:5000" in masked
    assert tracking.mask_uri("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"


def test_unreachable_model_is_a_one_line_tracking_error(tmp_path):
    store = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(tracking.TrackingError, match="no version of model 'telco-satisfaction'"):
        tracking.load_registered_model("models:/telco-satisfaction/latest", store)


def test_loss_curve_figure(tmp_path):
    loss = pd.DataFrame({"iteration": [1, 2, 3], "train_loss": [3.0, 2.0, 1.0],
                         "validation_loss": [3.5, 2.5, 2.4]})
    charts = tracking_figures({"regression_loss": loss})
    assert list(charts) == ["loss_curve"]
    spec = charts["loss_curve"].to_dict()
    values = next(iter(spec["datasets"].values()))
    assert {v["split"] for v in values} == {"training", "validation (hold-out)"}
    assert len(values) == 6
    png = chart_png(charts["loss_curve"], 1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert tracking_figures({}) == {}
    assert spec["encoding"]["y"]["scale"].get("type") != "log"
    falling = loss.assign(train_loss=[1.0, 0.1, 0.001])  # orders of magnitude: log axis
    assert loss_curve_chart(falling).to_dict()["encoding"]["y"]["scale"]["type"] == "log"
