"""`telco run` on the built-in sample (150k sessions), timed as a user would see it.

Usage: .venv/bin/python benchmarks/sample_run.py [--repeat 3] [--keep]

Two modes, each `--repeat` times, each a fresh `telco` subprocess:
  lean  `telco run --no-report --no-tracking`   (the analyses, figures, tables, database)
  full  `telco run` (figures, MLflow tracking into a throw-away SQLite store, report); when
        `telco run` leaves no report.html / slides.pptx, `telco report DIR` is run and timed
        too and counted in the full run's wall time.
Prints the median seconds per step (DIR/manifest.json "seconds_per_step"), the sum of the
analysis nodes (read .. satisfaction, from the first start to the last end), the wall time of the process(es) and the peak RSS,
against issue 19's targets (analyses <= 3 s, full run <= 12 s).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    GB,
    TELCO,
    analyses_seconds,
    analysis_nodes,
    machine_line,
    markdown_table,
    measure,
    median,
    read_manifest,
    short,
)

GOAL_ANALYSES_S = 3.0
GOAL_FULL_S = 12.0


def ensure_sample() -> None:
    """Generate the cached built-in sample once, outside the timings."""
    subprocess.run([sys.executable, "-c",
                    "from telco_analytics.sample import sample_path; sample_path()"], check=True)


def one_run(mode: str, work: Path, i: int) -> dict:
    out = work / f"{mode}-{i}"
    cmd = [TELCO, "run", "--out", str(out), "--quiet"]
    if mode == "lean":
        cmd += ["--no-report", "--no-tracking"]
    else:
        cmd += ["--tracking-uri", f"sqlite:///{work / 'mlflow.db'}"]
    m = measure(cmd, cwd=work, timeout=900)
    if not m.ok:
        raise SystemExit(f"{mode} run {i} {m.status}\n{m.stderr[-2000:]}")
    manifest = read_manifest(out)
    steps = dict(manifest["seconds_per_step"])
    analyses = analyses_seconds(manifest)
    code = manifest.get("code", {})
    code = (code.get("commit") or "unknown")[:8] + ("+dirty" if code.get("dirty") else "")
    wall, peak, load = m.wall_s, m.peak_rss_bytes, m.load_before
    report_s = None
    if mode == "full" and not ((out / "report.html").exists() and (out / "slides.pptx").exists()):
        r = measure([TELCO, "report", str(out)], cwd=work, timeout=600)
        if not r.ok:
            raise SystemExit(f"telco report {r.status}\n{r.stderr[-2000:]}")
        report_s = r.wall_s
        steps["report (telco report)"] = round(r.wall_s, 3)
        wall += r.wall_s
        peak = max(peak, r.peak_rss_bytes)
    shutil.rmtree(out, ignore_errors=True)
    return {"steps": steps, "wall": wall, "peak": peak, "load": load, "report_s": report_s,
            "code": code, "analyses": analyses}


def summarize(mode: str, runs: list[dict]) -> dict:
    names = list(dict.fromkeys(n for r in runs for n in r["steps"]))
    med = {n: median([r["steps"].get(n) for r in runs]) for n in names}
    analyses = median([r["analyses"] for r in runs])
    analysis = set(analysis_nodes())
    wall = median([r["wall"] for r in runs])
    peak = max(r["peak"] for r in runs)
    print(f"\n## {mode}: median of {len(runs)} runs")
    for n in names:
        mark = "  (analysis)" if n in analysis else ""
        print(f"  {n:24s} {med[n]:7.2f} s{mark}")
    print(f"  {'analyses (read..satisfaction)':30s} {analyses:7.2f} s   goal <= {GOAL_ANALYSES_S} s"
          f"  {'OK' if analyses <= GOAL_ANALYSES_S else 'MISSED'}")
    goal = f"   goal <= {GOAL_FULL_S} s  {'OK' if wall <= GOAL_FULL_S else 'MISSED'}" \
        if mode == "full" else ""
    print(f"  {'wall time (process start..exit)':30s} {wall:7.2f} s{goal}")
    print(f"  {'peak RSS':30s} {peak / GB:7.2f} GB")
    print("  walls: " + ", ".join(f"{r['wall']:.2f}" for r in runs)
          + "; load avg (1 min) at start: " + ", ".join(f"{r['load'][0]:.2f}" for r in runs)
          + "; code: " + ", ".join(sorted({r["code"] for r in runs})))
    return {"mode": mode, "analyses": analyses, "wall": wall, "peak": peak, "steps": med}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=["lean", "full"], choices=["lean", "full"])
    args = parser.parse_args()
    print(machine_line())
    ensure_sample()
    with tempfile.TemporaryDirectory(prefix="telco-bench-sample-") as tmp:
        work = Path(tmp)
        results = {mode: [] for mode in args.modes}
        # interleave the modes so a burst of load from other users hits both alike
        for i in range(args.repeat):
            for mode in args.modes:
                results[mode].append(one_run(mode, work, i))
                print(f"  {mode} run {i + 1}/{args.repeat}: {results[mode][-1]['wall']:.2f} s",
                      flush=True)
        summaries = [summarize(mode, results[mode]) for mode in args.modes]
    # one table over the union of the step columns
    names = list(dict.fromkeys(n for s in summaries for n in s["steps"]))
    header = ["mode", "analyses s", "wall s", "peak RSS GB", *[short(n) for n in names]]
    table = [[s["mode"], s["analyses"], s["wall"], s["peak"] / GB,
              *[s["steps"].get(n, "-") for n in names]] for s in summaries]
    print(f"\nsample run (150k sessions), median of {args.repeat}:\n")
    print(markdown_table(header, table))
    print("\n" + machine_line())


if __name__ == "__main__":
    main()
