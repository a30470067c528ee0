"""Runs the steps in order, saves outputs, writes the manifest, calls hooks.

Analyses are pure functions; this module is where reading, writing and timing happen.
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__, engine, schema
from .aggregate import SESSION_COLUMNS_USED, USER_EXPERIENCE_COLUMNS, user_summary
from .analysis import handsets
from .clean import clean_sessions, profile_sessions, profile_sessions_local
from .config import RunConfig
from .errors import EngineError, InputError, SchemaError
from .io.reader import read_sessions
from .io.rundir import staged_dir
from .io.tables import write_json, write_table

log = logging.getLogger(__name__)

# rows per batch of the per-user table as it streams from the engine
USER_BATCH_ROWS = 1_000_000
Progress = Callable[[str, str], None]  # (step name, "start" | "done")
LIBRARIES = ("duckdb", "ibis-framework", "pandas", "numpy", "pyarrow", "scikit-learn", "mlflow",
             "altair", "vl-convert-python", "python-pptx", "sqlalchemy")


@dataclass
class RunOptions:
    """What a run does beyond the analysis parameters (I/O, not definitions)."""

    db_url: str | None = None
    pseudonymize: bool = False
    report: bool = True
    figures: bool = True
    tracking: bool = True
    tracking_uri: str | None = None
    spark_master: str | None = None


@dataclass
class RunState:
    """What the steps share: inputs, tables by name, models, manifest facts."""

    config: RunConfig
    options: RunOptions
    input: str
    out: Path  # staging folder while running
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)
    insights: list = field(default_factory=list)
    con: Any = None
    workdir: Path | None = None  # the engine's scratch folder, removed after the run
    sessions: Any = None
    clean: Any = None
    # fits started by one step and collected by a later one (see step_engagement)
    background: dict[str, Any] = field(default_factory=dict)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class RunResult:
    out: Path
    run_id: str
    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]


# ---------------------------------------------------------------- steps


def step_read(state: RunState) -> None:
    result = read_sessions(state.con, state.input)
    state.sessions = result.sessions
    if int(result.sessions.count().to_pyarrow().as_py()) == 0:
        raise InputError(f"input has a header but no data rows: {state.input}")
    state.manifest["input"] = {
        "source": state.input,
        "files": [f.__dict__ for f in result.files],
        "duration_unit": result.duration_unit,
        "notes": result.notes,
        "absent_columns": result.absent_columns,
    }


def step_clean(state: RunState) -> None:
    # a local engine profiles in numpy (one read per column); Spark aggregates on the cluster
    profile = profile_sessions_local if state.config.engine == "duckdb" else profile_sessions
    counts, report = profile(state.sessions, iqr_factor=state.config.iqr_factor)
    state.manifest["rows"] = {
        "read": counts["rows"],
        "dropped_artifact": counts["artifact"],
        "sessions": counts["rows"] - counts["artifact"],
        "sessions_without_msisdn": counts["no_msisdn"],
        "why": {
            "dropped_artifact": "rows with no timestamps and no identifiers (the extract's "
            "trailing artifact row) are dropped everywhere (SPEC rule 1)",
            "sessions_without_msisdn": "kept for session-level counts (handsets), excluded "
            "from every per-user table (SPEC rule 1)",
        },
    }
    state.manifest["missing"] = counts["all"]
    state.tables["cleaning_report"] = report
    empty = report.loc[report["replacement"].isna() & report["column"].isin(SESSION_COLUMNS_USED),
                       "column"].tolist()
    if empty:
        # nothing to impute from: the per-user metrics built on it would all be missing
        raw = [schema.BY_NAME[c].raw.replace("Dur. (ms).1", "Dur. (ms)") for c in empty]
        raise SchemaError(f"{state.input}: column(s) with no values at all, needed by the "
                          "analyses: " + ", ".join(repr(r) for r in raw))
    clean = clean_sessions(state.sessions, report, SESSION_COLUMNS_USED)
    sessions = counts["rows"] - counts["artifact"]
    state.clean = engine.materialize(state.con, clean, "clean",
                                     expected_bytes=sessions * len(SESSION_COLUMNS_USED) * 8)


def step_aggregate(state: RunState) -> None:
    table = engine.fetch_arrow(state.con, user_summary(state.clean), USER_BATCH_ROWS)
    # the last engine step: its session tables (up to the engine's memory limit) are dropped
    engine.release_tables(state.con)
    state.clean = state.sessions = None
    _keep_user_tables(state, users_frame(table))


def _keep_user_tables(state: RunState, users: pd.DataFrame) -> None:
    """The per-user tables from the per-user summary frame, and the manifest's sampling."""
    state.tables["user_overview"], state.tables["user_experience"] = user_tables(users)
    users = len(state.tables["user_overview"])
    state.manifest["rows"]["users"] = users
    config = state.config
    state.manifest["sampling"] = {
        "rule": f"beyond {config.kmeans_sample_threshold:,} users, models are fitted on a "
        f"uniform sample (k-means: {config.kmeans_sample_size:,}, regression: "
        f"{config.regression_sample_size:,} users) and every user is still assigned and "
        f"scored; beyond {config.elbow_sample_size:,} users the elbow curve is fitted on a "
        "sample of that many with elbow_n_init restarts. Below that everything is exact.",
        "users": users,
    }


def users_frame(table: pa.Table) -> pd.DataFrame:
    """The per-user summary (user_summary, msisdn order) as pandas, handsets categorical.

    The summary streams from the engine in batches (the engine sorts out of core and never
    holds it all) into one Arrow table, converted to pandas column by column, each Arrow
    column freed as it is converted (self_destruct): the per-user data is held once.
    """
    # a few thousand handset names repeated over millions of users: categorical codes
    # (4 bytes a user instead of ~24 for the text)
    i = table.schema.get_field_index("handset")
    table = table.set_column(i, "handset", pc.dictionary_encode(table.column(i)))
    return table.to_pandas(split_blocks=True, self_destruct=True)


def user_tables(users: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """user_overview and user_experience: column selections of the per-user summary frame
    (copy-on-write: no copy; at 72M users one copy is ~11 GB)."""
    return users[schema.USER_OVERVIEW_COLUMNS], users[USER_EXPERIENCE_COLUMNS]


def read_user_summary(path: Path) -> pd.DataFrame:
    """The child's per-user summary file as the frame users_frame makes, read a column at a
    time so that the data is held once: reading the whole file into Arrow first held it
    twice for a moment (a 9.2 GB table at 72M users)."""
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path, read_dictionary=["handset"])  # handsets as categorical
    columns = {}
    for name in source.schema_arrow.names:
        column = source.read(columns=[name]).column(0)
        columns[name] = column.to_pandas(split_blocks=True, self_destruct=True)
        del column
    # copy=False: the frame keeps each column's array as it is (no consolidation)
    return pd.DataFrame(columns, copy=False)


def step_engine_in_child(state: RunState) -> dict[str, float]:
    """Read, clean, handsets and per-user tables in a child process (large DuckDB input).

    The child hands the per-user summary over as a Parquet file and the small tables and
    manifest facts by pickle; its allocator memory (GBs after a large group-by, which no
    DROP or flush returns) goes with it. Returns the four steps' seconds: the child's own,
    with the start-up and the hand-over counted in the per-user step.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    t0 = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="child-", dir=state.workdir))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            done = pool.submit(engine_steps, state.input, state.config, folder).result()
        except BrokenProcessPool as exc:
            raise EngineError(
                f"{state.input}: the engine process stopped before the per-user table was "
                "ready (killed, most likely for lack of memory)"
            ) from exc
    state.manifest.update(done["manifest"])
    state.tables.update(done["tables"])
    users = read_user_summary(Path(done["users"]))
    Path(done["users"]).unlink()
    _keep_user_tables(state, users)
    del users
    timings = done["timings"]
    timings[ENGINE_STEPS[-1]] += (time.perf_counter() - t0) - sum(timings.values())
    return {name: round(seconds, 3) for name, seconds in timings.items()}


def engine_steps(input_path: str, config: RunConfig, folder: Path) -> dict[str, Any]:
    """The child's work: the engine steps, the per-user summary written to folder/users.parquet."""
    con = engine.connect(config.engine, workdir=folder / "engine")
    try:
        state = RunState(config=config, options=RunOptions(), input=input_path, out=folder,
                         con=con)
        for name, func in STEPS:
            if name == ENGINE_STEPS[-1]:
                break
            t0 = time.perf_counter()
            func(state)
            state.timings[name] = time.perf_counter() - t0
        t0 = time.perf_counter()
        users = folder / "users.parquet"
        engine.write_parquet(con, user_summary(state.clean), users, USER_BATCH_ROWS)
        state.timings[ENGINE_STEPS[-1]] = time.perf_counter() - t0
        return {"manifest": state.manifest, "tables": state.tables, "timings": state.timings,
                "users": str(users)}
    finally:
        con.disconnect()


def step_handsets(state: RunState) -> None:
    counts = handsets.handset_counts(state.clean)
    state.tables["handsets_top10"] = handsets.handsets_top10(state.clean, counts)
    top3 = handsets.manufacturers_top(state.clean, counts)
    state.tables["manufacturers_top3"] = top3
    state.tables["handsets_top5_per_manufacturer"] = handsets.handsets_top_per_manufacturer(
        counts, top3["manufacturer"].tolist()
    )
    state.manifest["handsets"] = {
        **handsets.unknown_handset_counts(counts),
        "rule": "missing and 'undefined' handsets are unknown: excluded from the rankings",
    }


def step_overview(state: RunState) -> None:
    from .analysis import overview

    users = state.tables["user_overview"]
    state.tables["app_totals"] = overview.app_totals(users)
    state.tables["variables"] = overview.variables_table(
        state.manifest["missing"], state.manifest["rows"]["read"]
    )
    state.tables["univariate"] = overview.univariate(users)
    # users are ranked once: deciles 1-5 (SPEC rule 6) are the head of the ten-decile table
    deciles = overview.decile_table_all(users)
    state.tables["decile_data_all"] = deciles
    state.tables["decile_data"] = deciles[deciles["decile"] <= 5].reset_index(drop=True)
    state.tables["app_correlation"] = overview.app_correlation(users)
    state.tables["pca"] = overview.pca_table(users)


def step_engagement(state: RunState) -> None:
    from .analysis.engagement import engagement_analysis
    from .analysis.experience import experience_analysis
    from .models.parallel import SideBySide

    # experience needs nothing from engagement: it is fitted on the other core meanwhile and
    # collected by step_experience (the two steps' seconds add up to their wall time)
    if len(state.tables["user_experience"]) <= state.config.side_by_side_max_users:
        state.background["experience"] = SideBySide(
            experience_analysis, state.tables["user_experience"], state.config
        )
    result = engagement_analysis(state.tables["user_overview"], state.config)
    state.tables.update(result.tables)
    state.models["engagement"] = result.pipeline
    state.models["engagement_best_k"] = result.best_k_pipeline
    state.metrics.update({f"engagement_{k}": v for k, v in result.metrics.items()})
    state.manifest["sampling"]["engagement_kmeans"] = result.fitted_on_sample
    state.manifest["sampling"]["engagement_elbow"] = result.elbow_fitted_on_sample
    state.manifest["sampling"]["engagement_elbow_restarts"] = result.elbow_restarts
    state.manifest["engagement_chosen_k"] = result.chosen_k


def step_experience(state: RunState) -> None:
    job = state.background.pop("experience", None)
    if job is None:  # not started beside engagement (many users, or steps run one by one)
        from .analysis.experience import experience_analysis

        result = experience_analysis(state.tables["user_experience"], state.config)
    else:
        with job:
            result = job.result()
    state.tables.update(result.tables)
    state.models["experience"] = result.pipeline
    state.metrics.update({f"experience_{k}": v for k, v in result.metrics.items()})
    state.manifest["sampling"]["experience_kmeans"] = result.fitted_on_sample


def step_satisfaction(state: RunState) -> None:
    from .analysis.satisfaction import satisfaction_analysis

    result = satisfaction_analysis(
        state.tables["engagement_users"], state.tables["experience_users"],
        state.models["engagement"], state.models["experience"], state.config,
    )
    state.tables.update(result.tables)
    state.models["satisfaction_clusters"] = result.cluster_pipeline
    state.models["satisfaction_regression"] = result.regression
    state.manifest["sampling"]["satisfaction_kmeans"] = result.clusters_fitted_on_sample
    state.manifest["sampling"]["satisfaction_regression"] = result.regression_fitted_on_sample
    state.metrics.update({f"satisfaction_{k}": v for k, v in result.metrics.items()})


def step_insights(state: RunState) -> None:
    from .narrative.overview import overview_insights

    state.insights = list(overview_insights(state.tables))
    for module, func in (("engagement", "engagement_insights"),
                         ("experience", "experience_insights"),
                         ("satisfaction", "satisfaction_insights")):
        mod = __import__(f"telco_analytics.narrative.{module}", fromlist=[func])
        state.insights.extend(getattr(mod, func)(state.tables))
    write_json(state.out / "tables" / "insights.json", [i.as_dict() for i in state.insights])


def step_figures(state: RunState) -> None:
    from .report.figures.engagement import engagement_figures
    from .report.figures.experience import experience_figures
    from .report.figures.overview import overview_figures
    from .report.figures.satisfaction import satisfaction_figures
    from .report.figures.tracking import tracking_figures
    from .report.render import save_png

    charts = {}
    for build in (overview_figures, engagement_figures, experience_figures, satisfaction_figures,
                  tracking_figures):
        charts.update(build(state.tables))
    for name, chart in charts.items():
        save_png(chart, state.out / "figures" / f"{name}.png")
    state.manifest["figures"] = sorted(charts)


def step_write_tables(state: RunState) -> None:
    folder = state.out / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    # Arrow's Parquet and CSV writers release the GIL: two tables at a time use both cores
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(write_table, _exportable(state, name, df), folder, name)
                   for name, df in state.tables.items()]
        for future in futures:
            future.result()


def _exportable(state: RunState, name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table as exported: MSISDN replaced by a keyed pseudonym when asked."""
    if not state.options.pseudonymize or "msisdn" not in df.columns:
        return df
    from .privacy import pseudonymize

    out = df.copy()
    out["msisdn"] = pseudonymize(out["msisdn"], state.models["pseudonym_key"])
    return out


def step_database(state: RunState) -> None:
    from .io import database
    from .privacy import mask_url
    from .report.db_select import format_select, render_select_png

    url = database.resolve_db_url(state.options.db_url, state.out)
    table = _exportable(state, "satisfaction", state.tables["satisfaction"])
    n = database.export_table(table, url, "satisfaction", run_id=state.run_id)
    top = database.select_top(url, "satisfaction", 10)
    text = format_select(top.attrs["sql"], top)
    (state.out / "db_select.txt").write_text(text)
    render_select_png(text, state.out / "figures" / "db_select.png")
    state.manifest["database"] = {"url": mask_url(url), "table": "satisfaction", "rows": n}


def step_tracking(state: RunState) -> None:
    """Log the run to MLflow, register the model version, write DIR/tracking/runs.csv."""
    from . import tracking
    from .models.regression import FEATURES

    write_json(state.out / "manifest.json", _final_manifest(state))  # logged as an artifact
    uri = tracking.resolve_tracking_uri(state.options.tracking_uri)
    result = tracking.log_run(
        tracking_uri=uri, out_dir=state.out, manifest=state.manifest, tables=state.tables,
        models={k: state.models[k] for k in tracking.CLUSTER_MODELS if k in state.models},
        metrics=state.metrics, loss_curve=state.tables["regression_loss"],
        features=list(FEATURES), regression_model=state.models["satisfaction_regression"],
    )
    (state.out / "tracking").mkdir(exist_ok=True)
    tracking.runs_table(uri).to_csv(state.out / "tracking" / "runs.csv", index=False)
    state.manifest["tracking"] = {**result, "tracking_uri": tracking.mask_uri(uri)}


def step_report(state: RunState) -> None:
    """report.html and slides.pptx, built from the run folder as `telco report` would."""
    from .report.build import build_report

    write_json(state.out / "manifest.json", _final_manifest(state))
    build_report(state.out)


STEPS: list[tuple[str, Callable[[RunState], None]]] = [
    ("read and validate", step_read),
    ("clean", step_clean),
    # handsets first: then the engine's session tables are released as soon as the per-user
    # tables are out, before the analyses hold them in memory
    ("handsets", step_handsets),
    ("per-user tables", step_aggregate),
    ("overview", step_overview),
    ("engagement", step_engagement),
    ("experience", step_experience),
    ("satisfaction", step_satisfaction),
    ("insights", step_insights),
    ("figures", step_figures),
    ("write tables", step_write_tables),
    ("database export", step_database),
    ("tracking", step_tracking),
    ("report", step_report),
]


# ---------------------------------------------------------------- runner


def _final_manifest(state: RunState) -> dict[str, Any]:
    """The manifest with the run-level facts (times, parameters, versions) filled in."""
    ended = dt.datetime.now(dt.UTC)
    state.manifest.update({
        "run_id": state.run_id,
        "tool": "telco-analytics",
        "started_at": state.started.isoformat(),
        "ended_at": ended.isoformat(),
        "seconds": round((ended - state.started).total_seconds(), 3),
        "seconds_per_step": state.timings,
        # CPU seconds of the whole process (every thread) and of its ended engine child during
        # each step: background work counts where it ran (experience's fit in engagement, the
        # import warm-up in read and clean)
        "cpu_seconds_per_step": state.cpu_timings,
        "parameters": {**state.config.as_dict(), "pseudonymize": state.options.pseudonymize},
        "definitions": DEFINITIONS,
        "code": {**git_commit(), "version": __version__},
        "libraries": library_versions(),
        "tables": sorted(state.tables),
    })
    return state.manifest


def cpu_seconds() -> float:
    """User + system CPU seconds so far of this process (all threads) and its ended children."""
    import resource

    return sum(getattr(resource.getrusage(who), kind)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for kind in ("ru_utime", "ru_stime"))


def git_commit() -> dict[str, Any]:
    """Commit of the code that ran, and whether the work tree had uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain"],
                                    capture_output=True, text=True, timeout=5,
                                    check=False).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "telco-analytics": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# the steps on the engine (in STEPS order); the last one hands the per-user tables over
ENGINE_STEPS = ("read and validate", "clean", "handsets", "per-user tables")
ENGINE_IN_CHILD = "engine steps (child process)"


def engine_in_child(input_path: str, config: RunConfig) -> bool:
    """Whether the engine steps run in a child process: DuckDB and a large local input."""
    from .io.reader import is_remote, resolve_inputs

    if config.engine != "duckdb" or is_remote(str(input_path)):
        return False
    size = sum(f.stat().st_size for f in resolve_inputs(input_path))
    return size >= config.engine_child_min_bytes


def selected_steps(options: RunOptions,
                   in_child: bool = False) -> list[tuple[str, Callable[[RunState], Any]]]:
    """The steps a run takes, in order; with `in_child` the engine steps are one step."""
    steps = list(STEPS)
    if in_child:
        steps = [(ENGINE_IN_CHILD, step_engine_in_child),
                 *[(n, f) for n, f in steps if n not in ENGINE_STEPS]]
    skip = set()
    if not options.figures:
        skip.add("figures")
    if not options.tracking:
        skip.add("tracking")
    if not options.report:
        skip.add("report")
    return [(n, f) for n, f in steps if n not in skip]


def _start_tracking_warm_up(options: RunOptions) -> threading.Thread | None:
    """Open the MLflow store in the background while the analyses run (see tracking.warm_up)."""
    if not options.tracking:
        return None
    from . import tracking

    return _in_background("mlflow-warm-up", tracking.warm_up,
                          tracking.resolve_tracking_uri(options.tracking_uri))


# the modules of the analysis steps: importing scikit-learn and SciPy costs about 2 s, which a
# background thread pays while the engine reads and cleans (the steps import them lazily)
ANALYSIS_MODULES = ("analysis.overview", "analysis.engagement", "analysis.experience",
                    "analysis.satisfaction")


def _start_import_warm_up() -> threading.Thread:
    import importlib

    def import_all() -> None:
        for module in ANALYSIS_MODULES:
            importlib.import_module(f"{__package__}.{module}")

    return _in_background("import-warm-up", import_all)


def _in_background(name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
    """A started daemon thread running target(*args); the runner joins it at the end."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def check_before_work(input_path: str, options: RunOptions) -> None:
    """Fail in a second, not after the analyses: input files, database, pseudonym key."""
    import os

    from .io.reader import resolve_inputs

    resolve_inputs(input_path)
    if options.db_url or os.environ.get("TELCO_DB_URL"):
        from .io.database import check_connection, resolve_db_url

        check_connection(resolve_db_url(options.db_url, Path(".")))
    if options.pseudonymize:
        from .privacy import pseudonym_key_from_env

        pseudonym_key_from_env()


def run(input_path: str, out: Path, config: RunConfig | None = None,
        options: RunOptions | None = None, progress: Progress | None = None) -> RunResult:
    """The whole pipeline; `out` appears only when everything succeeded."""
    config = config or RunConfig()
    options = options or RunOptions()
    check_before_work(input_path, options)
    started = dt.datetime.now(dt.UTC)
    warm = _start_tracking_warm_up(options)
    imports = _start_import_warm_up()
    workdir = Path(tempfile.mkdtemp(prefix="telco-engine-"))
    con = engine.connect(config.engine, workdir=workdir, spark_master=options.spark_master)
    state: RunState | None = None
    try:
        with staged_dir(out) as staging:
            state = RunState(config=config, options=options, input=str(input_path), out=staging,
                             con=con, workdir=workdir, started=started)
            if options.pseudonymize:
                from .privacy import pseudonym_key_from_env

                state.models["pseudonym_key"] = pseudonym_key_from_env()
            in_child = engine_in_child(input_path, config)
            state.manifest["engine_in_child_process"] = in_child
            for name, func in selected_steps(options, in_child):
                if progress:
                    progress(name, "start")
                t0, cpu0 = time.perf_counter(), cpu_seconds()
                # a step that ran other steps elsewhere (the engine child) returns their times
                timings = func(state) or {name: round(time.perf_counter() - t0, 3)}
                state.timings.update(timings)
                state.cpu_timings[name] = round(cpu_seconds() - cpu0, 3)
                log.info("step %s took %.2f s", name, time.perf_counter() - t0)
                if progress:
                    progress(name, "done")
            state.models.pop("pseudonym_key", None)
            write_json(staging / "manifest.json", _final_manifest(state))
        return RunResult(out=Path(out), run_id=state.run_id, tables=state.tables,
                         manifest=state.manifest)
    finally:
        for job in state.background.values() if state is not None else ():
            job.close()  # a step failed before collecting it: wait, drop the result
        imports.join()
        if warm is not None:
            warm.join()
        try:
            con.disconnect()
        except Exception as exc:  # noqa: BLE001 - closing is best effort
            log.debug("closing the engine failed: %s", exc)
        shutil.rmtree(workdir, ignore_errors=True)


DEFINITIONS = {
    "identifiers": "MSISDN/IMSI/IMEI/Bearer Id are text, never imputed, clipped or features; "
    "sessions without MSISDN are excluded from per-user tables",
    "artifact_row": "a row with no timestamps and no identifiers is dropped",
    "handsets": "rankings count sessions (ties by name); users = distinct MSISDN; missing and "
    "'undefined' are unknown and excluded; a user's handset is the mode of their known "
    "handsets (ties: alphabetically first), 'unknown' when none",
    "cleaning": "per measurement column over real sessions: fences Q1-1.5*IQR, Q3+1.5*IQR "
    "(linear quartiles); missing and out-of-fence values replaced by the mean of the "
    "non-missing values inside the fences (inclusive)",
    "duration": "duration_ms = the second Dur. (ms) column (true milliseconds)",
    "per_user": "sessions = xDR rows; duration_ms, dl_bytes (Total DL), ul_bytes (Total UL), "
    "total_bytes = dl + ul, <app>_bytes = app DL + UL, all summed",
    "deciles": "users ranked by duration_ms desc (ties by msisdn), ten equal groups (first "
    "n mod 10 get one extra), deciles 1-5 reported with total_bytes",
    "correlation_pca": "Pearson over the seven <app>_bytes; PCA on the standardized seven app "
    "columns plus dl_bytes and ul_bytes",
    "engagement": "sessions, duration_ms, total_bytes; z-scores (population std); k-means k=3, "
    "k-means++, n_init 10, fixed random_state; cluster 0 = lowest centroid z-mean; elbow k=1..10 "
    "(kmeans_n_init restarts per k on all users, elbow_n_init on a sample), knee = largest "
    "distance to the line through the first and last points",
    "experience": "per session tcp = TCP DL + UL retrans bytes, rtt = mean(RTT DL, UL), "
    "throughput = TP DL + UL; per user means (exactly the value when all of a user's sessions "
    "hold it); k-means k=3 on z-scores; cluster 0 = largest "
    "z_rtt + z_tcp - z_throughput",
    "satisfaction": "engagement/experience score = Euclidean distance in z-space to cluster 0's "
    "centroid; satisfaction = their mean; k-means k=2 on the scores' z-scores, cluster 1 = higher "
    "mean satisfaction; regression on the six raw metrics (never the scores)",
}
