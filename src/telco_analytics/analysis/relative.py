"""Clusters described against the population, so that clusters that differ never read the same.

Per cluster and metric: the cluster's mean as a multiple of the median user's value, the share
of users below and above that mean, and the cluster's rank among the clusters (highest,
2nd highest, ..., lowest). An absolute word ("average throughput") hides a twofold
difference; "2.0x the median user, above 70% of users, the highest of the 3 clusters" does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..formats import share_text

# how a metric is named in a description
LABELS = {
    "rtt_ms": "RTT", "tcp_retrans_bytes": "retransmission", "throughput_kbps": "throughput",
    "sessions": "sessions", "duration_ms": "session time", "total_bytes": "data volume",
}


def rank_words(means: Sequence[float]) -> list[str]:
    """Per cluster, its place among the clusters by mean: 'the highest', 'the 2nd highest',
    ..., 'the lowest' (equal means share a place)."""
    values = np.asarray(means, dtype="float64")
    k = len(values)
    words = []
    for v in values:
        place = int(np.count_nonzero(values > v))  # clusters above this one
        if place == 0:
            words.append("the highest")
        elif np.count_nonzero(values < v) == 0:
            words.append("the lowest")
        else:
            words.append(f"the {_ordinal(place + 1)} highest")
    return words if k > 1 else ["the only"]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def relative_columns(values: Mapping[str, np.ndarray], k: int,
                     means: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Per cluster 0..k-1 and metric: `<metric>_vs_median` (cluster mean / median user),
    `<metric>_above_share` and `<metric>_below_share` (users strictly below / above the
    cluster mean: the cluster mean is above that share of users), and `<metric>_rank_word`.

    values: metric -> one value per user; means: metric -> the k cluster means (as the
    cluster table has them). A column at a time: the median from one partitioned copy, the
    shares from counts (O(users) each, no sort).
    """
    out: dict[str, list] = {}
    for metric, column in values.items():
        column = np.asarray(column, dtype="float64")
        present = column[~np.isnan(column)]
        n = max(len(present), 1)
        median = float(np.median(present)) if len(present) else np.nan
        cluster_means = [float(m) for m in means[metric]][:k]
        out[f"{metric}_vs_median"] = [m / median if median else np.nan for m in cluster_means]
        # the share of users strictly below / above the cluster mean
        out[f"{metric}_above_share"] = [np.count_nonzero(present < m) / n for m in cluster_means]
        out[f"{metric}_below_share"] = [np.count_nonzero(present > m) / n for m in cluster_means]
        out[f"{metric}_median_user"] = [median] * k
        out[f"{metric}_rank_word"] = rank_words(cluster_means)
        del present
    return pd.DataFrame(out)


def describe_relative(row: Mapping[str, object], metrics: Sequence[str], k: int,
                      lead: str) -> str:
    """'<lead>: RTT 1.02x the median user (above 61% of users; the highest of the 3
    clusters); ...' from a row of relative_columns."""
    parts = []
    for metric in metrics:
        ratio = float(row[f"{metric}_vs_median"])
        above, below = float(row[f"{metric}_above_share"]), float(row[f"{metric}_below_share"])
        side = (f"above {share_text(above)} of users" if above >= below
                else f"below {share_text(below)} of users")
        parts.append(f"{LABELS.get(metric, metric)} {ratio:.2f}x the median user ({side}; "
                     f"{row[f'{metric}_rank_word']} of the {k} clusters)")
    return f"{lead}: " + "; ".join(parts)


def with_relative_description(clusters: pd.DataFrame, values: Mapping[str, np.ndarray],
                              k: int, leads: Sequence[str]) -> pd.DataFrame:
    """The cluster table with the relative columns (relative.relative_columns) and a
    `relative_description` per cluster, after its own columns. values: metric -> one
    value per user, in the order the descriptions name them."""
    metrics = list(values)
    relative = relative_columns(values, k,
                                {m: clusters[f"{m}_mean"].tolist() for m in metrics})
    relative["relative_description"] = [
        describe_relative(row, metrics, k, lead)
        for lead, (_, row) in zip(leads, relative.iterrows(), strict=True)]
    return pd.concat([clusters.reset_index(drop=True), relative], axis=1)
