"""Handset rankings by hand: session counts, distinct users, ties by name, unknowns excluded."""

from __future__ import annotations

import pandas as pd

from telco_analytics import engine, schema
from telco_analytics.analysis import handsets


def _sessions(con, rows):
    frame = pd.DataFrame(rows, columns=["msisdn", "handset_manufacturer", "handset_type"])
    for c in schema.NAMES:
        if c not in frame:
            frame[c] = 0.0 if schema.BY_NAME[c].dtype == "float64" else None
    for c in schema.STRING_COLUMNS:
        frame[c] = frame[c].astype("string")
    frame["start_time"] = pd.Timestamp("2019-04-25")
    return engine.from_arrow(con, frame[list(schema.NAMES)])


ROWS = [
    ("1", "Apple", "iPhone 8"), ("2", "Apple", "iPhone 8"), ("2", "Apple", "iPhone 8"),
    ("3", "Apple", "iPhone 7"), ("4", "Apple", "iPhone 7"), ("4", "Apple", "iPhone 7"),
    # iPhone 7 and iPhone 8 both have 3 sessions: the tie goes to the name, "iPhone 7" first
    ("5", "Samsung", "Galaxy S9"), ("6", "Samsung", "Galaxy S9"), (None, "Samsung", "Galaxy S9"),
    ("7", "Huawei", "B528S-23A"),
    ("8", "undefined", "undefined"), ("8", "undefined", "undefined"),
    ("9", "undefined", "undefined"), ("9", "undefined", "undefined"),
    ("10", None, None),
]


def test_rankings_by_hand(con):
    t = _sessions(con, ROWS)
    counts = handsets.handset_counts(t)
    top = handsets.handsets_top10(t, counts)
    assert top["handset"].tolist() == ["Galaxy S9", "iPhone 7", "iPhone 8", "B528S-23A"]
    assert top["sessions"].tolist() == [3, 3, 3, 1]
    # Galaxy S9 is on 3 sessions but one has no MSISDN: 2 distinct users
    assert top["users"].tolist() == [2, 2, 2, 1]
    assert top["manufacturer"].tolist() == ["Samsung", "Apple", "Apple", "Huawei"]
    assert top["rank"].tolist() == [1, 2, 3, 4]

    makers = handsets.manufacturers_top(t, counts)
    assert makers["manufacturer"].tolist() == ["Apple", "Samsung", "Huawei"]
    assert makers["sessions"].tolist() == [6, 3, 1]
    assert makers["users"].tolist() == [4, 2, 1]

    per = handsets.handsets_top_per_manufacturer(counts, makers["manufacturer"].tolist())
    apple = per[per["manufacturer"] == "Apple"]
    assert apple["handset"].tolist() == ["iPhone 7", "iPhone 8"]
    assert apple["rank"].tolist() == [1, 2]

    unknown = handsets.unknown_handset_counts(counts)
    assert unknown["sessions_handset_undefined"] == 4
    assert unknown["sessions_handset_missing"] == 1


def test_undefined_is_never_ranked_even_when_most_common(con):
    rows = [(str(i), "undefined", "undefined") for i in range(10)] + [("x", "Apple", "iPhone 8")]
    t = _sessions(con, rows)
    counts = handsets.handset_counts(t)
    assert handsets.handsets_top10(t, counts)["handset"].tolist() == ["iPhone 8"]
    assert handsets.manufacturers_top(t, counts)["manufacturer"].tolist() == ["Apple"]
