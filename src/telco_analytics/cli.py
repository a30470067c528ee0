"""The `telco` command: parse, call the library, print. No computation here."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import TelcoError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="User analytics for mobile-operator xDR session records.")
err = Console(stderr=True)
DEFAULT_RUNS = Path("telco-runs")


def default_out() -> Path:
    return DEFAULT_RUNS / dt.datetime.now().strftime("run-%Y%m%d-%H%M%S")


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)
    # the libraries below are chatty at INFO
    for noisy in ("alembic", "mlflow", "urllib3", "httpx", "matplotlib", "py4j", "numexpr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:
        logging.getLogger("telco_analytics").setLevel(logging.WARNING)
        # numpy's overflow/invalid-value warnings on odd extracts are not the user's line to
        # read: what they lead to is reported as one error (with --verbose they are shown)
        import warnings

        warnings.simplefilter("ignore", RuntimeWarning)


def _fail(exc: BaseException, verbose: bool) -> None:
    """One line on stderr and a non-zero exit; the traceback only with --verbose."""
    if verbose:
        err.print_exception()
    if isinstance(exc, TelcoError):
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    err.print(f"[bold red]error:[/] unexpected {type(exc).__name__}: {first} "
              "(run with --verbose for the traceback)", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _reported(verbose: bool) -> Iterator[None]:
    """The CLI boundary: any failure becomes one line on stderr and a non-zero exit."""
    from .run.execution import Interrupted

    try:
        yield
    except typer.Exit:
        raise
    except (Interrupted, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else 2
        name = "SIGTERM" if signum == 15 else "SIGINT"
        # the runner raises Interrupted after its cleanup: nothing of the run was published
        what = (": nothing was published, the previous run folder and database table are as "
                "they were") if isinstance(exc, Interrupted) else ""
        err.print(f"[bold red]interrupted[/] ({name}){what}", highlight=False, soft_wrap=True)
        raise typer.Exit(128 + signum) from None
    except Exception as exc:  # noqa: BLE001 - the CLI boundary
        _fail(exc, verbose)


class StepPrinter:
    """Rich progress for the run's nodes: a spinner naming the nodes at work (several run side
    by side), a line with its time when each is done."""

    def __init__(self, quiet: bool, total: int) -> None:
        self.quiet, self.total, self.done = quiet, total, 0
        self.started: dict[str, float] = {}
        self.status = None if quiet else err.status("starting ...")

    def __call__(self, name: str, event: str) -> None:
        if self.quiet or self.status is None:
            return
        if event == "start":
            self.started[name] = time.perf_counter()
            self.status.start()
        else:
            self.done += 1
            seconds = time.perf_counter() - self.started.pop(name, time.perf_counter())
            err.print(f"[green]✓[/] [{self.done}/{self.total}] {name} [dim]{seconds:.2f} s[/]",
                      highlight=False)
        running = ", ".join(self.started) or "..."
        self.status.update(f"[{self.done}/{self.total}] {running}")

    def stop(self) -> None:
        if self.status:
            self.status.stop()


@app.command()
def run(
    input: Annotated[str | None, typer.Argument(
        help="CSV (.csv/.csv.gz), Parquet, XLSX, a folder or a glob. Default: the built-in sample.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder (replaced atomically). Default: telco-runs/run-<time>.")] = None,
    db: Annotated[str | None, typer.Option(help="SQLAlchemy URL for the satisfaction export (else $TELCO_DB_URL, else DIR/telco.db).")] = None,
    pseudonymize: Annotated[bool, typer.Option(help="Replace MSISDN by a keyed hash in every export (key: $TELCO_PSEUDONYM_KEY).")] = False,
    engine: Annotated[str, typer.Option(help="Engine for session-level steps: duckdb or spark.")] = "duckdb",
    spark_master: Annotated[str | None, typer.Option(help="Spark master URL (engine spark).")] = None,
    report: Annotated[bool, typer.Option(help="Write report.html and slides.pptx.")] = True,
    figures: Annotated[bool, typer.Option(help="Render the figures.")] = True,
    tracking: Annotated[bool, typer.Option(help="Log the run to MLflow.")] = True,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI (else $MLFLOW_TRACKING_URI, else sqlite:///./mlflow.db).")] = None,
    seed: Annotated[int, typer.Option(help="random_state of the models.")] = 42,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Keep a parsed CSV as Parquet in the user cache folder and reuse it on the next run on the same file.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs and tracebacks.")] = False,
) -> None:
    """Run the whole pipeline: load, validate, clean, analyse, export, report."""
    _setup_logging(verbose, quiet)
    from .run.execution import interruptible, shielded

    # signals become one line and a clean exit from here on; during the imports they are held
    # (an exception raised inside a native module's initialisation aborts the process)
    with _reported(verbose), interruptible():
        with shielded():
            from .config import AnalysisParams, ExecutionSettings
            from .run.runner import RunOptions, step_names
            from .run.runner import run as run_pipeline

        params = AnalysisParams(random_state=seed)
        settings = ExecutionSettings(engine=engine, ingest_cache=cache, **_settings_from_env())
        options = RunOptions(db_url=db, pseudonymize=pseudonymize, report=report,
                             figures=figures, tracking=tracking, tracking_uri=tracking_uri,
                             spark_master=spark_master)
        if input is None:
            from .sample import sample_path, sample_truth_path

            input = str(sample_path())
            if not quiet:
                err.print("[dim]no INPUT: using the built-in sample (150,000 synthetic sessions, "
                          f"not TellCo's; what was planted in it: {sample_truth_path()})[/]")
        out = out or default_out()
        printer = StepPrinter(quiet, len(step_names(options)))
        try:
            result = run_pipeline(input, out, params, settings, options, progress=printer)
        finally:
            printer.stop()
    # the process ends now: without this its last garbage collection walks every object the
    # imports made (~1.3 s after a run of the sample); the memory goes back at exit anyway
    gc.freeze()
    if not quiet:
        rows = result.manifest["rows"]
        err.print(f"[bold green]done[/] in {result.manifest['seconds']:.1f} s: "
                  f"{rows['sessions']:,} sessions, {rows['users']:,} users -> {result.out}",
                  highlight=False)


@app.command()
def generate(
    rows: Annotated[int, typer.Option(help="Number of xDR sessions (an artifact row is appended, as in the reference).")] = 150_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .csv, .csv.gz or .parquet.")] = Path("tellco_sample.csv"),
    structure: Annotated[str, typer.Option(help="planted: the joint structure of real traffic (handset capability, congested cells, heavy users); none: every column drawn independently.")] = "planted",
    truth: Annotated[Path | None, typer.Option(help="Also write the planted truth (congested cells, handset capability, heavy users) as JSON to this file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Write a calibrated synthetic xDR extract in the reference extract's raw format."""
    _setup_logging(verbose, quiet)
    with _reported(verbose):
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from .synth import write_extract

        t0 = time.perf_counter()
        with Progress(TextColumn("generate"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} rows"),
                      TimeRemainingColumn(), console=err, disable=quiet) as bar:
            task = bar.add_task("rows", total=rows)
            write_extract(out, rows, seed, structure=structure, truth=truth,
                          progress=lambda done: bar.update(task, completed=done))
        secs = time.perf_counter() - t0
        if not quiet:
            err.print(f"[bold green]wrote[/] {out} ({rows:,} rows in {secs:.1f} s, "
                      f"{rows / max(secs, 1e-9):,.0f} rows/s)", highlight=False)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder made by `telco run`.")],
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Rebuild report.html and slides.pptx from a run's tables (nothing is recomputed)."""
    _setup_logging(verbose, False)
    with _reported(verbose):
        from .report.build import build_report

        t0 = time.perf_counter()
        written = build_report(_existing_run(run_dir))
        err.print(f"[bold green]wrote[/] {', '.join(str(p) for p in written.values())} "
                  f"in {time.perf_counter() - t0:.1f} s", highlight=False)


@app.command()
def serve(
    model: Annotated[str, typer.Option(help="Registered model URI (models:/NAME/VERSION|latest, @alias).")] = "models:/telco-satisfaction/latest",
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    tracking_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI (else $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).")] = None,
    store: Annotated[Path | None, typer.Option(help="Prediction log folder (else $TELCO_MONITORING_DIR, else ./telco-monitoring).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Serve the registered satisfaction model over HTTP (/predict, /model, /health)."""
    _setup_logging(verbose, False)
    with _reported(verbose):
        from .serve.app import serve as run_server

        run_server(model, host, port, tracking_uri, store, "debug" if verbose else "info")


@app.command()
def monitor(
    run_dir: Annotated[Path | None, typer.Option("--run", help="Run whose training users are the reference (default: the latest under telco-runs/).")] = None,
    store: Annotated[Path | None, typer.Option(help="Prediction log folder (default as telco serve).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default RUN/monitoring).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Compare served inputs with the training data: drift_report.csv and drift_report.png."""
    _setup_logging(verbose, False)
    with _reported(verbose):
        from .monitoring import default_store, reference_features
        from .monitoring import monitor as drift
        from .run.catalog import RunCatalog

        run_dir = _existing_run(run_dir)
        catalog = RunCatalog(run_dir)
        reference = reference_features(catalog.read_table("engagement_users"),
                                       catalog.read_table("experience_users"))
        out = out or run_dir / "monitoring"
        result = drift(store or default_store(), reference, out)
        drifted = result.loc[result["drift"], "feature"].tolist()
        err.print(f"drift: {', '.join(drifted) if drifted else 'none'} -> {out}", highlight=False)
        if drifted:
            raise typer.Exit(3)  # scripts can alert on drift


@app.command()
def dashboard(
    run_dir: Annotated[Path | None, typer.Argument(help="Run folder (default: the latest under telco-runs/).")] = None,
    port: Annotated[int, typer.Option(help="TCP port of the dashboard.")] = 8501,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Open the interactive dashboard over a run's outputs (read-only)."""
    _setup_logging(verbose, False)
    with _reported(verbose):
        from .dashboard.launch import launch

        raise typer.Exit(launch(_existing_run(run_dir), port=port))


CHILD_MIN_BYTES_ENV = "TELCO_ENGINE_CHILD_MIN_BYTES"


def _settings_from_env() -> dict[str, int]:
    """Execution settings given in the environment: $TELCO_ENGINE_CHILD_MIN_BYTES (0 runs the
    engine in a child process whatever the input's size)."""
    import os

    from .errors import ConfigError

    value = os.environ.get(CHILD_MIN_BYTES_ENV)
    if value is None:
        return {}
    try:
        return {"engine_child_min_bytes": int(value)}
    except ValueError:
        raise ConfigError(f"${CHILD_MIN_BYTES_ENV}={value!r}: expected a whole number of "
                          "bytes") from None


def _existing_run(run_dir: Path | None) -> Path:
    """The given run folder, or the latest under telco-runs/; a clear error when there is none."""
    from .errors import ConfigError
    from .run.catalog import RunCatalog, latest_run

    if run_dir is None:
        latest = latest_run(DEFAULT_RUNS)
        if latest is None:
            raise ConfigError(f"no run found under {DEFAULT_RUNS}/; make one with "
                              "`telco run` (or `telco run INPUT --out DIR`) and pass DIR")
        return latest
    if not RunCatalog(run_dir).is_run():
        raise ConfigError(f"{run_dir} is not a run folder (no manifest.json); make one with "
                          f"`telco run --out {run_dir}`")
    return run_dir


def main() -> None:
    app()


if __name__ == "__main__":
    main()
