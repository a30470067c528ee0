"""Shared helpers of the benchmark scripts: run a command and measure it, machine facts, tables.

`measure(cmd)` runs a child process in its own process group and reports its wall time, its
CPU seconds (user + system of the child and every descendant it waited for, from `os.wait4`)
and its peak resident memory, taken two ways and the larger one kept:
  - the kernel's own figure: `ru_maxrss` of the child from `os.wait4` (the largest RSS the
    child, or any descendant it waited for, ever had; exact, no sampling gap);
  - psutil polling every `poll` seconds of the RSS summed over the child's process tree
    (catches several live processes at once, e.g. a Spark JVM next to Python).
A timeout and a memory cap stop the child (the whole group) cleanly; on this shared machine
with no swap, letting a benchmark reach the kernel's OOM killer could kill a colleague's
process instead, so the cap (default: leave 2 GB of RAM available) is a deliberate choice.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
VENV_BIN = Path(sys.executable).parent
TELCO = str(VENV_BIN / "telco") if (VENV_BIN / "telco").exists() else "telco"
GB = 1e9

# "analyses" = every engine and analysis node, read .. satisfaction (SPEC section 8): the
# nodes before the first output node (insights) in the run's node order
FIRST_OUTPUT_NODE = "insights"
SHORT = {"read and validate": "read", "per-user tables": "per-user", "database export": "db",
         "write tables": "tables"}


@dataclass
class Measurement:
    cmd: list[str]
    returncode: int | None
    wall_s: float
    peak_rss_bytes: int
    stdout: str
    stderr: str
    cpu_s: float = 0.0
    timed_out: bool = False
    memory_capped: bool = False
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.memory_capped

    @property
    def out_of_memory(self) -> bool:
        text = self.stderr + self.stdout
        return (self.memory_capped or "MemoryError" in text or "OUT OF MEMORY" in text
                or "Out of Memory" in text or self.returncode in (-signal.SIGKILL, 137))

    @property
    def status(self) -> str:
        if self.ok:
            return "ok"
        if self.timed_out:
            return f"timeout after {self.wall_s:.0f} s"
        if self.out_of_memory:
            why = "memory cap" if self.memory_capped else (
                "SIGKILL" if self.returncode in (-signal.SIGKILL, 137) else "MemoryError")
            return f"out of memory ({why}, peak {self.peak_rss_bytes / GB:.1f} GB)"
        return f"failed (exit {self.returncode}): {last_error_line(self.stderr)}"


def last_error_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "error" in ln.lower():
            return ln[:300]
    return lines[-1][:300] if lines else ""


def tree_rss(proc: psutil.Process) -> int:
    """RSS in bytes of a process and all its descendants (0 once it is gone)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def default_memory_cap() -> int:
    """Stop a child before the machine runs dry: what is available now minus 2 GB."""
    return int(psutil.virtual_memory().available - 2 * GB)


def measure(cmd: list[str], *, timeout: float | None = None, poll: float = 0.2,
            memory_cap: int | None = None, env: dict | None = None,
            cwd: str | Path | None = None) -> Measurement:
    """Run cmd, return wall time, peak RSS (bytes), exit code and its output."""
    cap = default_memory_cap() if memory_cap is None else memory_cap
    load_before = os.getloadavg()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd,
                                 start_new_session=True)
        proc = psutil.Process(child.pid)
        peak, timed_out, capped, status, usage = 0, False, False, None, None
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, tree_rss(proc))
            elapsed = time.perf_counter() - t0
            if timeout is not None and elapsed > timeout and not timed_out:
                timed_out = True
                _kill_group(child.pid)
            elif peak > cap and not capped:
                capped = True
                _kill_group(child.pid)
            time.sleep(poll)
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        # ru_maxrss is in KiB on Linux
        peak = max(peak, int(usage.ru_maxrss) * 1024)
        out.seek(0)
        err.seek(0)
        return Measurement(cmd=list(cmd), returncode=child.returncode, wall_s=wall,
                           peak_rss_bytes=peak, stdout=out.read(), stderr=err.read(),
                           cpu_s=usage.ru_utime + usage.ru_stime,
                           timed_out=timed_out, memory_capped=capped,
                           load_before=load_before, load_after=os.getloadavg())


def _kill_group(pid: int) -> None:
    """SIGKILL the child's process group (the child was started in its own session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def machine_facts() -> dict:
    vm = psutil.virtual_memory()
    return {
        # the cores this process may run on (what the product's pools are sized from)
        "cores_affinity": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gb": vm.total / GB,
        "memory_available_gb": vm.available / GB,
        "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
    }


def machine_line(facts: dict | None = None) -> str:
    f = facts or machine_facts()
    la = ", ".join(f"{x:.2f}" for x in f["load_average"])
    return (f"machine: {f.get('cpu_model', 'CPU')}, {f.get('cores_affinity', '?')} cores "
            f"usable by this process ({f['cores_logical']} logical, {f['cores_physical']} "
            "physical), "
            f"{f['memory_gb']:.1f} GB RAM ({f['memory_available_gb']:.1f} GB available), "
            f"load average (1/5/15 min) {la}, Python {f['python']}")


def read_manifest(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "manifest.json").read_text())


def median(values: list[float]) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def analysis_nodes() -> list[str]:
    """The names of the engine and analysis nodes of a run."""
    from telco_analytics.run.nodes import NODES

    return [n.name for n in NODES if n.kind != "output"]


def analyses_seconds(manifest: dict) -> float:
    """Wall seconds from the start of the first engine node to the end of the last analysis
    node (nodes run side by side, so their seconds do not add up)."""
    spans = [v for k, v in manifest.get("node_intervals", {}).items() if k in analysis_nodes()]
    return max(end for _, end in spans) - min(start for start, _ in spans) if spans else 0.0


def analyses_cpu_seconds(manifest: dict) -> float:
    """CPU seconds of the process during the engine and analysis nodes (side by side nodes
    count their shared time once each, so this is an upper bound)."""
    cpu = manifest.get("cpu_seconds_per_step", {})
    return sum(v for k, v in cpu.items() if k in analysis_nodes())


def markdown_table(header: list[str], rows: list[list]) -> str:
    def cell(v) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def short(step: str) -> str:
    return SHORT.get(step, step)
