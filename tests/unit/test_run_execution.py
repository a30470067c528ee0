"""The execution module: cores available, native thread limits, nodes side by side."""

from __future__ import annotations

import os
import threading
import time

import pytest
from threadpoolctl import threadpool_info

from telco_analytics.run import execution
from telco_analytics.run.execution import CoreBudget, Task, available_cores, run_side_by_side


def _affinity() -> int:
    return len(os.sched_getaffinity(0))


def test_available_cores_follows_affinity_and_a_cgroup_quota(tmp_path):
    cpu_max = tmp_path / "cpu.max"
    assert available_cores(tmp_path / "absent") == _affinity()
    cpu_max.write_text("max 100000\n")
    assert available_cores(cpu_max) == _affinity()
    cpu_max.write_text("150000 100000\n")  # 1.5 CPUs: one whole core
    assert available_cores(cpu_max) == 1
    cpu_max.write_text("50000 100000\n")  # half a CPU: still one
    assert available_cores(cpu_max) == 1
    cpu_max.write_text("garbage\n")
    assert available_cores(cpu_max) == _affinity()


def test_a_budget_shares_its_cores_between_running_nodes():
    budget = CoreBudget(workers=16)
    assert [budget.thread_limit(k) for k in (1, 2, 3, 16, 40)] == [16, 8, 5, 1, 1]
    assert CoreBudget.for_process(3).workers == 3
    assert CoreBudget.for_process().workers == available_cores()


def test_parallel_map_keeps_the_order_and_uses_several_threads():
    seen = set()

    def square(x: int) -> int:
        seen.add(threading.get_ident())
        time.sleep(0.02)
        return x * x

    assert execution.parallel_map(square, range(8), CoreBudget(workers=4)) == [
        x * x for x in range(8)]
    assert len(seen) > 1
    assert execution.parallel_map(square, [3], CoreBudget(workers=4)) == [9]


def _task(name, needs=(), gives=(), work=lambda: None):
    return Task(name=name, needs=frozenset(needs), gives=frozenset(gives), prepare=lambda: work)


def test_independent_tasks_run_at_the_same_time():
    """Two tasks that each wait for the other to have started finish only side by side."""
    barrier = threading.Barrier(2, timeout=5)
    done = []
    tasks = [_task("a", gives={"x"}, work=barrier.wait), _task("b", gives={"y"}, work=barrier.wait),
             _task("c", needs={"x", "y"}, work=lambda: "c")]
    run_side_by_side(tasks, (), CoreBudget(workers=2),
                     on_done=lambda name, value: done.append((name, value)))
    assert [name for name, _ in done][-1] == "c" and done[-1][1] == "c"
    assert {name for name, _ in done[:2]} == {"a", "b"}


def test_a_task_waits_for_what_it_needs_and_one_worker_runs_one_at_a_time():
    running, peak, order = [0], [0], []

    def work(name):
        def run():
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            time.sleep(0.01)
            running[0] -= 1
            order.append(name)
        return run

    tasks = [_task("last", needs={"b"}, work=work("last")), _task("b", needs={"a"}, gives={"b"},
             work=work("b")), _task("a", gives={"a"}, work=work("a")), _task("free", work=work("free"))]
    run_side_by_side(tasks, (), CoreBudget(workers=1))
    assert peak[0] == 1
    assert order.index("a") < order.index("b") < order.index("last")


def test_the_first_failure_stops_new_tasks_and_is_raised():
    started = []

    def fail():
        raise ValueError("broken node")

    tasks = [_task("bad", gives={"x"}, work=fail),
             _task("after", needs={"x"}, work=lambda: started.append("after"))]
    with pytest.raises(ValueError, match="broken node"):
        run_side_by_side(tasks, (), CoreBudget(workers=2))
    assert started == []


def test_tasks_that_can_never_start_are_named():
    with pytest.raises(RuntimeError, match="never became ready.*'lonely'"):
        run_side_by_side([_task("lonely", needs={"nothing"})], (), CoreBudget(workers=2))


def test_a_task_gets_its_share_of_native_threads():
    """Alone it may use the budget's cores; beside another, its share of them."""
    import sklearn.cluster  # noqa: F401 - loads scikit-learn's OpenMP runtime

    def openmp_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]

    assert openmp_threads()
    barrier = threading.Barrier(2, timeout=5)
    seen = {}

    def record(name, wait):
        def run():
            if wait:
                barrier.wait()
            seen[name] = openmp_threads()[0]
        return run

    run_side_by_side([_task("alone", work=record("alone", False))], (), CoreBudget(workers=4))
    run_side_by_side([_task("a", work=record("a", True)), _task("b", work=record("b", True))],
                     (), CoreBudget(workers=4))
    assert seen["alone"] == 4
    assert seen["a"] == seen["b"] == 2  # started together: half the cores each


def test_a_dead_child_process_is_reported(tmp_path):
    with pytest.raises(execution.ChildProcessDied):
        execution.in_child_process(os._exit, 3)
    assert execution.in_child_process(pow, 2, 10) == 1024


# ---------------------------------------------------------------- ChildWorker


def _prepared_pid_and_niceness(marker: str) -> None:
    """The worker's preparation: leaves a file naming its process and priority."""
    with open(marker, "w") as f:
        f.write(f"{os.getpid()} {os.nice(0)}")


def _read_marker(marker: str) -> str:
    return open(marker).read()


def _fail(message: str) -> None:
    raise ValueError(message)


def _pid_and_niceness() -> str:
    return f"{os.getpid()} {os.nice(0)}"


def test_a_worker_prepares_in_its_own_process_then_answers_one_call(tmp_path):
    marker = str(tmp_path / "prepared")
    worker = execution.ChildWorker(_prepared_pid_and_niceness, marker, nice=5)
    try:
        # the call runs after the preparation (which ran at lower priority), in that process
        pid, niceness = worker.call(_pid_and_niceness).split()
        prepared_pid, prepared_niceness = _read_marker(marker).split()
        assert pid == prepared_pid != str(os.getpid())
        assert int(prepared_niceness) == os.nice(0) + 5
        if os.geteuid() == 0:  # allowed to raise it again: the call runs at the caller's
            assert int(niceness) == os.nice(0)
    finally:
        worker.close()
    assert not worker._child.is_alive()


def test_a_worker_hands_back_its_exception_and_keyword_arguments(tmp_path):
    worker = execution.ChildWorker(pow, 2, 3)
    try:
        with pytest.raises(ValueError, match="no good"):
            worker.call(_fail, message="no good")
    finally:
        worker.close()


def test_a_worker_closed_without_a_call_ends_and_a_dead_one_is_reported(tmp_path):
    idle = execution.ChildWorker(pow, 2, 3)
    idle.close()
    assert idle._child.exitcode is not None  # reaped
    dying = execution.ChildWorker(pow, 2, 3)
    try:
        with pytest.raises(execution.ChildProcessDied):
            dying.call(os._exit, 3)
    finally:
        dying.close()


class _Unpicklable(Exception):
    def __init__(self, message: str, handle: object) -> None:
        super().__init__(message)
        self.handle = handle

    def __reduce__(self):
        raise TypeError("cannot pickle this handle")


def _raise_unpicklable() -> None:
    raise _Unpicklable("the store is locked", threading.Lock())


def test_an_exception_that_cannot_be_pickled_still_reaches_the_caller_in_words():
    worker = execution.ChildWorker(pow, 2, 3)
    try:
        with pytest.raises(RuntimeError, match="_Unpicklable: the store is locked"):
            worker.call(_raise_unpicklable)
    finally:
        worker.close()


def _niceness_before_and_after_a_pause(marker: str) -> None:
    before = os.nice(0)
    time.sleep(2.0)
    with open(marker, "w") as f:
        f.write(f"{before} {os.nice(0)}")


def test_a_call_raises_a_preparation_still_at_work_to_the_callers_priority(tmp_path):
    """The caller waits from its call on: a preparation still running must not stay at the
    low priority (a busy machine would starve it) where the system lets us raise it."""
    marker = str(tmp_path / "prepared")
    worker = execution.ChildWorker(_niceness_before_and_after_a_pause, marker, nice=5)
    try:
        time.sleep(1.0)  # the child has started and lowered its priority; preparation pauses
        worker.call(pow, 2, 3)
        before, after = map(int, _read_marker(marker).split())
    finally:
        worker.close()
    assert before == os.nice(0) + 5
    assert after == (os.nice(0) if os.geteuid() == 0 else before)
