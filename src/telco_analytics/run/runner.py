"""Runs the declared nodes: inputs by name, outputs kept by name, timing, progress, manifest.

The runner owns the run's record (datasets, models, metrics, facts, timings); a node sees only
what it declares. Where the work runs (engine in this process or in a child, nodes side by
side) is decided by `execution`.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from .. import engine
from ..analysis.result import AnalysisResult
from ..config import AnalysisParams, ExecutionSettings
from ..errors import EngineError
from . import execution, warmup
from .catalog import MANIFEST, RunCatalog, staged_folder
from .graph import COLLECTED, RESOURCES, Node, check_graph, dependencies, expand, order
from .manifest import build_manifest, cpu_seconds
from .nodes import NODES, TRANSIENT

log = logging.getLogger(__name__)

Progress = Callable[[str, str], None]  # (node name, "start" | "done")


@dataclass
class RunOptions:
    """What a run does beyond the analyses (outputs, services), never what a number means."""

    db_url: str | None = None
    pseudonymize: bool = False
    report: bool = True
    figures: bool = True
    tracking: bool = True
    tracking_uri: str | None = None
    spark_master: str | None = None


@dataclass
class RunResult:
    out: Path
    run_id: str
    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]


@dataclass
class RunRecord:
    """What a run has produced so far; only the runner's own thread reads or writes it (the
    nodes get their inputs and give back their outputs through it)."""

    params: AnalysisParams
    settings: ExecutionSettings
    options: RunOptions
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    datasets: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # node name -> facts
    timings: dict[str, float] = field(default_factory=dict)
    cpu_timings: dict[str, float] = field(default_factory=dict)
    # node -> (start, end) in seconds since the run started: which nodes overlapped
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    clock: float = field(default_factory=time.perf_counter)

    def manifest(self, node_names: Sequence[str]) -> dict[str, Any]:
        """The manifest as of now (facts merged in node order, whatever order nodes ended)."""
        ordered = [self.facts[n] for n in node_names if n in self.facts]
        ordered += [v for k, v in self.facts.items() if k not in node_names]
        return build_manifest(
            facts=ordered, run_id=self.run_id,
            started=self.started, timings=self.timings, cpu_timings=self.cpu_timings,
            intervals=self.intervals,
            parameters={**self.params.as_dict(), "pseudonymize": self.options.pseudonymize},
            execution=self.settings.as_dict(), tables=list(self.tables))


def step_names(options: RunOptions, nodes: Sequence[Node] = NODES) -> list[str]:
    """The names progress reports, in order (the nodes a run with these options runs)."""
    return [n.name for n in order(nodes) if _enabled(n, options)]


def _enabled(n: Node, options: RunOptions) -> bool:
    return n.option is None or bool(getattr(options, n.option))


def check_before_work(input_path: str, options: RunOptions) -> bytes | None:
    """Fail in a second, not after the analyses: input files, database, pseudonym key.
    Returns the pseudonym key (None without --pseudonymize)."""
    import os

    from ..io.reader import resolve_inputs

    resolve_inputs(input_path)
    if options.db_url or os.environ.get("TELCO_DB_URL"):
        from ..io.database import check_connection, resolve_db_url

        check_connection(resolve_db_url(options.db_url, Path(".")))
    if options.pseudonymize:
        from ..privacy import pseudonym_key_from_env

        return pseudonym_key_from_env()
    return None


def engine_in_child(input_path: str, settings: ExecutionSettings) -> bool:
    """Whether the engine nodes run in a child process: DuckDB and a large local input."""
    from ..io.reader import is_remote, resolve_inputs

    if settings.engine != "duckdb" or is_remote(str(input_path)):
        return False
    size = sum(f.stat().st_size for f in resolve_inputs(input_path))
    return size >= settings.engine_child_min_bytes


def run(input_path: str, out: Path, params: AnalysisParams | None = None,
        settings: ExecutionSettings | None = None, options: RunOptions | None = None,
        progress: Progress | None = None, nodes: Sequence[Node] = NODES) -> RunResult:
    """Every node of the run; `out` appears only when everything succeeded."""
    params = params or AnalysisParams()
    settings = settings or ExecutionSettings()
    options = options or RunOptions()
    check_graph(nodes)
    key = check_before_work(str(input_path), options)
    record = RunRecord(params=params, settings=settings, options=options)
    budget = execution.CoreBudget.for_process(settings.workers)
    work = [n for n in order(nodes) if _enabled(n, options)]
    disabled = [n for n in nodes if not _enabled(n, options)]
    warm = warmup.Warmups()
    with staged_folder(out) as staging:
        catalog = RunCatalog(staging)
        resources = {
            "input": str(input_path), "params": params, "budget": budget,
            "column_map": partial(_column_map, budget=budget), "catalog": catalog,
            "run_id": record.run_id, "pseudonym_key": key, "db_url": options.db_url,
            "tracking_uri": options.tracking_uri,
        }
        for n in disabled:
            record.datasets.update(dict.fromkeys(n.outputs))
        engine_nodes = [n for n in work if n.kind == "engine"]
        in_child = engine_in_child(str(input_path), settings)
        record.facts["execution"] = {"engine_in_child_process": in_child,
                                     "execution": {"cores": budget.workers}}
        if in_child:
            _engine_in_child(record, engine_nodes, resources, progress, warm)
        else:
            _engine_here(record, engine_nodes, resources, progress, warm, options)
        rest = [n for n in work if n.kind != "engine"]
        users = len(record.datasets.get("users", ()))
        if users > settings.side_by_side_max_users:
            # one node at a time: their temporaries (GBs each) are never held together
            budget = execution.CoreBudget(workers=1)
            resources["budget"] = budget
        _run_side_by_side(record, rest, resources, budget, progress, work)
        manifest = record.manifest([n.name for n in work])
        catalog.write_json(MANIFEST, manifest)
    # after a failure the warm-ups are left to end with the process: waiting for them made
    # bad input fail seconds late
    warm.join()
    return RunResult(out=Path(out), run_id=record.run_id, tables=record.tables,
                     manifest=manifest)


def run_nodes(nodes: Sequence[Node], datasets: dict[str, Any],
              params: AnalysisParams | None = None, workers: int = 1) -> RunRecord:
    """Run some non-engine nodes on given datasets (no engine, no run folder), `workers` at a
    time: the analyses on prepared per-user tables, for tests and measurements."""
    params = params or AnalysisParams()
    record = RunRecord(params=params, settings=ExecutionSettings(workers=workers),
                       options=RunOptions())
    record.datasets.update(datasets)
    budget = execution.CoreBudget(workers=workers)
    resources = {"params": params, "budget": budget,
                 "column_map": partial(_column_map, budget=budget)}
    _run_side_by_side(record, list(nodes), resources, budget, None, list(nodes))
    return record


def _column_map(func: Callable[[Any], Any], items: list[Any], *,
                budget: execution.CoreBudget) -> list[Any]:
    return execution.parallel_map(func, items, budget)


# ---------------------------------------------------------------- one node


def _inputs(record: RunRecord, n: Node, resources: dict[str, Any], work: Sequence[Node]
            ) -> list[Any]:
    """The node's arguments, by its declared input names."""
    produced = [o for m in work for o in m.outputs]
    args = []
    for name in n.inputs:
        if name in RESOURCES:
            args.append(resources[name])
        elif name in COLLECTED:
            args.append(_collected(record, name, work))
        elif name.endswith("*"):
            args.append([record.datasets[d] for d in expand(name, produced)])
        else:
            args.append(record.datasets[name])
    return args


def _collected(record: RunRecord, name: str, work: Sequence[Node]) -> Any:
    if name == "tables":
        return dict(record.tables)
    if name == "models":
        return dict(record.models)
    if name == "metrics":
        return dict(record.metrics)
    return record.manifest([n.name for n in work])


def _outputs(n: Node, value: Any) -> dict[str, Any]:
    """The node's return value as {output name: value}."""
    if _is_analysis_result(value):
        return dict(value.tables)
    if len(n.outputs) == 1:
        return {n.outputs[0]: value}
    if isinstance(value, dict):
        return {name: value[name] for name in n.outputs if name in value}
    if not isinstance(value, tuple) or len(value) != len(n.outputs):
        raise RuntimeError(f"node {n.name!r} returned {type(value).__name__} where its "
                           f"{len(n.outputs)} outputs {list(n.outputs)} were declared")
    return dict(zip(n.outputs, value, strict=True))


def _is_analysis_result(value: Any) -> bool:
    return isinstance(value, AnalysisResult)


def _keep(record: RunRecord, n: Node, value: Any) -> None:
    """Store a node's outputs and whatever an analysis result carries besides its tables."""
    outputs = _outputs(n, value)
    missing = set(n.outputs) - set(outputs)
    if missing:
        raise RuntimeError(f"node {n.name!r} did not return {sorted(missing)}")
    record.datasets.update(outputs)
    for name, data in outputs.items():
        if isinstance(data, pd.DataFrame) and name not in TRANSIENT:
            record.tables[name] = data
        if name.endswith("_facts") and isinstance(data, dict):
            record.facts.setdefault(n.name, {}).update(data)
    if _is_analysis_result(value):
        record.models.update(value.models)
        prefix = f"{n.section}_" if n.section else ""
        record.metrics.update({f"{prefix}{k}": v for k, v in value.metrics.items()})
        record.facts.setdefault(n.name, {}).update(
            {"sampling": dict(value.sampling), **value.facts})


@dataclass(frozen=True)
class NodeRun:
    """A node's return value and what it cost."""

    value: Any
    start: float  # time.perf_counter() when it started
    seconds: float
    cpu_seconds: float


def _prepared(record: RunRecord, n: Node, resources: dict[str, Any], work: Sequence[Node]
              ) -> Callable[[], NodeRun]:
    """The node's call with its inputs gathered now (on the runner's thread)."""
    func, args = n.function(), _inputs(record, n, resources, work)

    def call() -> NodeRun:
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        value = func(*args)
        return NodeRun(value, t0, time.perf_counter() - t0, cpu_seconds() - cpu0)

    return call


def _finish(record: RunRecord, n: Node, done: NodeRun) -> None:
    """Keep a node's outputs and its times (on the runner's thread)."""
    _keep(record, n, done.value)
    record.timings[n.name] = round(done.seconds, 3)
    record.cpu_timings[n.name] = round(done.cpu_seconds, 3)
    start = done.start - record.clock
    record.intervals[n.name] = (round(start, 3), round(start + done.seconds, 3))
    log.info("node %s took %.2f s", n.name, done.seconds)


def _run_node(record: RunRecord, n: Node, resources: dict[str, Any], work: Sequence[Node]
              ) -> None:
    """One node, here and now."""
    _finish(record, n, _prepared(record, n, resources, work)())


def _release(record: RunRecord, done: set[str], nodes: Sequence[Node]) -> None:
    """Drop datasets that no unfinished node needs and that are not published tables."""
    needs = dependencies(nodes)
    wanted = {d for n in nodes if n.name not in done for d in needs[n.name]}
    for name in [d for d in record.datasets if d not in wanted and d not in record.tables]:
        del record.datasets[name]


# ---------------------------------------------------------------- strategies


def _run_side_by_side(record: RunRecord, nodes: Sequence[Node], resources: dict[str, Any],
                      budget: execution.CoreBudget, progress: Progress | None,
                      work: Sequence[Node]) -> None:
    needs = dependencies(work)
    by_name = {n.name: n for n in nodes}
    done: set[str] = {n.name for n in work if n.kind == "engine"}

    def finished(name: str, result: NodeRun) -> None:
        _finish(record, by_name[name], result)
        done.add(name)
        _release(record, done, work)
        if progress:
            progress(name, "done")

    tasks = [execution.Task(name=n.name, needs=needs[n.name], gives=frozenset(n.outputs),
                            prepare=partial(_prepared, record, n, resources, work))
             for n in nodes]
    # the engine's own tables are gone with it, but were made: what waits for them may start
    made = set(record.datasets) | {o for n in work if n.kind == "engine" for o in n.outputs}
    execution.run_side_by_side(tasks, made, budget,
                               on_start=(lambda name: progress(name, "start")) if progress
                               else None, on_done=finished)


def _engine_here(record: RunRecord, nodes: Sequence[Node], resources: dict[str, Any],
                 progress: Progress | None, warm: warmup.Warmups, options: RunOptions) -> None:
    """The engine nodes one after the other in this process (they share one connection)."""
    workdir = Path(tempfile.mkdtemp(prefix="telco-engine-"))
    con = engine.connect(record.settings.engine, workdir=workdir,
                         spark_master=options.spark_master,
                         cores=resources["budget"].workers)
    try:
        for position, n in enumerate(nodes):
            if progress:
                progress(n.name, "start")
            _run_node(record, n, {**resources, "con": con}, nodes)
            if position == 0:  # the input is an xDR extract: start the slow imports now
                warm.start_imports()
            if progress:
                progress(n.name, "done")
        for name in [d for n in nodes for d in n.outputs]:
            if isinstance(record.datasets.get(name), ibis.Table):
                del record.datasets[name]  # engine tables: gone with the engine
    finally:
        try:
            con.disconnect()
        except Exception as exc:  # noqa: BLE001 - closing is best effort
            log.debug("closing the engine failed: %s", exc)
        shutil.rmtree(workdir, ignore_errors=True)


def _engine_in_child(record: RunRecord, nodes: Sequence[Node], resources: dict[str, Any],
                     progress: Progress | None, warm: warmup.Warmups) -> None:
    """The engine nodes in a child process; the per-user summary comes back as a file."""
    from .handover import read_users

    names = [n.name for n in nodes]
    if progress:
        progress(names[0], "start")
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    folder = Path(tempfile.mkdtemp(prefix="telco-child-"))
    try:
        try:
            done = execution.in_child_process(
                engine_child, resources["input"], record.params, record.settings, folder)
        except execution.ChildProcessDied as exc:
            raise EngineError(
                f"{resources['input']}: the engine process stopped before the per-user table "
                "was ready (killed, most likely for lack of memory)") from exc
        warm.start_imports()
        handover = next(n for n in nodes if n.handover)
        users = read_users(Path(done["users"]))
        for n in nodes:
            if n.handover:
                continue
            kept = {o: done["datasets"][o] for o in n.outputs if o in done["datasets"]}
            record.datasets.update(kept)
            record.tables.update({k: v for k, v in kept.items() if isinstance(v, pd.DataFrame)})
            for name, data in kept.items():
                if name.endswith("_facts"):
                    record.facts.setdefault(n.name, {}).update(data)
        record.datasets[handover.outputs[0]] = users
        # the hand-over's time: the child's start-up, writing and reading the file
        for spent, total in ((done["timings"], time.perf_counter() - t0),
                             (done["cpu_timings"], cpu_seconds() - cpu0)):
            spent[handover.name] = total - sum(v for k, v in spent.items() if k != handover.name)
        record.timings.update({k: round(v, 3) for k, v in done["timings"].items()})
        start = t0 - record.clock
        for name in names:  # one after the other in the child
            seconds = done["timings"].get(name, 0.0)
            record.intervals[name] = (round(start, 3), round(start + seconds, 3))
            start += seconds
        record.cpu_timings.update({k: round(v, 3) for k, v in done["cpu_timings"].items()})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if progress:
        for name in names[1:]:
            progress(name, "start")
            progress(name, "done")
        progress(names[0], "done")


def engine_child(input_path: str, params: AnalysisParams, settings: ExecutionSettings,
                 folder: Path) -> dict[str, Any]:
    """In the child: every engine node but the hand-over, whose input (the per-user summary)
    is written to folder/users.parquet. Returns the other outputs that are plain data."""
    from .handover import write_users

    budget = execution.CoreBudget.for_process(settings.workers)
    con = engine.connect(settings.engine, workdir=folder / "engine", cores=budget.workers)
    record = RunRecord(params=params, settings=settings, options=RunOptions())
    resources = {"con": con, "input": input_path, "params": params, "budget": budget,
                 "column_map": partial(_column_map, budget=budget)}
    nodes = [n for n in order(NODES) if n.kind == "engine"]
    try:
        for n in nodes:
            if n.handover:
                t0 = time.perf_counter()
                users = folder / "users.parquet"
                write_users(con, *[record.datasets[i] for i in n.inputs if i != "con"], users)
                record.timings[n.name] = time.perf_counter() - t0
                continue
            _run_node(record, n, resources, nodes)
        plain = {k: v for k, v in record.datasets.items()
                 if isinstance(v, pd.DataFrame | dict | int)}
        return {"datasets": plain, "timings": record.timings,
                "cpu_timings": record.cpu_timings, "users": str(users)}
    finally:
        con.disconnect()
