"""Hotspot tables written by the tests, following the published contract (the analysis that
makes them is built in parallel): `experience_per_cell`, one row per cell, sorted worst first,
and `experience_per_hour`, hours 0-23, with the same measured metrics and counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from telco_analytics.run.catalog import RunCatalog

METRICS = {"rtt_ms": "rtt_sessions", "tcp_retrans_bytes": "tcp_sessions",
           "throughput_kbps": "throughput_sessions"}


def _groups(key: str, values: list, rng: np.random.Generator, intervals: bool) -> pd.DataFrame:
    n = len(values)
    sessions = rng.integers(20, 4000, n)
    frame = pd.DataFrame({key: values, "sessions": sessions,
                          "users": (sessions * rng.uniform(0.5, 0.9, n)).astype("int64")})
    means = {"rtt_ms": rng.gamma(4, 12, n), "tcp_retrans_bytes": rng.gamma(2, 9e5, n),
             "throughput_kbps": rng.gamma(2, 6000, n)}
    badness = np.zeros(n)
    for metric, count in METRICS.items():
        frame[count] = (sessions * rng.uniform(0.3, 1.0, n)).astype("int64")
        frame[metric] = means[metric]
        z = (means[metric] - means[metric].mean()) / means[metric].std()
        badness += -z if metric == "throughput_kbps" else z
    frame["badness"] = badness  # the stability measure: an interval of the ranking's badness
    half = 1.96 * np.sqrt(3 / frame["sessions"])
    frame["badness_low"], frame["badness_high"] = badness - half, badness + half
    if intervals:
        for metric in METRICS:
            spread = 1.96 * frame[metric] / np.sqrt(frame[METRICS[metric]])
            frame[f"{metric}_low"] = np.maximum(frame[metric] - spread, 0)
            frame[f"{metric}_high"] = frame[metric] + spread
    frame = frame.sort_values(["badness_low", key], ascending=[False, True], kind="mergesort")
    frame.insert(len(frame.columns), "rank", np.arange(1, n + 1))
    return frame.reset_index(drop=True)


def write_hotspot_tables(run_dir: Path, cells: int = 60, seed: int = 0,
                         intervals: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write both tables into the run folder (parquet and csv); return (cells, hours)."""
    rng = np.random.default_rng(seed)
    names = [str(rng.integers(10**15, 10**16)) if i % 3 else f"D{rng.integers(10**5, 10**6)}C"
             for i in range(cells)]
    per_cell = _groups("cell", names, rng, intervals)
    per_hour = _groups("hour", list(range(24)), rng, intervals)
    catalog = RunCatalog(run_dir)
    catalog.write_table("experience_per_cell", per_cell)
    catalog.write_table("experience_per_hour", per_hour)
    return per_cell, per_hour
