"""Test data of the clustering tests, built in code."""

from __future__ import annotations

import numpy as np
import pandas as pd


def blobs(n_per: int = 60, seed: int = 0) -> pd.DataFrame:
    """Three well-separated groups (low, mid, high) in raw units of very different scale."""
    rng = np.random.default_rng(seed)
    centers = np.array([[1.0, 1_000.0, 1e6], [5.0, 5_000.0, 5e6], [9.0, 9_000.0, 9e6]])
    spread = np.array([0.3, 300.0, 3e5])
    rows = [c + rng.normal(size=(n_per, 3)) * spread for c in centers]
    return pd.DataFrame(np.vstack(rows), columns=["a", "b", "c"])
