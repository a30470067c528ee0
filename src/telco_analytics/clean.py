"""Missing values and outliers (SPEC rule 3), with the cleaning report.

For each session-level measurement column, on its non-missing values: fences are
Q1 - f*IQR and Q3 + f*IQR (linear-interpolated quartiles, f = 1.5 by default); the replacement
is the mean of the non-missing values inside the fences (inclusive); missing values and values
outside the fences are replaced by it. Ids, timestamps, the ms sub-second fields and the
handset are never imputed. The artifact row (no timestamps, no ids) is dropped first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pandas as pd

from . import schema
from .aggregate import metric_value
from .errors import SchemaError

# values held at once by the quartile queries and fetches (8 bytes each: 0.8 GB; the numpy
# path holds about three copies of a batch while it works)
MAX_QUANTILE_VALUES = 100_000_000

# up to this many artifact rows, their values are subtracted in numpy (one column read per
# fetch); beyond it the engine filters them out (see profile_sessions_local)
MAX_SUBTRACTED_ARTIFACTS = 16

REPORT_COLUMNS = [
    "column", "missing", "outliers", "q1", "q3", "lower_fence", "upper_fence", "replacement",
    "replaced",
]


def is_artifact(sessions: ibis.Table) -> ibis.Value:
    """The extract's trailing artifact row: no timestamps and no identifiers at all."""
    cols = [*schema.TIMESTAMP_COLUMNS, *schema.ID_COLUMNS]
    pred = sessions[cols[0]].isnull()
    for c in cols[1:]:
        pred = pred & sessions[c].isnull()
    return pred


def real_sessions(sessions: ibis.Table) -> ibis.Table:
    """All sessions except the artifact row(s) (sessions without an MSISDN are kept)."""
    return sessions.filter(~is_artifact(sessions))


def _count_aggregates(sessions: ibis.Table, artifact: ibis.Value,
                      columns: list[str] = schema.NAMES) -> dict:
    """Rows, artifact rows, real sessions without MSISDN, missing values per column over all
    rows (a_i) and over real sessions (r_i)."""
    aggs = {"rows": sessions.count(), "artifact": artifact.sum(),
            "no_msisdn": (sessions.msisdn.isnull() & ~artifact).sum()}
    for i, c in enumerate(columns):
        missing = sessions[c].isnull()
        aggs[f"a_{i}"] = missing.sum()
        aggs[f"r_{i}"] = (missing & ~artifact).sum()
    return aggs


def _counts_from(row: dict, columns: list[str] = schema.NAMES) -> dict:
    """The counts dict (rows, artifact, no_msisdn, all, real) from _count_aggregates' row."""
    return {
        "rows": int(row["rows"]),
        "artifact": int(row["artifact"] or 0),
        "no_msisdn": int(row["no_msisdn"] or 0),
        "all": {c: int(row[f"a_{i}"] or 0) for i, c in enumerate(columns)},
        "real": {c: int(row[f"r_{i}"] or 0) for i, c in enumerate(columns)},
    }


def cleaning_report(
    sessions: ibis.Table, columns: list[str] | None = None, iqr_factor: float = 1.5,
) -> pd.DataFrame:
    """Fences and replacement per column, computed on real sessions."""
    return profile_sessions(sessions, columns, iqr_factor)[1]


def profile_sessions(
    sessions: ibis.Table, columns: list[str] | None = None, iqr_factor: float = 1.5,
) -> tuple[dict, pd.DataFrame]:
    """Counts and the cleaning report, in as few scans as possible. The counts: rows, artifact
    rows, real sessions without MSISDN, and per column the missing values over all rows (`all`)
    and over real sessions (`real`, what cleaning replaces). Scans:
    the counts ride along with the first quartile query, then one scan for the replacements."""
    columns = columns or schema.MEASUREMENT_COLUMNS
    real = real_sessions(sessions)
    artifact = is_artifact(sessions)
    rows_total = int(sessions.count().to_pyarrow().as_py())  # metadata only for Parquet
    # exact quartiles hold every value of a column in memory: a few columns per query
    per_query = max(1, int(MAX_QUANTILE_VALUES // max(rows_total, 1)))
    quart: dict = {}
    for start in range(0, len(columns), per_query):
        batch = list(enumerate(columns))[start:start + per_query]
        aggs = {f"q_{i}": sessions[c].quantile([0.25, 0.75], where=~artifact) for i, c in batch}
        if start == 0:
            aggs.update(_count_aggregates(sessions, artifact))
        quart.update(sessions.aggregate(**aggs).to_pyarrow().to_pylist()[0])
    counts = _counts_from(quart)
    quart["n"] = counts["rows"] - counts["artifact"]
    quart.update({f"m_{i}": counts["real"][c] for i, c in enumerate(columns)})
    rows = []
    for i, c in enumerate(columns):
        q = quart[f"q_{i}"] or [None, None]
        q1, q3 = (None, None) if q[0] is None else (float(q[0]), float(q[1]))
        lo = hi = None
        if q1 is not None:
            iqr = q3 - q1
            lo, hi = q1 - iqr_factor * iqr, q3 + iqr_factor * iqr
        rows.append({"column": c, "missing": int(quart[f"m_{i}"] or 0), "q1": q1, "q3": q3,
                     "lower_fence": lo, "upper_fence": hi})
    aggs = {}
    for i, r in enumerate(rows):
        col = real[r["column"]]
        if r["lower_fence"] is None:
            continue
        # CASE rather than FILTER: DuckDB evaluates it about twice as fast
        kept = ibis.ifelse(col.between(r["lower_fence"], r["upper_fence"]), col, ibis.null())
        aggs[f"r_{i}"] = kept.mean()
        aggs[f"k_{i}"] = kept.count()
    stats = real.aggregate(**aggs).to_pyarrow().to_pylist()[0] if aggs else {}
    for i, r in enumerate(rows):
        r["replacement"] = stats.get(f"r_{i}")
        present = int(quart["n"]) - r["missing"]
        r["outliers"] = present - int(stats.get(f"k_{i}") or 0) if f"k_{i}" in stats else 0
        r["replaced"] = r["missing"] + r["outliers"] if r["replacement"] is not None else 0
    return counts, pd.DataFrame(rows, columns=REPORT_COLUMNS)


def column_stats(values: np.ndarray, iqr_factor: float = 1.5) -> dict:
    """Rule 3 for one column of real sessions (NaN = missing), in numpy: missing, quartiles
    (linear interpolation, as quantile_cont), fences, replacement (mean inside the fences,
    inclusive) and outliers (present values outside the fences)."""
    present = values[~np.isnan(values)]
    out = {"missing": int(len(values) - len(present)), "q1": None, "q3": None,
           "lower_fence": None, "upper_fence": None, "replacement": None, "outliers": 0}
    if len(present) == 0:
        return out
    q1, q3 = (float(q) for q in np.quantile(present, [0.25, 0.75]))
    lo, hi = q1 - iqr_factor * (q3 - q1), q3 + iqr_factor * (q3 - q1)
    inside = (present >= lo) & (present <= hi)
    out.update(q1=q1, q3=q3, lower_fence=lo, upper_fence=hi,
               replacement=float(present[inside].mean()), outliers=int((~inside).sum()))
    return out


def profile_sessions_local(
    sessions: ibis.Table, columns: list[str] | None = None, iqr_factor: float = 1.5,
    column_map: Callable[[Callable[[str], Any], list[str]], list[Any]] | None = None,
) -> tuple[dict, pd.DataFrame]:
    """The same as profile_sessions, with the statistics computed in numpy on columns fetched
    a few at a time: one read of each measurement column instead of three engine passes
    (exact quartiles are the engine's slowest aggregate). For a local engine only: Spark
    keeps profile_sessions, which never brings sessions to the driver.

    column_map(func, columns) -> [func(c) for c in columns]: the runner passes a map that
    spreads the columns of a fetch over the cores (numpy's partition releases the GIL)."""
    column_map = column_map or (lambda func, items: [func(item) for item in items])
    columns = columns or schema.MEASUREMENT_COLUMNS
    artifact = is_artifact(sessions)
    others = [c for c in schema.NAMES if c not in columns]
    row = sessions.aggregate(**_count_aggregates(sessions, artifact, others))
    counts = _counts_from(row.to_pyarrow().to_pylist()[0], others)
    # the artifact rows are few: their missing values complete the all-rows counts
    artifact_rows = sessions.filter(artifact).select(*columns).to_pyarrow()
    # The artifact rows are few: the columns are fetched whole and the artifact rows' values
    # taken out again in numpy. Filtering in the engine instead reads the six id and time
    # columns of the artifact test with every fetch (at 100M sessions, one column a fetch:
    # seven columns read for one).
    subtract = artifact_rows.num_rows <= MAX_SUBTRACTED_ARTIFACTS
    source = sessions if subtract else real_sessions(sessions)
    per_fetch = max(1, int(MAX_QUANTILE_VALUES // max(counts["rows"], 1)))

    def stats_of(fetched, c: str) -> dict:
        values = _floats(fetched, c)
        if subtract and artifact_rows.num_rows:
            values = without_values(values, _floats(artifact_rows, c))
        return column_stats(values, iqr_factor)

    rows = []
    for start in range(0, len(columns), per_fetch):
        batch = columns[start:start + per_fetch]
        fetched = source.select(*batch).to_pyarrow()
        batch_stats = column_map(lambda c, fetched=fetched: stats_of(fetched, c), batch)
        for c, stats in zip(batch, batch_stats, strict=True):
            counts["real"][c] = stats["missing"]
            counts["all"][c] = stats["missing"] + artifact_rows.column(c).null_count
            rows.append({"column": c, **stats})
        del fetched
    for r in rows:
        r["replaced"] = r["missing"] + r["outliers"] if r["replacement"] is not None else 0
    counts["all"] = {c: counts["all"][c] for c in schema.NAMES}
    counts["real"] = {c: counts["real"][c] for c in schema.NAMES}
    return counts, pd.DataFrame(rows, columns=REPORT_COLUMNS)


def _floats(table, column: str) -> np.ndarray:
    """An Arrow table's column as float64 (NaN for missing)."""
    return table.column(column).to_numpy(zero_copy_only=False).astype("float64")


def without_values(values: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """values with one occurrence of each removed value taken out (NaN matches NaN).

    Every removed value must occur in values (the artifact rows are rows of the column)."""
    keep = np.ones(len(values), dtype=bool)
    for value in removed:
        same = np.isnan(values) if np.isnan(value) else values == value
        hits = np.flatnonzero(same & keep)
        if len(hits) == 0:
            raise ValueError(f"without_values: {value!r} does not occur in the column")
        keep[hits[0]] = False
    return values[keep]


def measured_columns(real: ibis.Table, report: pd.DataFrame) -> dict[str, ibis.Value]:
    """Per experience metric whose columns the table holds, from the raw values (before
    cleaning replaces them):

    `<short>_measured`: True where the session's value is measured, False where cleaning
    fills it in: every column the metric is computed from holds a raw value inside its fences
    (a column without fences in the report: any present value).
    `<metric>_observed`: the metric from the raw columns clipped to their fences, missing
    where a column is missing: what the network recorded, an extreme value counted at the
    fence, and never the replacement mean (the network hotspots are computed from it).
    """
    fences = report.set_index("column")[["lower_fence", "upper_fence"]]
    out = {}
    for metric, columns in schema.EXPERIENCE_COMPONENTS.items():
        if not set(columns) <= set(real.columns):
            continue
        measured, clipped = ibis.literal(True), []
        for c in columns:
            inside, value = real[c].notnull(), real[c]
            if c in fences.index and pd.notna(fences.loc[c, "lower_fence"]):
                lo, hi = (float(f) for f in fences.loc[c])
                inside = inside & value.between(lo, hi)
                value = value.clip(lower=lo, upper=hi)
            measured = measured & inside
            clipped.append(value)
        out[schema.measured_flag(metric)] = measured
        out[schema.observed_value(metric)] = metric_value(metric, *clipped)
    return out


def clean_sessions(sessions: ibis.Table, report: pd.DataFrame,
                   columns: list[str] | None = None) -> ibis.Table:
    """Real sessions with missing and out-of-fence values replaced (only `columns` if given),
    and the measured flags and observed values of the experience metrics whose columns are
    kept (measured_columns)."""
    real = real_sessions(sessions)
    if columns is not None:
        real = real.select(*columns)
        report = report[report["column"].isin(columns)]
    flags = measured_columns(real, report)
    replaced = {}
    for r in report.itertuples(index=False):
        if r.replacement is None or pd.isna(r.replacement):
            continue  # a column with no values at all stays missing
        col = real[r.column]
        # a NULL comparison falls to the ELSE branch: missing values get the replacement too
        replaced[r.column] = ibis.ifelse(
            col.between(r.lower_fence, r.upper_fence), col, ibis.literal(float(r.replacement))
        )
    # one projection: the flags and observed values read the raw values, the replacements
    # overwrite them
    return real.mutate(**replaced, **flags) if replaced or flags else real


def require_imputable(report: pd.DataFrame, columns: list[str], source: str) -> None:
    """SchemaError when a needed column has no values at all: nothing to impute from, so
    every per-user metric built on it would be missing."""
    empty = report.loc[report["replacement"].isna() & report["column"].isin(columns),
                       "column"].tolist()
    if empty:
        raw = [schema.BY_NAME[c].raw.replace("Dur. (ms).1", "Dur. (ms)") for c in empty]
        raise SchemaError(f"{source}: column(s) with no values at all, needed by the "
                          "analyses: " + ", ".join(repr(r) for r in raw))
