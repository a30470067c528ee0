"""fit_scaler: StandardScaler fitted a column at a time, its attributes those of fit, bit for bit."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler

from telco_analytics.models.scaler import fit_scaler

N = 100_003  # past numpy's pairwise-sum blocks, not a multiple of them


def _values(seed: int = 0, n: int = N) -> np.ndarray:
    """Three columns over many orders of magnitude: the order of a sum shows in its last bits."""
    return np.random.default_rng(seed).lognormal(5.0, 3.0, size=(n, 3)) * 1e3


def _frames() -> dict[str, pd.DataFrame | np.ndarray]:
    values = _values()
    with_nan = values.copy()
    with_nan[np.random.default_rng(1).random(values.shape) < 0.05] = np.nan
    same_nan = values.copy()
    same_nan[::7] = np.nan  # every column misses the same rows: one count
    return {
        # an int column and float ones, in blocks of their own (as the analyses' tables)
        "int and float columns": pd.DataFrame({"a": values[:, 0].astype(np.int64),
                                               "b": values[:, 1], "c": values[:, 2]}),
        "one float block": pd.DataFrame(values, columns=list("abc")),
        "missing values": pd.DataFrame(with_nan, columns=list("abc")),
        "same rows missing": pd.DataFrame(same_nan, columns=list("abc")),
        # rows kept together: numpy sums it row after row, so it is fitted whole
        "frame on a row-major array": pd.DataFrame(values, columns=list("abc"), copy=False),
        "column-major array": np.asfortranarray(values),
        "row-major array": np.ascontiguousarray(values),
        "one column": pd.DataFrame({"a": values[:, 0]}),
    }


def _same(a: object, b: object) -> bool:
    """Equal values of the same type; arrays bit for bit (dtype, shape and bytes)."""
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    return type(a) is type(b) and (a == b or (a is None and b is None))


def assert_same_fit(fitted: StandardScaler, expected: StandardScaler) -> None:
    assert vars(fitted).keys() == vars(expected).keys()
    for name, value in vars(expected).items():
        assert _same(vars(fitted)[name], value), (name, vars(fitted)[name], value)


@pytest.mark.parametrize("scaler", [StandardScaler(), StandardScaler(with_mean=False),
                                    StandardScaler(with_std=False),
                                    StandardScaler(with_mean=False, with_std=False)],
                         ids=["default", "no mean", "no std", "neither"])
@pytest.mark.parametrize("layout", list(_frames()))
def test_attributes_equal_fit_bit_for_bit(layout, scaler):
    X = _frames()[layout]
    with np.errstate(all="ignore"):
        expected = clone(scaler).fit(X)
    fitted = fit_scaler(scaler, X)
    assert_same_fit(fitted, expected)
    assert fitted is not scaler and not hasattr(scaler, "mean_")  # the given one is unfitted
    np.testing.assert_array_equal(fitted.transform(X), expected.transform(X))


def test_row_major_arrays_would_differ_column_by_column():
    """Why a row-major array is fitted whole: its column sums run row after row."""
    values = np.ascontiguousarray(_values())
    whole = StandardScaler().fit(values)
    alone = [StandardScaler().fit(values[:, [j]]) for j in range(3)]
    assert np.concatenate([s.mean_ for s in alone]).tobytes() != whole.mean_.tobytes()
    assert_same_fit(fit_scaler(StandardScaler(), values), whole)


def test_missing_counts_per_column_or_one_count():
    frames = _frames()
    assert isinstance(fit_scaler(StandardScaler(), frames["same rows missing"]).n_samples_seen_,
                      np.floating)
    seen = fit_scaler(StandardScaler(), frames["missing values"]).n_samples_seen_
    assert seen.shape == (3,) and len(set(seen.tolist())) > 1


def test_errors_are_fits_own():
    for bad in (pd.DataFrame({"a": [1.0, np.inf]}), pd.DataFrame({"a": []}, dtype="float64"),
                [[1.0, 2.0], [3.0, 4.0]]):
        try:
            StandardScaler().fit(bad)
        except ValueError as error:
            with pytest.raises(ValueError) as raised:
                fit_scaler(StandardScaler(), bad)
            assert str(raised.value) == str(error)
        else:
            assert_same_fit(fit_scaler(StandardScaler(), bad), StandardScaler().fit(bad))
    with pytest.raises(TypeError, match="StandardScaler"):
        fit_scaler("scaler", pd.DataFrame({"a": [1.0]}))


def _peak(func) -> int:
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_holds_a_column_at_a_time():
    values = _values(n=400_000)
    X = pd.DataFrame({"a": values[:, 0].astype(np.int64), "b": values[:, 1], "c": values[:, 2]})
    table = values.nbytes  # n x 3 floats
    whole = _peak(lambda: StandardScaler().fit(X))
    by_column = _peak(lambda: fit_scaler(StandardScaler(), X))
    # fit: a float copy of the table, the deviations, the NaN mask and its float copy;
    # a column at a time, one column's of them (the int column's cast included)
    assert whole > 2 * table
    assert by_column < table and 2.5 * by_column < whole
