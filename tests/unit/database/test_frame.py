"""Can this table be exported: all its problems at once, and the key order to write it in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics.errors import ConfigError
from telco_analytics.io.database import frame
from telco_analytics.io.database.frame import key_order, validate_frame


def test_sorted_keys_keep_the_frames_order():
    assert key_order(pd.Series(["a", "b", "c"])) == (None, 0)
    assert key_order(pd.Series(["a"])) == (None, 0)
    assert key_order(pd.Series([], dtype=object)) == (None, 0)


def test_unsorted_keys_give_the_sorting_order_and_the_duplicates():
    keys = pd.Series(["c", "a", "b", "a", "c"])
    order, duplicates = key_order(keys)
    assert keys.take(order).tolist() == ["a", "a", "b", "c", "c"]
    assert duplicates == 2


def test_missing_keys_are_not_counted_as_duplicates():
    assert key_order(pd.Series(["b", None, "a", None, "b"]))[1] == 1


def test_mixed_types_have_no_order_but_their_duplicates_counted():
    assert key_order(pd.Series([1, "x", 2, 1, "x"], dtype=object)) == (None, 2)


@pytest.mark.parametrize("shuffled", [False, True], ids=["sorted", "unsorted"])
def test_duplicates_across_slice_borders_are_counted(monkeypatch, shuffled):
    monkeypatch.setattr(frame, "DUPLICATE_SLICE", 3)  # many slices for a few keys
    keys = pd.Series([f"k{i // 2:03d}" for i in range(20)])  # each key twice
    if shuffled:
        keys = keys.sample(frac=1, random_state=1).reset_index(drop=True)
    order, duplicates = key_order(keys)
    assert duplicates == 10
    assert (order is None) == (not shuffled)


def test_valid_frame_passes_and_returns_the_order():
    df = pd.DataFrame({"msisdn": ["2", "1"], "score": [0.5, 0.7]})
    assert np.array_equal(validate_frame(df, "t", "msisdn"), [1, 0])


def test_every_problem_in_one_error():
    df = pd.DataFrame({
        "msisdn": ["1", "1", None, "9" * 65],
        "bad name": 0,
        "run_id": "x",
    })
    with pytest.raises(ConfigError) as err:
        validate_frame(df, "sat", "msisdn")
    assert str(err.value) == (
        "cannot export table 'sat': column name 'bad name' is not a plain SQL identifier;"
        " column 'run_id' is added by the export and must not be in the table;"
        " 1 rows have no msisdn; 1 duplicate msisdn values;"
        " 1 msisdn values longer than 64 characters"
    )


def test_missing_key_column():
    with pytest.raises(ConfigError, match="primary key column 'msisdn' is missing"):
        validate_frame(pd.DataFrame({"x": [1]}), "t", "msisdn")
