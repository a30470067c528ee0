"""The pandas baseline (benchmarks/pandas_baseline.py) computes what the product computes.

It is the comparison point of the scale benchmark, so it must implement the same SPEC
definitions; being written independently (plain pandas on raw column names), it is also a
second cross-check of the product's per-user tables.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.run.runner import RunOptions, run
from telco_analytics.synth import write_extract

BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "pandas_baseline.py"
RTOL = 1e-9


def _load_baseline():
    spec = importlib.util.spec_from_file_location("pandas_baseline", BASELINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def baseline():
    return _load_baseline()


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return write_extract(tmp_path_factory.mktemp("in") / "x.parquet", rows=3000, seed=1)


@pytest.fixture(scope="module")
def product(extract, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "r"
    return run(str(extract), out,
               options=RunOptions(report=False, tracking=False, figures=False))


@pytest.fixture(scope="module")
def cleaned(baseline, extract):
    df, artifact = baseline.drop_artifact(baseline.load(str(extract)))
    report = baseline.clean(df)
    return df, artifact, report


def _by_msisdn(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["msisdn"] = out["msisdn"].astype(str)
    return out.sort_values("msisdn").reset_index(drop=True)


def _assert_close(ours: pd.Series, theirs: pd.Series, name: str) -> None:
    a = ours.to_numpy(dtype="float64")
    b = theirs.to_numpy(dtype="float64")
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=name)


def test_artifact_row_dropped(cleaned, product):
    _, artifact, _ = cleaned
    assert artifact == 1 == product.manifest["rows"]["dropped_artifact"]


def test_cleaning_fences_and_replacements_match(cleaned, product):
    _, _, report = cleaned
    ours = product.tables["cleaning_report"].set_index("column")
    raw_to_name = {c.raw: c.name for c in schema.COLUMNS}
    theirs = report.assign(column=report["column"].map(raw_to_name)).set_index("column")
    assert sorted(theirs.index) == sorted(ours.index)
    theirs = theirs.loc[ours.index]
    for col in ("lower_fence", "upper_fence", "replacement"):
        _assert_close(ours[col], theirs[col], col)
    for col in ("missing", "outliers"):
        assert ours[col].astype(int).tolist() == theirs[col].astype(int).tolist(), col


def test_user_table_equals_product_user_overview(baseline, cleaned, product):
    df, _, _ = cleaned
    theirs = _by_msisdn(baseline.user_table(df))
    ours = _by_msisdn(product.tables["user_overview"])
    assert len(ours) == len(theirs) > 1000
    assert ours["msisdn"].tolist() == theirs["msisdn"].tolist()
    assert ours["sessions"].astype(int).tolist() == theirs["sessions"].astype(int).tolist()
    assert ours["sessions"].max() > 1  # some users have several sessions: sums are exercised
    for col in ["duration_ms", "dl_bytes", "ul_bytes", "total_bytes", *schema.USER_APP_BYTES]:
        _assert_close(ours[col], theirs[col], col)


def test_experience_table_equals_product_user_experience(baseline, cleaned, product):
    df, _, _ = cleaned
    theirs = _by_msisdn(baseline.experience_table(df))
    ours = _by_msisdn(product.tables["user_experience"])
    assert ours["msisdn"].tolist() == theirs["msisdn"].tolist()
    for col in schema.EXPERIENCE_METRICS:
        _assert_close(ours[col], theirs[col], col)
    assert ours["handset"].astype(str).tolist() == theirs["handset"].astype(str).tolist()


def test_handset_rankings_match(baseline, cleaned, product):
    df, _, _ = cleaned
    hs = baseline.handsets(df)
    ours = product.tables["handsets_top10"]
    top10 = hs["handsets_top10"]
    assert ours["handset"].tolist() == top10[baseline.HANDSET].tolist()
    assert ours["sessions"].tolist() == top10["sessions"].tolist()
    assert ours["users"].tolist() == top10["users"].tolist()
    assert ours["manufacturer"].tolist() == top10["manufacturer"].tolist()
    top3 = hs["manufacturers_top3"]
    ours3 = product.tables["manufacturers_top3"]
    assert ours3["manufacturer"].tolist() == top3[baseline.MAKER].tolist()
    assert ours3["users"].tolist() == top3["users"].tolist()


def test_baseline_runs_end_to_end(baseline, extract):
    facts = baseline.run(str(extract))
    assert facts["artifact_rows"] == 1
    assert facts["users"] > 1000
    assert set(baseline.TIMINGS) >= {"read and validate", "clean", "per-user tables", "handsets",
                                     "overview", "engagement", "experience", "satisfaction"}
