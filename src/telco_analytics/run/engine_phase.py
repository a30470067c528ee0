"""Where the engine nodes run: one after the other in this process (they share one engine
connection), or in a spawned child process that hands the per-user summary over as a Parquet
file (the engine's allocator keeps GBs after a large group-by that only its process's end
returns)."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from .. import engine
from ..config import AnalysisParams, ExecutionSettings
from ..errors import EngineError, OutputError
from . import execution, warmup
from .catalog import is_output_trouble
from .graph import Node, order
from .manifest import cpu_seconds
from .nodes import NODES, TRANSIENT
from .record import RunOptions, RunRecord, run_node

log = logging.getLogger(__name__)

Progress = Callable[[str, str], None]  # (node name, "start" | "done")


def engine_in_child(input_path: str, settings: ExecutionSettings) -> bool:
    """Whether the engine nodes run in a child process: DuckDB and a large local input."""
    from ..io.reader import is_remote, resolve_inputs

    if settings.engine != "duckdb" or is_remote(str(input_path)):
        return False
    size = sum(f.stat().st_size for f in resolve_inputs(input_path))
    return size >= settings.engine_child_min_bytes


def column_map(func: Callable[[Any], Any], items: list[Any], *,
                budget: execution.CoreBudget) -> list[Any]:
    return execution.parallel_map(func, items, budget)


def run_engine_here(record: RunRecord, nodes: Sequence[Node], resources: dict[str, Any],
                 progress: Progress | None, warm: warmup.Warmups, options: RunOptions) -> None:
    """The engine nodes one after the other in this process (they share one connection)."""
    workdir = Path(tempfile.mkdtemp(prefix="telco-engine-"))
    con = None
    try:
        with work_folder_trouble(workdir):
            # the engine's native module is imported here: an exception raised by a signal
            # inside its initialisation aborts the process (nanobind), so it is not cut
            with execution.shielded():
                con = engine.connect(record.settings.engine, workdir=workdir,
                                     spark_master=options.spark_master,
                                     cores=resources["budget"].workers)
            _engine_nodes(record, nodes, resources, progress, warm, con)
    finally:
        try:
            if con is not None:
                con.disconnect()
        except Exception as exc:  # noqa: BLE001 - closing is best effort
            log.debug("closing the engine failed: %s", exc)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def work_folder_trouble(workdir: Path) -> Iterator[None]:
    """The engine's work folder (its database file and spill, under $TMPDIR) full or not
    writable: one line naming it, not the engine's own exception."""
    try:
        yield
    except Exception as exc:
        text = str(exc)
        if is_output_trouble(exc, workdir) and (str(workdir) in text or
                                                isinstance(exc, OSError)):
            reason = "file too large (a file-size limit)" if "too large" in text.lower() \
                else "no space left or not writable"
            raise OutputError(f"cannot write the engine's work folder {workdir.parent} "
                              f"($TMPDIR): {reason}; free space there or point $TMPDIR "
                              "elsewhere") from exc
        raise


def _engine_nodes(record: RunRecord, nodes: Sequence[Node], resources: dict[str, Any],
                  progress: Progress | None, warm: warmup.Warmups, con: Any) -> None:
    """The engine nodes one after the other on one connection."""
    for position, n in enumerate(nodes):
        if progress:
            progress(n.name, "start")
        run_node(record, n, {**resources, "con": con}, nodes)
        if position == 0:  # the input is an xDR extract: start the slow imports now
            warm.start_imports()
        if progress:
            progress(n.name, "done")
    for name in [d for n in nodes for d in n.outputs]:
        if isinstance(record.datasets.get(name), ibis.Table):
            del record.datasets[name]  # engine tables: gone with the engine


def run_engine_in_child(record: RunRecord, nodes: Sequence[Node], resources: dict[str, Any],
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
            with work_folder_trouble(folder):
                done = execution.in_child_process(
                    engine_child, resources["input"], record.params, record.settings,
                    folder)
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
            record.tables.update({k: v for k, v in kept.items()
                                  if isinstance(v, pd.DataFrame) and k not in TRANSIENT})
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
    resources = {"con": con, "input": input_path, "params": params, "settings": settings,
                 "budget": budget,
                 "column_map": partial(column_map, budget=budget)}
    nodes = [n for n in order(NODES) if n.kind == "engine"]
    try:
        for n in nodes:
            if n.handover:
                t0 = time.perf_counter()
                users = folder / "users.parquet"
                write_users(con, *[record.datasets[i] for i in n.inputs if i != "con"], users)
                record.timings[n.name] = time.perf_counter() - t0
                continue
            run_node(record, n, resources, nodes)
        plain = {k: v for k, v in record.datasets.items()
                 if isinstance(v, pd.DataFrame | dict | int)}
        return {"datasets": plain, "timings": record.timings,
                "cpu_timings": record.cpu_timings, "users": str(users)}
    finally:
        con.disconnect()
