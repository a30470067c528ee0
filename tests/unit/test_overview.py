"""User overview / EDA tables (SPEC rules 5-7) and their narrative: hand-checked tiny data plus
cross-checks against plain numpy / scipy / scikit-learn computations on random data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from telco_analytics import schema
from telco_analytics.analysis.overview import (
    PCA_VARIABLES,
    app_correlation,
    app_totals,
    components_for,
    decile_data,
    decile_sizes,
    decile_table_all,
    duration_rank_order,
    keys_equal,
    keys_sorted,
    pca_table,
    reported_deciles,
    top_n_positions,
    univariate,
    variables_table,
)
from telco_analytics.errors import SchemaError
from telco_analytics.narrative.overview import is_router, overview_insights
from telco_analytics.narrative.records import Finding

APP_COLS = [f"{a}_bytes" for a in schema.APPS]


def random_users(n: int = 300, seed: int = 0, tie_durations: bool = False) -> pd.DataFrame:
    """A random per-user table with the SPEC columns; durations with many ties if asked."""
    rng = np.random.default_rng(seed)
    sessions = rng.integers(1, 8, n)
    df = pd.DataFrame(
        {
            "msisdn": [f"33{v:09d}" for v in rng.choice(10**9, n, replace=False)],
            "sessions": sessions.astype("int64"),
            "duration_ms": (
                rng.integers(0, 6, n) * 1000.0
                if tie_durations
                else sessions * rng.gamma(2.0, 4e7, n)
            ),
        }
    )
    for i, col in enumerate(APP_COLS):
        df[col] = sessions * rng.gamma(1.0 + i, 1e6 * (i + 1), n)
    app_sum = df[APP_COLS].sum(axis=1)
    # noisy DL/UL so that no PCA component has exactly zero variance
    df["dl_bytes"] = app_sum * rng.uniform(0.8, 0.95, n)
    df["ul_bytes"] = app_sum * 0.05 + rng.gamma(2.0, 1e5, n)
    df["total_bytes"] = df["dl_bytes"] + df["ul_bytes"]
    return df[schema.USER_OVERVIEW_COLUMNS]


# ---------------------------------------------------------------- app_totals


def test_app_totals_by_hand():
    df = random_users(3, seed=1)
    df[APP_COLS] = 0.0
    df["youtube_bytes"] = [10.0, 0.0, 5.0]
    df["gaming_bytes"] = [100.0, 1.0, 0.0]
    df["email_bytes"] = [1.0, 1.0, 1.0]
    t = app_totals(df)
    assert list(t.columns[:3]) == ["app", "bytes", "users"]
    assert list(t["app"][:3]) == ["gaming", "youtube", "email"]
    assert list(t["bytes"][:3]) == [101.0, 15.0, 3.0]
    assert list(t["users"][:3]) == [2, 2, 3]
    # zero-byte apps: 0 users, ties broken by app name
    assert list(t["users"][3:]) == [0, 0, 0, 0]
    assert list(t["app"][3:]) == sorted(["social_media", "google", "netflix", "other"])
    assert t["share"].sum() == pytest.approx(1.0)
    assert t.loc[0, "share"] == pytest.approx(101 / 119)


def test_app_totals_matches_plain_pandas():
    df = random_users(500, seed=2)
    df.loc[df.index[:40], "email_bytes"] = 0.0
    t = app_totals(df).set_index("app")
    for app in schema.APPS:
        col = df[f"{app}_bytes"]
        assert t.loc[app, "bytes"] == pytest.approx(float(np.sum(col.to_numpy())), rel=1e-12)
        assert t.loc[app, "users"] == int(np.count_nonzero(col.to_numpy() > 0))
    assert t["bytes"].is_monotonic_decreasing


def test_missing_column_is_a_schema_error():
    with pytest.raises(SchemaError, match="youtube_bytes"):
        app_totals(random_users(5).drop(columns="youtube_bytes"))


# ---------------------------------------------------------------- variables


def test_variables_table_covers_every_schema_column():
    missing = {c.name: 0 for c in schema.COLUMNS}
    missing["msisdn"] = 3
    missing["avg_rtt_dl_ms"] = 50
    del missing["duration_s"]  # as if the input had only one duration column
    t = variables_table(missing, n_rows=200)
    assert list(t["column"]) == [c.raw for c in schema.COLUMNS]
    assert list(t["name"]) == list(schema.NAMES)
    assert {"column", "dtype", "kind", "description", "missing"} <= set(t.columns)
    row = t.set_index("name")
    assert row.loc["msisdn", "missing"] == 3 and row.loc["msisdn", "missing_pct"] == 1.5
    assert row.loc["avg_rtt_dl_ms", "missing_pct"] == 25.0
    assert row.loc["avg_rtt_dl_ms", "column"] == "Avg RTT DL (ms)"
    assert row.loc["msisdn", "kind"] == "id"
    assert pd.isna(row.loc["duration_s", "missing"]) and not row.loc["duration_s", "present"]
    assert row.loc["start_time", "missing"] == 0 and row.loc["start_time", "present"]


# ---------------------------------------------------------------- univariate


def test_univariate_by_hand_on_four_users():
    df = random_users(4, seed=3)
    df["sessions"] = [1, 2, 3, 4]
    df["duration_ms"] = [0.0, 0.0, 0.0, 4.0]
    t = univariate(df).set_index("variable")
    assert list(t.index) == schema.USER_OVERVIEW_COLUMNS[1:]
    s = t.loc["sessions"]
    assert s["count"] == 4 and s["mean"] == 2.5 and s["median"] == 2.5
    assert s["var"] == pytest.approx(5 / 3) and s["std"] == pytest.approx(math.sqrt(5 / 3))
    assert (s["min"], s["q1"], s["q3"], s["max"]) == (1, 1.75, 3.25, 4)
    assert s["iqr"] == 1.5 and s["range"] == 3
    assert s["skew"] == pytest.approx(0.0, abs=1e-12)
    assert s["kurtosis"] == pytest.approx(-1.2)
    assert s["cv"] == pytest.approx(math.sqrt(5 / 3) / 2.5)
    d = t.loc["duration_ms"]
    # mean 1, sample var 12/3 = 4, q3 at position 2.25 -> 0 + 0.25 * 4 = 1
    assert (d["mean"], d["median"], d["var"], d["std"]) == (1, 0, 4, 2)
    assert (d["q1"], d["q3"], d["iqr"], d["range"], d["cv"]) == (0, 1, 1, 4, 2)
    # G1 = sqrt(n(n-1))/(n-2) * m3/m2^1.5 with m2 = 3, m3 = 6 -> 2; G2 = 4 likewise
    assert d["skew"] == pytest.approx(2.0) and d["kurtosis"] == pytest.approx(4.0)


def test_univariate_matches_numpy_and_scipy():
    df = random_users(400, seed=4)
    t = univariate(df).set_index("variable")
    assert list(t.columns) == [
        "count",
        "mean",
        "median",
        "std",
        "var",
        "min",
        "q1",
        "q3",
        "iqr",
        "max",
        "range",
        "skew",
        "kurtosis",
        "cv",
    ]
    for col in schema.USER_OVERVIEW_COLUMNS[1:]:
        x = df[col].to_numpy(dtype=float)
        q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
        expected = {
            "count": len(x),
            "mean": x.mean(),
            "median": med,
            "std": x.std(ddof=1),
            "var": x.var(ddof=1),
            "min": x.min(),
            "q1": q1,
            "q3": q3,
            "iqr": q3 - q1,
            "max": x.max(),
            "range": x.max() - x.min(),
            "skew": stats.skew(x, bias=False),
            "kurtosis": stats.kurtosis(x, fisher=True, bias=False),
            "cv": x.std(ddof=1) / x.mean(),
        }
        for stat, value in expected.items():
            assert t.loc[col, stat] == pytest.approx(value, rel=1e-9), (col, stat)


def test_univariate_ignores_missing_values_and_zero_mean_cv_is_nan():
    df = random_users(5, seed=5)
    df["duration_ms"] = [1.0, np.nan, 3.0, np.nan, 5.0]
    df["ul_bytes"] = 0.0
    t = univariate(df).set_index("variable")
    assert t.loc["duration_ms", "count"] == 3 and t.loc["duration_ms", "mean"] == 3.0
    assert np.isnan(t.loc["ul_bytes", "cv"])


# ---------------------------------------------------------------- deciles


def _hand_users() -> pd.DataFrame:
    """23 users: durations 230, 220, 210, 210 (tie, 'u-a' < 'u-b'), 190, 180, ..., 10."""
    durations = [230, 220, 210] + [210] + [230 - 10 * r for r in range(4, 23)]
    names = [f"u{r:02d}" for r in range(23)]
    names[2], names[3] = "u-a", "u-b"  # the tie straddles the decile 1/2 boundary
    df = random_users(23, seed=6)
    df["msisdn"] = names
    df["duration_ms"] = [float(d) for d in durations]
    df["total_bytes"] = 1.0
    df.loc[2, "total_bytes"] = 100.0  # u-a: ranks before u-b, so in decile 1
    df.loc[3, "total_bytes"] = 1000.0  # u-b: decile 2
    # reverse the row order: the result must not depend on it
    return df.iloc[::-1].reset_index(drop=True)


def test_decile_data_by_hand_23_users_with_tie():
    t = decile_data(_hand_users())
    assert list(t.columns[:5]) == [
        "decile",
        "users",
        "min_duration_ms",
        "max_duration_ms",
        "total_bytes",
    ]
    assert list(t["decile"]) == [1, 2, 3, 4, 5]
    # 23 = 10 * 2 + 3: the first three deciles get 3 users, the rest 2
    assert list(t["users"]) == [3, 3, 3, 2, 2]
    assert list(t["total_bytes"]) == [102.0, 1002.0, 3.0, 2.0, 2.0]
    assert list(t["max_duration_ms"]) == [230, 210, 170, 140, 120]
    assert list(t["min_duration_ms"]) == [210, 180, 150, 130, 110]
    assert t.loc[0, "users_share"] == pytest.approx(3 / 23)
    # 21 users with 1 byte, u-a 100, u-b 1000
    assert t.loc[0, "total_bytes_share"] == pytest.approx(102 / 1121)


def test_reported_deciles_are_the_first_five_rows_of_all_ten():
    """The decile_data node: deciles 1-5 of decile_data_all, users ranked once."""
    every = decile_table_all(_hand_users())
    head = reported_deciles(every)
    assert list(head["decile"]) == [1, 2, 3, 4, 5]
    assert list(head["users"]) == [3, 3, 3, 2, 2]  # 23 users: see the hand-checked test above
    pd.testing.assert_frame_equal(head, decile_data(_hand_users()), check_exact=True)
    pd.testing.assert_frame_equal(head, every.iloc[:5], check_exact=True)
    three = decile_table_all(_hand_users().iloc[:3])  # fewer than five deciles: all of them
    pd.testing.assert_frame_equal(reported_deciles(three), three, check_exact=True)


def test_decile_table_all_has_every_user_once():
    t = decile_table_all(_hand_users())
    assert list(t["decile"]) == list(range(1, 11))
    assert t["users"].sum() == 23 and t["total_bytes"].sum() == 1121.0
    assert list(decile_sizes(23)) == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    assert list(decile_sizes(30)) == [3] * 10


def test_deciles_with_fewer_than_ten_users_omit_empty_deciles():
    df = random_users(3, seed=7)
    df["duration_ms"] = [5.0, 9.0, 7.0]
    df["total_bytes"] = [1.0, 2.0, 4.0]
    t = decile_data(df)
    assert list(t["decile"]) == [1, 2, 3]
    assert list(t["users"]) == [1, 1, 1]
    assert list(t["total_bytes"]) == [2.0, 4.0, 1.0]
    assert len(decile_data(df.iloc[:0])) == 0


def test_missing_durations_rank_last():
    df = random_users(3, seed=13)
    df["msisdn"] = ["a", "c", "b"]
    df["duration_ms"] = [np.nan, 5.0, 5.0]
    df["total_bytes"] = [1.0, 10.0, 100.0]
    t = decile_table_all(df)
    # b (100) then c (10) tie on 5 ms, a (missing) last
    assert list(t["total_bytes"]) == [100.0, 10.0, 1.0]


@pytest.mark.parametrize("n, ties", [(137, False), (250, True), (10, True), (7, False)])
def test_deciles_match_reference(n, ties):
    df = random_users(n, seed=n, tie_durations=ties)
    # reference: Python sort on (-duration, msisdn), then walk the SPEC group sizes
    order = sorted(range(n), key=lambda i: (-df["duration_ms"][i], df["msisdn"][i]))
    base, extra = divmod(n, 10)
    sizes = [base + 1 if d < extra else base for d in range(10)]
    expected, start = [], 0
    for d, size in enumerate(sizes, start=1):
        members = order[start : start + size]
        start += size
        if d <= 5 and members:
            dur = [df["duration_ms"][i] for i in members]
            expected.append(
                (d, len(members), min(dur), max(dur), sum(df["total_bytes"][i] for i in members))
            )
    t = decile_data(df)
    assert len(t) == len(expected)
    for row, (d, users, lo, hi, total) in zip(t.itertuples(), expected, strict=True):
        assert (row.decile, row.users, row.min_duration_ms, row.max_duration_ms) == (
            d,
            users,
            lo,
            hi,
        )
        assert row.total_bytes == pytest.approx(total, rel=1e-12)


def test_deciles_same_on_sorted_and_unsorted_tables_with_ties():
    df = random_users(400, seed=21, tie_durations=True)
    ordered = df.sort_values("msisdn").reset_index(drop=True)
    shuffled = df.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(
        decile_table_all(ordered), decile_table_all(shuffled), check_exact=True
    )
    # the rank order itself: (-duration, msisdn) for both
    for table in (ordered, shuffled):
        ranked = table["msisdn"].to_numpy()[duration_rank_order(table)]
        expected = table.sort_values(["duration_ms", "msisdn"], ascending=[False, True])
        assert ranked.tolist() == expected["msisdn"].tolist()


# ---------------------------------------------------------------- key helpers and top n


def test_keys_sorted_and_equal():
    s = pd.Series(["336001", "336002", "336002", "336010"], dtype="str")
    assert keys_sorted(s)
    assert not keys_sorted(s.iloc[::-1])
    assert not keys_sorted(pd.Series(["1", None, "2"], dtype="str"))
    assert keys_sorted(pd.Series([], dtype="str")) and keys_sorted(s.iloc[:1])
    assert keys_sorted(pd.Series(["a", "b"], dtype=object))
    other = pd.Series(s.tolist(), index=[9, 8, 7, 6], dtype="str")  # index is ignored
    assert keys_equal(s, other)
    assert keys_equal(s, pd.Series(s.tolist(), dtype=object))
    assert not keys_equal(s, s.iloc[:3])
    assert not keys_equal(s, pd.Series(["336001", "336002", "336003", "336010"], dtype="str"))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("largest", [True, False])
def test_top_n_positions_matches_a_full_two_key_sort(seed, largest):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    values = rng.integers(0, 6, n).astype("float64")  # many ties
    values[rng.random(n) < 0.1] = np.nan
    keys = pd.Series([f"k{i:03d}" for i in rng.permutation(n)], dtype="str")
    frame = pd.DataFrame({"v": values, "k": keys, "pos": np.arange(n)}).dropna()
    expected = frame.sort_values(["v", "k"], ascending=[not largest, True])["pos"].to_numpy()
    for top in (1, 3, 10, 100):
        got = top_n_positions(values, keys, top, largest=largest)
        np.testing.assert_array_equal(got, expected[:top])
        # the same on the table sorted by key (the fast path: no key is compared)
        order = np.argsort(keys.to_numpy(), kind="stable")
        got_sorted = top_n_positions(values[order], keys.iloc[order], top, largest=largest)
        np.testing.assert_array_equal(order[got_sorted], expected[:top])


def test_top_n_positions_edge_cases():
    keys = pd.Series(["a", "b", "c"], dtype="str")
    assert top_n_positions(np.array([np.nan] * 3), keys, 2).size == 0
    assert top_n_positions(np.array([1.0, 2.0, 3.0]), keys, 0).size == 0
    np.testing.assert_array_equal(top_n_positions(np.array([1.0, 3.0, 2.0]), keys, 5), [1, 2, 0])


# ---------------------------------------------------------------- correlation and PCA


def test_app_correlation_matches_numpy():
    df = random_users(300, seed=8)
    t = app_correlation(df)
    assert list(t.columns) == ["app", *schema.APPS]
    assert list(t["app"]) == list(schema.APPS)
    expected = np.corrcoef(df[APP_COLS].to_numpy(dtype=float), rowvar=False)
    np.testing.assert_allclose(t[list(schema.APPS)].to_numpy(), expected, rtol=1e-10, atol=1e-12)


def test_app_correlation_by_hand():
    df = random_users(3, seed=9)
    df["social_media_bytes"] = [1.0, 2.0, 3.0]
    df["google_bytes"] = [6.0, 4.0, 2.0]  # exactly anti-linear
    t = app_correlation(df).set_index("app")
    assert t.loc["social_media", "google"] == pytest.approx(-1.0)
    assert t.loc["google", "google"] == pytest.approx(1.0)


def test_pca_matches_eigendecomposition():
    df = random_users(400, seed=10)
    t = pca_table(df)
    assert list(t.columns[:3]) == ["component", "explained_variance_ratio", "cumulative_ratio"]
    assert list(t.columns[-9:]) == [*APP_COLS, "dl_bytes", "ul_bytes"] == PCA_VARIABLES
    assert list(t["component"]) == list(range(1, 10))
    x = df[PCA_VARIABLES].to_numpy(dtype=float)
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=0)  # population std, as StandardScaler
    eigval, eigvec = np.linalg.eigh(np.cov(z, rowvar=False))
    idx = np.argsort(eigval)[::-1]
    eigval, eigvec = eigval[idx], eigvec[:, idx].T
    np.testing.assert_allclose(t["explained_variance_ratio"], eigval / eigval.sum(), rtol=1e-8)
    np.testing.assert_allclose(t["cumulative_ratio"], np.cumsum(eigval) / eigval.sum(), rtol=1e-8)
    loadings = t[PCA_VARIABLES].to_numpy()
    for got, vec in zip(loadings, eigvec, strict=True):
        # sign convention: the largest-absolute loading is positive
        vec = vec * np.sign(vec[np.argmax(np.abs(vec))])
        np.testing.assert_allclose(got, vec, atol=1e-7)
        assert got[np.argmax(np.abs(got))] > 0


def test_correlation_and_pca_from_chunked_gram_equal_the_in_memory_ones(monkeypatch):
    """Beyond IN_MEMORY_ROWS users both come from a chunked Gram matrix: same numbers."""
    from telco_analytics.analysis import overview

    df = random_users(1_000, seed=13)
    df["email_bytes"] = df["email_bytes"] * 1e6  # very different scales across columns
    exact_corr, exact_pca = app_correlation(df), pca_table(df)
    monkeypatch.setattr(overview, "IN_MEMORY_ROWS", 10)
    monkeypatch.setattr(overview, "GRAM_CHUNK_ROWS", 64)  # 16 chunks, the last one partial
    chunked_corr, chunked_pca = app_correlation(df), pca_table(df)
    np.testing.assert_allclose(chunked_corr[list(schema.APPS)], exact_corr[list(schema.APPS)],
                               rtol=1e-12, atol=1e-13)
    numbers = ["explained_variance_ratio", "cumulative_ratio", "explained_variance"]
    np.testing.assert_allclose(chunked_pca[numbers], exact_pca[numbers], rtol=1e-10)
    np.testing.assert_allclose(chunked_pca[PCA_VARIABLES], exact_pca[PCA_VARIABLES], atol=1e-9)


def test_chunked_correlation_of_a_constant_column_is_nan_as_pandas(monkeypatch):
    from telco_analytics.analysis import overview

    df = random_users(100, seed=14)
    df["netflix_bytes"] = 5.0
    monkeypatch.setattr(overview, "IN_MEMORY_ROWS", 10)
    got = app_correlation(df).set_index("app")
    want = df[APP_COLS].corr()
    assert np.isnan(got.loc["netflix", "google"]) and np.isnan(want.loc["netflix_bytes", "google_bytes"])
    assert np.isnan(got.loc["netflix", "netflix"]) == np.isnan(want.loc["netflix_bytes", "netflix_bytes"])
    assert got.loc["google", "google"] == 1.0


def test_centered_gram_by_hand():
    from telco_analytics.analysis.overview import centered_gram

    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 2.0, 5.0]})
    gram, means, n = centered_gram(df, ["a", "b"], chunk_rows=2)
    # a - 2 = (-1, 0, 1); b - 3 = (-1, -1, 2)
    np.testing.assert_allclose(means, [2.0, 3.0])
    np.testing.assert_allclose(gram, [[2.0, 3.0], [3.0, 6.0]])
    assert n == 3


def test_pca_is_reproducible_and_order_free():
    df = random_users(200, seed=11)
    a = pca_table(df)
    b = pca_table(df.sample(frac=1.0, random_state=1))
    np.testing.assert_allclose(a[PCA_VARIABLES], b[PCA_VARIABLES], atol=1e-9)
    assert components_for(a, 1.0) <= 9
    assert components_for(a, 0.0) == 1


def test_tables_do_not_mutate_input():
    df = random_users(50, seed=12)
    before = df.copy()
    for fn in (app_totals, univariate, decile_data, decile_table_all, app_correlation, pca_table):
        fn(df)
    pd.testing.assert_frame_equal(df, before)


# ---------------------------------------------------------------- narrative


def _handset_tables(top: str, sessions: list[int]) -> dict[str, pd.DataFrame]:
    names = [top, "Apple iPhone 6S (A1688)", "Samsung Galaxy S8 (Sm-G950F)"]
    makers = [top.split()[0], "Apple", "Samsung"]
    h = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "handset": names,
            "manufacturer": makers,
            "sessions": sessions,
            "users": [s // 2 for s in sessions],
        }
    )
    m = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "manufacturer": ["Apple", "Samsung", makers[0]],
            "sessions": [3 * sessions[1], 3 * sessions[2], 2 * sessions[2]],
            "users": [300, 200, 150],
        }
    )
    per = pd.DataFrame(
        {
            "manufacturer": ["Apple", "Apple", "Samsung", makers[0]],
            "rank": [1, 2, 1, 1],
            "handset": ["Apple iPhone 6S (A1688)", "Apple iPhone 7", names[2], top],
            "sessions": [100, 90, 80, sessions[0]],
            "users": [50, 45, 40, 30],
        }
    )
    return {"handsets_top10": h, "manufacturers_top3": m, "handsets_top5_per_manufacturer": per}


def _all_tables(seed: int, top: str = "Huawei B528S-23A") -> dict[str, pd.DataFrame]:
    users = random_users(300, seed=seed)
    tables = {
        "user_overview": users,
        "app_totals": app_totals(users),
        "decile_data": decile_data(users),
        "app_correlation": app_correlation(users),
        "pca": pca_table(users),
        "univariate": univariate(users),
    }
    tables.update(_handset_tables(top, [200, 100, 50]))
    return tables


def test_router_detection():
    for name in (
        "Huawei B528S-23A",
        "Huawei B315S-22",
        "Huawei E5180",
        "Huawei E5573",
        "ZTE MF920",
        "TP-Link 4G LTE Router",
        "Netgear Mifi 7000",
    ):
        assert is_router(name), name
    for name in (
        "Apple iPhone 6S (A1688)",
        "Samsung Galaxy S8 (Sm-G950F)",
        "Samsung Sm-B310E",
        "Huawei P20 Lite",
        "Samsung Galaxy A5 Sm-A520F",
    ):
        assert not is_router(name), name


def test_insights_are_written_from_the_numbers():
    router = overview_insights(_all_tables(seed=1))
    phone_tables = _all_tables(seed=2, top="Xiaomi Redmi Note 5")
    phone_tables.update(_handset_tables("Xiaomi Redmi Note 5", [300, 120, 90]))
    phone = overview_insights(phone_tables)
    assert all(isinstance(i, Finding) for i in router)
    assert 1 <= sum(i.priority == 1 for i in router) <= 2
    texts = {i.text for i in router}
    # every finding whose numbers differ changes (PCA component counts may coincide)
    shared = texts & {i.text for i in phone}
    assert all("principal components keep" in t for t in shared), shared
    top_router, top_phone = router[0].text, phone[0].text
    assert "router" in top_router and "Huawei B528S-23A" in top_router and "200" in top_router
    assert "router" not in top_phone and "Xiaomi Redmi Note 5" in top_phone
    # the recommendation is the finding's action, a sentence that names its subject
    assert "home-internet plans" in router[0].action and "plans" not in top_router
    assert "Huawei B528S-23A owners" in router[0].action
    assert phone[0].action.startswith("Device-specific offers")
    assert "the Xiaomi Redmi Note 5" in phone[0].action
    # the app finding names the biggest named apps and their share of the classified traffic;
    # "Other" is unclassified, never one of them
    totals = _all_tables(seed=1)["app_totals"]
    app = next(i for i in router if i.topic == "overview.app_traffic")
    named = totals[totals["app"] != "other"].sort_values("bytes", ascending=False)
    share = named["bytes"].iloc[:2].sum() / named["bytes"].sum()
    assert f"{100 * share:.0f}%" in app.text and "'Other'" in app.text
    assert "other" not in app.numbers["top_apps"] and "Other" not in app.action
    # the decile finding reports decile 1's share of traffic
    d1 = _all_tables(seed=1)["decile_data"].iloc[0]
    decile_text = next(i.text for i in router if i.topic == "overview.duration_deciles")
    assert f"{100 * d1['total_bytes_share']:.0f}%" in decile_text
    # at most four PCA findings
    assert sum(i.topic.startswith("overview.pca") for i in router) <= 4


def test_insights_skip_missing_tables():
    assert overview_insights({}) == []
    only_apps = overview_insights({"app_totals": app_totals(random_users(20))})
    assert [i.topic for i in only_apps] == ["overview.app_traffic"]
    empty = {
        "handsets_top10": pd.DataFrame(
            columns=["rank", "handset", "manufacturer", "sessions", "users"]
        )
    }
    assert overview_insights(empty) == []


def test_keys_sorted_strict():
    s = pd.Series(["1", "2", "2", "3"], dtype="str")
    assert keys_sorted(s) and not keys_sorted(s, strict=True)
    assert keys_sorted(s.drop_duplicates(), strict=True)
