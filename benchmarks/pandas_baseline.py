"""The same analyses (SPEC section 4) in plain pandas + scikit-learn, the way notebook projects
on this dataset do them: one DataFrame in memory, raw column names, groupby per table.

Usage: .venv/bin/python benchmarks/pandas_baseline.py FILE [--elbow-n-init 3] [--json]

FILE is a raw extract (Parquet or CSV as `telco generate` writes it). Prints seconds per step
(the product's step names), the total and the peak RSS; on a MemoryError prints
"OUT OF MEMORY at step <name>" and exits 3. Independent of telco_analytics on purpose (a second
implementation of the definitions; tests/unit/test_pandas_baseline.py checks the per-user table
against the product's). Differences that are choices, not bugs: k-means and the elbow run on all
users (the product fits on a 1M-user sample beyond 1M users). Like the product, native thread
pools are limited to one thread by default (`--threads`): on this shared 2-core machine two
spinning OpenMP threads make k-means and the boosting 10-50x slower whenever another process
is busy, which would measure the neighbours, not pandas.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MSISDN, HANDSET, MAKER = "MSISDN/Number", "Handset Type", "Handset Manufacturer"
IDS = ["Bearer Id", "IMSI", MSISDN, "IMEI"]
TIMES = ["Start", "End"]
NOT_MEASURED = [*IDS, *TIMES, "Start ms", "End ms", "Last Location Name", HANDSET, MAKER]
APPS = {"social_media": "Social Media", "google": "Google", "email": "Email",
        "youtube": "Youtube", "netflix": "Netflix", "gaming": "Gaming", "other": "Other"}
APP_BYTES = [f"{a}_bytes" for a in APPS]
ENGAGEMENT = ["sessions", "duration_ms", "total_bytes"]
EXPERIENCE = ["tcp_retrans_bytes", "rtt_ms", "throughput_kbps"]
SEED, K, N_INIT = 42, 3, 10

TIMINGS: dict[str, float] = {}
CURRENT = {"step": "start"}


@contextmanager
def step(name: str):
    CURRENT["step"] = name
    t0 = time.perf_counter()
    yield
    TIMINGS[name] = round(time.perf_counter() - t0, 3)
    print(f"  {name:20s} {TIMINGS[name]:8.2f} s", flush=True)


# ------------------------------------------------------------------ load and clean


def load(path: str) -> pd.DataFrame:
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    # pandas renames the second "Dur. (ms)" header to "Dur. (ms).1" by itself
    return pd.read_csv(path, dtype={c: str for c in [*IDS, "Last Location Name"]},
                       na_values=["\\N"])


def drop_artifact(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The trailing artifact row has no timestamps and no ids (rule 1)."""
    artifact = df[TIMES + IDS].isna().all(axis=1)
    return df[~artifact].reset_index(drop=True), int(artifact.sum())


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """Rule 3, in place: per measurement column, fences from linear quartiles, missing and
    out-of-fence values replaced by the mean of the values inside the fences."""
    rows = []
    for col in [c for c in df.columns if c not in NOT_MEASURED]:
        s = df[col]
        q1, q3 = s.quantile([0.25, 0.75])
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        inside = s.between(lo, hi)  # False for NaN
        replacement = s[inside].mean()
        rows.append({"column": col, "missing": int(s.isna().sum()),
                     "outliers": int((s.notna() & ~inside).sum()), "lower_fence": lo,
                     "upper_fence": hi, "replacement": replacement})
        df[col] = s.where(inside, replacement)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ per-user tables


def user_table(df: pd.DataFrame) -> pd.DataFrame:
    """Rule 5: sessions, duration, DL, UL, total and per-app bytes per MSISDN (sorted)."""
    s = df[df[MSISDN].notna()]
    per = pd.DataFrame({"msisdn": s[MSISDN], "duration_ms": s["Dur. (ms).1"],
                        "dl_bytes": s["Total DL (Bytes)"], "ul_bytes": s["Total UL (Bytes)"]})
    for app, raw in APPS.items():
        per[f"{app}_bytes"] = s[f"{raw} DL (Bytes)"] + s[f"{raw} UL (Bytes)"]
    users = per.groupby("msisdn", sort=True).agg(
        sessions=("duration_ms", "size"), duration_ms=("duration_ms", "sum"),
        dl_bytes=("dl_bytes", "sum"), ul_bytes=("ul_bytes", "sum"),
        **{c: (c, "sum") for c in APP_BYTES})
    users["total_bytes"] = users["dl_bytes"] + users["ul_bytes"]
    users = users.reset_index()
    return users[["msisdn", "sessions", "duration_ms", "dl_bytes", "ul_bytes", "total_bytes",
                  *APP_BYTES]]


def known(values: pd.Series) -> pd.Series:
    return values.notna() & (values.str.strip().str.lower() != "undefined")


def user_handset(df: pd.DataFrame) -> pd.Series:
    """Rule 2: the mode of the user's known handsets, ties to the alphabetically first."""
    s = df[df[MSISDN].notna() & known(df[HANDSET])]
    counts = s.groupby([MSISDN, HANDSET]).size().reset_index(name="n")
    counts = counts.sort_values([MSISDN, "n", HANDSET], ascending=[True, False, True])
    return counts.drop_duplicates(MSISDN).set_index(MSISDN)[HANDSET]


def experience_table(df: pd.DataFrame) -> pd.DataFrame:
    """Rule 9: per-user means of TCP retrans (DL+UL), RTT (mean DL/UL), throughput (DL+UL)."""
    s = df[df[MSISDN].notna()]
    per = pd.DataFrame({
        "msisdn": s[MSISDN],
        "tcp_retrans_bytes": s["TCP DL Retrans. Vol (Bytes)"] + s["TCP UL Retrans. Vol (Bytes)"],
        "rtt_ms": (s["Avg RTT DL (ms)"] + s["Avg RTT UL (ms)"]) / 2,
        "throughput_kbps": s["Avg Bearer TP DL (kbps)"] + s["Avg Bearer TP UL (kbps)"],
    })
    users = per.groupby("msisdn", sort=True)[EXPERIENCE].mean()
    users["handset"] = user_handset(df).reindex(users.index).fillna("unknown")
    return users.reset_index()


def handsets(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Rule 2: rankings over sessions (ties by name), users = distinct MSISDN, unknown excluded."""
    kt, km = known(df[HANDSET]), known(df[MAKER])
    types = df[kt].groupby(HANDSET).agg(sessions=(HANDSET, "size"), users=(MSISDN, "nunique"))
    top10 = types.reset_index().sort_values(["sessions", HANDSET], ascending=[False, True]).head(10)
    maker_of = (df[kt & km].groupby([HANDSET, MAKER]).size().reset_index(name="n")
                .sort_values(["n", MAKER], ascending=[False, True]).drop_duplicates(HANDSET)
                .set_index(HANDSET)[MAKER])
    top10["manufacturer"] = top10[HANDSET].map(maker_of).fillna("unknown")
    makers = df[km].groupby(MAKER).agg(sessions=(MAKER, "size"), users=(MSISDN, "nunique"))
    top3 = makers.reset_index().sort_values(["sessions", MAKER], ascending=[False, True]).head(3)
    both = df[kt & km & df[MAKER].isin(top3[MAKER])]
    per = both.groupby([MAKER, HANDSET]).agg(sessions=(HANDSET, "size"),
                                             users=(MSISDN, "nunique")).reset_index()
    top5 = (per.sort_values([MAKER, "sessions", HANDSET], ascending=[True, False, True])
            .groupby(MAKER).head(5))
    return {"handsets_top10": top10, "manufacturers_top3": top3,
            "handsets_top5_per_manufacturer": top5}


# ------------------------------------------------------------------ analyses


def overview(users: pd.DataFrame) -> dict[str, pd.DataFrame]:
    num = users.drop(columns="msisdn").astype("float64")
    uni = num.describe().T
    uni["skew"], uni["kurtosis"] = num.skew(), num.kurt()
    ranked = users.sort_values(["duration_ms", "msisdn"], ascending=[False, True])
    base, extra = divmod(len(ranked), 10)
    sizes = [base + (1 if d < extra else 0) for d in range(10)]
    ranked["decile"] = np.repeat(np.arange(1, 11), sizes)
    deciles = ranked[ranked["decile"] <= 5].groupby("decile").agg(
        users=("msisdn", "size"), min_duration_ms=("duration_ms", "min"),
        max_duration_ms=("duration_ms", "max"), total_bytes=("total_bytes", "sum"))
    corr = users[APP_BYTES].corr()
    pca = PCA().fit(StandardScaler().fit_transform(users[[*APP_BYTES, "dl_bytes", "ul_bytes"]]))
    return {"univariate": uni, "decile_data": deciles, "app_correlation": corr,
            "pca": pd.DataFrame({"explained_variance_ratio": pca.explained_variance_ratio_})}


def kmeans(X: np.ndarray, k: int, n_init: int = N_INIT) -> KMeans:
    return KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=SEED).fit(X)


def relabel(model: KMeans, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centroids and labels renumbered by ascending score."""
    order = np.argsort(score, kind="stable")
    new = np.empty_like(order)
    new[order] = np.arange(len(order))
    return model.cluster_centers_[order], new[model.labels_]


def engagement(users: pd.DataFrame, elbow_n_init: int) -> dict:
    z = StandardScaler().fit_transform(users[ENGAGEMENT].astype("float64"))
    model = kmeans(z, K)
    centers, labels = relabel(model, model.cluster_centers_.mean(axis=1))
    inertia = [model.inertia_ if k == K else kmeans(z, k, elbow_n_init).inertia_
               for k in range(1, 11)]
    ks, ys = np.arange(1, 11), np.array(inertia)
    dist = np.abs((ks[-1] - 1) * (ys - ys[0]) - (ys[-1] - ys[0]) * (ks - 1))
    top10 = {m: users.sort_values([m, "msisdn"], ascending=[False, True]).head(10) for m in ENGAGEMENT}
    apps = {a: users.nlargest(10, a)[["msisdn", a]] for a in APP_BYTES}
    clusters = users[ENGAGEMENT].groupby(labels).agg(["min", "max", "mean", "sum"])
    return {"z": z, "center0": centers[0], "labels": labels, "knee": int(ks[dist.argmax()]),
            "top10": top10, "apps": apps, "clusters": clusters}


def experience(exp: pd.DataFrame) -> dict:
    z = StandardScaler().fit_transform(exp[EXPERIENCE].astype("float64"))
    model = kmeans(z, K)
    bad = model.cluster_centers_ @ np.array([1.0, 1.0, -1.0])  # z_tcp + z_rtt - z_tp
    centers, labels = relabel(model, -bad)  # cluster 0 = worst
    values = {m: exp[m].value_counts() for m in EXPERIENCE}
    frequent = {m: v.sort_index().sort_values(ascending=False, kind="mergesort").head(10)
                for m, v in values.items()}
    extremes = {m: (v.sort_index().tail(10), v.sort_index().head(10)) for m, v in values.items()}
    hs = exp[exp["handset"] != "unknown"].groupby("handset")
    tp = hs["throughput_kbps"].describe()
    tcp = hs["tcp_retrans_bytes"].agg(["size", "mean", "median"])
    clusters = exp[EXPERIENCE].groupby(labels).mean()
    return {"z": z, "center0": centers[0], "labels": labels, "frequent": frequent,
            "extremes": extremes, "tp": tp, "tcp": tcp, "clusters": clusters}


def satisfaction(users: pd.DataFrame, exp: pd.DataFrame, eng: dict, xp: dict) -> dict:
    both = users[["msisdn", *ENGAGEMENT]].merge(exp[["msisdn", *EXPERIENCE]], on="msisdn")
    # users and exp are both sorted by msisdn with the same users, so the z rows line up
    both["engagement_score"] = np.linalg.norm(eng["z"] - eng["center0"], axis=1)
    both["experience_score"] = np.linalg.norm(xp["z"] - xp["center0"], axis=1)
    both["satisfaction_score"] = (both["engagement_score"] + both["experience_score"]) / 2
    top10 = both.sort_values(["satisfaction_score", "msisdn"], ascending=[False, True]).head(10)
    z = StandardScaler().fit_transform(both[["engagement_score", "experience_score"]])
    model = kmeans(z, 2)
    means = pd.Series(both["satisfaction_score"].to_numpy()).groupby(model.labels_).mean()
    _, labels = relabel(model, means.reindex(range(2)).to_numpy())
    both["cluster"] = labels
    X, y = both[ENGAGEMENT + EXPERIENCE], both["satisfaction_score"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=SEED)
    reg = HistGradientBoostingRegressor(max_iter=200, early_stopping=False,
                                        random_state=SEED).fit(X_tr, y_tr)
    losses = [float(np.mean((y_te - p) ** 2)) for p in reg.staged_predict(X_te)]
    return {"top10": top10, "clusters": both.groupby("cluster")["satisfaction_score"].mean(),
            "test_r2": reg.score(X_te, y_te), "losses": losses}


# ------------------------------------------------------------------ main


def run(path: str, elbow_n_init: int = 3) -> dict:
    with step("read and validate"):
        df, artifact = drop_artifact(load(path))
    with step("clean"):
        report = clean(df)
    with step("per-user tables"):
        users = user_table(df)
        exp = experience_table(df)
    with step("handsets"):
        hs = handsets(df)
    del df  # from here on only the per-user tables are needed
    with step("overview"):
        ov = overview(users)
    with step("engagement"):
        eng = engagement(users, elbow_n_init)
    with step("experience"):
        xp = experience(exp)
    with step("satisfaction"):
        sat = satisfaction(users, exp, eng, xp)
    return {"users": len(users), "artifact_rows": artifact, "cleaned_columns": len(report),
            "knee": eng["knee"], "top_handset": hs["handsets_top10"][HANDSET].iloc[0],
            "regression_test_r2": sat["test_r2"], "pca_first": float(
                ov["pca"]["explained_variance_ratio"].iloc[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--elbow-n-init", type=int, default=3,
                        help="k-means restarts per elbow k (the product's default is 3)")
    parser.add_argument("--threads", type=int, default=1,
                        help="native (OpenMP/BLAS) threads; 0 = the libraries' default")
    args = parser.parse_args()
    t0 = time.perf_counter()
    try:
        with threadpool_limits(limits=args.threads or None):
            facts = run(args.file, args.elbow_n_init)
    except MemoryError:
        print(f"OUT OF MEMORY at step {CURRENT['step']}", flush=True)
        sys.exit(3)
    total = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"  {'analyses (total)':20s} {total:8.2f} s   peak RSS {peak / 1e9:.2f} GB")
    print("BASELINE_JSON " + json.dumps({"seconds_per_step": TIMINGS, "seconds": round(total, 3),
                                         "peak_rss_bytes": peak, **facts}, default=str))


if __name__ == "__main__":
    main()
