"""Test data built in code: raw xDR rows in the reference format, independent of the generator;
and the small generated run the report, deck and dashboard tests look at."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from telco_analytics import schema

RAW_NAMES = [c.raw for c in schema.COLUMNS]  # second duration named "Dur. (ms).1"


def random_raw_sessions(n: int = 400, users: int = 120, seed: int = 0,
                        null_rate: float = 0.1) -> pd.DataFrame:
    """Random sessions with raw column names: nulls, outliers, unknown handsets, no-MSISDN rows."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({name: rng.gamma(2.0, 1000.0, n).round() for name in RAW_NAMES})
    msisdn = (33600000000 + rng.integers(0, users, n)).astype(str).astype(object)
    msisdn[rng.random(n) < 0.03] = None
    df["MSISDN/Number"] = msisdn
    df["IMSI"] = (208200000000000 + rng.integers(0, users, n)).astype(str)
    df["IMEI"] = (35000000000000 + rng.integers(0, users, n)).astype(str)
    df["Bearer Id"] = [f"{v:.14E}".replace("E+", "E+0") for v in rng.uniform(7e18, 1.3e19, n)]
    start = pd.Timestamp("2019-04-04 12:00") + pd.to_timedelta(rng.integers(0, 20 * 1440, n), "min")
    dur_ms = rng.integers(7_000_000, 200_000_000, n)
    df["Start"] = start
    df["End"] = start + pd.to_timedelta(dur_ms // 60000, "min")
    df["Dur. (ms).1"] = dur_ms.astype(float)
    df["Dur. (ms)"] = (dur_ms // 1000).astype(float)
    makers = np.array(["Apple", "Samsung", "Huawei", "undefined", None], dtype=object)
    maker = makers[rng.integers(0, len(makers), n)]
    df["Handset Manufacturer"] = maker
    df["Handset Type"] = [None if m is None else ("undefined" if m == "undefined"
                          else f"{m} Model {rng.integers(0, 4)}") for m in maker]
    df["Last Location Name"] = [f"D{i}A" for i in rng.integers(10000, 99999, n)]
    # heavy tails and missing values in the measurement columns
    for name in [c.raw for c in schema.COLUMNS if c.kind == "measurement"]:
        col = np.array(df[name], dtype=float)
        col[rng.random(n) < 0.02] *= 1000
        col[rng.random(n) < null_rate] = np.nan
        df[name] = col
    return df


def write_raw_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write with the reference header (two `Dur. (ms)`), M/D/YYYY H:MM dates, empty nulls."""
    path = Path(path)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(schema.RAW_HEADER)
        for row in df[RAW_NAMES].itertuples(index=False):
            w.writerow([_fmt(v) for v in row])
    return path


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        return f"{v.month}/{v.day}/{v.year} {v.hour}:{v.minute:02d}"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def pandas_clean(sessions: pd.DataFrame, columns: list[str], factor: float = 1.5) -> pd.DataFrame:
    """SPEC rule 3 written plainly with numpy, for cross-checks."""
    out = sessions.copy()
    for c in columns:
        values = out[c].dropna().to_numpy()
        if len(values) == 0:
            continue
        q1, q3 = np.quantile(values, [0.25, 0.75])
        lo, hi = q1 - factor * (q3 - q1), q3 + factor * (q3 - q1)
        repl = values[(values >= lo) & (values <= hi)].mean()
        keep = out[c].between(lo, hi)
        out[c] = out[c].where(keep, repl)
    return out


def generated_run(base: Path, **options) -> Path:
    """The real pipeline on 3,000 generated sessions (seed 0) into base/run, with
    RunOptions(**options); the run folder."""
    from telco_analytics.run.runner import RunOptions, run
    from telco_analytics.synth import write_extract

    extract = write_extract(base / "extract.csv", rows=3000, seed=0)
    out = base / "run"
    run(str(extract), out, options=RunOptions(**options))
    return out
