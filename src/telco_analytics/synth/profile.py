"""The published facts of the reference extract (tellco_profile.json), read from the package."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib import resources
from typing import Any

# The reference extract: 150,000 real xDRs plus one artifact row (not counted here).
REFERENCE_ROWS = 150_000


@lru_cache(maxsize=1)
def profile() -> dict[str, Any]:
    """The whole profile as a dict (vendored in telco_analytics/data, so CI needs no network)."""
    text = resources.files("telco_analytics").joinpath("data/tellco_profile.json").read_text("utf-8")
    return json.loads(text)


@cache
def column_facts(raw: str) -> dict[str, Any]:
    """Published facts of one column by its raw (pandas) name, e.g. 'Dur. (ms).1'."""
    for col in profile()["columns"]:
        if col["name"] == raw:
            return col
    raise KeyError(raw)


def real_null_count(raw: str) -> int:
    """Nulls among the 150,000 real xDRs (the published count minus the artifact row's null)."""
    facts = column_facts(raw)
    artifact_null = facts["non_null_count"] <= REFERENCE_ROWS  # only the 14 app columns are filled
    return int(facts["missing_count"]) - int(artifact_null)


def null_rate(raw: str) -> float:
    """Share of real xDRs with this column empty."""
    return real_null_count(raw) / REFERENCE_ROWS
