"""User overview / EDA (SPEC section 4 rules 5-7): app totals, variables, univariate, deciles,
app correlation and PCA, each a pure function of the per-user table (`user_overview`).

Every function takes pandas DataFrames, never mutates them, and returns a new DataFrame whose
columns are those of SPEC section 3 (plus a few documented extras).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import is_numeric_dtype
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from .. import schema
from ..errors import SchemaError

log = logging.getLogger(__name__)

N_DECILES = 10
REPORTED_DECILES = 5  # SPEC rule 6: decile_data reports deciles 1-5
# SPEC rule 7: PCA inputs = the seven per-app totals plus total DL and total UL
PCA_VARIABLES: list[str] = [*schema.USER_APP_BYTES, "dl_bytes", "ul_bytes"]
UNIVARIATE_STATS: list[str] = [
    "count",
    "mean",
    "median",
    "std",
    "var",
    "min",
    "q1",
    "q3",
    "iqr",
    "max",
    "range",
    "skew",
    "kurtosis",
    "cv",
]


# beyond this many users, correlation and PCA are computed from a chunked Gram matrix
# instead of an n x 9 copy of the columns (same definitions; equal to 1e-12 relative)
IN_MEMORY_ROWS = 2_000_000
GRAM_CHUNK_ROWS = 1 << 18


def _require(table: pd.DataFrame, columns: list[str], table_name: str) -> None:
    """Raise SchemaError naming every required column the table lacks."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SchemaError(
            f"{table_name}: missing column(s) {missing}; expected at least {columns}, "
            f"found {list(table.columns)}"
        )


def _arrow_keys(keys: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The keys as an Arrow array: zero-copy for Arrow-backed strings (the per-user tables)."""
    try:
        return pa.array(keys.array)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array(keys.astype("str").array)


def keys_sorted(keys: pd.Series, *, strict: bool = False) -> bool:
    """True when the keys are in non-decreasing (strict: increasing) order, none missing.

    Vectorized in Arrow (25 ms for 10M msisdn strings, where pandas' is_monotonic_increasing
    materializes Python strings and takes 0.7 s).
    """
    if len(keys) < 2:
        return not keys.isna().any()
    a = _arrow_keys(keys)
    if a.null_count:
        return False
    compare = pc.less if strict else pc.less_equal
    return bool(pc.all(compare(a[:-1], a[1:])).as_py())


def keys_equal(left: pd.Series, right: pd.Series) -> bool:
    """True when the two key columns hold the same values in the same order (index ignored)."""
    if len(left) != len(right):
        return False
    a, b = _arrow_keys(left), _arrow_keys(right)
    if a.null_count or b.null_count:
        return False
    if a.type != b.type:
        try:
            b = b.cast(a.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
    a = pa.chunked_array([a]) if isinstance(a, pa.Array) else a
    b = pa.chunked_array([b]) if isinstance(b, pa.Array) else b
    return bool(a.equals(b))


def top_n_positions(
    values: np.ndarray,
    keys: pd.Series,
    n: int,
    *,
    largest: bool = True,
    sorted_keys: bool | None = None,
) -> np.ndarray:
    """Row positions of the n largest (or smallest) values, ties by key ascending; NaN ignored.

    O(rows): np.partition finds the n-th value; rows strictly beyond it are ordered by value
    and position, and rows equal to it are taken in key order. When the keys are sorted
    (`sorted_keys`, checked if None) key order is position order and no key is compared.
    Temporaries: one partitioned copy of the values and two masks (about 10 bytes a row).
    """
    values = np.asarray(values, dtype="float64")
    present = len(values) - int(np.count_nonzero(np.isnan(values)))
    if n <= 0 or present == 0:
        return np.empty(0, dtype=np.int64)
    if present > n:
        # np.partition sorts NaN last: the present values fill positions 0..present-1
        kth = present - n if largest else n - 1
        threshold = np.partition(values, kth)[kth]
        # comparisons with NaN are False: missing values are never selected
        beyond = np.flatnonzero(values > threshold if largest else values < threshold)
        at = np.flatnonzero(values == threshold)
    else:
        beyond, at = np.flatnonzero(~np.isnan(values)), np.empty(0, dtype=np.int64)

    def wanted_order(rows: np.ndarray) -> np.ndarray:
        """The rows' values, negated for `largest`: ascending = the wanted order."""
        return -values[rows] if largest else values[rows]

    if sorted_keys is None:
        sorted_keys = keys_sorted(keys)
    if sorted_keys:
        beyond = beyond[np.lexsort((beyond, wanted_order(beyond)))]
        return np.concatenate([beyond, at[: n - len(beyond)]]).astype(np.int64)
    # keys out of order: sort the candidates by (value, key); only their keys are compared
    rows = np.concatenate([beyond, at])
    frame = pd.DataFrame(
        {"value": wanted_order(rows), "key": keys.iloc[rows].to_numpy()}
    )
    frame = frame.sort_values(["value", "key"], kind="mergesort")
    return rows[frame.index.to_numpy()[:n]].astype(np.int64)


def app_bytes_column(app: str) -> str:
    """Per-user column holding an app's DL+UL bytes (e.g. 'youtube' -> 'youtube_bytes')."""
    return f"{app}_bytes"


def app_totals(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Traffic per app over all users: DataFrame[app, bytes, users, share].

    bytes = sum of `<app>_bytes` over users (DL + UL, bytes); users = users with `<app>_bytes` > 0;
    share (extra) = the app's fraction of the seven apps' bytes (0-1). Sorted by bytes descending,
    ties by app name.
    """
    cols = [app_bytes_column(a) for a in schema.APPS]
    _require(user_overview, cols, "user_overview")
    values = user_overview[cols].astype("float64")
    totals = values.sum().to_numpy()
    grand = totals.sum()
    out = pd.DataFrame(
        {
            "app": list(schema.APPS),
            "bytes": totals,
            "users": (values > 0).sum().to_numpy().astype("int64"),
            "share": totals / grand if grand > 0 else np.full(len(cols), np.nan),
        }
    )
    return out.sort_values(["bytes", "app"], ascending=[False, True], kind="mergesort").reset_index(
        drop=True
    )


def variables_table(missing: dict[str, int], n_rows: int) -> pd.DataFrame:
    """Data dictionary of the xDR columns with their missing counts in the sessions.

    Returns DataFrame[column, name, dtype, kind, group, description, missing, missing_pct,
    present], one row per column of `schema.COLUMNS` in schema order. `column` is the raw
    header, `name` the canonical name; `missing` is the count of missing values (keyed by
    canonical name in `missing`); `missing_pct` is 100 * missing / n_rows (percent). A column
    absent from `missing` was not in the input: missing and missing_pct are <NA>, present False.
    """
    if n_rows < 0:
        raise ValueError(f"n_rows must be >= 0, got {n_rows}")
    counts = [missing.get(c.name) for c in schema.COLUMNS]
    missing_col = pd.array(counts, dtype="Int64")
    pct = (
        (missing_col.astype("Float64") * 100.0 / n_rows)
        if n_rows > 0
        else pd.array([pd.NA] * len(counts), dtype="Float64")
    )
    return pd.DataFrame(
        {
            "column": [c.raw for c in schema.COLUMNS],
            "name": [c.name for c in schema.COLUMNS],
            "dtype": [c.dtype for c in schema.COLUMNS],
            "kind": [c.kind for c in schema.COLUMNS],
            "group": [c.group for c in schema.COLUMNS],
            "description": [c.description for c in schema.COLUMNS],
            "missing": missing_col,
            "missing_pct": pct,
            "present": [c.name in missing for c in schema.COLUMNS],
        }
    )


def quantitative_columns(user_overview: pd.DataFrame) -> list[str]:
    """The per-user quantitative variables: every numeric column except the user key."""
    return [
        c
        for c in user_overview.columns
        if c != schema.USER_KEY and is_numeric_dtype(user_overview[c])
    ]


def univariate(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Dispersion summary of every quantitative per-user variable, one row per variable.

    Returns DataFrame[variable, count, mean, median, std, var, min, q1, q3, iqr, max, range,
    skew, kurtosis, cv] over the non-missing values of each variable (units = the variable's):
    count = non-missing values; std/var are sample statistics (ddof=1, as pandas);
    q1/median/q3 are linear-interpolated quantiles (numpy/pandas default "linear");
    iqr = q3 - q1; range = max - min; skew = adjusted Fisher-Pearson (pandas `skew`, bias
    corrected, NaN below 3 values); kurtosis = excess kurtosis, bias corrected (pandas `kurt`,
    0 for a normal distribution, NaN below 4 values); cv = std / mean (NaN when mean is 0).
    """
    cols = quantitative_columns(user_overview)
    rows = {}
    # one column at a time: the skew/kurtosis/quantile temporaries of the whole table were
    # several GB at 10M users; per column they are a few hundred MB (same numbers)
    for column in cols:
        data = user_overview[column].astype("float64")
        quartiles = data.quantile([0.25, 0.5, 0.75], interpolation="linear").to_numpy()
        rows[column] = {
            "count": int(data.count()),
            "mean": data.mean(),
            "median": quartiles[1],
            "std": data.std(ddof=1),
            "var": data.var(ddof=1),
            "min": data.min(),
            "q1": quartiles[0],
            "q3": quartiles[2],
            "max": data.max(),
            "skew": data.skew(),
            "kurtosis": data.kurt(),
        }
    stats = pd.DataFrame.from_dict(rows, orient="index", dtype="float64")
    stats = stats.reindex(cols)
    stats["count"] = stats["count"].astype("int64")
    stats["iqr"] = stats["q3"] - stats["q1"]
    stats["range"] = stats["max"] - stats["min"]
    # a zero mean makes the coefficient of variation undefined, not infinite
    stats["cv"] = stats["std"] / stats["mean"].where(stats["mean"] != 0)
    stats.index.name = "variable"
    return stats.reset_index()[["variable", *UNIVARIATE_STATS]]


def decile_sizes(n_users: int) -> np.ndarray:
    """Users in each of the ten duration deciles: n // 10 each, the first n % 10 get one more."""
    base, extra = divmod(n_users, N_DECILES)
    return np.array([base + (1 if d < extra else 0) for d in range(N_DECILES)], dtype="int64")


def duration_rank_order(users: pd.DataFrame) -> np.ndarray:
    """Row positions ordered by duration_ms descending, ties by msisdn ascending, NaN last.

    Sorting millions of text keys is slow, so rows are ordered by the number alone (stable:
    tied rows stay in row order, which IS msisdn order when the table is sorted by msisdn, as
    the per-user tables are); otherwise only the rows whose duration is tied with another are
    re-sorted by msisdn (equivalent to a two-key sort: tied rows are contiguous).
    """
    key = -users["duration_ms"].to_numpy(dtype="float64", na_value=np.nan)
    key[np.isnan(key)] = np.inf
    order = np.argsort(key, kind="stable")
    if keys_sorted(users[schema.USER_KEY]):
        return order
    ranked_key = key[order]
    tied = np.zeros(len(order), dtype=bool)
    same = ranked_key[1:] == ranked_key[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any():
        positions = np.flatnonzero(tied)
        subset = pd.DataFrame(
            {
                "key": ranked_key[positions],
                "row": order[positions],
                "id": users[schema.USER_KEY].iloc[order[positions]].to_numpy(),
            }
        )
        subset = subset.sort_values(["key", "id"], kind="mergesort")
        order[positions] = subset["row"].to_numpy()
    return order


def user_deciles(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Each user's duration decile (SPEC rule 6).

    Returns DataFrame[msisdn, duration_ms, total_bytes, decile].

    Users are ranked by total duration_ms descending, ties by msisdn ascending (missing durations
    last), then cut into ten consecutive groups of sizes `decile_sizes(n)`; decile 1 = the top 10%.
    Rows come back in rank order.
    """
    cols = [schema.USER_KEY, "duration_ms", "total_bytes"]
    _require(user_overview, cols, "user_overview")
    table = user_overview[cols]
    ranked = table.iloc[duration_rank_order(table)].reset_index(drop=True)
    ranked["decile"] = np.repeat(np.arange(1, N_DECILES + 1), decile_sizes(len(ranked)))
    return ranked


def _ranked_numbers(user_overview: pd.DataFrame) -> pd.DataFrame:
    """duration_ms, total_bytes and decile in rank order, without the msisdn column."""
    cols = [schema.USER_KEY, "duration_ms", "total_bytes"]
    _require(user_overview, cols, "user_overview")
    order = duration_rank_order(user_overview)
    return pd.DataFrame(
        {
            "duration_ms": user_overview["duration_ms"].to_numpy()[order],
            "total_bytes": user_overview["total_bytes"].to_numpy()[order],
            "decile": np.repeat(np.arange(1, N_DECILES + 1), decile_sizes(len(order))),
        }
    )


def decile_table_all(user_overview: pd.DataFrame) -> pd.DataFrame:
    """All ten duration deciles: DataFrame[decile, users, min_duration_ms, max_duration_ms,
    total_bytes, duration_ms, users_share, total_bytes_share].

    duration_ms and total_bytes are sums over the decile's users (ms, bytes); users_share and
    total_bytes_share are fractions (0-1) of all users / all users' bytes. With fewer than ten
    users the trailing deciles are empty and omitted (a decile is never reported with 0 users).
    """
    ranked = _ranked_numbers(user_overview)
    grouped = ranked.groupby("decile", sort=True)
    out = pd.DataFrame(
        {
            "users": grouped.size().astype("int64"),
            "min_duration_ms": grouped["duration_ms"].min(),
            "max_duration_ms": grouped["duration_ms"].max(),
            "total_bytes": grouped["total_bytes"].sum(),
            "duration_ms": grouped["duration_ms"].sum(),
        }
    ).reset_index()
    all_bytes = ranked["total_bytes"].sum()
    out["users_share"] = out["users"] / len(ranked) if len(ranked) else np.nan
    out["total_bytes_share"] = out["total_bytes"] / all_bytes if all_bytes > 0 else np.nan
    out["decile"] = out["decile"].astype("int64")
    return out


def reported_deciles(deciles_all: pd.DataFrame) -> pd.DataFrame:
    """decile_data (SPEC rule 6): deciles 1-5 of the all-deciles table (`decile_table_all`).

    Same columns; shares stay relative to all users. Users are ranked once: this is the head
    of the ten-decile table, not a second ranking.
    """
    return deciles_all[deciles_all["decile"] <= REPORTED_DECILES].reset_index(drop=True)


def decile_data(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Deciles 1-5 of users by total session duration (SPEC rule 6), with their total traffic.

    Same columns as `decile_table_all` (decile, users, min_duration_ms, max_duration_ms,
    total_bytes, duration_ms, users_share, total_bytes_share); shares stay relative to all users.
    """
    return reported_deciles(decile_table_all(user_overview))


def app_correlation(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation between the seven per-user app volumes (SPEC rule 7).

    Returns DataFrame[app, social_media, google, ..., other]: rows and columns are app names in
    `schema.APPS` order; a constant column gives NaN correlations (pandas semantics).
    """
    cols = [app_bytes_column(a) for a in schema.APPS]
    _require(user_overview, cols, "user_overview")
    if len(user_overview) <= IN_MEMORY_ROWS or _has_missing(user_overview, cols):
        corr = user_overview[cols].astype("float64").corr(method="pearson")
    else:
        # pandas' corr copies the columns into one n x 7 array (4 GB at 72M users); the
        # same two-pass Pearson from a chunked centered Gram matrix holds a chunk at a time
        gram, _, _ = centered_gram(user_overview, cols)
        norms = np.sqrt(np.diag(gram))
        with np.errstate(invalid="ignore", divide="ignore"):
            values = gram / np.outer(norms, norms)
        values[~np.isfinite(values)] = np.nan  # a constant column: NaN, as pandas
        np.fill_diagonal(values, np.where(norms > 0, 1.0, np.nan))
        corr = pd.DataFrame(values, index=cols, columns=cols)
    corr.index = list(schema.APPS)
    corr.columns = list(schema.APPS)
    corr.index.name = "app"
    return corr.reset_index()


def pca_table(user_overview: pd.DataFrame) -> pd.DataFrame:
    """Principal components of the standardized app volumes plus total DL and UL (SPEC rule 7).

    Inputs `PCA_VARIABLES` are z-scored with StandardScaler (population std; a constant column
    stays 0), then a full PCA (scikit-learn) is fitted; beyond IN_MEMORY_ROWS users the same
    PCA comes from the covariance of the z-scores (`_pca_from_gram`). Returns DataFrame[component,
    explained_variance_ratio, cumulative_ratio, explained_variance, <one loading column per
    input variable>], component = 1..k (k = min(users, 9)); loadings are the rows of
    `components_` (unit vectors). Sign convention, for reproducibility: each component is
    flipped so that its largest-absolute loading is positive (first such variable on ties).
    """
    _require(user_overview, PCA_VARIABLES, "user_overview")
    if len(user_overview) < 2:
        raise ValueError(f"PCA needs at least 2 users, got {len(user_overview)}")
    if len(user_overview) <= IN_MEMORY_ROWS or _has_missing(user_overview, PCA_VARIABLES):
        variance, ratio, components = _pca_in_memory(user_overview)
    else:
        variance, ratio, components = _pca_from_gram(user_overview)
    loadings = components.copy()
    pivot = np.abs(loadings).argmax(axis=1)
    signs = np.sign(loadings[np.arange(len(loadings)), pivot])
    loadings *= np.where(signs == 0, 1.0, signs)[:, None]
    out = pd.DataFrame(
        {
            "component": np.arange(1, len(ratio) + 1, dtype="int64"),
            "explained_variance_ratio": ratio,
            "cumulative_ratio": np.cumsum(ratio),
            "explained_variance": variance,
        }
    )
    return pd.concat([out, pd.DataFrame(loadings, columns=PCA_VARIABLES)], axis=1)


def _pca_in_memory(user_overview: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's PCA on the z-scores: explained variance, its ratio, components."""
    # One n x 9 array, the z-scores written into it column by column (a scaler on the whole
    # table plus PCA's own C-ordered copy held three). Each column's mean and scale come from
    # a StandardScaler on that column alone: the same sums as on the column-major table, so
    # the numbers are identical bit for bit.
    z = np.empty((len(user_overview), len(PCA_VARIABLES)), dtype="float64")
    for j, column in enumerate(PCA_VARIABLES):
        values = user_overview[column].to_numpy(dtype="float64").reshape(-1, 1)
        scaler = StandardScaler().fit(values)
        np.subtract(values[:, 0], scaler.mean_[0], out=z[:, j])
        z[:, j] /= scaler.scale_[0]
    pca = PCA(n_components=min(z.shape), copy=False).fit(z)  # z is ours: no copy
    return pca.explained_variance_, pca.explained_variance_ratio_, pca.components_


def _pca_from_gram(user_overview: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same PCA from the 9 x 9 covariance of the z-scores, built from a chunked Gram
    matrix (scikit-learn's own 'covariance_eigh' solver, which it picks for n >> 9, on the
    full n x 9 array: 5 GB at 72M users). Eigenvalues in descending order, clipped at 0."""
    gram, _, n = centered_gram(user_overview, PCA_VARIABLES)
    std = np.sqrt(np.diag(gram) / n)  # population std, as StandardScaler
    scale = np.where(std > 0, std, 1.0)  # a constant column stays 0 (StandardScaler)
    covariance = gram / np.outer(scale, scale) / (n - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    variance = np.clip(eigenvalues[order], 0.0, None)
    total = variance.sum()
    ratio = variance / total if total > 0 else np.full(len(variance), np.nan)
    return variance, ratio, eigenvectors[:, order].T


def _has_missing(table: pd.DataFrame, columns: list[str]) -> bool:
    return bool(any(table[c].isna().any() for c in columns))


def centered_gram(
    table: pd.DataFrame, columns: list[str], chunk_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """(G, means, n): G[i, j] = sum over rows of (x_i - mean_i)(x_j - mean_j), two passes
    (means first, as pandas' corr does), one chunk of rows x columns in memory at a time."""
    chunk_rows = chunk_rows or GRAM_CHUNK_ROWS
    arrays = [table[c].to_numpy(dtype="float64") for c in columns]
    n = len(table)
    means = np.array([a.mean() for a in arrays])
    gram = np.zeros((len(columns), len(columns)))
    block = np.empty((min(chunk_rows, n), len(columns)))
    for start in range(0, n, chunk_rows):
        rows = min(chunk_rows, n - start)
        for j, a in enumerate(arrays):
            np.subtract(a[start:start + rows], means[j], out=block[:rows, j])
        gram += block[:rows].T @ block[:rows]
    return gram, means, n


def components_for(pca: pd.DataFrame, share: float) -> int | None:
    """Smallest number of components whose cumulative explained variance reaches `share` (0-1)."""
    reached = pca.index[pca["cumulative_ratio"] >= share - 1e-12]
    return int(pca.loc[reached[0], "component"]) if len(reached) else None
