"""Total traffic defined once: by hand on two users, against plain pandas on random users."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.analysis.traffic import traffic_totals


def _users(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.integers(0, 100, n).astype(float)
                          for c in ("dl_bytes", "ul_bytes", *schema.USER_APP_BYTES)})
    frame["total_bytes"] = frame["dl_bytes"] + frame["ul_bytes"]
    return frame


def test_by_hand():
    users = pd.DataFrame({"dl_bytes": [10.0, 20.0], "ul_bytes": [5.0, 5.0],
                          **{c: [1.0, 2.0] for c in schema.USER_APP_BYTES}})
    users["total_bytes"] = users["dl_bytes"] + users["ul_bytes"]
    got = traffic_totals(users).set_index("measure")
    assert got.loc["total_bytes", "bytes"] == 40.0 and got.loc["dl_bytes", "bytes"] == 30.0
    assert got.loc["app_columns", "bytes"] == 21.0  # 7 apps x 3 bytes
    assert got.loc["classified_apps", "bytes"] == 18.0 and got.loc["unclassified", "bytes"] == 3
    assert got.loc["app_columns", "share_of_total"] == 21 / 40
    assert "excludes Other DL" in got.loc["dl_bytes", "description"]


def test_matches_plain_pandas():
    users = _users(300, seed=5)
    got = traffic_totals(users).set_index("measure")["bytes"]
    assert got["total_bytes"] == users["total_bytes"].sum()
    assert got["app_columns"] == pytest.approx(users[schema.USER_APP_BYTES].sum().sum())
    assert got["unclassified"] == users["other_bytes"].sum()
    assert got["classified_apps"] + got["unclassified"] == pytest.approx(got["app_columns"])
