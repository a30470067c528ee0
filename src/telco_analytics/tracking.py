"""MLflow tracking hook: one MLflow run per `telco run`, the registered satisfaction model.

This is the only module that imports mlflow, and it does so inside functions: `import mlflow`
costs over a second, which `telco --help` and the analyses should not pay.

A run records what an auditor needs to reproduce a number: the code version (git commit,
dirty flag, package version), the source (entry point and the input files' sha256), start and
end time, every parameter used, the metrics (regression quality, cluster inertias, sizes and
silhouettes), the per-iteration training and validation loss, the output tables and figures,
the manifest, and the fitted models. The satisfaction regression is registered, one new
version per run, so `telco serve` can serve "the latest" or a pinned version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import math
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pandas as pd

from . import __version__, schema
from .errors import TelcoError
from .run.catalog import MANIFEST, RunCatalog

log = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "telco-analytics"
DEFAULT_MODEL_NAME = "telco-satisfaction"
SQLITE_DB_NAME = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"  # next to the SQLite file: never ./mlruns by accident
ENTRY_POINT = "telco run"
REGRESSION_ARTIFACT = "satisfaction_regression"
# The clustering pipelines the pipeline keeps in RunState.models, and the table holding each
# one's input columns (a few rows of it become the logged model's input example).
CLUSTER_MODELS = {
    "engagement": "engagement_users",
    "experience": "experience_users",
    "satisfaction_clusters": "satisfaction",
}
# skops (MLflow's safe default format) refuses types it cannot vouch for. The regression's
# tree nodes are such a type; we trained the model ourselves in this run, so we trust it.
SKOPS_TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
# the cluster pipelines' k-means step (our estimator: skops trusts only library types)
CLUSTER_TRUSTED_TYPES = ["telco_analytics.models.ordered_kmeans.OrderedKMeans"]
# Explicit requirements: without them MLflow infers them by importing the model in a
# subprocess and resolving packages, which is slow and may try the network.
MODEL_PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "skops")
SAMPLE_ROWS = 5  # rows of the input example / signature sample
# MLflow REST limits per log_batch call
_BATCH_METRICS, _BATCH_PARAMS, _BATCH_TAGS = 1000, 100, 100


class TrackingError(TelcoError):
    """The tracking store is unreachable or refuses the run, or the model is not registered."""


# ---------------------------------------------------------------- URIs


def _mlflow():
    """The mlflow module, imported on first use (and MLflow's usage telemetry switched off:
    an operator's analytics must not phone home, and offline it only adds delays)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # an unreachable tracking server should fail in seconds, not after minutes of retries
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    # MLflow configures its own loggers at import (INFO); keep its chatter out of the progress
    # display unless the user asks for it (MLFLOW_LOGGING_LEVEL=INFO)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    import mlflow
    import mlflow.sklearn  # registers the flavor used below

    return mlflow


def resolve_tracking_uri(cli_uri: str | None) -> str:
    """The tracking store, the MLflow way: --tracking-uri, else $MLFLOW_TRACKING_URI, else a
    SQLite file `mlflow.db` in the current folder (as an absolute URI, so later chdirs agree)."""
    if cli_uri:
        return cli_uri
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{Path.cwd().resolve() / SQLITE_DB_NAME}"


def sqlite_file(tracking_uri: str) -> Path | None:
    """The database file of a `sqlite:///path` URI, None for any other store."""
    if not tracking_uri.startswith("sqlite:"):
        return None
    path = unquote(urlsplit(tracking_uri).path)
    if tracking_uri.startswith("sqlite:////"):  # absolute: sqlite:////abs/path
        path = "/" + path.lstrip("/")
    else:  # relative to the working folder: sqlite:///rel/path
        path = path.removeprefix("/")
    return Path(path).resolve() if path and path != ":memory:" else None


def artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """Where a new experiment keeps its artifacts: `<folder of mlflow.db>/mlartifacts/<name>`
    for a SQLite store; None (the server's or store's default) for any other store."""
    db = sqlite_file(tracking_uri)
    if db is None:
        return None
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", experiment).strip("-") or "experiment"
    return str(db.parent / ARTIFACTS_DIR / slug)


def mask_uri(uri: str) -> str:
    """A tracking URI safe to log: a password in it is replaced by ***."""
    try:
        parts = urlsplit(uri)
        if parts.password is None:
            return uri
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))
    except ValueError:
        return "<unparseable tracking URI>"


def _prepare_store(mlflow: Any, tracking_uri: str) -> None:
    """Point MLflow's fluent API (needed by log_model) at the store; create the SQLite folder."""
    db = sqlite_file(tracking_uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)


def warm_up(tracking_uri: str, experiment: str = DEFAULT_EXPERIMENT) -> None:
    """Import MLflow and open (or create and migrate) the store ahead of time.

    Called in a background thread while the analyses run: a fresh process spends several
    seconds here, mostly in Python imports and SQLite migrations, time that otherwise adds to
    the run. Failures are left for log_run to report.
    """
    try:
        mlflow = _mlflow()
        _prepare_store(mlflow, tracking_uri)
        client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        _experiment_id(client, tracking_uri, experiment)
        # what log_run imports on its way: the signature helpers and the skops format
        import mlflow.models
        import skops.io  # noqa: F401
        from mlflow.models import infer_signature  # noqa: F401

        from .run.warmup import settle_imported

        settle_imported()
    except Exception as exc:  # noqa: BLE001 - the real step reports the problem
        log.debug("tracking warm-up failed: %s", exc)


def _experiment_id(client: Any, tracking_uri: str, experiment: str) -> str:
    """The experiment's id, created (with an explicit artifact location) when it is new."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(experiment)
    if found is None:
        try:
            return client.create_experiment(
                experiment, artifact_location=artifact_location(tracking_uri, experiment)
            )
        except MlflowException:  # created concurrently by another run
            found = client.get_experiment_by_name(experiment)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        client.restore_experiment(found.experiment_id)
    return found.experiment_id


# ---------------------------------------------------------------- what a run records


def flatten_params(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested parameters as flat `a.b` names with text values (MLflow params are strings)."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_params(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def _metric_name(name: str) -> str:
    """MLflow accepts letters, digits, _ - . / and spaces; anything else becomes _."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", str(name)).replace(" ", "_")


def regression_metrics(table: pd.DataFrame) -> dict[str, float]:
    """The regression_metrics table as flat metrics: the model's `test_r2`, `train_rmse`, ...
    and the baseline's `baseline_test_rmse`, ...; row counts as `test_n`, `baseline_test_n`."""
    from .models.regression import BASELINE_NAME, MODEL_NAME

    out: dict[str, float] = {}
    for row in table.itertuples(index=False):
        prefix = "" if row.model == MODEL_NAME else (
            "baseline_" if row.model == BASELINE_NAME else f"{row.model}_")
        for name in ("r2", "rmse", "mae", "n"):
            if hasattr(row, name):
                out[f"{prefix}{row.split}_{name}"] = float(getattr(row, name))
    return out


def _input_digest(files: list[dict[str, Any]]) -> str:
    """One file: its sha256. Several: the sha256 of their sorted `sha256  path` lines."""
    if len(files) == 1:
        return str(files[0].get("sha256", ""))
    lines = sorted(f"{f.get('sha256', '')}  {f.get('path', '')}" for f in files)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def run_tags(manifest: dict[str, Any]) -> dict[str, str]:
    """Tags: code version, source (entry point, input digest), start and end time of the run."""
    code = manifest.get("code", {})
    files = manifest.get("input", {}).get("files", [])
    tags = {
        "mlflow.source.name": ENTRY_POINT,
        "mlflow.source.type": "LOCAL",
        "telco.entry_point": ENTRY_POINT,
        "telco.version": str(code.get("version", __version__)),
        "telco.git_commit": str(code.get("commit")),
        "telco.git_dirty": str(code.get("dirty")),
        "telco.input.source": str(manifest.get("input", {}).get("source", "")),
        "telco.input.files": str(len(files)),
        "telco.input.bytes": str(sum(int(f.get("bytes", 0)) for f in files)),
        "telco.input.sha256": _input_digest(files) if files else "",
        "telco.started_at": str(manifest.get("started_at", "")),
        "telco.ended_at": str(manifest.get("ended_at", "")),
        "telco.run_id": str(manifest.get("run_id", "")),
    }
    if code.get("commit"):
        tags["mlflow.source.git.commit"] = str(code["commit"])
    return tags


def run_metrics(manifest: dict[str, Any], tables: dict[str, pd.DataFrame],
                metrics: dict[str, float]) -> dict[str, float]:
    """Final (one-value) metrics: regression quality, the analyses' numbers, rows and timings."""
    out: dict[str, float] = {}
    if "regression_metrics" in tables:
        out.update(regression_metrics(tables["regression_metrics"]))
    out.update({_metric_name(k): float(v) for k, v in metrics.items()})
    for key, value in manifest.get("rows", {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[_metric_name(f"rows_{key}")] = float(value)
    if isinstance(manifest.get("seconds"), (int, float)):
        out["seconds_total"] = float(manifest["seconds"])
    for step, secs in manifest.get("seconds_per_step", {}).items():
        out[_metric_name(f"seconds_{step}")] = float(secs)
    return {k: v for k, v in out.items() if math.isfinite(v)}


def feature_sample(tables: dict[str, pd.DataFrame], features: list[str],
                   n: int = SAMPLE_ROWS) -> pd.DataFrame:
    """A few users' raw features (no identifier): the model's input example and signature.

    Taken from the per-user engagement and experience tables joined on msisdn, or from any
    table holding every feature.
    """
    key = schema.USER_KEY
    eng, exp = tables.get("engagement_users"), tables.get("experience_users")
    if eng is not None and exp is not None and key in eng and key in exp:
        left = eng[[key, *[f for f in features if f in eng.columns]]]
        right = exp[[key, *[f for f in features if f in exp.columns and f not in left]]]
        joined = left.merge(right, on=key)
        if set(features) <= set(joined.columns) and len(joined):
            return joined[features].head(n).astype("float64").reset_index(drop=True)
    for df in tables.values():
        if set(features) <= set(df.columns) and len(df):
            return df[features].head(n).astype("float64").reset_index(drop=True)
    raise ValueError(f"no table holds the model features {features}")


def tables_to_log(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The part of the run's tables log_run reads (the regression's metrics and the first rows
    of each cluster model's input table), small enough to send to another process at any size:
    what log_run logs from them is the same as from the whole tables."""
    kept = {name: tables[name] for name in ("regression_metrics",) if name in tables}
    for name in CLUSTER_MODELS.values():
        if name in tables:
            kept[name] = tables[name].head(SAMPLE_ROWS)
    return kept


def log_run_and_list(tracking_uri: str, **log_run_args: Any) -> tuple[dict, bytes]:
    """log_run, then the experiment's runs as CSV bytes (tracking/runs.csv): what the tracking
    node asks of the tracking process."""
    result = log_run(tracking_uri=tracking_uri, **log_run_args)
    return result, runs_table(tracking_uri).to_csv(index=False).encode()


def _pip_requirements() -> list[str]:
    from importlib import metadata

    pins = []
    for package in MODEL_PACKAGES:
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    return pins


# ---------------------------------------------------------------- logging a run


def log_run(
    *,
    tracking_uri: str,
    catalog: RunCatalog,
    manifest: dict,
    tables: dict[str, pd.DataFrame],
    models: dict[str, object],
    metrics: dict[str, float],
    loss_curve: pd.DataFrame,
    features: list[str],
    regression_model: Any,
    experiment: str = DEFAULT_EXPERIMENT,
    model_name: str = DEFAULT_MODEL_NAME,
    sample: pd.DataFrame | None = None,
) -> dict:
    """Log one pipeline run to MLflow and register the satisfaction regression.

    catalog: the run folder holding tables/, figures/ and manifest.json (logged as artifacts).
    manifest: the run manifest (code, input, parameters, started_at/ended_at, rows, seconds).
    models: name -> fitted clustering pipeline (see CLUSTER_MODELS), logged, not registered.
    metrics: flat analysis numbers (inertias, cluster sizes, silhouettes, ...).
    loss_curve: iteration, train_loss, validation_loss (MSE), logged as step metrics.
    sample: the model's input example (default: `feature_sample(tables, features)`).
    Returns run_id, experiment_id, model_uri (`models:/<name>/<version>`), model_version,
    logged_model_uri and seconds (time spent logging).
    """
    t0 = time.perf_counter()
    mlflow = _mlflow()
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException
    from mlflow.models import infer_signature

    try:
        _prepare_store(mlflow, tracking_uri)
        client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        experiment_id = _experiment_id(client, tracking_uri, experiment)
        run_name = f"telco-run-{str(manifest.get('run_id', ''))[:8]}".rstrip("-")
        with mlflow.start_run(experiment_id=experiment_id, run_name=run_name,
                              tags=run_tags(manifest)) as active:
            run_id = active.info.run_id
            now_ms = int(time.time() * 1000)
            params = [Param(k, v[:6000]) for k, v in
                      flatten_params(manifest.get("parameters", {})).items()]
            final = [Metric(k, v, now_ms, 0) for k, v in
                     run_metrics(manifest, tables, metrics).items()]
            steps = _loss_metrics(Metric, loss_curve, now_ms)
            _log_batches(client, run_id, final + steps, params)
            _log_outputs(mlflow, catalog)
            requirements = _pip_requirements()
            for name, pipeline in models.items():
                _log_cluster_model(mlflow, infer_signature, name, pipeline, tables, requirements)
            if sample is None:
                sample = feature_sample(tables, features)
            with _quiet_registry_messages():
                info = mlflow.sklearn.log_model(
                    regression_model,
                    name=REGRESSION_ARTIFACT,
                    signature=infer_signature(sample, regression_model.predict(sample)),
                    input_example=sample,
                    registered_model_name=model_name,
                    pip_requirements=requirements,
                    serialization_format="skops",
                    skops_trusted_types=SKOPS_TRUSTED_TYPES,
                )
            version = str(info.registered_model_version)
            client.set_model_version_tag(model_name, version, "telco.git_commit",
                                         str(manifest.get("code", {}).get("commit")))
    except MlflowException as exc:
        raise TrackingError(
            f"MLflow tracking at {mask_uri(tracking_uri)} failed: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
        ) from exc
    seconds = round(time.perf_counter() - t0, 3)
    log.info("tracked run %s, registered %s version %s (%.2f s)", run_id, model_name, version,
             seconds)
    return {
        "run_id": run_id,
        "experiment_id": experiment_id,
        "model_uri": f"models:/{model_name}/{version}",
        "model_version": version,
        "logged_model_uri": info.model_uri,
        "seconds": seconds,
    }


REGISTRY_CHATTER = ("Successfully registered model", "Registered model", "Created version")


@contextmanager
def _quiet_registry_messages() -> Iterator[None]:
    """Keep MLflow's "Successfully registered model ..." prints (written straight to stderr,
    bypassing logging) out of the progress display; our own log line says the same. Anything
    else written meanwhile (warnings) still reaches stderr."""
    buffer = io.StringIO()
    try:
        with redirect_stderr(buffer):
            yield
    finally:
        for line in buffer.getvalue().splitlines(keepends=True):
            if line.startswith(REGISTRY_CHATTER):
                log.debug("mlflow: %s", line.rstrip())
            else:
                sys.stderr.write(line)


def _loss_metrics(metric_cls: Any, loss_curve: pd.DataFrame, now_ms: int) -> list:
    """train_loss and validation_loss per boosting iteration, as step metrics."""
    out = []
    for column in ("train_loss", "validation_loss"):
        if column not in loss_curve:
            continue
        for step, value in zip(loss_curve["iteration"], loss_curve[column], strict=True):
            if math.isfinite(float(value)):
                out.append(metric_cls(column, float(value), now_ms, int(step)))
    return out


def _log_batches(client: Any, run_id: str, metrics: list, params: list) -> None:
    """Metrics and params in as few round trips as MLflow's batch limits allow."""
    for i in range(0, max(len(params), 1), _BATCH_PARAMS):
        client.log_batch(run_id, params=params[i:i + _BATCH_PARAMS])
    for i in range(0, len(metrics), _BATCH_METRICS):
        client.log_batch(run_id, metrics=metrics[i:i + _BATCH_METRICS])


def _log_outputs(mlflow: Any, catalog: RunCatalog) -> None:
    """The run folder's tables, figures and manifest as run artifacts."""
    for folder in (catalog.tables_dir, catalog.figures_dir):
        if folder.is_dir():
            mlflow.log_artifacts(str(folder), artifact_path=folder.name)
    if catalog.path(MANIFEST).is_file():
        mlflow.log_artifact(str(catalog.path(MANIFEST)))


def _log_cluster_model(mlflow: Any, infer_signature: Any, name: str, pipeline: Any,
                       tables: dict[str, pd.DataFrame], requirements: list[str]) -> None:
    """A fitted scaler + k-means pipeline, with a few rows of its inputs as example."""
    if not hasattr(pipeline, "predict"):
        log.debug("not logging %s: not a fitted model", name)
        return
    columns = list(getattr(pipeline, "feature_names_in_", []))
    table = tables.get(CLUSTER_MODELS.get(name, ""))
    example = signature = None
    if columns and table is not None and set(columns) <= set(table.columns):
        example = table[columns].head(SAMPLE_ROWS).astype("float64").reset_index(drop=True)
        signature = infer_signature(example, pipeline.predict(example))
    mlflow.sklearn.log_model(pipeline, name=name, signature=signature, input_example=example,
                             pip_requirements=requirements, serialization_format="skops",
                             skops_trusted_types=CLUSTER_TRUSTED_TYPES)


# ---------------------------------------------------------------- reading back


def runs_table(tracking_uri: str, experiment: str = DEFAULT_EXPERIMENT) -> pd.DataFrame:
    """One row per tracked run, oldest first: run_id, run_name, status, commit, dirty, start,
    end (UTC, ISO), duration_s, input_sha256, then params.* and the final metrics.*."""
    mlflow = _mlflow()
    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    base = ["run_id", "run_name", "status", "commit", "dirty", "start", "end", "duration_s",
            "input_sha256"]
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return pd.DataFrame(columns=base)
    rows, token = [], None
    while True:
        page = client.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"],
                                  max_results=1000, page_token=token)
        rows.extend(_run_row(run) for run in page)
        token = page.token
        if not token:
            break
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=base)
    extra = sorted(c for c in table.columns if c not in base)
    return table[base + extra]


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()


def _run_row(run: Any) -> dict[str, Any]:
    info, tags = run.info, run.data.tags
    row: dict[str, Any] = {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "status": info.status,
        "commit": tags.get("telco.git_commit", tags.get("mlflow.source.git.commit")),
        "dirty": tags.get("telco.git_dirty"),
        "start": _iso(info.start_time),
        "end": _iso(info.end_time),
        "duration_s": (info.end_time - info.start_time) / 1000
        if info.end_time and info.start_time else None,
        "input_sha256": tags.get("telco.input.sha256"),
    }
    row.update({f"params.{k}": v for k, v in sorted(run.data.params.items())})
    row.update({f"metrics.{k}": v for k, v in sorted(run.data.metrics.items())})
    return row


# ---------------------------------------------------------------- serving


@dataclass
class RegisteredModel:
    """A registered model version loaded for serving, with what /model reports about it."""

    model: Any
    name: str | None
    version: str | None
    run_id: str | None
    model_uri: str
    metrics: dict[str, float] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)


def _parse_registry_uri(model_uri: str) -> tuple[str, str | None, str | None] | None:
    """models:/name/version, models:/name/latest, models:/name@alias -> (name, version, alias);
    None for other URIs (runs:/..., models:/m-<id>, paths)."""
    if not model_uri.startswith("models:/"):
        return None
    rest = model_uri[len("models:/"):].strip("/")
    if "@" in rest:
        name, alias = rest.split("@", 1)
        return name, None, alias
    if "/" in rest:
        name, version = rest.rsplit("/", 1)
        return name, version, None
    return None


def load_registered_model(model_uri: str, tracking_uri: str | None = None) -> RegisteredModel:
    """Load a model for serving. A registry URI (`models:/name/latest`, `/3`, `@alias`) is
    pinned to a concrete version first, so what is served and reported is one version."""
    mlflow = _mlflow()
    from mlflow.exceptions import MlflowException

    tracking_uri = resolve_tracking_uri(tracking_uri)
    _prepare_store(mlflow, tracking_uri)
    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    name = version = run_id = None
    try:
        parsed = _parse_registry_uri(model_uri)
        if parsed is not None:
            name, version, alias = parsed
            if alias:
                mv = client.get_model_version_by_alias(name, alias)
            elif version in (None, "latest"):
                versions = client.search_model_versions(f"name = '{name}'")
                if not versions:
                    raise TrackingError(
                        f"no version of model {name!r} is registered in {mask_uri(tracking_uri)}"
                        " (run `telco run` first, or pass --tracking-uri)")
                mv = max(versions, key=lambda v: int(v.version))
            else:
                mv = client.get_model_version(name, version)
            version, run_id = str(mv.version), mv.run_id
            model_uri = f"models:/{name}/{version}"
        model = mlflow.sklearn.load_model(model_uri)
        metrics: dict[str, float] = {}
        if run_id:
            metrics = dict(client.get_run(run_id).data.metrics)
    except MlflowException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(f"cannot load model {model_uri} from {mask_uri(tracking_uri)}: "
                            f"{first}") from exc
    return RegisteredModel(
        model=model, name=name, version=version, run_id=run_id, model_uri=model_uri,
        metrics=metrics, features=list(getattr(model, "feature_names_in_", [])),
    )

