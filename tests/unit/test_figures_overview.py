"""Overview charts: every figure renders to a non-blank PNG and embeds little data."""

from __future__ import annotations

import io
import json

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from telco_analytics import schema
from telco_analytics.analysis.overview import (
    app_correlation,
    app_totals,
    decile_data,
    decile_table_all,
    pca_table,
    univariate,
)
from telco_analytics.report.figures import overview as fig
from telco_analytics.report.render import chart_png

APP_COLS = [f"{a}_bytes" for a in schema.APPS]


def users(n: int, seed: int = 0) -> pd.DataFrame:
    """Random per-user table with the SPEC columns (heavy-tailed volumes and durations)."""
    rng = np.random.default_rng(seed)
    s = rng.geometric(0.6, n).astype("int64")
    df = pd.DataFrame(
        {
            "msisdn": [f"33{i:09d}" for i in range(n)],
            "sessions": s,
            "duration_ms": s * rng.lognormal(17, 1.2, n),
        }
    )
    for i, col in enumerate(APP_COLS):
        df[col] = s * rng.lognormal(14 + i, 1.0, n)
    df["dl_bytes"] = df[APP_COLS].sum(axis=1) * 0.9
    df["ul_bytes"] = df[APP_COLS].sum(axis=1) * 0.1 + rng.uniform(0, 1e5, n)
    df["total_bytes"] = df["dl_bytes"] + df["ul_bytes"]
    return df[schema.USER_OVERVIEW_COLUMNS]


def handset_tables() -> dict[str, pd.DataFrame]:
    top10 = pd.DataFrame(
        {
            "rank": range(1, 11),
            "handset": ["Huawei B528S-23A"] + [f"Apple iPhone {i}" for i in range(9)],
            "manufacturer": ["Huawei"] + ["Apple"] * 9,
            "sessions": [19752, 9419, 9023, 6326, 5187, 4993, 4568, 4520, 3813, 3338],
            "users": [14000, 7000, 6500, 4700, 3800, 3600, 3300, 3200, 2800, 2400],
        }
    )
    top3 = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "manufacturer": ["Apple", "Samsung", "Huawei"],
            "sessions": [59565, 40839, 34423],
            "users": [43000, 29000, 25000],
        }
    )
    per = pd.DataFrame(
        {
            "manufacturer": ["Apple"] * 5 + ["Samsung"] * 5 + ["Huawei"] * 5,
            "rank": [1, 2, 3, 4, 5] * 3,
            "handset": [f"{m} model {r}" for m in ("Apple", "Samsung", "Huawei") for r in range(5)],
            "sessions": [
                9419,
                9023,
                6326,
                5187,
                4993,
                4520,
                3724,
                3696,
                3484,
                3199,
                19752,
                2079,
                2021,
                1480,
                1474,
            ],
        }
    )
    per["users"] = per["sessions"] // 2
    return {
        "handsets_top10": top10,
        "manufacturers_top3": top3,
        "handsets_top5_per_manufacturer": per,
    }


def all_tables(n: int = 400) -> dict[str, pd.DataFrame]:
    u = users(n)
    return {
        "user_overview": u,
        "app_totals": app_totals(u),
        "decile_data": decile_data(u),
        "decile_data_all": decile_table_all(u),
        "app_correlation": app_correlation(u),
        "pca": pca_table(u),
        "univariate": univariate(u),
        **handset_tables(),
    }


def assert_not_blank(chart) -> None:
    """Render to PNG, decode it, and require more than one distinct pixel colour."""
    png = chart_png(chart, scale=1.0)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(io.BytesIO(png), format="png")
    pixels = image.reshape(-1, image.shape[-1])
    assert len(np.unique(pixels, axis=0)) > 10


def spec_bytes(chart) -> int:
    return len(json.dumps(chart.to_dict()))


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return all_tables()


def test_overview_figures_cover_every_chart_and_render(tables):
    figures = fig.overview_figures(tables)
    expected = {
        "handsets_top10",
        "manufacturers_top3",
        "handsets_top5_per_manufacturer",
        "app_totals",
        "decile_data",
        "app_correlation",
        "pca_scree",
        "pca_loadings",
    }
    expected |= {f"hist_{c}" for c in schema.USER_OVERVIEW_COLUMNS[1:]}
    expected |= {f"app_vs_total_{a}" for a in schema.APPS}
    assert set(figures) == expected
    for name in (
        "handsets_top10",
        "manufacturers_top3",
        "handsets_top5_per_manufacturer",
        "app_totals",
        "decile_data",
        "app_correlation",
        "pca_scree",
        "pca_loadings",
        "hist_sessions",
        "hist_duration_ms",
        "hist_total_bytes",
        "app_vs_total_youtube",
    ):
        assert_not_blank(figures[name])


@pytest.mark.parametrize("column", schema.USER_OVERVIEW_COLUMNS[1:])
def test_every_histogram_renders(tables, column):
    chart = fig.histogram(tables["user_overview"], column)
    assert_not_blank(chart)
    spec = chart.to_dict()
    assert spec["title"]["text"]
    # units in the axis title
    assert any(u in json.dumps(spec) for u in ("(bytes)", "(h)", "(xDRs)"))


def test_figures_skip_missing_tables(tables):
    assert fig.overview_figures({}) == {}
    only = fig.overview_figures({"pca": tables["pca"], "handsets_top10": pd.DataFrame()})
    assert set(only) == {"pca_scree", "pca_loadings"}


def test_histogram_bins_count_every_user():
    values = pd.Series([1.0, 2.0, 2.0, 3.0, np.nan])
    bins = fig.histogram_bins(values)
    assert bins["users"].sum() == 4
    # small integer counts get one bar per value
    assert list(bins["users"]) == [1, 2, 1]
    log_bins = fig.histogram_bins(pd.Series([0.0, 10.0, 100.0, 1000.0]), log=True)
    assert log_bins["users"].sum() == 3  # the zero cannot sit on a log axis
    assert len(fig.histogram_bins(pd.Series([5.0, 5.0]))) == 1


def test_many_users_are_binned_not_embedded():
    big = users(30_000, seed=1)
    table, binned = fig.scatter_data(big, "youtube_bytes", "total_bytes")
    assert binned and len(table) <= fig.SCATTER_BINS**2
    assert table["users"].sum() == len(big)
    small, binned_small = fig.scatter_data(big.head(100), "youtube_bytes", "total_bytes")
    assert not binned_small and len(small) == 100
    figures = fig.overview_figures({"user_overview": big})
    for name, chart in figures.items():
        assert spec_bytes(chart) < 200_000, name
    assert_not_blank(figures["app_vs_total_gaming"])


def test_single_chart_functions_render(tables):
    for chart in (
        fig.handsets_top10_chart(tables["handsets_top10"]),
        fig.manufacturers_top3_chart(tables["manufacturers_top3"]),
        fig.decile_chart(tables["decile_data"]),
        fig.app_vs_total(users(50), "email"),
    ):
        assert_not_blank(chart)


def test_app_label_comes_from_schema():
    assert fig.app_label("youtube") == "YouTube"
    assert fig.app_label("social_media") == "Social Media"


def test_few_users_with_large_integer_values_get_bounded_bins():
    # ten users with byte counts: few distinct integers but a huge range (once: 6 GB of bins)
    from telco_analytics.report.figures.overview import HIST_BINS, histogram_bins

    values = pd.Series([3.0e8, 8.6e8, 1.8e9, 1.0e9, 1.1e9, 7.0e8, 9.0e8, 1.2e9, 1.3e9, 1.4e9])
    table = histogram_bins(values)
    assert len(table) <= HIST_BINS
    assert int(table["users"].sum()) == 10
