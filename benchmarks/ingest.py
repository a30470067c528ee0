"""Read and validate a CSV extract: text read vs typed read, and the ingest cache's first and
second run. Wall and CPU seconds of the `read and validate` step alone (no imports, no engine
start), each in a fresh process, the variants interleaved (this machine is shared and noisy).

Usage: .venv/bin/python benchmarks/ingest.py [--rows 1500000] [--csv PATH] [--repeat 3]
                                             [--baseline-src OLD/src]

  text         every column read as text, checked, cast (the reader before typed parsing;
               with --baseline-src, that source tree's own read_and_validate instead)
  typed        typed parsing, no cache (`telco run --no-cache`)
  cache miss   typed parsing and writing the cache entry (a first run)
  cache hit    the second run on the same extract: read from the cache, no parsing

Measured (1.5M sessions, 551 MB CSV, 2 cores shared with other work at load average 15-20,
so walls are inflated 4-5x over CPU; median of 3, interleaved, text = the reader before the
typed read, run from its own checkout): text 163 s wall / 37.7 CPU-s; typed 51 s / 10.5;
cache miss (typed + writing the entry) 62 s / 12.2; cache hit 14 s / 2.9. At load 5-9
(median of 2): text 62 s / 32.6, typed 20 s / 8.9, miss 12.7 s / 11.5, hit 3.7 s / 2.8.
The typed and text reads give the same sessions (EXCEPT ALL both ways: 0 rows) here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, TELCO

CHILD = """
import json, os, sys, time, tempfile, shutil
sys.path.insert(0, {src!r})
from telco_analytics import engine
from telco_analytics.run import execution, session_steps
mode, csv = {mode!r}, {csv!r}
workdir = tempfile.mkdtemp(prefix="telco-bench-ingest-")
con = engine.connect("duckdb", workdir=workdir,
                     cores=execution.CoreBudget.for_process(None).workers)
t0, c0 = time.perf_counter(), time.process_time()
if mode == "baseline":
    session_steps.read_and_validate(con, csv)
    ingest = {{}}
elif mode == "text":
    from telco_analytics.io.reader import read_sessions
    ingest = read_sessions(con, csv, typed_csv=False).ingest
else:
    from telco_analytics.config import ExecutionSettings
    settings = ExecutionSettings(ingest_cache=mode != "typed")
    ingest = session_steps.read_and_validate(con, csv, settings)[1]["input"].get("ingest", {{}})
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
con.disconnect()
shutil.rmtree(workdir, ignore_errors=True)
print(json.dumps({{"wall": wall, "cpu": cpu, "ingest": ingest}}))
"""


def _once(src: str, mode: str, csv: Path, cache: Path) -> dict:
    env = {**os.environ, "TELCO_CACHE_DIR": str(cache), "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", CHILD.format(src=src, mode=mode, csv=str(csv))],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--csv", type=Path, help="an existing extract (else generated)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", help="the src/ folder of an older checkout")
    args = parser.parse_args()
    src = str(ROOT / "src")
    with tempfile.TemporaryDirectory(prefix="telco-bench-ingest-") as tmp:
        csv = args.csv
        if csv is None:
            csv = Path(tmp) / f"xdr_{args.rows}.csv"
            subprocess.run([TELCO, "generate", "--rows", str(args.rows), "--out", str(csv),
                            "--quiet"], check=True)
        variants = [("text", "baseline" if args.baseline_src else "text",
                     args.baseline_src or src),
                    ("typed", "typed", src), ("cache miss", "cache", src),
                    ("cache hit", "cache", src)]
        results: dict[str, list[dict]] = {name: [] for name, _, _ in variants}
        print(f"{csv.name}: {csv.stat().st_size / 1e6:.0f} MB, load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        for i in range(args.repeat):
            cache = Path(tmp) / f"cache{i}"  # empty for the miss, then hit
            for name, mode, tree in variants:
                got = _once(tree, mode, csv, cache)
                results[name].append(got)
                print(f"  run {i + 1} {name:<10} wall {got['wall']:6.2f} s  cpu "
                      f"{got['cpu']:6.2f} s  {json.dumps(got['ingest'])}", flush=True)
        print(f"\nmedian of {args.repeat} (load average now {os.getloadavg()[0]:.1f}):")
        base = statistics.median(r["cpu"] for r in results["text"])
        for name, runs in results.items():
            wall = statistics.median(r["wall"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs)
            print(f"  {name:<10} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
                  f"({base / cpu:4.1f}x less CPU than text)")


if __name__ == "__main__":
    main()
