"""Experience analysis (SPEC rule 9): hand-checked tiny data and a plain pandas/sklearn reference."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from telco_analytics import schema
from telco_analytics.analysis.experience import (
    experience_analysis,
    experience_model,
    experience_tables,
    per_handset,
)
from telco_analytics.config import AnalysisParams
from telco_analytics.errors import ConfigError, SchemaError

METRICS = schema.EXPERIENCE_METRICS  # tcp_retrans_bytes, rtt_ms, throughput_kbps
CONFIG = AnalysisParams(kmeans_n_init=10, random_state=42, handset_min_users=2)


def _users(tcp, rtt, tp, handset, msisdn=None) -> pd.DataFrame:
    n = len(tcp)
    return pd.DataFrame(
        {
            "msisdn": msisdn if msisdn is not None else [f"3361{i:07d}" for i in range(n)],
            "tcp_retrans_bytes": np.asarray(tcp, dtype="float64"),
            "rtt_ms": np.asarray(rtt, dtype="float64"),
            "throughput_kbps": np.asarray(tp, dtype="float64"),
            "handset": handset,
        }
    )


def _random_users(n: int = 600, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    handsets = np.array(["Apple iPhone 7", "Huawei B528S-23A", "Samsung Galaxy S8", "Tiny Phone",
                         "unknown"])
    df = _users(
        # a third of the users share one value (as the cleaning replacement would make them)
        np.where(rng.random(n) < 0.3, 2.1e6, rng.lognormal(13, 1.5, n).round()),
        np.where(rng.random(n) < 0.2, 55.0, rng.lognormal(4, 0.5, n).round(1)),
        rng.lognormal(9, 1.0, n).round(),
        rng.choice(handsets, n, p=[0.3, 0.3, 0.2, 0.02, 0.18]),
        msisdn=[f"3366{i:07d}" for i in rng.permutation(n)],
    )
    return df


def test_worst_cluster_is_direction_aware_not_largest_norm():
    # A (2 users): huge throughput, low latency/retransmission -> the BEST experience, but its
    # centroid is the farthest from the origin. B (6 users): higher latency and retransmission,
    # slightly low throughput -> the worst. C (4 users): low latency, low-ish throughput.
    # z-scores by hand: rtt and tcp are B=+1, A=C=-1; throughput A=+2.23, B=-0.48, C=-0.40.
    # badness = z_rtt + z_tcp - z_tp: A=-4.23, B=+2.48, C=-1.60 -> B=0, C=1, A=2.
    # norms: A=2.65, B=1.49, C=1.47 -> "largest norm = worst" would wrongly pick A.
    df = _users(
        tcp=[1_000] * 2 + [1_500] * 6 + [1_000] * 4,
        rtt=[30] * 2 + [40] * 6 + [30] * 4,
        tp=[100_000] * 2 + [5_000] * 6 + [8_000] * 4,
        handset=["Apple iPhone 7"] * 2 + ["Samsung Galaxy S8"] * 6 + ["Huawei B528S-23A"] * 4,
    )
    result = experience_analysis(df, CONFIG)
    users = result.tables["experience_users"]
    assert list(users.columns) == ["msisdn", *METRICS, "handset", "cluster"]
    assert users["cluster"].tolist() == [2] * 2 + [0] * 6 + [1] * 4
    centres = result.models["experience"].named_steps["kmeans"].cluster_centers_
    assert int(np.argmax(np.linalg.norm(centres, axis=1))) == 2  # the naive rule's "worst"
    clusters = result.tables["experience_clusters"]
    assert clusters["users"].tolist() == [6, 4, 2]
    assert clusters["rtt_ms_mean"].tolist() == [40, 30, 30]
    assert clusters["throughput_kbps_mean"].tolist() == [5_000, 8_000, 100_000]
    np.testing.assert_allclose(clusters["z_rtt_ms"], [1, -1, -1])
    desc = clusters["description"].tolist()
    assert desc[0].startswith("poor: high latency, heavy retransmission")
    assert "Samsung Galaxy S8 (100% of users)" in desc[0]
    assert desc[2].startswith("good: low latency, light retransmission, high throughput")
    assert clusters["top_handset"].tolist() == ["Samsung Galaxy S8", "Huawei B528S-23A",
                                                "Apple iPhone 7"]


def test_experience_values_distinct_with_counts_by_hand():
    df = _users(
        tcp=[5, 5, 5, 1, 9, 9],
        rtt=[2, 2, 7, 7, 3, 4],
        tp=[1, 2, 3, 4, 5, 6],
        handset=["unknown"] * 6,
    )
    values = experience_analysis(df, CONFIG).tables["experience_values"]
    assert list(values.columns) == ["metric", "kind", "rank", "value", "count"]

    def pick(metric, kind):
        v = values[(values["metric"] == metric) & (values["kind"] == kind)]
        assert v["rank"].tolist() == list(range(1, len(v) + 1))
        return list(zip(v["value"], v["count"]))

    assert pick("tcp_retrans_bytes", "top") == [(9, 2), (5, 3), (1, 1)]
    assert pick("tcp_retrans_bytes", "bottom") == [(1, 1), (5, 3), (9, 2)]
    assert pick("tcp_retrans_bytes", "frequent") == [(5, 3), (9, 2), (1, 1)]
    # count ties: value ascending
    assert pick("rtt_ms", "frequent") == [(2, 2), (7, 2), (3, 1), (4, 1)]
    assert pick("throughput_kbps", "top")[0] == (6, 1)


def test_per_handset_tables_by_hand():
    df = _users(
        tcp=[100, 200, 300, 400, 1_000, 3_000, 7, 7, 7, 7],
        rtt=[10] * 10,
        tp=[10, 20, 30, 40, 100, 200, 1, 2, 3, 4],
        handset=["X"] * 4 + ["Y"] * 2 + ["unknown", "undefined", "unknown", "unknown"],
    )
    tp = experience_analysis(df, CONFIG).tables["throughput_per_handset"]
    assert list(tp.columns) == ["handset", "users", "mean", "median", "p25", "p75"]
    assert tp["handset"].tolist() == ["X", "Y"]  # unknown/undefined excluded, users desc
    assert tp["users"].tolist() == [4, 2]
    # X: 10,20,30,40 -> mean 25, median 25, p25 = 10 + 0.75*10 = 17.5, p75 = 32.5
    assert tp.iloc[0][["mean", "median", "p25", "p75"]].tolist() == [25, 25, 17.5, 32.5]
    # Y: 100,200 -> p25 = 125, p75 = 175
    assert tp.iloc[1][["mean", "median", "p25", "p75"]].tolist() == [150, 150, 125, 175]

    config3 = AnalysisParams(kmeans_n_init=10, random_state=42, handset_min_users=3)
    tcp = experience_analysis(df, config3).tables["tcp_per_handset"]
    assert list(tcp.columns) == ["handset", "users", "mean", "median"]
    assert tcp["handset"].tolist() == ["X"]  # Y has only 2 users
    assert tcp.iloc[0][["mean", "median"]].tolist() == [250, 250]


def _reference(df: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """SPEC rule 9 written plainly: z-scores, k-means, cluster 0 = largest z_rtt + z_tcp - z_tp."""
    users = df.sort_values("msisdn").reset_index(drop=True)
    Z = StandardScaler().fit_transform(users[METRICS].to_numpy(dtype=float))
    km = KMeans(n_clusters=k, init="k-means++", n_init=10, random_state=42).fit(Z)
    c = pd.DataFrame(km.cluster_centers_, columns=METRICS)
    bad = c["rtt_ms"] + c["tcp_retrans_bytes"] - c["throughput_kbps"]
    order = np.argsort(-bad.to_numpy())
    relabel = {old: new for new, old in enumerate(order)}
    users["cluster"] = [relabel[v] for v in km.labels_]
    return users


def test_experience_matches_plain_pandas_sklearn_reference():
    df = _random_users()
    result = experience_analysis(df, CONFIG)
    ref = _reference(df)
    got = result.tables["experience_users"]
    assert got["msisdn"].tolist() == ref["msisdn"].tolist()
    np.testing.assert_array_equal(got["cluster"], ref["cluster"])

    clusters = result.tables["experience_clusters"].set_index("cluster")
    ref_means = ref.groupby("cluster")[METRICS].mean()
    for m in METRICS:
        np.testing.assert_allclose(clusters[f"{m}_mean"], ref_means[m])
    np.testing.assert_array_equal(clusters["users"], ref["cluster"].value_counts().sort_index())
    # worst first: badness decreasing with the label
    assert clusters["badness"].is_monotonic_decreasing

    # per-handset tables: known handsets with >= min users, linear quartiles
    known = ref[ref["handset"] != "unknown"]
    for table, metric in (("throughput_per_handset", "throughput_kbps"),
                          ("tcp_per_handset", "tcp_retrans_bytes")):
        got_t = result.tables[table].set_index("handset")
        groups = {h: g[metric].to_numpy() for h, g in known.groupby("handset")}
        assert set(got_t.index) == {h for h, v in groups.items() if len(v) >= 2}
        assert got_t["users"].is_monotonic_decreasing
        for h, v in groups.items():
            assert got_t.loc[h, "users"] == len(v)
            assert got_t.loc[h, "mean"] == pytest.approx(v.mean())
            assert got_t.loc[h, "median"] == pytest.approx(np.median(v))
            if "p25" in got_t.columns:
                assert got_t.loc[h, "p25"] == pytest.approx(np.percentile(v, 25))
                assert got_t.loc[h, "p75"] == pytest.approx(np.percentile(v, 75))

    # values: distinct values with user counts
    values = result.tables["experience_values"]
    for m in METRICS:
        counts = Counter(ref[m].tolist())
        distinct = sorted(counts)
        expected = {
            "top": [(v, counts[v]) for v in distinct[::-1][:10]],
            "bottom": [(v, counts[v]) for v in distinct[:10]],
            "frequent": sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[:10],
        }
        for kind, exp in expected.items():
            v = values[(values["metric"] == m) & (values["kind"] == kind)]
            assert list(zip(v["value"], v["count"])) == exp, (m, kind)
    freq = values[(values["metric"] == "tcp_retrans_bytes") & (values["kind"] == "frequent")]
    assert freq["value"].iloc[0] == 2.1e6 and freq["count"].iloc[0] > 100


def test_labels_do_not_depend_on_row_order():
    df = _random_users(seed=9)
    a = experience_analysis(df, CONFIG).tables["experience_users"].set_index("msisdn")
    shuffled = df.sample(frac=1.0, random_state=2).reset_index(drop=True)
    b = experience_analysis(shuffled, CONFIG).tables["experience_users"].set_index("msisdn")
    pd.testing.assert_series_equal(a["cluster"], b.loc[a.index, "cluster"])


def test_sampled_fit_assigns_every_user():
    config = AnalysisParams(kmeans_sample_threshold=100, kmeans_sample_size=80)
    result = experience_analysis(_random_users(n=300), config)
    users = result.tables["experience_users"]
    model = result.models["experience"]
    assert result.sampling == {"experience_kmeans": True}
    assert model.named_steps["kmeans"].n_fit_rows_ == 80
    assert len(users) == 300 and set(users["cluster"]) <= {0, 1, 2}
    np.testing.assert_array_equal(model.predict(users[METRICS]), users["cluster"])
    assert result.tables["experience_clusters"]["users"].sum() == 300


def test_bad_input_is_reported_and_input_not_mutated():
    df = _random_users(n=40)
    before = df.copy()
    experience_analysis(df, CONFIG)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(SchemaError, match="handset"):
        experience_analysis(df.drop(columns=["handset"]), CONFIG)


def _distinct_colours(png: bytes) -> int:
    import io

    import matplotlib.image as mpimg

    image = mpimg.imread(io.BytesIO(png), format="png")
    return len(np.unique(image.reshape(-1, image.shape[-1]), axis=0))


def test_experience_figures_render_non_blank_png():
    from telco_analytics.report.figures.experience import experience_figures
    from telco_analytics.report.render import chart_png

    tables = experience_analysis(_random_users(n=300), CONFIG).tables
    figures = experience_figures(tables)
    assert set(figures) == {"experience_throughput_per_handset", "experience_tcp_per_handset",
                            "experience_cluster_profile", "experience_scatter"}
    for name, chart in figures.items():
        assert _distinct_colours(chart_png(chart, scale=1.0)) > 1, name
    assert experience_figures({}) == {}


def test_experience_insights_are_written_from_the_numbers():
    from telco_analytics.narrative.experience import experience_insights

    df = _users(
        tcp=[1_000] * 2 + [1_500] * 6 + [1_000] * 4,
        rtt=[30] * 2 + [40] * 6 + [30] * 4,
        tp=[100_000] * 2 + [5_000] * 6 + [8_000] * 4,
        handset=["Apple iPhone 7"] * 2 + ["Samsung Galaxy S8"] * 6 + ["Huawei B528S-23A"] * 4,
    )
    insights = experience_insights(experience_analysis(df, CONFIG).tables)
    assert all(i.section == "experience" for i in insights)
    worst = insights[0]
    # worst cluster: the 6 Samsung users (50%), 40 ms and 5,000 kbps vs 30 ms, 100,000 kbps
    assert worst.text.startswith("50% of users (6)")
    assert "40.0 ms" in worst.text and "5,000 kbps" in worst.text
    assert "100,000 kbps" in worst.text
    # set apart by RTT (measured: no experience_measurement table says otherwise)
    assert worst.numbers["driver"] == "rtt_ms" and "set apart mainly by RTT" in worst.text
    # the recommendation is an action that names its subject, not part of the sentence
    assert "should" not in worst.text and "cells" in worst.action
    assert worst.action.endswith("the 6 users of the worst-experience cluster once those "
                                 "are fixed.")
    assert (worst.users_affected, worst.effect_size) == (6, pytest.approx(40 / 35 - 1))


def test_categorical_handsets_give_the_same_tables_as_text():
    """The pipeline hands the handset over as categorical codes (memory): same results."""
    rng = np.random.default_rng(1)
    n = 3000
    text = pd.DataFrame({
        "msisdn": [f"{i:08d}" for i in range(n)],
        "tcp_retrans_bytes": rng.lognormal(10, 2, n),
        "rtt_ms": rng.lognormal(3, 1, n),
        "throughput_kbps": rng.lognormal(8, 1, n),
        "handset": rng.choice(["Huawei B528S-23A", "Apple iPhone 6S", "undefined", "unknown",
                               "Samsung Galaxy S8"], n),
    })
    categorical = text.assign(handset=text["handset"].astype("category"))
    config = AnalysisParams(handset_min_users=10)
    a = experience_analysis(text, config).tables
    b = experience_analysis(categorical, config).tables
    for name, table in a.items():
        other = b[name]
        if "handset" in other:
            other = other.assign(handset=other["handset"].astype("str"))
        pd.testing.assert_frame_equal(table, other, check_dtype=False, obj=name)


@pytest.mark.parametrize("categorical", [False, True])
@pytest.mark.parametrize("rare_handsets", [0, 33_000])  # beyond 32,767 handset codes too
def test_per_handset_equals_pandas_groupby_with_missing_values_and_ties(categorical,
                                                                        rare_handsets):
    rng = np.random.default_rng(7)
    n = 3_000
    names = np.array([f"H{i:02d}" for i in range(40)] + ["unknown", "undefined"], dtype=object)
    handset = pd.Series(names[rng.integers(0, len(names), n)])
    rare = pd.Series([f"R{i:05d}" for i in range(rare_handsets)], dtype=object)
    handset = pd.concat([rare, handset], ignore_index=True)  # one user each, never reported
    n += rare_handsets
    values = np.round(rng.lognormal(3, 1.5, n))  # many ties
    values[rng.random(n) < 0.05] = np.nan
    users = pd.DataFrame({"handset": handset.astype("category") if categorical else handset,
                          "throughput_kbps": values})
    got = per_handset(users, "throughput_kbps", 60, quartiles=True).set_index("handset")

    known = pd.DataFrame({"handset": handset, "v": values})
    known = known[~known["handset"].isin(["unknown", "undefined"])]
    grouped = known.groupby("handset")["v"]
    sizes = grouped.size()
    kept = sizes[sizes >= 60].index
    assert set(got.index) == set(kept)
    assert list(got["users"]) == sorted(got["users"], reverse=True)
    np.testing.assert_array_equal(got["users"], sizes[got.index])
    np.testing.assert_allclose(got["mean"], grouped.mean()[got.index], rtol=1e-12)
    np.testing.assert_array_equal(got["median"], grouped.median()[got.index])
    np.testing.assert_array_equal(got["p25"], grouped.quantile(0.25)[got.index])
    np.testing.assert_array_equal(got["p75"], grouped.quantile(0.75)[got.index])


def test_per_handset_edge_cases_equal_pandas():
    # single-user handsets, a handset whose values are all missing, infinities, missing names
    users = pd.DataFrame({
        "handset": ["A", "B", "B", "C", "C", "D", "D", "D", None, "unknown"],
        "throughput_kbps": [5.0, np.nan, np.nan, -np.inf, 1.0, 2.0, np.inf, np.inf, 9.0, 9.0],
    })
    got = per_handset(users, "throughput_kbps", 1, quartiles=True).set_index("handset")
    grouped = users[users["handset"].isin(["A", "B", "C", "D"])].groupby("handset")
    values = grouped["throughput_kbps"]
    assert sorted(got.index) == ["A", "B", "C", "D"]
    np.testing.assert_array_equal(got["users"], grouped.size()[got.index])
    for column, expected in (("mean", values.mean()), ("median", values.median()),
                             ("p25", values.quantile(0.25)), ("p75", values.quantile(0.75))):
        np.testing.assert_array_equal(got[column], expected[got.index], err_msg=column)
    assert np.isnan(got.loc["B", "median"]) and got.loc["A", "p25"] == 5.0


def test_handset_min_users_must_be_positive():
    with pytest.raises(ConfigError, match="handset_min_users"):
        AnalysisParams(handset_min_users=0)


def test_nodes_give_the_analysis_tables():
    df = _random_users(n=300, seed=6)
    whole = experience_analysis(df, CONFIG)
    result = experience_tables(df, experience_model(df, CONFIG), CONFIG)
    for name, table in whole.tables.items():
        pd.testing.assert_frame_equal(result.tables[name], table, check_exact=True, obj=name)
    assert result.metrics == whole.metrics and set(result.models) == {"experience"}
