"""Heavy-tailed test data of the k-means quality tests, built in code (z-scored, as the
analyses cluster them)."""

from __future__ import annotations

import numpy as np


def _z(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


def engagement_like(n: int, seed: int) -> np.ndarray:
    """sessions, duration, bytes per user: counts with a pareto tail, lognormal products."""
    rng = np.random.default_rng(seed)
    sessions = 1 + rng.geometric(0.3, n) + (rng.pareto(1.5, n) * 2).astype(int)
    duration = sessions * rng.lognormal(11.0, 1.0, n)
    total = sessions * rng.lognormal(18.0, 0.8, n) * (1 + rng.pareto(2.0, n))
    return _z(np.c_[sessions, duration, total])


def pareto_mixture(n: int, seed: int) -> np.ndarray:
    """Three groups of pareto (alpha 1.2-2.5) values at different scales."""
    rng = np.random.default_rng(seed)
    group = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    scale = np.array([[1.0, 1.0, 1.0], [5.0, 2.0, 8.0], [20.0, 30.0, 3.0]])[group]
    alpha = np.array([2.5, 1.8, 1.2])[group][:, None]
    return _z(scale * (1 + rng.pareto(1.0, (n, 3)) ** (1 / alpha)))


def lognormal_duplicates(n: int, seed: int) -> np.ndarray:
    """A lognormal mixture rounded to few values: many users share the very same point."""
    rng = np.random.default_rng(seed)
    group = rng.choice(2, size=n, p=[0.8, 0.2])
    mu = np.array([[0.0, 1.0, 2.0], [2.0, 2.5, 3.0]])[group]
    return _z(np.round(rng.lognormal(mu, 0.9), 0))


def tiny_cluster(n: int, seed: int, tiny: int = 25) -> np.ndarray:
    """Lognormal users and a tiny group of `tiny` users far out (a handful of heavy users)."""
    rng = np.random.default_rng(seed)
    X = rng.lognormal(0.0, 1.0, (n, 3))
    X[:tiny] = rng.lognormal(0.0, 0.1, (tiny, 3)) * np.array([400.0, 300.0, 500.0])
    return _z(X)


def scores_like(n: int, seed: int) -> np.ndarray:
    """Two positive distance-like scores with a long tail (satisfaction's input)."""
    rng = np.random.default_rng(seed)
    a = rng.lognormal(0.0, 0.7, n) + rng.pareto(3.0, n)
    b = 0.5 * a + rng.lognormal(-0.5, 1.0, n)
    return _z(np.c_[a, b])


DATASETS = {
    "engagement_like": engagement_like,
    "pareto_mixture": pareto_mixture,
    "lognormal_duplicates": lognormal_duplicates,
    "tiny_cluster": tiny_cluster,
    "scores_like": scores_like,
}
