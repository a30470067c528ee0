"""StandardScaler fitted a column at a time: StandardScaler.fit's statistics, bit for bit.

StandardScaler.fit holds, besides its float copy of the table, n x d deviations from the mean
and an n x d NaN mask (with a float copy of it) for the variance: about 3 scaled copies of an
n x d table (5 GB at 72M users x 3 metrics). A column at a time they are one column's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

STATISTICS = ("mean_", "var_", "scale_")  # with n_samples_seen_: the attributes X decides


def fit_scaler(scaler: StandardScaler, X: Any) -> StandardScaler:
    """A clone of `scaler` fitted on X, with the attributes `scaler.fit(X)` gives, bit for bit.

    Each column is fitted alone and the statistics are put together. numpy sums each column
    of a column-major array (what a DataFrame becomes in StandardScaler.fit) pairwise, as it
    sums that column alone, so the per-column statistics are the same bits. A row-major
    array is summed row after row, which rounds differently: it is fitted whole.
    """
    if not isinstance(scaler, StandardScaler):
        raise TypeError(f"fit_scaler fits a StandardScaler, got {type(scaler).__name__}")
    if not _column_major(X):
        return clone(scaler).fit(X)
    parts = [clone(scaler).fit(_column(X, j)) for j in range(X.shape[1])]
    # fit's own checks set n_features_in_ and feature_names_in_ (they depend on the columns
    # only): a fit on the first row, whose statistics (0/0 for a missing value) are replaced
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted = clone(scaler).fit(X.iloc[:1] if isinstance(X, pd.DataFrame) else X[:1])
    return _with_statistics(fitted, parts)


def _column_major(X: Any) -> bool:
    """Whether each column of X is contiguous (a DataFrame of numpy-backed columns, a
    column-major array): then numpy sums a column of X as it sums that column alone."""
    if isinstance(X, pd.DataFrame):
        # a frame made of a row-major 2-D array without a copy keeps its rows together
        return min(X.shape) > 0 and all(
            _contiguous(np.asarray(X.iloc[:, j].to_numpy())) for j in range(X.shape[1]))
    return (isinstance(X, np.ndarray) and X.ndim == 2 and min(X.shape) > 0
            and _contiguous(X[:, 0]))


def _contiguous(column: np.ndarray) -> bool:
    return column.ndim == 1 and column.strides[0] == column.itemsize


def _column(X: Any, j: int) -> Any:
    """Column j of X as a one-column table (a view where the column's dtype allows)."""
    return X.iloc[:, j:j + 1] if isinstance(X, pd.DataFrame) else X[:, j:j + 1]


def _with_statistics(fitted: StandardScaler, parts: list[StandardScaler]) -> StandardScaler:
    """`fitted` with the statistics of the one-column fits, one column each, as fit keeps them."""
    for name in STATISTICS:
        values = [getattr(part, name) for part in parts]
        setattr(fitted, name, None if values[0] is None else np.concatenate(values))
    seen = np.concatenate([np.atleast_1d(part.n_samples_seen_) for part in parts])
    # fit keeps one count when every column has as many values (no missing one)
    fitted.n_samples_seen_ = seen[0] if seen.max() == seen.min() else seen
    return fitted
