"""The product against the pandas baseline on equal work; and the issue-19 speed targets.

Usage (one command regenerates the README's performance table):
    .venv/bin/python benchmarks/equal_work.py --baseline-threads 0,1   # sample + 1.5M, 3 repeats
    .venv/bin/python benchmarks/equal_work.py --sizes sample,1.5M,15M --repeat 5
    .venv/bin/python benchmarks/equal_work.py --targets           # the targets instead
    .venv/bin/python benchmarks/equal_work.py --targets --sizes 1.5M,15M,100M
    .venv/bin/python benchmarks/equal_work.py --table-from benchmarks/data/equal_work_results.jsonl

Equal work: benchmarks/pandas_baseline.py reads the product's AnalysisParams and applies the
same definitions and sampling rules (tests/unit/test_pandas_baseline.py checks its tables
against the product's, exact and sampled). By default both sides use the libraries' default
threads (the product limits them per node itself).

For each size (the built-in sample = 150k sessions, or N generated sessions, seed 0) and each
input format (Parquet and CSV, the same rows), `--repeat` times, interleaved (product then
baseline, the order swapped every other repeat, so a burst of load from other users of the
machine hits both alike):
  product   a fresh process running `telco run`'s pipeline in process (no figures, report or
            tracking; tables, insights and the database are written). "analyses" = from the
            call (the analysis modules imported before it, as the baseline imports its
            libraries before its clock starts) to the start of the first output node (read ..
            satisfaction; wall and CPU seconds of the process, engine child included);
            "full" = process start to exit.
            "equal work" = analyses minus the engine nodes the baseline does not have
            (measured-or-filled counts and network hotspots: they run one after the other in
            the engine, so their seconds come off exactly).
  baseline  a fresh `pandas_baseline.py` process: "analyses" = its run() (read .. satisfaction),
            "full" = process start to exit. `--baseline-threads 0,1` adds a second baseline
            side limited to one native thread (on a busy machine, spinning OpenMP threads of
            the default make scikit-learn many times slower: the product limits its threads
            per node for that reason; this shows how much of the ratio that is).
ratio = baseline analyses / product equal-work analyses (wall, and CPU seconds). Medians.
Every run is also appended to benchmarks/data/equal_work_results.jsonl.
CSV runs of the product are first runs: an ingest cache, when the product has one, is off.

--targets prints the issue's targets: the sample's full `telco run` with every output
(<= 12 s, analyses <= 3 s), 1.5M sessions analyses (<= 12 s Parquet, <= 15 s CSV first run),
15M (<= 90 s, <= 4 GB peak RSS), 100M (within 16 GB; only when asked: it is long).
Extracts are generated into benchmarks/data (not committed) when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DATA,
    GB,
    TELCO,
    analyses_seconds,
    machine_facts,
    machine_line,
    markdown_table,
    measure,
    median,
    read_manifest,
)

HERE = Path(__file__).resolve()
BASELINE = HERE.parent / "pandas_baseline.py"
# product engine nodes with no counterpart in the baseline (taken off the product's side)
NOT_IN_BASELINE = ("measured sessions", "cells", "hours", "handsets measured")
SAMPLE = "sample"
FORMATS = ("parquet", "csv")
# issue 19's targets on this machine
TARGET_SAMPLE_FULL_S, TARGET_SAMPLE_ANALYSES_S = 12.0, 3.0
TARGET_ANALYSES_S = {(1_500_000, "parquet"): 12.0, (1_500_000, "csv"): 15.0,
                     (15_000_000, "parquet"): 90.0}
TARGET_PEAK_GB = {15_000_000: 4.0, 100_000_000: 16.0}
TARGET_RATIO = 5.0  # at 1.5M sessions, at least 5x the equal-work baseline


def parse_size(text: str) -> int | str:
    text = text.strip().lower()
    if text == SAMPLE:
        return SAMPLE
    scale = {"k": 1e3, "m": 1e6, "b": 1e9}.get(text[-1:], 1)
    try:
        return round(float(text.rstrip("kmb")) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (sample, 150k, 1.5M, 15M)") from None


def label(size: int | str) -> str:
    if size == SAMPLE:
        return "sample (150k)"
    if isinstance(size, str):  # already a label (a results file's)
        return size
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= div:
            return f"{size / div:g}{suffix}"
    return str(size)


# ------------------------------------------------------------------ inputs


def extract(size: int | str, fmt: str, data: Path) -> Path:
    """The input file of this size and format, generated once (outside the timings)."""
    if size == SAMPLE:
        from telco_analytics.sample import SAMPLE_ROWS, SAMPLE_SEED, SAMPLE_STRUCTURE, sample_path

        parquet = sample_path()
        if fmt == "parquet":
            return parquet
        path = data / f"sample_{SAMPLE_ROWS}_{SAMPLE_SEED}_{SAMPLE_STRUCTURE}.csv"
        rows, seed, structure = SAMPLE_ROWS, SAMPLE_SEED, SAMPLE_STRUCTURE
    else:
        path = data / f"xdr_{size}.{fmt}"
        rows, seed, structure = size, 0, "planted"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ({rows:,} sessions)", flush=True)
        m = measure([TELCO, "generate", "--rows", str(rows), "--seed", str(seed),
                     "--structure", structure, "--out", str(path), "--quiet"], timeout=4 * 3600)
        if not m.ok:
            raise SystemExit(f"generate {path}: {m.status}\n{m.stderr[-2000:]}")
    return path


# ------------------------------------------------------------------ the product, in process


def product_once(path: str, out: str) -> None:
    """Run the pipeline here (called in a fresh process); print PRODUCT_JSON."""
    import dataclasses
    import resource

    from telco_analytics.config import ExecutionSettings
    from telco_analytics.run import runner, warmup
    from telco_analytics.run.nodes import NODES

    # the analyses' modules (scikit-learn, SciPy: about 2 s) imported before the clock starts,
    # as the baseline imports them before its own: the same work on both sides
    warmup._import_analyses()

    def cpu() -> float:
        return sum(getattr(resource.getrusage(who), kind)
                   for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                   for kind in ("ru_utime", "ru_stime"))

    first_output: dict[str, float] = {}

    def marked(func):
        def call(*args, **kwargs):
            # every output node waits for the collected tables: the first one to start marks
            # the end of the analyses
            first_output.setdefault("t", time.perf_counter())
            first_output.setdefault("cpu", cpu())
            return func(*args, **kwargs)
        return call

    nodes = [dataclasses.replace(n, func=marked(n.function()), kwargs={})
             if n.kind == "output" else n for n in NODES]
    options = runner.RunOptions(report=False, tracking=False, figures=False)
    # the CSV ingest cache off: every CSV run parses its file, as the baseline does
    settings = ExecutionSettings(ingest_cache=False)
    t0, cpu0 = time.perf_counter(), cpu()
    result = runner.run(path, Path(out), options=options, settings=settings, nodes=nodes)
    t1, cpu1 = time.perf_counter(), cpu()
    manifest = result.manifest
    steps, cpus = manifest["seconds_per_step"], manifest.get("cpu_seconds_per_step", {})
    print("PRODUCT_JSON " + json.dumps({
        "analyses_s": first_output.get("t", t1) - t0,
        "analyses_cpu_s": first_output.get("cpu", cpu1) - cpu0,
        "run_s": t1 - t0, "run_cpu_s": cpu1 - cpu0,
        "extra_s": sum(steps.get(n, 0.0) for n in NOT_IN_BASELINE),
        "extra_cpu_s": sum(cpus.get(n, 0.0) for n in NOT_IN_BASELINE),
        "users": manifest.get("rows", {}).get("users"),
        "engine_in_child": manifest.get("facts", {}).get("execution", {}).get(
            "engine_in_child_process"),
        "ingest_cache": False,
        "imports_before_clock": True,
        "code": manifest.get("code", {}),
    }), flush=True)


def _json_line(stdout: str, prefix: str) -> dict | None:
    for line in stdout.splitlines():
        if line.startswith(prefix + " "):
            return json.loads(line.split(" ", 1)[1])
    return None


def run_product(path: Path, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="telco-bench-equal-", dir=DATA) as tmp:
        m = measure([sys.executable, str(HERE), "--product-once", str(path),
                     str(Path(tmp) / "run")], timeout=timeout, cwd=tmp)
    facts = _json_line(m.stdout, "PRODUCT_JSON")
    if not m.ok or facts is None:
        raise SystemExit(f"product on {path.name}: {m.status}\n{m.stderr[-3000:]}")
    return {**facts, "full_s": m.wall_s, "full_cpu_s": m.cpu_s,
            "equal_s": facts["analyses_s"] - facts["extra_s"],
            "equal_cpu_s": facts["analyses_cpu_s"] - facts["extra_cpu_s"],
            "peak_gb": m.peak_rss_bytes / GB, "load": m.load_before[0]}


def baseline_side(threads: int) -> str:
    """The name of the baseline side run with --threads `threads` (0: the libraries' default)."""
    return "baseline" if threads == 0 else f"baseline threads={threads}"


def run_baseline(path: Path, timeout: float, threads: int = 0) -> dict:
    m = measure([sys.executable, str(BASELINE), str(path), "--threads", str(threads)],
                timeout=timeout)
    facts = _json_line(m.stdout, "BASELINE_JSON")
    if not m.ok or facts is None:
        raise SystemExit(f"baseline on {path.name}: {m.status}\n{m.stdout[-1000:]}"
                         f"{m.stderr[-2000:]}")
    return {"analyses_s": facts["seconds"], "analyses_cpu_s": facts["cpu_seconds"],
            "full_s": m.wall_s, "full_cpu_s": m.cpu_s, "users": facts["users"],
            "fit_rows": facts["fit_rows"], "peak_gb": m.peak_rss_bytes / GB,
            "load": m.load_before[0]}


# ------------------------------------------------------------------ equal work


def equal_work(sizes: list, formats: list[str], repeat: int, data: Path, timeout: float,
               baseline_threads: list[int]) -> None:
    facts = machine_facts()
    session = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(machine_line(facts), flush=True)
    rows = []
    for size in sizes:
        for fmt in formats:
            path = extract(size, fmt, data)
            threads = {baseline_side(t): t for t in baseline_threads}
            sides = ["product", *threads]
            runs: dict[str, list[dict]] = {side: [] for side in sides}
            for i in range(repeat):
                for side in sides if i % 2 == 0 else sides[::-1]:
                    r = (run_product(path, timeout) if side == "product"
                         else run_baseline(path, timeout, threads[side]))
                    runs[side].append(r)
                    record(data, {"size": label(size), "format": fmt, "side": side,
                                  "repeat": i + 1, "session": session, "machine": facts,
                                  **r})
                    equal = (f"equal work {r['equal_s']:.2f} s / {r['equal_cpu_s']:.2f} s CPU, "
                             if side == "product" else "")
                    print(f"  [{label(size)} {fmt}] {side} {i + 1}/{repeat}: analyses "
                          f"{r['analyses_s']:.2f} s wall / {r['analyses_cpu_s']:.2f} s CPU, "
                          + equal +
                          f"process {r['full_s']:.2f} s / {r['full_cpu_s']:.2f} s CPU, "
                          f"peak {r['peak_gb']:.2f} GB, load {r['load']:.1f}", flush=True)
            rows += [summarize(size, fmt, runs["product"], runs[side], side) for side in threads]
    print_table(rows, repeat)


HEADER = ["sessions", "input", "users", "baseline threads", "product analyses s (CPU s)",
          "product equal-work s (CPU s)", "product full run s (CPU s)",
          "baseline analyses s (CPU s)", "baseline full run s (CPU s)",
          "equal-work ratio wall", "equal-work ratio CPU"]


def print_table(rows: list[list], repeat: int | str, facts: dict | None = None) -> None:
    print(f"\nEqual work, median of {repeat} interleaved runs each:\n")
    print(markdown_table(HEADER, rows))
    print("\n" + machine_line(facts))
    print("analyses = read .. satisfaction; equal work = the product's analyses minus its "
          "measured-or-filled and hotspot engine nodes (no counterpart in the baseline); full "
          "run = process start to exit (imports; the product also writes tables, insights and "
          "its database); ratio = baseline analyses / product equal-work analyses.")


def record(data: Path, row: dict) -> None:
    """Every run, appended to DATA/equal_work_results.jsonl (a partial session is kept)."""
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "equal_work_results.jsonl", "a") as fh:
        fh.write(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S"), **row},
                            default=str) + "\n")


def _pair(wall: float, cpu: float) -> str:
    return f"{wall:.2f} ({cpu:.2f})"


def table_from(results: Path) -> None:
    """The table again from a results file (e.g. sessions run one size or format at a time):
    per size and format, the runs of each side in the order they were made, paired."""
    # (size, format) -> session -> side -> runs; a product run is paired only with baseline
    # runs of its own session (interleaved with it)
    groups: dict[tuple[str, str], dict[str, dict[str, list[dict]]]] = {}
    for line in results.read_text().splitlines():
        row = json.loads(line)
        session = row.get("session") or json.dumps(row.get("machine"), sort_keys=True)
        (groups.setdefault((row["size"], row["format"]), {}).setdefault(session, {})
         .setdefault(row["side"], []).append(row))
    rows, counts, facts = [], set(), None
    def order(key: tuple[str, str]) -> tuple:  # the sample first, then by size; Parquet first
        size, fmt = key
        number = 0 if size.startswith(SAMPLE) else parse_size(size)
        return number, FORMATS.index(fmt) if fmt in FORMATS else len(FORMATS)

    for (size, fmt), sessions in sorted(groups.items(), key=lambda item: order(item[0])):
        sides = sorted({side for runs in sessions.values() for side in runs} - {"product"})
        for side in sides:
            product, baseline = [], []
            for runs in sessions.values():
                n = min(len(runs.get("product", [])), len(runs.get(side, [])))
                product += runs.get("product", [])[:n]
                baseline += runs.get(side, [])[:n]
            if product:
                facts = facts or product[0].get("machine")
                counts.add(len(product))
                rows.append(summarize(size, fmt, product, baseline, side))
    # the machine as the first session found it (its load average at that session's start)
    print_table(rows, "/".join(str(c) for c in sorted(counts)), facts)


def summarize(size, fmt: str, p: list[dict], b: list[dict], side: str) -> list:
    """A table row: the medians of the product's runs p and the baseline's runs b (paired)."""

    def med(side: list[dict], key: str) -> float:
        return median([r[key] for r in side])

    ratio_wall = median([x["analyses_s"] / y["equal_s"] for x, y in zip(b, p)])
    ratio_cpu = median([x["analyses_cpu_s"] / y["equal_cpu_s"] for x, y in zip(b, p)])
    threads = side.removeprefix("baseline").strip().removeprefix("threads=") or "default"
    return [label(size), fmt, f"{p[0]['users']:,}", threads,
            _pair(med(p, "analyses_s"), med(p, "analyses_cpu_s")),
            _pair(med(p, "equal_s"), med(p, "equal_cpu_s")),
            _pair(med(p, "full_s"), med(p, "full_cpu_s")),
            _pair(med(b, "analyses_s"), med(b, "analyses_cpu_s")),
            _pair(med(b, "full_s"), med(b, "full_cpu_s")),
            f"{ratio_wall:.2f}x", f"{ratio_cpu:.2f}x"]


# ------------------------------------------------------------------ targets


def verdict(value: float, goal: float, unit: str = "s") -> str:
    return f"{value:.2f} {unit} vs <= {goal:g} {unit}: {'MET' if value <= goal else 'MISSED'}"


def sample_full_run(repeat: int, data: Path) -> None:
    """The built-in sample, `telco run` with every output (figures, tracking, report)."""
    subprocess.run([sys.executable, "-c",
                    "from telco_analytics.sample import sample_path; sample_path()"], check=True)
    walls, cpus, analyses = [], [], []
    with tempfile.TemporaryDirectory(prefix="telco-bench-target-", dir=data) as tmp:
        for i in range(repeat):
            out = Path(tmp) / f"run-{i}"
            m = measure([TELCO, "run", "--out", str(out), "--quiet",
                         "--tracking-uri", f"sqlite:///{Path(tmp) / 'mlflow.db'}"],
                        cwd=tmp, timeout=900)
            if not m.ok:
                raise SystemExit(f"telco run (sample): {m.status}\n{m.stderr[-2000:]}")
            walls.append(m.wall_s)
            cpus.append(m.cpu_s)
            analyses.append(analyses_seconds(read_manifest(out)))
            print(f"  sample full run {i + 1}/{repeat}: {m.wall_s:.2f} s wall, "
                  f"{m.cpu_s:.2f} s CPU, analyses {analyses[-1]:.2f} s, "
                  f"load {m.load_before[0]:.1f}", flush=True)
            shutil.rmtree(out, ignore_errors=True)
    print("TARGET sample full `telco run` (every output): "
          f"{verdict(median(walls), TARGET_SAMPLE_FULL_S)} (CPU {median(cpus):.2f} s)")
    print(f"TARGET sample analyses: {verdict(median(analyses), TARGET_SAMPLE_ANALYSES_S)}")


def lean_cli_run(path: Path, timeout: float) -> dict:
    """`telco run --no-report --no-tracking --no-figures`: wall, CPU, peak RSS, analyses."""
    with tempfile.TemporaryDirectory(prefix="telco-bench-target-", dir=DATA) as tmp:
        out = Path(tmp) / "run"
        # an empty ingest cache folder: a first run (it parses the CSV and stores the cache)
        env = {**os.environ, "TELCO_CACHE_DIR": str(Path(tmp) / "cache")}
        m = measure([TELCO, "run", str(path), "--no-report", "--no-tracking", "--no-figures",
                     "--quiet", "--out", str(out)], timeout=timeout, cwd=tmp, env=env)
        if not m.ok:
            return {"ok": False, "status": m.status, "peak_gb": m.peak_rss_bytes / GB}
        return {"ok": True, "wall_s": m.wall_s, "cpu_s": m.cpu_s,
                "peak_gb": m.peak_rss_bytes / GB,
                "analyses_s": analyses_seconds(read_manifest(out))}


def targets(sizes: list, repeat: int, data: Path, timeout: float) -> None:
    print(machine_line(), flush=True)
    if SAMPLE in sizes:
        sample_full_run(repeat, data)
    for size in [s for s in sizes if s != SAMPLE]:
        formats = FORMATS if size <= 1_500_000 else ("parquet",)
        for fmt in formats:
            path = extract(size, fmt, data)
            # 15M and beyond: one run (minutes each); medians below that
            n = repeat if size <= 1_500_000 else 1
            if size <= 1_500_000:
                results = [run_product(path, timeout) for _ in range(n)]
                a = median([r["analyses_s"] for r in results])
                cpu = median([r["analyses_cpu_s"] for r in results])
                peak = max(r["peak_gb"] for r in results)
                line = f"analyses {a:.2f} s (CPU {cpu:.2f} s), peak {peak:.2f} GB"
            else:
                r = lean_cli_run(path, timeout)
                if not r["ok"]:
                    print(f"TARGET {label(size)} {fmt}: {r['status']}")
                    continue
                a, peak = r["analyses_s"], r["peak_gb"]
                line = (f"lean `telco run` {r['wall_s']:.2f} s (CPU {r['cpu_s']:.2f} s), "
                        f"analyses {a:.2f} s, peak {peak:.2f} GB")
            goals = []
            if (size, fmt) in TARGET_ANALYSES_S:
                goals.append(f"analyses {verdict(a, TARGET_ANALYSES_S[(size, fmt)])}")
            if size in TARGET_PEAK_GB:
                goals.append(f"peak RSS {verdict(peak, TARGET_PEAK_GB[size], 'GB')}")
            print(f"TARGET {label(size)} {fmt}: {line}; " + "; ".join(goals), flush=True)
    print(f"(the equal-work ratio target, >= {TARGET_RATIO:g}x at 1.5M, is in the default mode's "
          "table)")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--product-once":
        product_once(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="sample,1.5M",
                        type=lambda s: [parse_size(x) for x in s.split(",") if x.strip()],
                        help="comma-separated: sample, 1.5M, 15M, 100M (default sample,1.5M)")
    parser.add_argument("--formats", default="parquet,csv",
                        type=lambda s: [f.strip() for f in s.split(",") if f.strip()])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--targets", action="store_true",
                        help="print the issue's speed targets instead of the equal-work table")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--timeout", type=float, default=3600, help="per process, seconds")
    parser.add_argument("--baseline-threads", default="0",
                        type=lambda s: [int(x) for x in s.split(",") if x.strip()],
                        help="comma-separated --threads of the baseline, each a side of its "
                        "own (0 = the libraries' default, e.g. 0,1); default 0")
    parser.add_argument("--table-from", type=Path, metavar="JSONL",
                        help="only print the table from a results file "
                        "(benchmarks/data/equal_work_results.jsonl)")
    args = parser.parse_args()
    if args.table_from:
        table_from(args.table_from)
        return
    bad = [f for f in args.formats if f not in FORMATS]
    if bad:
        parser.error(f"unknown format(s) {bad}; choose from {list(FORMATS)}")
    if args.targets:
        targets(args.sizes, args.repeat, args.data, args.timeout)
    else:
        equal_work(args.sizes, args.formats, args.repeat, args.data, args.timeout,
                   args.baseline_threads)


if __name__ == "__main__":
    main()
