"""User experience (SPEC rule 9): network quality each user gets, per handset and in clusters.

Metrics per user (means of the cleaned per-session values): tcp_retrans_bytes (TCP DL + UL
retransmitted volume), rtt_ms (mean of RTT DL and UL) and throughput_kbps (TP DL + UL).
k-means (k=3) on their z-scores; cluster 0 is the worst experience (largest
z_rtt + z_tcp - z_throughput of the centroid), k-1 the best.

Node functions: experience_model, then experience_tables; `experience_analysis` is both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from .. import schema
from ..config import AnalysisParams
from ..models.clustering import predict_labels
from .clusters import fit_clustering, kmeans_facts, model_silhouette
from .measured import BADNESS_SIGN
from .relative import with_relative_description
from .result import AnalysisResult
from .users import canonical_order, require_columns, require_users

log = logging.getLogger(__name__)

KEY = schema.USER_KEY
HANDSET = "handset"
METRICS = list(schema.EXPERIENCE_METRICS)
TOP_N = 10
# the k-means order: ascending -badness of the centroid, so cluster 0 is the worst experience
ORDER_WEIGHTS = tuple(-BADNESS_SIGN[m] for m in METRICS)
# centroid z beyond +-Z_NOTABLE is called high/low in the cluster description
Z_NOTABLE = 0.5
_WORDS = {  # metric -> (word when high, when typical, when low)
    "rtt_ms": ("high latency", "average latency", "low latency"),
    "tcp_retrans_bytes": (
        "heavy retransmission", "moderate retransmission", "light retransmission"
    ),
    "throughput_kbps": ("high throughput", "average throughput", "low throughput"),
}
_UNKNOWN = {schema.UNKNOWN_USER_HANDSET, schema.UNKNOWN_HANDSET, ""}


def badness(centroids: np.ndarray, metrics: list[str] = METRICS) -> np.ndarray:
    """Per centroid, z_rtt + z_tcp - z_throughput (z-units): the larger, the worse."""
    signs = np.array([BADNESS_SIGN[m] for m in metrics])
    return np.asarray(centroids, dtype="float64") @ signs


def experience_values(users: pd.DataFrame) -> pd.DataFrame:
    """Per metric, the ten largest, ten smallest and ten most frequent per-user values.

    Columns metric, kind (top, bottom, frequent), rank, value, count. All three kinds list
    DISTINCT values with the number of users holding each (count), so a value shared by many
    users (e.g. the cleaning replacement) appears once: top = the ten largest distinct values
    (value desc), bottom = the ten smallest (value asc), frequent = count desc, then value asc.
    """
    parts = []
    for metric in METRICS:
        # distinct values and their counts by hashing (O(users)); the three rankings are then
        # partial selections over the distinct values, never a sort of all of them
        counts = users[metric].astype("float64").value_counts(sort=False, dropna=True)
        value = counts.index.to_numpy(dtype="float64")
        count = counts.to_numpy(dtype="int64")
        ranked = {
            "top": _extreme(value, TOP_N, largest=True),
            "bottom": _extreme(value, TOP_N, largest=False),
            "frequent": _most_frequent(value, count, TOP_N),
        }
        for kind, rows in ranked.items():
            parts.append(
                pd.DataFrame(
                    {
                        "metric": metric,
                        "kind": kind,
                        "rank": np.arange(1, len(rows) + 1, dtype="int64"),
                        "value": value[rows],
                        "count": count[rows],
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _extreme(value: np.ndarray, n: int, *, largest: bool) -> np.ndarray:
    """Positions of the n largest (or smallest) of distinct values, in ranking order."""
    if len(value) > n:
        rows = np.argpartition(-value if largest else value, n - 1)[:n]
    else:
        rows = np.arange(len(value))
    order = np.argsort(value[rows], kind="stable")
    return rows[order[::-1]] if largest else rows[order]


def _most_frequent(value: np.ndarray, count: np.ndarray, n: int) -> np.ndarray:
    """Positions of the n most frequent distinct values: count desc, then value asc."""
    rows = np.arange(len(value))
    if len(value) > n:
        threshold = np.partition(count, len(count) - n)[len(count) - n]
        rows = rows[count >= threshold]  # every value tied with the n-th count competes
    order = np.lexsort((value[rows], -count[rows]))
    return rows[order[:n]]


def known_handsets(users: pd.DataFrame) -> pd.DataFrame:
    """The users whose handset is known (not `unknown`, `undefined` or missing)."""
    handset = users[HANDSET]
    return users[handset.notna() & ~handset.isin(_UNKNOWN)]


@dataclass(frozen=True)
class HandsetCodes:
    """The handset column as integer codes (-1 = unknown), names[code]; int32 codes."""

    codes: np.ndarray
    names: np.ndarray

    @classmethod
    def of(cls, handset: pd.Series) -> HandsetCodes:
        if isinstance(handset.dtype, pd.CategoricalDtype):
            # the per-user tables' handsets are categorical: their codes, no factorizing
            codes = handset.cat.codes.to_numpy()
            names = np.asarray(handset.cat.categories, dtype=object)
        else:
            codes, names = pd.factorize(handset, use_na_sentinel=True)
            names = np.asarray(names, dtype=object)
        known = np.array([isinstance(h, str) and h not in _UNKNOWN for h in names], dtype=bool)
        # unknown names -> -1 (so does code -1, the last entry); known ones renumbered 0..m-1
        remap = np.full(len(names) + 1, -1, dtype=np.int32)
        remap[np.flatnonzero(known)] = np.arange(int(known.sum()), dtype=np.int32)
        return cls(codes=remap[codes], names=names[known])


def per_handset(
    users: pd.DataFrame,
    metric: str,
    min_users: int,
    *,
    quartiles: bool,
    handsets: HandsetCodes | None = None,
) -> pd.DataFrame:
    """Distribution of a per-user metric over the users of each known handset.

    Columns handset, users, mean, median (and p25, p75 when quartiles; linear interpolation,
    as pandas' quantile), for handsets with at least min_users users, sorted by users desc
    then handset asc. Missing metric values count in users, not in the statistics. The kept
    users' values are sorted by (handset, value): every statistic is then read off the sorted
    runs (about 30 bytes a user of temporaries; pandas' grouped median and quantiles took
    about 60 and sorted three times).
    """
    handsets = handsets or HandsetCodes.of(users[HANDSET])
    codes = handsets.codes
    sizes = np.bincount(codes + 1, minlength=len(handsets.names) + 1)[1:]
    kept = sizes >= min_users
    kept_codes = np.flatnonzero(kept)
    # the kept handsets renumbered 0..m-1 (-1: not kept), narrow enough for a radix sort
    rank = np.full(len(kept) + 1, -1, dtype=np.int16 if len(kept_codes) < 2**15 else np.int32)
    rank[kept_codes] = np.arange(len(kept_codes))
    group = rank[codes]  # codes -1 (unknown) take the last entry: -1
    keep = group >= 0
    group = group[keep]
    values = users[metric].to_numpy(dtype="float64", na_value=np.nan)[keep]
    del keep
    # by value, then stably by handset: each handset's values form one ascending run, NaN
    # last (np.lexsort does the same but took 3.4 s for 8.5M users, this 1.5 s: a 16-bit
    # stable sort is a radix sort)
    order = np.argsort(values)
    values, group = values[order], group[order]
    order = np.argsort(group, kind="stable")
    values, group = values[order], group[order]
    del order
    start = np.searchsorted(group, np.arange(len(kept_codes)))
    present = np.bincount(group[~np.isnan(values)], minlength=len(kept_codes))
    del group
    stats = {
        "mean": _run_means(values, start, present),
        "median": _sorted_quantile(values, start, present, 0.5),
    }
    if quartiles:
        stats["p25"] = _sorted_quantile(values, start, present, 0.25)
        stats["p75"] = _sorted_quantile(values, start, present, 0.75)
    out = pd.DataFrame({HANDSET: pd.array(handsets.names[kept_codes], dtype="str"),
                        "users": sizes[kept_codes].astype("int64"), **stats})
    return out.sort_values(["users", HANDSET], ascending=[False, True], kind="mergesort").reset_index(
        drop=True
    )


def _run_means(values: np.ndarray, start: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Mean of each run values[start:start+present] (NaN for an empty run)."""
    return np.array([values[s:s + p].mean() if p else np.nan for s, p in zip(start, present)],
                    dtype="float64")


def _sorted_quantile(values: np.ndarray, start: np.ndarray, present: np.ndarray,
                     q: float) -> np.ndarray:
    """Linear-interpolated quantile q of each sorted run values[start:start+present], as
    pandas computes it: v[i] + (v[i+1] - v[i]) * frac at position q * (present - 1); the
    median as (v[lower middle] + v[upper middle]) / 2. NaN for an empty run."""
    out = np.full(len(start), np.nan)
    some = present > 0
    s, p = start[some], present[some]
    if q == 0.5:
        out[some] = (values[s + (p - 1) // 2] + values[s + p // 2]) / 2
        return out
    position = q * (p - 1)
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, p - 1)
    below = values[s + lower]
    # an exact position is the value itself (also when it is infinite: inf * 0 is NaN)
    with np.errstate(invalid="ignore"):
        between = below + (values[s + upper] - below) * (position - lower)
    out[some] = np.where(position == lower, below, between)
    return out


def modal_handset(users: pd.DataFrame) -> tuple[str | None, float]:
    """The most common known handset of a group of users (ties: alphabetical) and its share."""
    handsets = HandsetCodes.of(users[HANDSET])
    return _modal(handsets, np.ones(len(users), dtype=bool))


def _modal(handsets: HandsetCodes, member: np.ndarray) -> tuple[str | None, float]:
    """Most common known handset among the members (ties: alphabetical), its share of them."""
    n_users = int(member.sum())
    codes = handsets.codes[member]
    codes = codes[codes >= 0]
    if codes.size == 0 or n_users == 0:
        return None, float("nan")
    counts = np.bincount(codes, minlength=len(handsets.names))
    best = counts.max()
    name = min(handsets.names[counts == best])  # ties: alphabetically first
    return str(name), float(best) / n_users


def cluster_label(rank: int, k: int) -> str:
    """Quality word of an ordered cluster: 0 = poor, k-1 = good, in between fair."""
    if rank == 0:
        return "poor"
    if rank == k - 1:
        return "good"
    return "fair"


def describe_cluster(rank: int, k: int, centroid_z: dict[str, float], handset: str | None,
                     handset_share: float) -> str:
    """A one-line description from the centroid's z-values, e.g. 'poor: high latency, ...'."""
    words = []
    for metric in ("rtt_ms", "tcp_retrans_bytes", "throughput_kbps"):
        z = centroid_z[metric]
        high, typical, low = _WORDS[metric]
        words.append(high if z >= Z_NOTABLE else low if z <= -Z_NOTABLE else typical)
    text = f"{cluster_label(rank, k)}: {', '.join(words)}"
    if handset is not None:
        text += f"; most common handset {handset} ({handset_share:.0%} of users)"
    return text


def experience_clusters(
    users: pd.DataFrame,
    labels: np.ndarray,
    centroids: np.ndarray,
    k: int,
    handsets: HandsetCodes | None = None,
) -> pd.DataFrame:
    """Per ordered cluster: users, users_share, `<metric>_mean` (raw units), the centroid's
    `z_<metric>`, badness, top_handset, top_handset_share and a description (SPEC, from the
    centroid); then the cluster against the population (relative.relative_columns) and a
    relative_description that tells clusters that differ apart."""
    rows = []
    labels = np.asarray(labels)
    handsets = handsets or HandsetCodes.of(users[HANDSET])
    metric_values = {m: users[m].to_numpy(dtype="float64") for m in METRICS}
    for c in range(k):
        member = labels == c  # a mask per cluster: the members' rows are never copied
        n_members = int(member.sum())
        z = dict(zip(METRICS, centroids[c]))
        handset, share = _modal(handsets, member)
        rows.append(
            {
                "cluster": c,
                "users": n_members,
                "users_share": n_members / max(len(users), 1),
                **{f"{m}_mean": pd.Series(metric_values[m][member]).mean() for m in METRICS},
                **{f"z_{m}": float(z[m]) for m in METRICS},
                "badness": float(badness(centroids[c : c + 1])[0]),
                "top_handset": handset,
                "top_handset_share": share,
                "description": describe_cluster(c, k, z, handset, share),
            }
        )
    out = pd.DataFrame(rows)
    out["cluster"] = out["cluster"].astype("int64")
    out["users"] = out["users"].astype("int64")
    described = {m: metric_values[m] for m in ("rtt_ms", "tcp_retrans_bytes", "throughput_kbps")}
    return with_relative_description(out, described, k, [
        f"{cluster_label(c, k)} experience" for c in range(k)])


def _users(user_experience: pd.DataFrame, params: AnalysisParams) -> pd.DataFrame:
    """user_experience checked and in canonical (msisdn) order."""
    require_columns(user_experience, [KEY, *METRICS, HANDSET], "user_experience")
    require_users(user_experience, params.k_experience, "user_experience", "experience")
    return canonical_order(user_experience)


def experience_model(user_experience: pd.DataFrame, params: AnalysisParams) -> Pipeline:
    """The fitted experience clustering: scaler + k-means (k = k_experience), cluster 0 the
    worst experience; beyond kmeans_sample_threshold users k-means learns from a sample."""
    X = _users(user_experience, params)[METRICS].astype("float64")
    return fit_clustering(X, params.k_experience, ORDER_WEIGHTS, params)


def experience_tables(user_experience: pd.DataFrame, model: Pipeline,
                      params: AnalysisParams) -> AnalysisResult:
    """Experience tables from the fitted model: experience_users, experience_values,
    throughput_per_handset, tcp_per_handset, experience_clusters; model "experience"."""
    users = _users(user_experience, params)
    X = users[METRICS].astype("float64")
    k = params.k_experience
    kmeans = model.named_steps["kmeans"]
    labels = predict_labels(model, X)
    silhouette = model_silhouette(model, X, labels, params.random_state)
    del X

    experience_users = users[[KEY, *METRICS, HANDSET]]  # copy-on-write: no copy of the columns
    experience_users["cluster"] = labels  # int8 (label_dtype)
    # the measured shares, after the SPEC columns (a hand-built table may lack them)
    for share in [c for c in schema.MEASURED_SHARES if c in users.columns]:
        experience_users[share] = users[share]
    handsets = HandsetCodes.of(users[HANDSET])  # factorized once for the three tables
    clusters = experience_clusters(users, labels, kmeans.cluster_centers_, k, handsets)
    tables = {
        "experience_users": experience_users,
        "experience_values": experience_values(users),
        "throughput_per_handset": per_handset(
            users, "throughput_kbps", params.handset_min_users, quartiles=True,
            handsets=handsets,
        ),
        "tcp_per_handset": per_handset(
            users, "tcp_retrans_bytes", params.handset_min_users, quartiles=False,
            handsets=handsets,
        ),
        "experience_clusters": clusters,
    }
    metrics = {
        "inertia": float(kmeans.inertia_),
        "silhouette": silhouette,
        "fit_rows": float(kmeans.n_fit_rows_),
        **{f"users_cluster_{c}": float(n) for c, n in zip(clusters["cluster"], clusters["users"])},
    }
    log.info("experience: %d users, k=%d, cluster sizes %s", len(users), k,
             clusters["users"].tolist())
    return AnalysisResult(
        tables=tables,
        models={"experience": model},
        metrics=metrics,
        sampling={"experience_kmeans": bool(kmeans.fitted_on_sample_)},
        facts=kmeans_facts("experience", kmeans),
    )


def experience_analysis(user_experience: pd.DataFrame, params: AnalysisParams) -> AnalysisResult:
    """Cluster users by network experience, list extreme/frequent values, compare handsets:
    the two experience nodes one after the other."""
    return experience_tables(user_experience, experience_model(user_experience, params), params)
