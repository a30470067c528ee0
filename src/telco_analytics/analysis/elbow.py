"""The engagement elbow (SPEC rule 8): which users, which k and how many restarts.

The inertia curve over k = 1..elbow_k_max picks a data-driven k (the knee). Up to
`elbow_sample_size` users it is fitted on the rows of the main engagement model (every user up
to the k-means threshold), whose fit it reuses for its k: same rows, same scaler, same seed,
same restarts. Beyond it, every k is fitted on a uniform sample of `elbow_sample_size` users
with `elbow_n_init` restarts, so that the inertias are comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import AnalysisParams
from ..models.clustering import knee_k, sample_rows
from .clusters import kmeans_sample_size


@dataclass(frozen=True)
class ElbowPlan:
    """How the elbow of n_users users is fitted.

    sample_size: users the curve is fitted on when not all of them (None: all users);
    reuse_main: the curve's rows are the main model's, whose fit serves for its k;
    restarts: k-means restarts of each fit; k_values: the curve's k, ascending.
    """

    n_users: int
    sample_size: int | None
    reuse_main: bool
    restarts: int
    k_values: tuple[int, ...]

    @property
    def on_sample(self) -> bool:
        return self.sample_size is not None

    @property
    def n_rows(self) -> int:
        return self.n_users if self.sample_size is None else self.sample_size

    def rows(self, random_state: int) -> np.ndarray | None:
        """Sorted positions of the curve's users (None: all), as the main model draws them."""
        return sample_rows(self.n_users, self.sample_size, random_state)

    def fitted_k(self, main_k: int) -> list[int]:
        """The k the elbow fits itself: all but the main model's k when it is reused."""
        return [k for k in self.k_values if not (self.reuse_main and k == main_k)]

    def part_k(self, main_k: int, part: int, parts: int) -> list[int]:
        """Part `part` of `parts` of fitted_k, ascending, the parts of about equal cost (a fit
        costs about k: each restart seeds k centres and each pass measures k distances):
        the largest k first, each to the part with the least so far. Taking every parts-th k
        had given 1,4,6,8,10 and 2,5,7,9 (2.7 s and 2.1 s side by side on the sample)."""
        load, shares = [0] * parts, [[] for _ in range(parts)]
        for k in sorted(self.fitted_k(main_k), reverse=True):
            lightest = load.index(min(load))
            shares[lightest].append(k)
            load[lightest] += k
        return sorted(shares[part])


def elbow_plan(n_users: int, params: AnalysisParams) -> ElbowPlan:
    """The elbow's rows, restarts and k for n_users users (see the module docstring)."""
    reuse_main = n_users <= params.elbow_sample_size
    # not reused: a sample of elbow_sample_size users; reused: the main model's rows (a
    # sample of them beyond the k-means threshold)
    sample_size = (kmeans_sample_size(n_users, params) if reuse_main
                   else params.elbow_sample_size)
    if sample_size is not None and n_users <= sample_size:
        sample_size = None  # a "sample" of every user is all of them (as sample_rows says)
    # all users: every k gets the main fit's restarts (3 restarts had left the inertia up to
    # 10% above 10 restarts' at some k, on an independent cross-check); on a sample the
    # curve is an estimate anyway, and 3 restarts gave the same knee as 10 on every
    # generated dataset tried, at a third of the cost
    restarts = params.kmeans_n_init if sample_size is None else params.elbow_n_init
    n_rows = n_users if sample_size is None else sample_size
    k_values = tuple(range(1, min(params.elbow_k_max, n_rows) + 1))
    return ElbowPlan(n_users, sample_size, reuse_main, restarts, k_values)


def elbow_table(k_values: tuple[int, ...], inertia: list[float]) -> tuple[pd.DataFrame, int]:
    """engagement_elbow (k, inertia in z-units squared, chosen) and the chosen k (the knee)."""
    chosen_k = knee_k(k_values, inertia)
    table = pd.DataFrame(
        {
            "k": np.array(k_values, dtype="int64"),
            "inertia": np.array(inertia, dtype="float64"),
            "chosen": np.array([k == chosen_k for k in k_values], dtype="bool"),
        }
    )
    return table, chosen_k
