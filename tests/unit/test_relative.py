"""Clusters described against the population: by hand on five users, and never the same words
for clusters that differ."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from telco_analytics.analysis.relative import (
    describe_relative,
    rank_words,
    relative_columns,
    with_relative_description,
)
from telco_analytics.formats import share_text


def test_rank_words():
    assert rank_words([3.0, 1.0, 2.0]) == ["the highest", "the lowest", "the 2nd highest"]
    assert rank_words([5, 4, 3, 2]) == ["the highest", "the 2nd highest", "the 3rd highest",
                                        "the lowest"]
    assert rank_words([1.0, 1.0]) == ["the highest", "the highest"]  # equal means, one place


def test_relative_columns_by_hand():
    # five users 1, 2, 3, 4, 10 (median 3); clusters {1, 2} mean 1.5 and {3, 4, 10} mean 17/3
    values = {"throughput_kbps": np.array([1.0, 2.0, 3.0, 4.0, 10.0])}
    got = relative_columns(values, 2, {"throughput_kbps": [1.5, 17 / 3]})
    assert got["throughput_kbps_median_user"].tolist() == [3.0, 3.0]
    assert got["throughput_kbps_vs_median"].tolist() == pytest.approx([0.5, 17 / 9])
    # 1.5: above 1 user of 5, below 4; 5.67: above 4, below 1
    assert got["throughput_kbps_above_share"].tolist() == [0.2, 0.8]
    assert got["throughput_kbps_below_share"].tolist() == [0.8, 0.2]
    assert got["throughput_kbps_rank_word"].tolist() == ["the lowest", "the highest"]
    text = describe_relative(got.iloc[1], ["throughput_kbps"], 2, "good experience")
    assert text == ("good experience: throughput 1.89x the median user (above 80% of users; "
                    "the highest of the 2 clusters)")
    assert "below 80% of users; the lowest" in describe_relative(
        got.iloc[0], ["throughput_kbps"], 2, "poor")


def test_clusters_that_differ_never_read_the_same():
    rng = np.random.default_rng(3)
    values = {m: rng.lognormal(size=300) for m in ("rtt_ms", "throughput_kbps")}
    labels = rng.integers(0, 3, 300)
    clusters = pd.DataFrame({f"{m}_mean": [v[labels == c].mean() for c in range(3)]
                             for m, v in values.items()})
    out = with_relative_description(clusters, values, 3, ["c0", "c1", "c2"])
    bodies = [d.split(": ", 1)[1] for d in out["relative_description"]]
    assert len(set(bodies)) == 3
    for metric in values:  # the place words alone tell the clusters apart
        assert out[f"{metric}_rank_word"].nunique() == 3


def test_shares_never_round_to_0_or_100_percent():
    assert share_text(0.99996) == "99.996%" and share_text(0.00001) == "0.001%"
    assert share_text(1.0) == "100%" and share_text(0.0) == "0%"
    assert share_text(0.43) == "43%" and share_text(0.05) == "5.0%"
    for x in np.linspace(1e-7, 1 - 1e-7, 997):
        assert share_text(x) not in ("0%", "100%", "0.00%", "100.0%")


def test_relative_columns_match_plain_pandas():
    rng = np.random.default_rng(8)
    column = pd.Series(np.round(rng.lognormal(size=1000), 1))  # ties, as per-user values have
    labels = rng.integers(0, 4, 1000)
    means = column.groupby(labels).mean()
    got = relative_columns({"rtt_ms": column.to_numpy()}, 4, {"rtt_ms": means.tolist()})
    for c, mean in means.items():
        row = got.iloc[c]
        assert row["rtt_ms_vs_median"] == pytest.approx(mean / column.median(), rel=1e-12)
        assert row["rtt_ms_above_share"] == (column < mean).mean()
        assert row["rtt_ms_below_share"] == (column > mean).mean()
