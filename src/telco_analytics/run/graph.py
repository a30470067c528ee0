"""Declared nodes and the order they follow from: each node names its inputs and outputs.

A node is a plain function (or "module:function" under telco_analytics, imported when the node
runs: the analyses' libraries take seconds to import, and a bad input must fail before that)
called with its inputs (datasets or run resources, by name, in
order) that returns its outputs: the value itself for one output, a tuple or a dict by name
for several, or an analysis result whose tables are the declared outputs. An input ending in
`*` is the list of every dataset whose name starts with what precedes it (in name order).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

Kind = Literal["engine", "analysis", "output"]

# what the runner provides without a node: the run's resources
RESOURCES = frozenset({
    "con",            # the engine backend (engine nodes only)
    "input",          # the input path or glob, as given
    "params",         # AnalysisParams
    "settings",       # ExecutionSettings
    "column_map",     # map(func, items) over the cores: for work that releases the GIL
    "budget",         # the CoreBudget
    "catalog",        # RunCatalog of the staging run folder
    "run_id",
    "pseudonym_key",  # bytes, or None without --pseudonymize
    "db_url",
    "tracking_uri",
    "warmups",        # run.warmup.Warmups: the tracking process started for this run, if any
})
# what the runner gathers from every engine and analysis node before a node that asks for it
COLLECTED = frozenset({"tables", "models", "metrics", "manifest"})


@dataclass(frozen=True)
class Node:
    """One step of a run: `func(*inputs) -> outputs`, with a name for progress and timings.

    kind: "engine" nodes work on session-level engine tables (run where the engine is: this
    process or a child); "analysis" nodes are pure table -> table functions; "output" nodes
    write the run's files. `handover`: the engine node whose output (an engine table) the
    execution strategy brings over into memory. `section`: prefix of the metrics of an
    analysis result. `option`: the run option that turns the node off (its outputs are then
    None). `after`: datasets it waits for without taking them (files another node wrote into
    the run folder, say).
    """

    name: str
    func: Callable[..., Any] | str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    kind: Kind = "analysis"
    handover: bool = False
    section: str | None = None
    option: str | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # fixed keyword arguments
    after: tuple[str, ...] = ()

    def function(self) -> Callable[..., Any]:
        """The callable, imported when named by "module:function" (relative to the package)."""
        func = self.func
        if isinstance(func, str):
            module, _, attr = func.partition(":")
            func = getattr(importlib.import_module(f"telco_analytics.{module}"), attr)
        return partial(func, **self.kwargs) if self.kwargs else func


def node(func: Callable[..., Any] | str, *, name: str, inputs: Sequence[str] = (),
         outputs: Sequence[str] = (), kind: Kind = "analysis", handover: bool = False,
         section: str | None = None, option: str | None = None,
         kwargs: Mapping[str, Any] | None = None, after: Sequence[str] = ()) -> Node:
    return Node(name=name, func=func, inputs=tuple(inputs), outputs=tuple(outputs), kind=kind,
                handover=handover, section=section, option=option, kwargs=dict(kwargs or {}),
                after=tuple(after))


def expand(name: str, produced: Sequence[str]) -> list[str]:
    """The datasets an input names: itself, or for `prefix*` every produced name with the
    prefix, sorted."""
    if not name.endswith("*"):
        return [name]
    return sorted(p for p in produced if p.startswith(name[:-1]))


def dependencies(nodes: Sequence[Node]) -> dict[str, frozenset[str]]:
    """Node name -> datasets it waits for: its inputs, and for a collected input (all tables,
    models, ...) every output of the engine and analysis nodes."""
    produced = [o for n in nodes for o in n.outputs]
    produced_by_work = frozenset(o for n in nodes if n.kind != "output" for o in n.outputs)
    needs = {}
    for n in nodes:
        wanted = {d for i in (*n.inputs, *n.after) for d in expand(i, produced)} - RESOURCES
        if wanted & COLLECTED:
            wanted = (wanted - COLLECTED) | (produced_by_work - set(n.outputs))
        needs[n.name] = frozenset(wanted)
    return needs


def check_graph(nodes: Sequence[Node]) -> None:
    """ValueError unless names and outputs are unique and every input has a producer that
    can run before it (no cycle)."""
    names = [n.name for n in nodes]
    if twice := sorted({x for x in names if names.count(x) > 1}):
        raise ValueError(f"duplicate node names: {twice}")
    outputs = [o for n in nodes for o in n.outputs]
    if twice := sorted({o for o in outputs if outputs.count(o) > 1}):
        raise ValueError(f"datasets produced twice: {twice}")
    order(nodes)


def order(nodes: Sequence[Node]) -> list[Node]:
    """The nodes in an order where each comes after the producers of what it waits for
    (declaration order among the ready ones)."""
    needs = dependencies(nodes)
    have: set[str] = set()
    pending, done = list(nodes), []
    while pending:
        ready = next((n for n in pending if needs[n.name] <= have), None)
        if ready is None:
            missing = {n.name: sorted(needs[n.name] - have) for n in pending}
            raise ValueError(f"nodes wait for datasets no node can produce first: {missing}")
        pending.remove(ready)
        done.append(ready)
        have |= set(ready.outputs)
    return done
