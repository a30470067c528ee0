"""k-means++ with n_init restarts, the restarts on a weighted sample, the best refined on all rows.

scikit-learn's KMeans(n_init=10) runs ten k-means++ seedings and ten Lloyd runs to convergence
on every row: at a million users most of a clustering's time. Here (beyond `restart_rows`
rows):

1. a sample of `restart_rows` rows is drawn with replacement, half of each row's chance
   uniform and half proportional to its squared distance to the mean, each drawn row weighted
   1 / (restart_rows * its chance): the "lightweight coreset" of Bachem, Lucic and Krause
   (KDD 2018), whose weighted inertia estimates the inertia of any set of centres on all rows.
   A plain uniform sample is not enough on heavy-tailed metrics: it misses the few extreme
   users that a cluster of their own serves best (their inertia on all rows was 1.3x
   KMeans(n_init=10)'s on a lognormal/pareto mix);
2. the n_init restarts (k-means++ then Lloyd) run on that sample with its weights;
3. the `refine` restarts of lowest weighted inertia (distinct centres) are refined by Lloyd
   iterations on every row, as KMeans(init=centres, n_init=1) (scikit-learn's own tolerance
   and iteration limit), and the one of lowest inertia on every row is kept.

Up to `restart_rows` rows it is KMeans(n_init) on every row, exactly as before. The result is
a fitted scikit-learn KMeans either way (its predict, transform and score serve the model).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state

EXACT = "kmeans++ restarts on all rows"
CORESET = "kmeans++ restarts on a weighted sample, best refined on all rows"
# two restarts whose sorted centres differ by less than this (z-units) are the same solution
SAME_CENTRES = 1e-6


@dataclass(frozen=True)
class KMeansFit:
    """A fitted KMeans and how it was fitted (the manifest's record of the method)."""

    kmeans: KMeans
    method: str
    rows: int  # rows the final centres were refined on (all rows given)
    restarts: int
    restart_rows: int  # rows the restarts ran on (a weighted sample, or all rows)
    refined: int  # restarts refined on all rows (1 when exact: the best of n_init)
    refine_iterations: tuple[int, ...]  # Lloyd iterations of each refined restart on all rows

    def facts(self) -> dict[str, Any]:
        """The method and its parameters, as plain values (for the manifest)."""
        return {
            "method": self.method, "rows": self.rows, "restarts": self.restarts,
            "restart_rows": self.restart_rows, "refined": self.refined,
            "refine_iterations": list(self.refine_iterations),
            "iterations": int(self.kmeans.n_iter_),
        }


def fit_kmeans(X: np.ndarray, n_clusters: int, *, n_init: int | str, random_state: Any,
               restart_rows: int | None = None, refine: int = 2) -> KMeansFit:
    """k-means++ of X (checked floats) with n_init restarts (see the module docstring).

    n_init: as KMeans' ("auto" is one restart with k-means++). random_state seeds the sample,
    the restarts and the refinement, as KMeans' own.
    """
    n = X.shape[0]
    restarts = 1 if n_init == "auto" else n_init  # KMeans' "auto" with k-means++
    if restart_rows is None or n <= restart_rows or restart_rows < n_clusters:
        km = KMeans(n_clusters=n_clusters, init="k-means++", n_init=n_init,
                    random_state=random_state).fit(X)
        return KMeansFit(km, EXACT, n, int(restarts), n, 1, (int(km.n_iter_),))
    n_init = restarts
    if not isinstance(n_init, numbers.Integral) or isinstance(n_init, bool) or n_init < 1:
        raise ValueError(f"n_init must be 'auto' or an integer >= 1, got {n_init!r}")
    rng = check_random_state(random_state)
    S, weights = weighted_sample(X, restart_rows, rng)
    # one KMeans per restart (KMeans(n_init) keeps only its best), each with its own seed
    on_sample = [KMeans(n_clusters=n_clusters, init="k-means++", n_init=1,
                        random_state=rng.randint(np.iinfo(np.int32).max)
                        ).fit(S, sample_weight=weights) for _ in range(n_init)]
    chosen = _best_distinct(on_sample, refine)
    seed = rng.randint(np.iinfo(np.int32).max)
    refined = [KMeans(n_clusters=n_clusters, init=km.cluster_centers_, n_init=1,
                      random_state=seed).fit(X) for km in chosen]
    best = min(range(len(refined)), key=lambda i: (refined[i].inertia_, i))
    return KMeansFit(refined[best], CORESET, n, n_init, restart_rows, len(refined),
                     tuple(int(km.n_iter_) for km in refined))


def weighted_sample(X: np.ndarray, m: int, rng: np.random.RandomState
                    ) -> tuple[np.ndarray, np.ndarray]:
    """m rows of X drawn with replacement (chance half uniform, half by squared distance to
    the mean) and their weights 1 / (m * chance): sum of weights * f estimates the sum of f."""
    n = X.shape[0]
    centred = X - X.mean(axis=0)
    d2 = np.einsum("ij,ij->i", centred, centred)
    del centred
    total = d2.sum()
    chance = np.full(n, 1.0 / n) if not total > 0 else 0.5 / n + 0.5 * d2 / total
    # inverse CDF: as rng.choice(n, m, p=chance), without its checks of a 1M-long p
    cdf = np.cumsum(chance)
    rows = np.minimum(np.searchsorted(cdf, rng.random_sample(m) * cdf[-1], side="right"), n - 1)
    rows.sort()  # the sample's rows in X's order (memory access; the order changes nothing)
    return X[rows], 1.0 / (m * chance[rows])


def _best_distinct(restarts: list[KMeans], count: int) -> list[KMeans]:
    """The `count` restarts of lowest (weighted) inertia whose centres differ (ties: first)."""
    kept: list[KMeans] = []
    for i in sorted(range(len(restarts)), key=lambda i: (restarts[i].inertia_, i)):
        centres = _sorted_rows(restarts[i].cluster_centers_)
        if all(np.max(np.abs(centres - _sorted_rows(k.cluster_centers_))) > SAME_CENTRES
               for k in kept):
            kept.append(restarts[i])
        if len(kept) == count:
            break
    return kept


def _sorted_rows(centres: np.ndarray) -> np.ndarray:
    return centres[np.lexsort(centres.T[::-1])]
