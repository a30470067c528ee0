"""The figures and report steps of a run, timed on a finished run folder (default: the built-in
sample's run made by scripts/run-sample.sh).

Usage: PYTHONPATH=src .venv/bin/python benchmarks/report_speed.py RUN_DIR [--repeat 5]

Each repeat copies the run folder's tables, manifest and findings into a fresh folder, then
times, in this process as `telco run` does: the figures node (run.output_steps.figures: the
PNGs), report.html alone, slides.pptx alone. Prints the median and range of each, and of
figures + report.html + slides.pptx (the two output nodes). The first repeat includes imports
and vl-convert's start-up, as a run does; medians are over all repeats.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def once(run_dir: Path, work: Path) -> dict[str, float]:
    from telco_analytics.report.build import build_report
    from telco_analytics.run.catalog import RunCatalog
    from telco_analytics.run.output_steps import figures

    out = work / "run"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name in ("tables", "tracking"):
        if (run_dir / name).is_dir():
            shutil.copytree(run_dir / name, out / name)
    for name in ("manifest.json", "db_select.txt"):
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, out / name)
    catalog = RunCatalog(out)
    tables = {n: catalog.read_table(n) for n in catalog.table_names()}
    times = {}
    t0 = time.perf_counter()
    figures(catalog, tables)
    times["figures"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_report(out, html=True, slides=False)
    times["report.html"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_report(out, html=False, slides=True)
    times["slides.pptx"] = time.perf_counter() - t0
    times["figures + report"] = sum(times.values())
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            runs.append(once(args.run_dir, Path(tmp)))
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:<18} median {statistics.median(values):6.2f} s   "
              f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
