"""Published vs generated: every figure of the reference extract next to the synthetic one.

Usage: python scripts/calibrate.py [--rows 150000] [--seed 1] [--input FILE]

Generates the built-in sample (or reads FILE: .csv, .csv.gz or .parquet in the raw layout) and
prints, per column, the published null share, mean, median, std and (for ids, categories and
the ms fields) distinct count next to the generated ones; then handset and manufacturer
counts, users and sessions per user, the 24-hour duration spike, time ranges and the exact
identities. Exits 1 if any graded figure misses by more than the tolerance:

  |generated - published| <= max(5% of |published|, absolute floor)

The absolute floor keeps figures that are 0 or tiny from failing on noise: 0.5 for value
statistics (the columns hold integers: half a unit), 0.05 percentage points for null shares.
Counts (nulls, distinct values, handset xDRs, users) are compared as shares of the rows, so
any --rows can be checked; the 5% promise is made at 150,000 rows. Time ranges are graded
within 5% of the published range's span. Distinct Start/End minutes are shown ungraded: they
depend on the intraday profile of session ends, which is not published.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from telco_analytics import schema
from telco_analytics.synth import generate_frame
from telco_analytics.synth.profile import REFERENCE_ROWS, column_facts, profile

VALUE_FLOOR = 0.5
SHARE_FLOOR = 0.0005
TOLERANCE = 0.05
RAW = {c.name: c.raw for c in schema.COLUMNS}
NUMERIC = [c.raw for c in schema.COLUMNS if c.dtype == "float64"]
DISTINCT = [RAW[n] for n in (*schema.ID_COLUMNS, "last_location_name", *schema.HANDSET_COLUMNS,
                             "start_ms", "end_ms")]
REF_ALL = REFERENCE_ROWS + 1  # the published frame includes the artifact row


@dataclass
class Figure:
    what: str
    published: float
    generated: float
    floor: float | None  # None: shown, not graded

    @property
    def score(self) -> float:
        """Miss as a multiple of the allowed miss (<= 1 passes)."""
        if self.floor is None:
            return 0.0
        allowed = max(TOLERANCE * abs(self.published), self.floor)
        return abs(self.generated - self.published) / allowed

    @property
    def relative(self) -> float:
        return (self.generated - self.published) / self.published if self.published else np.nan


def read_extract(path: Path) -> pd.DataFrame:
    """A raw extract as pandas, ids and text as strings, Start/End as timestamps."""
    if path.name.lower().endswith(".parquet"):
        return pd.read_parquet(path)
    text = [c.raw for c in schema.COLUMNS if c.dtype != "float64"]
    df = pd.read_csv(path, dtype={name: str for name in text}, keep_default_na=False,
                     na_values=[""])
    for name in ("Start", "End"):
        df[name] = pd.to_datetime(df[name], format="%m/%d/%Y %H:%M")
    return df


def column_figures(df: pd.DataFrame) -> list[Figure]:
    """Null shares, mean/median/std and distinct counts, column by column."""
    rows = len(df)
    out = []
    for col in schema.COLUMNS:
        facts = column_facts(col.raw)
        series = df[col.raw]
        out.append(Figure(f"{col.raw}: null share", facts["missing_count"] / REF_ALL,
                          series.isna().sum() / rows, SHARE_FLOOR))
        if col.raw in NUMERIC and col.kind in ("measurement", "subsecond"):
            values = series.dropna().to_numpy(dtype=float)
            for stat, fn in (("mean", np.mean), ("p50", np.median), ("std", np.std)):
                out.append(Figure(f"{col.raw}: {stat.replace('p50', 'median')}", facts[stat],
                                  float(fn(values)) if len(values) else np.nan, VALUE_FLOOR))
        if col.raw in DISTINCT:
            # distinct values grow less than linearly with rows: graded at the reference size
            at_reference = rows == REF_ALL or col.raw in ("Start ms", "End ms")
            out.append(Figure(f"{col.raw}: distinct", facts["nunique"], series.nunique(),
                              VALUE_FLOOR if at_reference else None))
    for name in ("Start", "End"):
        out.append(Figure(f"{name}: distinct minutes (not graded)", column_facts(name)["nunique"],
                          df[name].nunique(), None))
    return out


def handset_figures(df: pd.DataFrame) -> list[Figure]:
    """Top handsets and manufacturers, as xDR shares (published counts / 150,000)."""
    p, rows = profile(), len(df) - 1
    out = []
    types = df["Handset Type"].value_counts()
    makers = df["Handset Manufacturer"].value_counts()
    for name, count in p["handset_type_top"]:
        out.append(Figure(f"handset {name}: xDR share", count / REFERENCE_ROWS,
                          types.get(name, 0) / rows, SHARE_FLOOR))
    for name, count in p["handset_manufacturer_top"]:
        out.append(Figure(f"manufacturer {name}: xDR share", count / REFERENCE_ROWS,
                          makers.get(name, 0) / rows, SHARE_FLOOR))
    return out


def user_figures(df: pd.DataFrame) -> list[Figure]:
    """Users, sessions per user, the 24-hour spike, time ranges."""
    rows = len(df) - 1
    real = df.iloc[:-1]
    per_user = real["MSISDN/Number"].dropna().value_counts()
    dur = real["Dur. (ms)"]
    spike = int(dur.isin([86399, 86400]).sum())
    out = [
        Figure("users (distinct MSISDN) per xDR", 106_856 / REFERENCE_ROWS, len(per_user) / rows,
               SHARE_FLOOR),
        Figure("sessions per user: mean", 148_935 / 106_856, float(per_user.mean()), 0.005),
        Figure("sessions per user: max", 18, float(per_user.max()), 1.0),
        Figure("24-hour spike (86399/86400 s) share", 27_850 / REFERENCE_ROWS, spike / rows,
               SHARE_FLOOR),
    ]
    day = 86_400.0
    ranges = {"Start": ("2019-04-04 12:01", "2019-04-29 07:28"),
              "End": ("2019-04-24 22:59", "2019-04-30 23:59")}
    for name, (lo, hi) in ranges.items():
        lo_t, hi_t = pd.Timestamp(lo), pd.Timestamp(hi)
        span_days = (hi_t - lo_t).total_seconds() / day
        for label, pub, gen in (("min", lo_t, real[name].min()), ("max", hi_t, real[name].max())):
            out.append(Figure(f"{name} {label} (days after {lo})",
                              (pub - lo_t).total_seconds() / day,
                              (gen - lo_t).total_seconds() / day, TOLERANCE * span_days))
    return out


def identity_failures(df: pd.DataFrame) -> list[str]:
    """The exact identities of the reference extract, checked on every real row."""
    real = df.iloc[:-1]
    apps = {a: schema.app_columns(a) for a in schema.APPS}
    dl = sum(real[RAW[apps[a][0]]] for a in schema.APPS if a != "other")
    ul = sum(real[RAW[apps[a][1]]] for a in schema.APPS)
    checks = {
        "Total DL = 6 app DL (no Other)": (dl == real["Total DL (Bytes)"]).all(),
        "Total UL = 7 app UL": (ul == real["Total UL (Bytes)"]).all(),
        "Dur (s) = floor(Dur (ms) / 1000)":
            (np.floor(real["Dur. (ms).1"] / 1000) == real["Dur. (ms)"]).all(),
        "Dur (ms) mod 1000 = (End ms - Start ms) mod 1000":
            (real["Dur. (ms).1"] % 1000 == (real["End ms"] - real["Start ms"]) % 1000).all(),
        "artifact row: only the 14 app columns filled":
            df.iloc[-1].notna().sum() == len(schema.APP_COLUMNS),
    }
    return [name for name, ok in checks.items() if not ok]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=REFERENCE_ROWS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--input", type=Path, default=None)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    df = read_extract(args.input) if args.input else generate_frame(args.rows, args.seed)
    source = args.input or f"generated: {args.rows:,} rows, seed {args.seed}"
    figures = column_figures(df) + handset_figures(df) + user_figures(df)
    print(f"calibration of {source} ({len(df):,} lines incl. the artifact row)\n")
    print(f"{'figure':62s} {'published':>16s} {'generated':>16s} {'miss':>8s}  status")
    for f in figures:
        status = "-" if f.floor is None else ("ok" if f.score <= 1 else "MISS")
        print(f"{f.what[:62]:62s} {f.published:16.6g} {f.generated:16.6g} "
              f"{f.relative:+8.2%}  {status}")
    graded = [f for f in figures if f.floor is not None]
    failures = [f for f in graded if not f.score <= 1]
    broken = identity_failures(df)
    print("\nidentities:", "all hold" if not broken else "BROKEN: " + "; ".join(broken))
    print("\nworst five figures (miss / allowed miss):")
    for f in sorted(graded, key=lambda f: -f.score if np.isfinite(f.score) else -np.inf)[:5]:
        print(f"  {f.what:62s} {f.relative:+8.2%}  ({f.score:.2f} of allowed)")
    print(f"\n{len(graded) - len(failures)}/{len(graded)} graded figures within tolerance; "
          f"{time.perf_counter() - t0:.1f} s")
    return 1 if failures or broken else 0


if __name__ == "__main__":
    sys.exit(main())
