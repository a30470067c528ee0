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
  When the caller is interrupted the child is ended too (never left running).
- `interruptible()`: SIGINT and SIGTERM become an `Interrupted` exception in the main thread
  (so every `finally` and staged-folder cleanup runs), and `shielded()` holds them back over
  a few statements that must not be cut in two (publishing a finished run).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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


def _child_main(conn: Any, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """In the child: func(*args), its result or its exception sent back through `conn`."""
    # the parent decides what an interrupt means; a Ctrl-C reaching the whole process group
    # must not make the child print its own traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    try:
        outcome = ("ok", func(*args))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        outcome = ("error", exc)
    conn.send(outcome)
    conn.close()


def _die_with_parent() -> None:
    """Linux: the kernel kills this child if the parent dies (even by SIGKILL, which leaves
    the parent no chance to end it)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's own cleanup is all there is


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while a child starts: it inherits that through exec and Python keeps an
    ignored SIGINT ignored, so a Ctrl-C sent to the whole process group (a terminal's) never
    makes the child print a KeyboardInterrupt of its own, even during its imports; the
    parent ends it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def in_child_process(func: Callable[..., R], *args: Any) -> R:
    """func(*args) in a spawned child process (its memory is returned to the system when it
    ends); exceptions raised by func reach the caller as they are. If the caller is
    interrupted (or fails) while waiting, the child is terminated, then killed, and reaped:
    no child outlives the run."""
    from multiprocessing.connection import wait as wait_ready

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(send, func, args), daemon=True,
                            name="telco-engine")
    # an interrupt while the child's start-up data is being written would leave it reading a
    # cut pipe (a traceback of its own on the shared stderr): the start is not cut
    with shielded(), _sigint_ignored():
        child.start()
    send.close()  # the child holds the only writer: end-of-file once it exits
    try:
        # the result may be large: read it before waiting for the child to exit
        wait_ready([receive, child.sentinel])
        try:
            status, value = receive.recv()
        except EOFError as exc:
            child.join()
            raise ChildProcessDied(f"exit code {child.exitcode}") from exc
        if status == "error":
            raise value
        return value
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
            child.join(5)
            if child.is_alive():
                child.kill()
        child.join()


class ChildWorker:
    """A spawned process that starts on slow preparation at once (`prepare(*args)`: imports,
    opening a store; `nice` levels below the caller's priority) and later runs one call sent
    to it, so that the preparation's Python runs beside the caller's threads instead of taking
    turns with them for this process's GIL.

    `call(func, *args, **kwargs)` waits for func(*args, **kwargs) in the child (back at the
    caller's priority where the system allows it) and returns its result or raises its
    exception; the child ends after one call. `close()` ends the child (terminated, then
    killed, and reaped) whatever state it is in. A failed preparation is left for the call to
    meet again in the child.
    """

    def __init__(self, prepare: Callable[..., Any], *args: Any, name: str = "telco-worker",
                 nice: int = 0) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe(duplex=True)
        self._child = context.Process(
            target=_worker_main, args=(child_end, prepare, args, _logging_levels(), nice),
            daemon=True, name=name)
        with shielded(), _sigint_ignored():  # see in_child_process
            self._child.start()
        child_end.close()

    def call(self, func: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        from multiprocessing.connection import wait as wait_ready

        # the caller now waits for the child: its priority back to the caller's, preparation
        # included (were it still at work, a busy machine would starve it), where the system
        # allows it (root); else it goes on at the lower one
        try:
            os.setpriority(os.PRIO_PROCESS, self._child.pid,
                           os.getpriority(os.PRIO_PROCESS, 0))
        except OSError:
            pass
        try:
            self._conn.send((func, args, kwargs))
            wait_ready([self._conn, self._child.sentinel])
            status, value = self._conn.recv()
        except (EOFError, BrokenPipeError) as exc:
            self._child.join()
            raise ChildProcessDied(f"exit code {self._child.exitcode}") from exc
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        self._conn.close()
        if self._child.is_alive():
            self._child.terminate()
            self._child.join(5)
            if self._child.is_alive():
                self._child.kill()
        self._child.join()


def _logging_levels() -> dict[str, int]:
    """The levels set on this process's loggers (root as ""): a child shows what we would."""
    levels = {name: logger.level for name, logger in logging.Logger.manager.loggerDict.items()
              if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET}
    return {**levels, "": logging.getLogger().level}


def _worker_main(conn: Any, prepare: Callable[..., Any], args: tuple[Any, ...],
                 log_levels: dict[str, int], nice: int) -> None:
    """In a ChildWorker: prepare(*args), then the one call the parent sends, answered."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    priority = os.getpriority(os.PRIO_PROCESS, 0)
    if nice:
        os.nice(nice)
    _die_with_parent()
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    for name, level in log_levels.items():
        logging.getLogger(name or None).setLevel(level)
    try:
        prepare(*args)
    except Exception as exc:  # noqa: BLE001 - the call meets the same problem and reports it
        log.debug("worker preparation failed: %s", exc)
    try:
        func, call_args, call_kwargs = conn.recv()
    except EOFError:  # the parent closed the worker without a call
        return
    if nice:  # back to the caller's priority (the caller tried too: it may have come first)
        try:
            os.setpriority(os.PRIO_PROCESS, 0, priority)
        except OSError:
            pass
    try:
        outcome = ("ok", func(*call_args, **call_kwargs))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        outcome = ("error", exc)
    try:
        conn.send(outcome)
    except Exception as exc:  # noqa: BLE001 - an exception that cannot be pickled: its words
        conn.send(("error", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}"
                                         if outcome[0] == "error" else
                                         f"the result could not be sent back: {exc}")))
    conn.close()


# ---------------------------------------------------------------- interrupts


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: a BaseException (like KeyboardInterrupt), so `except
    Exception` blocks do not swallow it while every `finally` still runs."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


_held: list[int] = []  # signals that arrived inside `shielded()`, raised when it ends
_shield_depth = 0


def _on_signal(signum: int, _frame: Any) -> None:
    if _shield_depth:
        _held.append(signum)
        return
    raise Interrupted(signum)


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT/SIGTERM raise `Interrupted` in the main thread for the duration; the previous
    handlers are restored after. Elsewhere than the main thread it does nothing (Python only
    delivers signals there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _held.clear()
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    # past a file-size limit a write then fails with EFBIG (one clear error) instead of the
    # signal killing the process with a half-written staging folder left behind
    previous[signal.SIGXFSZ] = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back over a few statements that must happen together (swapping a
    finished run in); a signal that arrived meanwhile is raised when they are done."""
    global _shield_depth
    _shield_depth += 1
    try:
        yield
    finally:
        _shield_depth -= 1
    if not _shield_depth and _held:
        raise Interrupted(_held.pop(0))


# ---------------------------------------------------------------- a lock between processes


class Busy(RuntimeError):
    """Another process holds the lock."""


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """An exclusive `flock` on `lock_path` (created if needed) for the duration, or Busy at
    once when another process holds it. The lock goes with the process, even if it is killed;
    the file is left in place (removing it would let a third process lock a different file)."""
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Busy(str(lock_path)) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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
