"""A run's record and how one node is called: its inputs gathered by name, its outputs kept
by name (tables published, facts for the manifest, an analysis result's models and metrics),
its wall and CPU seconds and when it ran."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..analysis.result import AnalysisResult
from ..config import AnalysisParams, ExecutionSettings
from .execution import shielded
from .graph import COLLECTED, RESOURCES, Node, dependencies, expand
from .manifest import build_manifest, cpu_seconds
from .nodes import TRANSIENT

log = logging.getLogger(__name__)


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


def node_inputs(record: RunRecord, n: Node, resources: dict[str, Any], work: Sequence[Node]
            ) -> list[Any]:
    """The node's arguments, by its declared input names."""
    produced = [o for m in work for o in m.outputs]
    args = []
    for name in n.inputs:
        if name in RESOURCES:
            args.append(resources[name])
        elif name in COLLECTED:
            args.append(collected(record, name, work))
        elif name.endswith("*"):
            args.append([record.datasets[d] for d in expand(name, produced)])
        else:
            args.append(record.datasets[name])
    return args


def collected(record: RunRecord, name: str, work: Sequence[Node]) -> Any:
    if name == "tables":
        return dict(record.tables)
    if name == "models":
        return dict(record.models)
    if name == "metrics":
        return dict(record.metrics)
    return record.manifest([n.name for n in work])


def node_outputs(n: Node, value: Any) -> dict[str, Any]:
    """The node's return value as {output name: value}."""
    if is_analysis_result(value):
        return dict(value.tables)
    if len(n.outputs) == 1:
        return {n.outputs[0]: value}
    if isinstance(value, dict):
        return {name: value[name] for name in n.outputs if name in value}
    if not isinstance(value, tuple) or len(value) != len(n.outputs):
        raise RuntimeError(f"node {n.name!r} returned {type(value).__name__} where its "
                           f"{len(n.outputs)} outputs {list(n.outputs)} were declared")
    return dict(zip(n.outputs, value, strict=True))


def is_analysis_result(value: Any) -> bool:
    return isinstance(value, AnalysisResult)


def keep_outputs(record: RunRecord, n: Node, value: Any) -> None:
    """Store a node's outputs and whatever an analysis result carries besides its tables."""
    outputs = node_outputs(n, value)
    missing = set(n.outputs) - set(outputs)
    if missing:
        raise RuntimeError(f"node {n.name!r} did not return {sorted(missing)}")
    record.datasets.update(outputs)
    for name, data in outputs.items():
        if isinstance(data, pd.DataFrame) and name not in TRANSIENT:
            record.tables[name] = data
        if name.endswith("_facts") and isinstance(data, dict):
            record.facts.setdefault(n.name, {}).update(data)
    if is_analysis_result(value):
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


def prepared_call(record: RunRecord, n: Node, resources: dict[str, Any], work: Sequence[Node]
              ) -> Callable[[], NodeRun]:
    """The node's call with its inputs gathered now (on the runner's thread)."""
    # the node's module is imported here, on the runner's thread, which signals reach: held
    # over the import (an exception inside a native module's initialisation aborts the process)
    with shielded():
        func = n.function()
    args = node_inputs(record, n, resources, work)
    hold = held_after(n.name)

    def call() -> NodeRun:
        t0, cpu0 = time.perf_counter(), cpu_seconds()
        value = func(*args)
        if hold:
            time.sleep(hold)
        return NodeRun(value, t0, time.perf_counter() - t0, cpu_seconds() - cpu0)

    return call


HOLD_ENV = "TELCO_HOLD_AFTER_NODE"


def held_after(name: str) -> float:
    """Seconds to wait after node `name` did its work, from $TELCO_HOLD_AFTER_NODE
    ("node name=seconds"): fault injection for the interrupt tests, which need a run to be
    at a known point (a staging table filled, the engine child running) when they signal."""
    import os

    spec = os.environ.get(HOLD_ENV, "")
    node, _, seconds = spec.rpartition("=")
    try:
        return float(seconds) if node == name else 0.0
    except ValueError:
        return 0.0


def finish_node(record: RunRecord, n: Node, done: NodeRun) -> None:
    """Keep a node's outputs and its times (on the runner's thread)."""
    keep_outputs(record, n, done.value)
    record.timings[n.name] = round(done.seconds, 3)
    record.cpu_timings[n.name] = round(done.cpu_seconds, 3)
    start = done.start - record.clock
    record.intervals[n.name] = (round(start, 3), round(start + done.seconds, 3))
    log.info("node %s took %.2f s", n.name, done.seconds)


def run_node(record: RunRecord, n: Node, resources: dict[str, Any], work: Sequence[Node]
              ) -> None:
    """One node, here and now."""
    finish_node(record, n, prepared_call(record, n, resources, work)())


def release_unneeded(record: RunRecord, done: set[str], nodes: Sequence[Node]) -> None:
    """Drop datasets that no unfinished node needs and that are not published tables."""
    needs = dependencies(nodes)
    wanted = {d for n in nodes if n.name not in done for d in needs[n.name]}
    for name in [d for d in record.datasets if d not in wanted and d not in record.tables]:
        del record.datasets[name]


# ---------------------------------------------------------------- strategies
