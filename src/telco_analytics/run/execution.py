"""How work is spread over the machine: the ONLY module with threads, processes and
OpenMP/BLAS limits.

- `available_cores()`: the cores this process may use (CPU affinity and a cgroup CPU quota,
  not the machine's count), which sizes every pool.
- `CoreBudget.thread_limit(running)`: the OpenMP/BLAS threads a node gets while `running`
  nodes share the cores. A k-means or boosting fit over a few columns is memory-bound and its
  spinning OpenMP threads slow each other down when cores are shared (on a 2-core machine two
  threads per fit were 1.5-10x slower than one as soon as anything else ran), so nodes that
  run side by side split the cores between them and a node alone gets them all.
- `run_side_by_side`: runs the nodes of a graph as soon as their inputs exist, up to the
  budget's workers at a time (scikit-learn's and numpy's loops release the GIL, so threads use
  several cores); the graph, not the code of an analysis, says what is independent.
- `parallel_map`: a map over independent items (columns, tables) on the budget's threads.
- `in_child_process`: runs a function in a spawned child process and returns its result;
  the child's memory (an engine's allocator keeps GBs after a large group-by) goes with it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max ..."


def available_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota
    (a container limited to 1.5 CPUs gets 1, never less than 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota visible: the affinity is the limit
    return max(1, cores)


@dataclass(frozen=True)
class CoreBudget:
    """How many things run at once and how many OpenMP/BLAS threads each may start."""

    workers: int

    @classmethod
    def for_process(cls, workers: int | None = None) -> CoreBudget:
        """The budget of this process: `workers` if given, else the cores it may use."""
        return cls(workers=max(1, workers or available_cores()))

    def thread_limit(self, running: int) -> int:
        """OpenMP/BLAS threads of one of `running` nodes sharing the cores (at least 1)."""
        return max(1, self.workers // max(1, running))


@contextmanager
def native_threads(limit: int) -> Iterator[None]:
    """At most `limit` OpenMP and BLAS threads for work started in the calling thread.

    threadpoolctl's limit is per calling thread for OpenMP, so it is set inside each worker.
    KMeans records the thread count at fit time: a model fitted under a limit of one keeps
    predicting on one thread (what the server wants for one-row requests).
    """
    with threadpool_limits(limits=limit):
        yield


def parallel_map(func: Callable[[T], R], items: Iterable[T], budget: CoreBudget) -> list[R]:
    """[func(item) for item in items], up to budget.workers at a time, results in order.

    For work that releases the GIL (numpy, Arrow writers); each call keeps one native thread.
    """
    items = list(items)
    if budget.workers == 1 or len(items) <= 1:
        return [func(item) for item in items]

    def one(item: T) -> R:
        with native_threads(1):
            return func(item)

    with ThreadPoolExecutor(max_workers=min(budget.workers, len(items)),
                            thread_name_prefix="telco-map") as pool:
        return list(pool.map(one, items))


class ChildProcessDied(RuntimeError):
    """The child process ended without a result (killed, most likely for lack of memory)."""


def in_child_process(func: Callable[..., R], *args: Any) -> R:
    """func(*args) in a spawned child process (its memory is returned to the system when it
    ends); exceptions raised by func reach the caller as they are."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(func, *args).result()
        except BrokenProcessPool as exc:
            raise ChildProcessDied(str(exc)) from exc


@dataclass
class Task:
    """One unit the scheduler runs: a name, what it needs and what it gives.

    `prepare()` is called on the scheduler's thread when the task starts (it gathers the
    task's inputs there) and returns the work, which runs on a worker thread; its result is
    handed back to the scheduler's thread (`on_done`). So only one thread ever touches the
    caller's state.
    """

    name: str
    needs: frozenset[str]
    gives: frozenset[str]
    prepare: Callable[[], Callable[[], Any]]


def run_side_by_side(tasks: Sequence[Task], available: Iterable[str], budget: CoreBudget,
                     *, on_start: Callable[[str], None] | None = None,
                     on_done: Callable[[str, Any], None] | None = None) -> None:
    """Run every task once its `needs` are among what is available, up to budget.workers
    tasks at a time, in their listed order when several are ready. Tasks started together
    while k others run get budget.thread_limit(k + started) native threads each. The first
    failure stops new tasks from starting, waits for the running ones and is re-raised."""
    have = set(available)
    pending = list(tasks)
    running: dict[Future, Task] = {}

    def start_ready(pool: ThreadPoolExecutor) -> None:
        ready = [t for t in pending if t.needs <= have][:budget.workers - len(running)]
        # every task started now shares the cores with the ones running and each other
        limit = budget.thread_limit(len(running) + len(ready))
        for task in ready:
            pending.remove(task)
            if on_start:
                on_start(task.name)
            running[pool.submit(_limited, task.prepare(), limit)] = task

    with ThreadPoolExecutor(max_workers=budget.workers, thread_name_prefix="telco-node") as pool:
        try:
            start_ready(pool)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    value = future.result()  # re-raises the task's error
                    if on_done:
                        on_done(task.name, value)
                    have |= task.gives
                start_ready(pool)
        except BaseException:
            wait(running)  # no new task starts; the running ones end before the error is raised
            raise
    if pending:
        missing = sorted(set().union(*(t.needs for t in pending)) - have)
        raise RuntimeError(f"tasks never became ready: {[t.name for t in pending]}; "
                           f"missing inputs {missing}")


def _limited(work: Callable[[], R], limit: int) -> R:
    with native_threads(limit):
        return work()


class Background:
    """Work started on daemon threads beside the run; `join` waits for all of it. When the
    run fails it is not joined: it ends with the process (a daemon never holds it up)."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def start(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
