"""Rows per second of the synthetic extract writer (Parquet, CSV, CSV.gz).

Usage: python benchmarks/generate_speed.py [--rows 2000000] [--repeat 3] [--formats parquet csv]
Prints the median over the repeats (timings on shared machines are noisy).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from telco_analytics.synth import write_extract

SUFFIX = {"parquet": ".parquet", "parquet-uncompressed": ".parquet", "csv": ".csv",
          "csv.gz": ".csv.gz"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["parquet", "parquet-uncompressed", "csv"],
                        choices=list(SUFFIX))
    args = parser.parse_args()
    write_extract(Path(tempfile.gettempdir()) / "warmup.parquet", 1000)  # fits the curves once
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            path = Path(tmp) / f"sample{SUFFIX[fmt]}"
            secs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                codec = {"parquet-uncompressed": "none"}.get(fmt, "zstd")
                write_extract(path, args.rows, seed=0, parquet_compression=codec)
                secs.append(time.perf_counter() - t0)
            med = statistics.median(secs)
            print(f"{fmt:21s} {args.rows:>12,} rows  median {med:6.2f} s  "
                  f"{args.rows / med:>12,.0f} rows/s  ({path.stat().st_size / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
