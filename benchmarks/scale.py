"""`telco run` on generated extracts of growing size, optionally against the pandas baseline.

Usage: .venv/bin/python benchmarks/scale.py --sizes 1.5M,15M,100M [--skip-generate] [--pandas]

For each size N: generate benchmarks/data/xdr_<N>.parquet with `telco generate --rows N --seed 0`
(skipped when the file exists; prints rows/s), then run
`telco run FILE --engine duckdb --no-report --no-tracking --no-figures --quiet --out <tmp>` as a
subprocess and print the seconds per step (manifest), the wall time and the peak RSS. With
--pandas, benchmarks/pandas_baseline.py runs on the same file (sizes up to --pandas-max-rows;
with a timeout and a memory cap: "out of memory" is reported, not a crash) and the speedup is
printed. Ends with a Markdown table for the README, with the machine's cores, memory and load.
A failing run (error, out of memory, timeout) is reported with its peak RSS and the next one
goes on. Results are also appended to benchmarks/data/scale_results.jsonl.

`--profile "per-user tables,engagement"` instead runs the pipeline in this process with those
steps under cProfile and prints their top-20 functions (cumulative and own time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DATA,
    GB,
    TELCO,
    analyses_cpu_seconds,
    analyses_seconds,
    machine_facts,
    machine_line,
    markdown_table,
    measure,
    read_manifest,
    short,
)

BASELINE = Path(__file__).resolve().parent / "pandas_baseline.py"
STEP_COLUMNS = ["read and validate", "clean", "handsets", "per-user tables", "engagement model",
                "experience model", "satisfaction", "insights", "write tables", "database export"]
# issue 19: analyses seconds, peak RSS GB (equal-work ratios: benchmarks/equal_work.py)
GOALS = {1_500_000: (12.0, None), 15_000_000: (90.0, 4.0), 100_000_000: (None, 16.0)}


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*([\d.]+)\s*([kKmMbB]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (e.g. 150k, 1.5M, 100M)")
    scale = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9}[m.group(2).lower()]
    return round(float(m.group(1)) * scale)


def label(n: int) -> str:
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:g}{suffix}"
    return str(n)


def ensure_extract(n: int, data: Path, skip: bool) -> tuple[Path, dict | None]:
    path = data / f"xdr_{n}.parquet"
    if path.exists():
        print(f"[{label(n)}] {path} present ({path.stat().st_size / GB:.2f} GB), not regenerated")
        return path, None
    if skip:
        raise SystemExit(f"{path} missing and --skip-generate given")
    m = measure([TELCO, "generate", "--rows", str(n), "--seed", "0", "--out", str(path),
                 "--quiet"], timeout=4 * 3600)
    if not m.ok:
        raise SystemExit(f"generate {label(n)}: {m.status}\n{m.stderr[-2000:]}")
    rate = n / m.wall_s
    print(f"[{label(n)}] generated {path} in {m.wall_s:.1f} s: {rate:,.0f} rows/s "
          f"(goal >= 1,000,000), peak RSS {m.peak_rss_bytes / GB:.2f} GB, "
          f"{path.stat().st_size / GB:.2f} GB on disk, load {m.load_before[0]:.2f}")
    return path, {"seconds": m.wall_s, "rows_per_s": rate, "peak_rss_gb": m.peak_rss_bytes / GB}


def run_telco(path: Path, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="telco-bench-scale-", dir=DATA) as tmp:
        out = Path(tmp) / "run"
        cmd = [TELCO, "run", str(path), "--engine", "duckdb", "--no-report", "--no-tracking",
               "--no-figures", "--quiet", "--out", str(out)]
        m = measure(cmd, timeout=timeout, cwd=tmp)
        steps, cpu, manifest_s, code, analyses, analyses_cpu = {}, {}, None, {}, None, None
        if m.ok:
            manifest = read_manifest(out)
            steps, manifest_s = manifest["seconds_per_step"], manifest["seconds"]
            cpu = manifest.get("cpu_seconds_per_step", {})
            code = manifest.get("code", {})
            analyses, analyses_cpu = analyses_seconds(manifest), analyses_cpu_seconds(manifest)
    return {"engine": "telco (duckdb)", "status": m.status, "ok": m.ok, "wall_s": m.wall_s,
            "peak_rss_gb": m.peak_rss_bytes / GB, "steps": steps, "cpu": cpu,
            "analyses_s": analyses, "analyses_cpu_s": analyses_cpu,
            "manifest_s": manifest_s, "code": code,
            "load": m.load_before, "stderr_tail": m.stderr[-3000:] if not m.ok else ""}


def run_pandas(path: Path, timeout: float) -> dict:
    m = measure([sys.executable, str(BASELINE), str(path)], timeout=timeout)
    steps, total = {}, None
    for line in m.stdout.splitlines():
        if line.startswith("BASELINE_JSON "):
            facts = json.loads(line.split(" ", 1)[1])
            steps, total = facts["seconds_per_step"], facts["seconds"]
    status = m.status
    if "OUT OF MEMORY" in m.stdout:
        status = f"out of memory ({m.stdout.strip().splitlines()[-1]}, " \
                 f"peak {m.peak_rss_bytes / GB:.1f} GB)"
    return {"engine": "pandas baseline", "status": status, "ok": m.ok, "wall_s": m.wall_s,
            "peak_rss_gb": m.peak_rss_bytes / GB, "steps": steps, "manifest_s": total,
            "analyses_s": sum(steps.values()) if steps else None,  # one step after the other
            "load": m.load_before, "stdout": m.stdout[-3000:],
            "stderr_tail": m.stderr[-3000:] if not m.ok else ""}


def commit_label(code: dict) -> str:
    """Short commit of the code that ran, '+dirty' when the work tree had changes."""
    commit = (code.get("commit") or "unknown")[:8]
    return commit + ("+dirty" if code.get("dirty") else "")


def print_result(n: int, r: dict) -> None:
    print(f"[{label(n)}] {r['engine']}: {r['status']}, wall {r['wall_s']:.1f} s, "
          f"peak RSS {r['peak_rss_gb']:.2f} GB, load avg at start {r['load'][0]:.2f}"
          + (f", code {commit_label(r['code'])}" if r.get("code") else ""))
    cpu = r.get("cpu", {})
    for name, secs in r["steps"].items():
        # CPU seconds of all threads: about 2x the wall time when both cores are busy
        used = f"   CPU {cpu[name]:8.2f} s" if name in cpu else ""
        print(f"      {name:20s} {secs:8.2f} s{used}")
    if r.get("analyses_s") is not None:
        print(f"      {'analyses (read..satisfaction)':30s} {r['analyses_s']:8.2f} s"
              + (f"   CPU {r['analyses_cpu_s']:8.2f} s" if r.get("analyses_cpu_s") else ""))
    goal_s, goal_gb = GOALS.get(n, (None, None))
    if r["engine"].startswith("telco") and r["ok"] and (goal_s or goal_gb):
        a = r["analyses_s"]
        parts = []
        if goal_s:
            parts.append(f"analyses {a:.1f} s vs goal {goal_s:g} s "
                         f"{'OK' if a <= goal_s else 'MISSED'}")
        if goal_gb:
            parts.append(f"peak {r['peak_rss_gb']:.1f} GB vs goal {goal_gb:g} GB "
                         f"{'OK' if r['peak_rss_gb'] <= goal_gb else 'MISSED'}")
        print("      SPEC: " + "; ".join(parts))
    if not r["ok"] and r.get("stderr_tail"):
        print("      stderr: " + r["stderr_tail"].strip().splitlines()[-1][:400])


def profile_steps(path: Path, steps: list[str], top: int = 20) -> None:
    """Run the pipeline in this process, each named step under its own cProfile; print the
    top functions by cumulative time (and by own time) per step, and every step's peak RSS
    (this process, polled every 0.1 s)."""
    import cProfile
    import pstats
    import threading
    from dataclasses import replace

    import psutil

    from telco_analytics.run.nodes import NODES
    from telco_analytics.run.runner import RunOptions, run

    profiles, peaks, current = {}, {}, {"step": None}
    me = psutil.Process()

    def sample() -> None:
        while current["step"] != "<done>":
            name = current["step"]
            if name:
                peaks[name] = max(peaks.get(name, 0), me.memory_info().rss)
            time.sleep(0.1)

    def wrap(name, func):
        def run_node(*args):
            current["step"] = name
            peaks[name] = me.memory_info().rss
            prof = cProfile.Profile() if name in steps else None  # profiles its own thread
            if prof:
                prof.enable()
            try:
                return func(*args)
            finally:
                if prof:
                    prof.disable()
                    profiles[name] = prof
                peaks[name] = max(peaks[name], me.memory_info().rss)
        return run_node

    names = [n.name for n in NODES]
    unknown = set(steps) - set(names)
    if unknown:
        raise SystemExit(f"unknown node(s) {sorted(unknown)}; nodes: {names}")
    nodes = [replace(n, func=wrap(n.name, n.function()), kwargs={}) for n in NODES]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with tempfile.TemporaryDirectory(prefix="telco-bench-profile-", dir=DATA) as tmp:
            result = run(str(path), Path(tmp) / "run", nodes=nodes,
                         options=RunOptions(report=False, tracking=False, figures=False))
    finally:
        current["step"] = "<done>"
    print(f"in-process run of {path.name} (profiled steps run slower); users: "
          f"{result.manifest['rows'].get('users')}")
    for name, secs in result.manifest["seconds_per_step"].items():
        print(f"  {name:20s} {secs:8.2f} s   peak RSS during the step {peaks.get(name, 0) / GB:6.2f} GB"
              f"{'   (profiled)' if name in steps else ''}")
    for name in steps:
        for key in ("cumulative", "tottime"):
            print(f"\n### cProfile of step '{name}' at {path.name}, top {top} by {key}\n")
            pstats.Stats(profiles[name], stream=sys.stdout).sort_stats(key).print_stats(top)


def record(data: Path, n: int, gen: dict | None, facts: dict, result: dict) -> None:
    with open(data / "scale_results.jsonl", "a") as fh:
        fh.write(json.dumps({"when": dt.datetime.now().isoformat(), "rows": n, "generate": gen,
                             "machine": facts, **result}) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1.5M,15M",
                        type=lambda s: [parse_size(x) for x in s.split(",") if x.strip()])
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--pandas", action="store_true", help="also run the pandas baseline")
    parser.add_argument("--pandas-max-rows", type=parse_size, default=parse_size("15M"))
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="per telco run, s")
    parser.add_argument("--pandas-timeout", type=float, default=1200, help="per baseline run, s")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--profile", metavar="STEPS",
                        help="instead of timing: run in-process with these comma-separated "
                        "steps under cProfile (e.g. 'per-user tables,engagement')")
    args = parser.parse_args()
    if args.profile:
        for n in args.sizes:
            path, _ = ensure_extract(n, args.data, args.skip_generate)
            profile_steps(path, [s.strip() for s in args.profile.split(",") if s.strip()])
        return
    args.data.mkdir(parents=True, exist_ok=True)
    facts = machine_facts()
    print(machine_line(facts))
    results = []
    for n in args.sizes:
        path, gen = ensure_extract(n, args.data, args.skip_generate)
        r = run_telco(path, args.timeout)
        print_result(n, r)
        record(args.data, n, gen, facts, r)
        results.append((n, r))
        if args.pandas and n <= args.pandas_max_rows:
            p = run_pandas(path, args.pandas_timeout)
            print_result(n, p)
            record(args.data, n, gen, facts, p)
            results.append((n, p))
            if p["ok"] and r["ok"]:
                print(f"[{label(n)}] speedup telco vs pandas: wall {p['wall_s'] / r['wall_s']:.1f}x, "
                      f"analyses {p['analyses_s'] / r['analyses_s']:.1f}x")

    header = ["sessions", "engine", "status", "wall s", "analyses s", "peak RSS GB",
              *[short(s) for s in STEP_COLUMNS], "load 1m"]
    rows = []
    for n, r in results:
        rows.append([label(n), r["engine"], "ok" if r["ok"] else r["status"], r["wall_s"],
                     r.get("analyses_s") or "-", r["peak_rss_gb"],
                     *[r["steps"].get(s, "-") for s in STEP_COLUMNS], r["load"][0]])
    print("\n" + markdown_table(header, rows))
    print("\n" + machine_line())
    print("wall s = process start to exit (imports included); analyses s = from the start of "
          "reading to the end of the last analysis node (manifest node_intervals; the "
          "baseline: the sum of its steps); peak RSS = max of wait4 ru_maxrss and 0.2 s psutil "
          "polls.")


if __name__ == "__main__":
    main()
