"""The same analyses (SPEC section 4) in plain pandas + scikit-learn, the way notebook projects
on this dataset do them: one DataFrame in memory, raw column names, groupby per table.

Usage: .venv/bin/python benchmarks/pandas_baseline.py FILE [--threads N]

FILE is a raw extract (Parquet or CSV as `telco generate` writes it). Prints seconds per step
(the product's step names), the total wall and CPU seconds and the peak RSS; on a MemoryError
prints "OUT OF MEMORY at step <name>" and exits 3.

Equal work: the definitions are written independently of telco_analytics (a second
implementation; tests/unit/test_pandas_baseline.py checks its tables against the product's),
but the *parameters* are the product's own `telco_analytics.config.AnalysisParams`, read here,
so that the two cannot drift: the same k, restarts and seed; k-means on a uniform sample of
kmeans_sample_size users beyond kmeans_sample_threshold users; the elbow on all users (reusing
the k=3 fit, kmeans_n_init restarts) up to elbow_sample_size users, beyond it on a sample of
elbow_sample_size users with elbow_n_init restarts; the regression with regression_max_iter
iterations at regression_learning_rate, on regression_sample_size users beyond the threshold,
its per-iteration losses recorded during the fit; the log-scaled engagement k-means on at most
log_scale_sample_size users and the stability refits on stability_sample_size users. Samples
are drawn by the same rule (sorted positions of numpy's default_rng(random_state).choice).

Not in the baseline: the measured-or-filled counts and the network hotspots (cells, hours,
handsets), which the product computes in its engine; the benchmark (benchmarks/equal_work.py)
takes their seconds off the product's side.

Threads: by default the libraries decide (scikit-learn's OpenMP and BLAS use every core the
process may use; pandas itself is single-threaded); `--threads N` limits native pools to N
threads. On a busy shared machine the default's spinning OpenMP threads can make the k-means
fits several times slower (sample, load ~20 on 2 cores: 431 s wall / 83 CPU-s by default,
55 s / 10 CPU-s with --threads 1): benchmarks/equal_work.py --baseline-threads 0,1 runs both.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import (
    adjusted_rand_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    silhouette_score,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

# the product's parameters object: the baseline does the same work by construction
from telco_analytics.config import AnalysisParams

MSISDN, HANDSET, MAKER = "MSISDN/Number", "Handset Type", "Handset Manufacturer"
IDS = ["Bearer Id", "IMSI", MSISDN, "IMEI"]
TIMES = ["Start", "End"]
NOT_MEASURED = [*IDS, *TIMES, "Start ms", "End ms", "Last Location Name", HANDSET, MAKER]
APPS = {"social_media": "Social Media", "google": "Google", "email": "Email",
        "youtube": "Youtube", "netflix": "Netflix", "gaming": "Gaming", "other": "Other"}
APP_BYTES = [f"{a}_bytes" for a in APPS]
ENGAGEMENT = ["sessions", "duration_ms", "total_bytes"]
EXPERIENCE = ["tcp_retrans_bytes", "rtt_ms", "throughput_kbps"]
SILHOUETTE_ROWS = 3_000  # as the product: the silhouette on a fixed-seed sample

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
    # pandas' default (C) parser, one thread: its pyarrow engine cannot read this header (two
    # "Dur. (ms)" columns). pandas renames the second "Dur. (ms)" to "Dur. (ms).1" by itself
    return pd.read_csv(path, dtype={c: str for c in [*IDS, "Last Location Name"]},
                       na_values=["\\N"])


def drop_artifact(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The trailing artifact row has no timestamps and no ids (rule 1)."""
    artifact = df[TIMES + IDS].isna().all(axis=1)
    return df[~artifact].reset_index(drop=True), int(artifact.sum())


def clean(df: pd.DataFrame, iqr_factor: float = 1.5) -> pd.DataFrame:
    """Rule 3, in place: per measurement column, fences from linear quartiles, missing and
    out-of-fence values replaced by the mean of the values inside the fences."""
    rows = []
    for col in [c for c in df.columns if c not in NOT_MEASURED]:
        s = df[col]
        q1, q3 = s.quantile([0.25, 0.75])
        lo, hi = q1 - iqr_factor * (q3 - q1), q3 + iqr_factor * (q3 - q1)
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


def sample_rows(n: int, size: int | None, seed: int) -> np.ndarray | None:
    """Sorted positions of a uniform sample of `size` of n rows; None (all rows) if n <= size."""
    if size is None or n <= size:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def kmeans_rows(n: int, p: AnalysisParams) -> np.ndarray | None:
    """The users k-means learns from: all up to the threshold, else a sample."""
    return sample_rows(n, p.kmeans_sample_size if n > p.kmeans_sample_threshold else None,
                       p.random_state)


def kmeans(Z: np.ndarray, k: int, n_init: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, init="k-means++", n_init=n_init, random_state=seed).fit(Z)


def ordered(model: KMeans, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(order, new_of_old): clusters by ascending score, ties by k-means' own number."""
    order = np.lexsort((np.arange(len(score)), score))
    return order, np.argsort(order)


def fit_ordered(Z: np.ndarray, k: int, p: AnalysisParams, order_by, y=None) -> dict:
    """k-means on the rows the product learns from (all, or a sample), clusters renumbered by
    order_by(centers, fitted rows, their y); labels of every user by nearest centroid."""
    rows = kmeans_rows(len(Z), p)
    Zf = Z if rows is None else Z[rows]
    model = kmeans(Zf, k, p.kmeans_n_init, p.random_state)
    yf = None if y is None else (y if rows is None else y[rows])
    order, new_of_old = ordered(model, order_by(model, Zf, yf))
    labels = new_of_old[model.predict(Z)]
    return {"model": model, "centers": model.cluster_centers_[order], "labels": labels,
            "inertia": model.inertia_, "fit_rows": len(Zf)}


def silhouette(Z: np.ndarray, labels: np.ndarray, seed: int) -> float:
    rows = sample_rows(len(Z), SILHOUETTE_ROWS, seed)
    rows = np.arange(len(Z)) if rows is None else rows
    return float(silhouette_score(Z[rows], labels[rows])) if len(set(labels[rows])) > 1 else np.nan


def top10(users: pd.DataFrame, columns: list[str]) -> dict[str, pd.DataFrame]:
    """Per column, the ten users with the largest value, ties by msisdn."""
    return {c: users.sort_values([c, "msisdn"], ascending=[False, True])[["msisdn", c]].head(10)
            for c in columns}


def cluster_stats(users: pd.DataFrame, labels: np.ndarray, k: int) -> pd.DataFrame:
    grouped = users[ENGAGEMENT].astype("float64").groupby(labels)
    stats = grouped.agg(["min", "max", "mean", "sum"])
    stats.columns = [f"{m}_{s}" for m, s in stats.columns]
    stats.insert(0, "users", grouped.size())
    return stats.reindex(range(k))


def overview(users: pd.DataFrame) -> dict[str, pd.DataFrame]:
    num = users.drop(columns="msisdn").astype("float64")
    uni = num.describe().T
    uni["skew"], uni["kurtosis"] = num.skew(), num.kurt()
    ranked = users.sort_values(["duration_ms", "msisdn"], ascending=[False, True])
    base, extra = divmod(len(ranked), 10)
    sizes = [base + (1 if d < extra else 0) for d in range(10)]
    ranked["decile"] = np.repeat(np.arange(1, 11), sizes)
    deciles = ranked.groupby("decile").agg(
        users=("msisdn", "size"), min_duration_ms=("duration_ms", "min"),
        max_duration_ms=("duration_ms", "max"), total_bytes=("total_bytes", "sum"))
    corr = users[APP_BYTES].corr()
    pca = PCA().fit(StandardScaler().fit_transform(users[[*APP_BYTES, "dl_bytes", "ul_bytes"]]))
    app_totals = users[APP_BYTES].sum().sort_values(ascending=False)
    return {"univariate": uni, "decile_data": deciles, "app_correlation": corr,
            "app_totals": app_totals,
            "pca": pd.DataFrame({"explained_variance_ratio": pca.explained_variance_ratio_})}


def elbow(X: np.ndarray, scaler: StandardScaler, main: dict, p: AnalysisParams) -> dict:
    """Rule 8's elbow with the product's sampling rule: up to elbow_sample_size users on the
    main fit's rows (its k reused, kmeans_n_init restarts each), beyond it on a sample of
    elbow_sample_size users with elbow_n_init restarts. Knee: farthest from the chord."""
    n = len(X)
    reuse = n <= p.elbow_sample_size
    size = (p.kmeans_sample_size if n > p.kmeans_sample_threshold else None) if reuse \
        else p.elbow_sample_size
    rows = sample_rows(n, size, p.random_state)
    restarts = p.kmeans_n_init if rows is None else p.elbow_n_init
    Z = scaler.transform(X if rows is None else X[rows])
    ks = np.arange(1, min(p.elbow_k_max, len(Z)) + 1)
    fits = {int(k): main["model"] if reuse and k == p.k_engagement
            else kmeans(Z, int(k), restarts, p.random_state) for k in ks}
    ys = np.array([fits[int(k)].inertia_ for k in ks])
    dist = np.abs((ks[-1] - ks[0]) * (ys - ys[0]) - (ys[-1] - ys[0]) * (ks - ks[0]))
    return {"k": ks, "inertia": ys, "knee": int(ks[dist.argmax()]), "fits": fits,
            "rows": len(Z), "restarts": restarts}


def engagement(users: pd.DataFrame, p: AnalysisParams) -> dict:
    X = users[ENGAGEMENT].to_numpy(dtype="float64")
    scaler = StandardScaler().fit(X)
    z = scaler.transform(X)
    k = p.k_engagement
    main = fit_ordered(z, k, p, lambda m, Z, y: m.cluster_centers_.mean(axis=1))
    curve = elbow(X, scaler, main, p)
    knee = curve["knee"]
    if knee == k:
        best = main["labels"]
    else:
        fit = curve["fits"][knee]
        _, new_of_old = ordered(fit, fit.cluster_centers_.mean(axis=1))
        best = new_of_old[fit.predict(z)]
    return {"z": z, "center0": main["centers"][0], "labels": main["labels"], "knee": knee,
            "inertia": main["inertia"], "fit_rows": main["fit_rows"], "elbow": curve,
            "silhouette": silhouette(z, main["labels"], p.random_state),
            "top10": top10(users, ENGAGEMENT), "apps": top10(users, APP_BYTES),
            "clusters": cluster_stats(users, main["labels"], k),
            "clusters_best_k": cluster_stats(users, best, knee)}


def engagement_log(users: pd.DataFrame, p: AnalysisParams) -> pd.DataFrame:
    """The same k-means on log1p of the metrics, learnt from at most log_scale_sample_size
    users (every user labelled); per-cluster statistics in raw units."""
    z = StandardScaler().fit_transform(np.log1p(users[ENGAGEMENT].to_numpy(dtype="float64")))
    sampled = replace(p, kmeans_sample_threshold=p.log_scale_sample_size,
                      kmeans_sample_size=p.log_scale_sample_size)
    fit = fit_ordered(z, p.k_engagement, sampled, lambda m, Z, y: m.cluster_centers_.mean(axis=1))
    return cluster_stats(users, fit["labels"], p.k_engagement)


def engagement_stability(users: pd.DataFrame, p: AnalysisParams) -> pd.DataFrame:
    """Adjusted Rand index between stability_seeds refits (seeds random_state + i) on one
    sample of stability_sample_size users, for the raw and the log-scaled metrics."""
    rows = sample_rows(len(users), p.stability_sample_size, p.random_state)
    X = users[ENGAGEMENT].to_numpy(dtype="float64")
    X = X if rows is None else X[rows]
    out = []
    for kind, values in (("spec", X), ("log_scaled", np.log1p(X))):
        if kind == "log_scaled" and not p.engagement_log_scale:
            continue
        z = StandardScaler().fit_transform(values)
        labelings = []
        for i in range(p.stability_seeds):
            model = kmeans(z, p.k_engagement, p.kmeans_n_init, p.random_state + i)
            _, new_of_old = ordered(model, model.cluster_centers_.mean(axis=1))
            labelings.append(new_of_old[model.predict(z)])
        ari = [adjusted_rand_score(a, b) for a, b in combinations(labelings, 2)]
        out.append({"clustering": kind, "ari_mean": float(np.mean(ari)),
                    "ari_min": float(np.min(ari))})
    return pd.DataFrame(out)


def per_handset(exp: pd.DataFrame, metric: str, min_users: int, quartiles: bool) -> pd.DataFrame:
    known_users = exp[exp["handset"] != "unknown"]
    sizes = known_users.groupby("handset").size()
    kept = known_users[known_users["handset"].isin(sizes[sizes >= min_users].index)]
    g = kept.groupby("handset")[metric]
    stats = {"users": g.size(), "mean": g.mean(), "median": g.median()}
    if quartiles:
        stats["p25"], stats["p75"] = g.quantile(0.25), g.quantile(0.75)
    out = pd.DataFrame(stats).reset_index()
    return out.sort_values(["users", "handset"], ascending=[False, True]).reset_index(drop=True)


def experience(exp: pd.DataFrame, p: AnalysisParams) -> dict:
    z = StandardScaler().fit_transform(exp[EXPERIENCE].astype("float64"))
    # cluster 0 = the worst: ascending -(z_tcp + z_rtt - z_tp) of the centroid
    fit = fit_ordered(z, p.k_experience, p,
                      lambda m, Z, y: m.cluster_centers_ @ np.array([-1.0, -1.0, 1.0]))
    values = {m: exp[m].value_counts() for m in EXPERIENCE}
    frequent = {m: v.sort_index().sort_values(ascending=False, kind="mergesort").head(10)
                for m, v in values.items()}
    extremes = {m: (v.sort_index().tail(10), v.sort_index().head(10)) for m, v in values.items()}
    labels = fit["labels"]
    clusters = exp[EXPERIENCE].groupby(labels).mean()
    clusters["users"] = pd.Series(labels).value_counts()
    clusters["top_handset"] = (exp[exp["handset"] != "unknown"].groupby(labels[
        (exp["handset"] != "unknown").to_numpy()])["handset"]
        .agg(lambda h: h.value_counts().sort_index().idxmax() if len(h) else None))
    return {"z": z, "center0": fit["centers"][0], "labels": labels, "frequent": frequent,
            "extremes": extremes, "inertia": fit["inertia"], "fit_rows": fit["fit_rows"],
            "silhouette": silhouette(z, labels, p.random_state),
            "tp": per_handset(exp, "throughput_kbps", p.handset_min_users, True),
            "tcp": per_handset(exp, "tcp_retrans_bytes", p.handset_min_users, False),
            "clusters": clusters}


def regression(both: pd.DataFrame, p: AnalysisParams) -> dict:
    """Rule 10's regression as the product fits it: a seeded hold-out split of the users (of a
    sample of regression_sample_size users beyond the threshold), regression_max_iter boosting
    iterations, the loss of every iteration recorded by the fit itself (scikit-learn's
    early-stopping bookkeeping with a patience longer than the run), a mean baseline."""
    n = len(both)
    rows = sample_rows(n, p.regression_sample_size if n > p.kmeans_sample_threshold else None,
                       p.random_state)
    data = both if rows is None else both.iloc[rows]
    X = data[ENGAGEMENT + EXPERIENCE].astype("float64")
    y = data["satisfaction_score"].to_numpy(dtype="float64")
    tr, te = train_test_split(np.arange(len(data)), test_size=p.test_size,
                              random_state=p.random_state)
    reg = HistGradientBoostingRegressor(
        max_iter=p.regression_max_iter, learning_rate=p.regression_learning_rate,
        early_stopping=True, scoring="loss", n_iter_no_change=p.regression_max_iter + 1,
        validation_fraction=None, random_state=p.random_state,
    ).fit(X.iloc[tr], y[tr], X_val=X.iloc[te], y_val=y[te])
    pred = {"train": reg.predict(X.iloc[tr]), "test": reg.predict(X.iloc[te])}
    mean = DummyRegressor().fit(X.iloc[tr], y[tr])
    metrics = []
    for name, model_pred in (("hist_gradient_boosting", pred),
                             ("baseline_mean", {s: mean.predict(X.iloc[r])
                                                for s, r in (("train", tr), ("test", te))})):
        for split, r in (("train", tr), ("test", te)):
            metrics.append({"model": name, "split": split, "r2": r2_score(y[r], model_pred[split]),
                            "rmse": float(np.sqrt(mean_squared_error(y[r], model_pred[split]))),
                            "mae": mean_absolute_error(y[r], model_pred[split]), "n": len(r)})
    return {"metrics": pd.DataFrame(metrics), "fit_rows": len(data),
            "losses": -2.0 * np.asarray(reg.validation_score_)[1:]}


def satisfaction(users: pd.DataFrame, exp: pd.DataFrame, eng: dict, xp: dict,
                 p: AnalysisParams) -> dict:
    both = users[["msisdn", *ENGAGEMENT]].merge(exp[["msisdn", *EXPERIENCE]], on="msisdn")
    # users and exp are both sorted by msisdn with the same users, so the z rows line up
    both["engagement_score"] = np.linalg.norm(eng["z"] - eng["center0"], axis=1)
    both["experience_score"] = np.linalg.norm(xp["z"] - xp["center0"], axis=1)
    both["satisfaction_score"] = (both["engagement_score"] + both["experience_score"]) / 2
    top = both.sort_values(["satisfaction_score", "msisdn"], ascending=[False, True]).head(10)
    z = StandardScaler().fit_transform(both[["engagement_score", "experience_score"]])

    def target_mean(model, Z, y):  # a higher cluster, a higher mean satisfaction
        members = model.predict(Z)
        sums = np.bincount(members, weights=y, minlength=p.k_satisfaction)
        counts = np.bincount(members, minlength=p.k_satisfaction)
        return np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)

    fit = fit_ordered(z, p.k_satisfaction, p, target_mean,
                      y=both["satisfaction_score"].to_numpy())
    both["cluster"] = fit["labels"]
    reg = regression(both, p)
    return {"scores": both, "top10": top, "cluster_fit_rows": fit["fit_rows"],
            "clusters": both.groupby("cluster")[
                ["satisfaction_score", "experience_score", "engagement_score"]].mean(),
            "regression": reg, "test_r2": float(reg["metrics"]["r2"].iloc[1])}


# ------------------------------------------------------------------ main


def run(path: str, params: AnalysisParams | None = None) -> dict:
    """Every step on FILE; returns the facts printed and, under "results", every table."""
    p = params or AnalysisParams()
    with step("read and validate"):
        df, artifact = drop_artifact(load(path))
    with step("clean"):
        report = clean(df, p.iqr_factor)
    with step("per-user tables"):
        users = user_table(df)
        exp = experience_table(df)
    with step("handsets"):
        hs = handsets(df)
    del df  # from here on only the per-user tables are needed
    with step("overview"):
        ov = overview(users)
    with step("engagement"):
        eng = engagement(users, p)
    with step("engagement log-scaled"):
        eng_log = engagement_log(users, p)
        stability = engagement_stability(users, p)
    with step("experience"):
        xp = experience(exp, p)
    with step("satisfaction"):
        sat = satisfaction(users, exp, eng, xp, p)
    facts = {"users": len(users), "artifact_rows": artifact, "cleaned_columns": len(report),
             "knee": eng["knee"], "top_handset": hs["handsets_top10"][HANDSET].iloc[0],
             "regression_test_r2": sat["test_r2"],
             "pca_first": float(ov["pca"]["explained_variance_ratio"].iloc[0]),
             "fit_rows": {"engagement": eng["fit_rows"], "elbow": eng["elbow"]["rows"],
                          "elbow_restarts": eng["elbow"]["restarts"],
                          "experience": xp["fit_rows"],
                          "satisfaction": sat["cluster_fit_rows"],
                          "regression": sat["regression"]["fit_rows"]}}
    results = {"users": users, "experience_users": exp, "cleaning_report": report,
               "handsets": hs, "overview": ov, "engagement": eng, "engagement_log": eng_log,
               "stability": stability, "experience": xp, "satisfaction": sat}
    return {**facts, "results": results}


def cpu_seconds() -> float:
    usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--threads", type=int, default=0,
                        help="limit native (OpenMP/BLAS) pools to N threads; 0 (default) = "
                        "the libraries' own default (every core the process may use)")
    args = parser.parse_args()
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    try:
        with threadpool_limits(limits=args.threads or None):
            facts = run(args.file)
    except MemoryError:
        print(f"OUT OF MEMORY at step {CURRENT['step']}", flush=True)
        sys.exit(3)
    facts.pop("results")
    total, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"  {'analyses (total)':20s} {total:8.2f} s   CPU {cpu:8.2f} s   "
          f"peak RSS {peak / 1e9:.2f} GB")
    print("BASELINE_JSON " + json.dumps({"seconds_per_step": TIMINGS, "seconds": round(total, 3),
                                         "cpu_seconds": round(cpu, 3), "peak_rss_bytes": peak,
                                         **facts}, default=str))


if __name__ == "__main__":
    main()
