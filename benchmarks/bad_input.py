"""Seconds from starting `telco run` to its one-line error, for each kind of bad input.

Usage: .venv/bin/python benchmarks/bad_input.py [--repeat 5]

Each case is a fresh `telco run` subprocess on a small bad file (the same cases as
tests/integration/test_cli_errors.py); prints the median and the fastest of --repeat runs
against the goal (2 s on the development machine) and the load average, since a loaded machine
inflates process start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import TELCO, measure
from tests.integration.test_cli_errors import _bad_inputs

GOAL_S = 2.0
REAL_ROWS = Path(__file__).resolve().parents[1] / "tests" / "data" / "tellco_real_rows.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="telco-bench-bad-") as tmp:
        cases = _bad_inputs(Path(tmp), REAL_ROWS)
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        for case, (path, _) in cases.items():
            seconds = []
            for i in range(args.repeat):
                t0 = time.perf_counter()
                m = measure([TELCO, "run", str(path), "--out", str(Path(tmp) / f"o{i}"),
                             "--quiet"], cwd=tmp, timeout=120)
                seconds.append(time.perf_counter() - t0)
                if m.returncode != 2:
                    raise SystemExit(f"{case}: expected exit 2, got {m.returncode}: {m.stderr}")
            median = statistics.median(seconds)
            print(f"  {case:32s} median {median:5.2f} s  fastest {min(seconds):5.2f} s  "
                  f"goal <= {GOAL_S:g} s {'OK' if median <= GOAL_S else 'MISSED'}")


if __name__ == "__main__":
    main()
