"""Runs the declared nodes: inputs by name, outputs kept by name, timing, progress, manifest.

The runner owns the run's record (datasets, models, metrics, facts, timings); a node sees only
what it declares. Where the work runs (engine in this process or in a child, nodes side by
side) is decided by `execution`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import AnalysisParams, ExecutionSettings
from ..errors import BusyError, InputError
from . import execution, warmup
from .catalog import MANIFEST, RunCatalog, is_output_trouble, lock_path, output_error, staged_folder
from .engine_phase import column_map, engine_in_child, run_engine_here, run_engine_in_child
from .graph import Node, check_graph, dependencies, order
from .nodes import NODES
from .record import NodeRun, RunOptions, RunRecord, finish_node, prepared_call, release_unneeded

__all__ = ["RunOptions", "RunResult", "check_before_work", "run", "run_nodes", "step_names"]

log = logging.getLogger(__name__)

Progress = Callable[[str, str], None]  # (node name, "start" | "done")


@dataclass
class RunResult:
    out: Path
    run_id: str
    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]


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


def run(input_path: str, out: Path, params: AnalysisParams | None = None,
        settings: ExecutionSettings | None = None, options: RunOptions | None = None,
        progress: Progress | None = None, nodes: Sequence[Node] = NODES) -> RunResult:
    """Every node of the run; `out` (and the database table) appear only when everything
    succeeded.

    SIGINT/SIGTERM raise `execution.Interrupted` (exit 130/143 at the CLI) and leave the
    previous run folder and table as they were; a second run into the same `out` fails at once
    with BusyError; an output location that cannot be written gives OutputError.
    """
    params = params or AnalysisParams()
    settings = settings or ExecutionSettings()
    options = options or RunOptions()
    if options.pseudonymize and settings.ingest_cache:
        # the ingest cache is a copy of the extract, identifiers included: a run asked to keep
        # them out of what it writes makes no such copy
        settings = dataclasses.replace(settings, ingest_cache=False)
    with execution.interruptible():
        check_graph(nodes)
        # bad input fails here, before the lock: nothing is written beside `out`
        with execution.shielded():  # imports the reader (native modules): not cut by a signal
            key = check_before_work(str(input_path), options)
        final = Path(out).resolve()
        created = [p for p in (final.parent, *final.parent.parents) if not p.exists()]
        try:
            return _locked_run(input_path, out, params, settings, options, progress, nodes,
                               key)
        except BaseException:
            if created:  # a location made for this run: leave nothing behind, lock included
                lock_path(out).unlink(missing_ok=True)
                for folder in created:
                    try:
                        folder.rmdir()
                    except OSError:
                        break
            raise


def _locked_run(input_path: str, out: Path, params: AnalysisParams,
                settings: ExecutionSettings, options: RunOptions,
                progress: Progress | None, nodes: Sequence[Node], key: bytes | None
                ) -> RunResult:
    """The run holding the lock beside `out`; trouble writing there as one OutputError."""
    lock = lock_path(out)
    try:
        with execution.exclusive(lock):
            return _run(input_path, out, params, settings, options, progress, nodes, key)
    except execution.Busy as exc:
        raise BusyError(f"another telco run is writing {Path(out).resolve()} (lock "
                        f"{lock}); wait for it to end or choose another --out") from exc
    except OSError as exc:
        if is_output_trouble(exc, out):
            raise output_error(Path(out).resolve(), exc) from exc
        raise


def _run(input_path: str, out: Path, params: AnalysisParams, settings: ExecutionSettings,
         options: RunOptions, progress: Progress | None, nodes: Sequence[Node],
         key: bytes | None) -> RunResult:
    record = RunRecord(params=params, settings=settings, options=options)
    budget = execution.CoreBudget.for_process(settings.workers)
    work = [n for n in order(nodes) if _enabled(n, options)]
    disabled = [n for n in nodes if not _enabled(n, options)]
    catalogs: list[RunCatalog] = []
    # the tracking process ends with the run, whatever its outcome (closing)
    with closing(warmup.Warmups(options)) as warm, \
            staged_folder(out, publish=lambda: catalogs[0].publish_pending(),
                          discard=lambda: catalogs and catalogs[0].discard_pending(),
                          shield=execution.shielded) as staging:
        catalog = RunCatalog(staging)
        catalogs.append(catalog)
        resources = {
            "input": str(input_path), "params": params, "settings": settings, "budget": budget,
            "column_map": partial(column_map, budget=budget), "catalog": catalog,
            "run_id": record.run_id, "pseudonym_key": key, "db_url": options.db_url,
            "tracking_uri": options.tracking_uri, "warmups": warm,
        }
        for n in disabled:
            record.datasets.update(dict.fromkeys(n.outputs))
        engine_nodes = [n for n in work if n.kind == "engine"]
        in_child = engine_in_child(str(input_path), settings)
        record.facts["execution"] = {"engine_in_child_process": in_child,
                                     "execution": {"cores": budget.workers}}
        if in_child:
            run_engine_in_child(record, engine_nodes, resources, progress, warm)
        else:
            run_engine_here(record, engine_nodes, resources, progress, warm, options)
        rest = [n for n in work if n.kind != "engine"]
        users = len(record.datasets.get("users", ()))
        _require_enough_users(str(input_path), users, params)
        _require_finite_users(str(input_path), record.datasets.get("users"))
        warm.start_tracking()  # a process importing MLflow while the analyses run
        if users > settings.side_by_side_max_users:
            # one node at a time: their temporaries (GBs each) are never held together
            budget = execution.CoreBudget(workers=1)
            resources["budget"] = budget
        _run_side_by_side(record, rest, resources, budget, progress, work)
        manifest = record.manifest([n.name for n in work])
        catalog.write_json(MANIFEST, manifest)
    # after a failure the warm-up threads are left to end with the process: waiting for them
    # made bad input fail seconds late
    warm.join()
    return RunResult(out=Path(out), run_id=record.run_id, tables=record.tables,
                     manifest=manifest)


def _require_enough_users(input_path: str, users: int, params: AnalysisParams) -> None:
    """Fewer users than the clusters asked for: one line before the analyses start (a
    one-user extract once ended in a PCA ValueError)."""
    need = max([2, *(v for k, v in params.as_dict().items()
                     if k.startswith("k_") and isinstance(v, int))])
    if users < need:
        raise InputError(f"{input_path}: {users} user(s) with an MSISDN after cleaning; the "
                         f"analyses need at least {need} (k-means makes {need} groups)")


def _require_finite_users(input_path: str, users: Any) -> None:
    """Per-user values so large that the analyses' variances overflow (session values near the
    float limit, e.g. -1e308): one line naming the columns, not NaN centroids from a k-means
    fed infinities. The bound is where the sum of squares over all users stops being finite.

    A column at a time, from its smallest and largest value: a float64 copy of the whole
    table (and its absolute values) once took 2.9 GB and 7 s at 10.7M users, the run's peak.
    Integer columns are skipped: no int64 comes near the bound."""
    if not isinstance(users, pd.DataFrame) or users.empty:
        return
    bound = float(np.sqrt(np.finfo("float64").max / len(users))) / 10
    overflowed = []
    for column in users.select_dtypes("floating").columns:
        values = users[column].to_numpy(dtype="float64", na_value=np.nan)
        largest, smallest = np.fmax.reduce(values), np.fmin.reduce(values)  # NaN skipped
        if np.isnan(largest):  # every value missing
            continue
        if not max(abs(largest), abs(smallest)) <= bound:
            overflowed.append(column)
    if overflowed:
        raise InputError(f"{input_path}: values too large for the analyses in "
                         f"{', '.join(overflowed)} (beyond {bound:.3g} their variance "
                         "overflows): the extract holds implausible numbers")


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
                 "column_map": partial(column_map, budget=budget)}
    _run_side_by_side(record, list(nodes), resources, budget, None, list(nodes))
    return record


def _run_side_by_side(record: RunRecord, nodes: Sequence[Node], resources: dict[str, Any],
                      budget: execution.CoreBudget, progress: Progress | None,
                      work: Sequence[Node]) -> None:
    needs = dependencies(work)
    by_name = {n.name: n for n in nodes}
    done: set[str] = {n.name for n in work if n.kind == "engine"}

    def finished(name: str, result: NodeRun) -> None:
        finish_node(record, by_name[name], result)
        done.add(name)
        release_unneeded(record, done, work)
        if progress:
            progress(name, "done")

    tasks = [execution.Task(name=n.name, needs=needs[n.name], gives=frozenset(n.outputs),
                            prepare=partial(prepared_call, record, n, resources, work))
             for n in nodes]
    # the engine's own tables are gone with it, but were made: what waits for them may start
    made = set(record.datasets) | {o for n in work if n.kind == "engine" for o in n.outputs}
    execution.run_side_by_side(tasks, made, budget,
                               on_start=(lambda name: progress(name, "start")) if progress
                               else None, on_done=finished)
