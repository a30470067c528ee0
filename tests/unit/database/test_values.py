"""Values as drivers take them: the right kind, NULL for every missing value, in write order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from telco_analytics.io.database.values import (
    chunks,
    column_kinds,
    datetime_text,
    kind_of,
    python_values,
    row_tuples,
)


def test_kinds_by_dtype():
    df = pd.DataFrame({
        "t": ["a"], "i": [1], "n": pd.array([1], dtype="Int64"), "f": [1.5], "b": [True],
        "d": pd.to_datetime(["2024-01-01"]), "s": pd.array(["x"], dtype="string"),
    })
    assert column_kinds(df) == {
        "t": "text", "i": "int", "n": "int", "f": "float", "b": "bool", "d": "datetime",
        "s": "text",
    }
    assert kind_of(df["f"]) == "float"


def test_missing_values_become_none():
    assert python_values(pd.Series([1.5, np.nan]), "float") == [1.5, None]
    assert python_values(pd.Series([1, None], dtype="Int64"), "int") == [1, None]
    assert python_values(pd.Series(["a", None, np.nan], dtype=object), "text") == ["a", None, None]
    assert python_values(pd.Series(["a", None], dtype="string"), "text") == ["a", None]


def test_plain_python_types_reach_the_driver():
    floats = python_values(pd.Series([0.1, 2.0]), "float")
    assert floats == [0.1, 2.0] and all(type(v) is float for v in floats)
    ints = python_values(pd.Series([1, 2], dtype="int64"), "int")
    assert ints == [1, 2] and all(type(v) is int for v in ints)
    assert python_values(pd.Series([3, "x"], dtype=object), "text") == ["3", "x"]


def test_datetimes_are_wall_clock_text():
    aware = pd.Series(pd.to_datetime(["2024-05-06 07:08:09.5"]).tz_localize("Europe/Paris"))
    assert datetime_text(aware).tolist() == ["2024-05-06 07:08:09.500000"]
    assert python_values(pd.Series(pd.to_datetime(["2024-05-06", None])), "datetime") == [
        "2024-05-06 00:00:00.000000", None]


def test_chunks_follow_the_write_order():
    df = pd.DataFrame({"k": list("abcde")})
    assert [c["k"].tolist() for c in chunks((df, None), 2)] == [["a", "b"], ["c", "d"], ["e"]]
    order = np.array([4, 3, 2, 1, 0])
    assert [c["k"].tolist() for c in chunks((df, order), 3)] == [["e", "d", "c"], ["b", "a"]]


def test_row_tuples_append_the_constants():
    chunk = pd.DataFrame({"k": ["a", "b"], "x": [1.0, np.nan]})
    rows = list(row_tuples(chunk, {"k": "text", "x": "float"}, ("run-1", "2024-05-06")))
    assert rows == [("a", 1.0, "run-1", "2024-05-06"), ("b", None, "run-1", "2024-05-06")]
