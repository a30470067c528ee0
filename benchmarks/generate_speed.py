"""Rows per second of the synthetic extract writer (Parquet, CSV, CSV.gz).

Usage: python benchmarks/generate_speed.py [--rows 2000000] [--repeat 3] [--formats parquet csv]
                                          [--threads N] [--structure planted|none]
Prints, per format, the median over the repeats (timings on shared machines are noisy), the
CPU seconds per million rows (user + system, less sensitive to other work than the wall time;
system time and page faults separately), the bytes per row, and the load average before and
after (other work on the machine slows every figure).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from telco_analytics.synth import write_extract
from telco_analytics.synth.writer import CHUNK_ROWS, PARQUET_COMPRESSION

SUFFIX = {"parquet": ".parquet", "parquet-uncompressed": ".parquet", "csv": ".csv",
          "csv.gz": ".csv.gz"}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS)
    parser.add_argument("--threads", type=int, default=None, help="default: one per core")
    parser.add_argument("--structure", default="planted", choices=["planted", "none"],
                        help="none: every column independent (the generator before issue 16)")
    parser.add_argument("--formats", nargs="+", default=["parquet", "parquet-uncompressed", "csv"],
                        choices=list(SUFFIX))
    args = parser.parse_args()
    write_extract(Path(tempfile.gettempdir()) / "warmup.parquet", 1000)  # fits the curves once
    print(f"{os.cpu_count()} cores, load average {_load()} (1, 5, 15 min)")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            path = Path(tmp) / f"sample{SUFFIX[fmt]}"
            secs, cpus, syss, faults = [], [], [], []
            for _ in range(args.repeat):
                t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
                codec = {"parquet-uncompressed": "none"}.get(fmt, PARQUET_COMPRESSION)
                write_extract(path, args.rows, seed=0, chunk_rows=args.chunk_rows,
                              parquet_compression=codec, threads=args.threads,
                              structure=args.structure)
                secs.append(time.perf_counter() - t0)
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                syss.append(r1.ru_stime - r0.ru_stime)
                cpus.append(r1.ru_utime - r0.ru_utime + syss[-1])
                faults.append(r1.ru_minflt - r0.ru_minflt)
            med = statistics.median(secs)
            size = path.stat().st_size
            print(f"{fmt:21s} {args.structure:8s} {args.rows:>12,} rows  median {med:6.2f} s  "
                  f"{args.rows / med:>12,.0f} rows/s  CPU {statistics.median(cpus) * 1e6 / args.rows:5.2f}"
                  f" s per 1M rows (sys {statistics.median(syss) * 1e6 / args.rows:4.2f}, "
                  f"{statistics.median(faults) * 1e6 / args.rows:,.0f} faults)  {size / 1e6:,.0f} MB ({size / args.rows:.0f} B/row)  "
                  f"runs {' '.join(f'{s:.2f}' for s in secs)} s", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load average {_load()}; peak RSS of this process {peak:,.0f} MB")


if __name__ == "__main__":
    main()
