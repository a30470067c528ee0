"""Reads the fitted curves stored with the code (_fitted.py), so a run skips the fitting.

Fitting the quantile curves (scipy's least squares, the throughput buckets' compensation
rounds) and the sessions-per-user CDF (scipy.stats) takes ~1 s per process, imports
included: a quarter of a 4M-row extract at 1M rows/s. The fits depend only on the published
profile and on the code of the fitting modules, so they are stored exactly (hex floats) under a
key made of those; when the key does not match (the profile or that code changed), everything
is fitted afresh as before, and tests/unit/test_synth.py fails until the store is refreshed:

    python scripts/refresh_fits.py

This module only reads the store (_fitted.py, a leaf: data, no imports); the fitting modules
(curves, population) read it through here, and the script, outside the package, calls their
fit_* functions and rewrites the store, so nothing in synth imports its own importers back.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .quantiles import QuantileCurve

_HERE = Path(__file__).parent
# The code the fits come from (besides the profile): any change there invalidates the store.
_SOURCES = ("curves.py", "quantiles.py", "population.py", "catalog.py", "profile.py")


@lru_cache(maxsize=1)
def key() -> str:
    """sha256 of the profile and of the fitting code."""
    digest = hashlib.sha256()
    digest.update(resources.files("telco_analytics").joinpath("data/tellco_profile.json")
                  .read_bytes())
    for name in _SOURCES:
        digest.update((_HERE / name).read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _store() -> dict[str, Any] | None:
    """The stored fits if made from the current profile and fitting code, else None."""
    try:
        from ._fitted import FITS
    except ImportError:
        return None
    return FITS if FITS.get("key") == key() else None


def _floats(values: list[str]) -> np.ndarray:
    """Hex float texts as a float array (exactly the fitted values)."""
    return np.array([float.fromhex(v) for v in values])


def stored_curve(kind: str, name: str) -> QuantileCurve | None:
    """The stored curve ("curve" by raw column name, "duration"), None if not stored."""
    store = _store()
    if store is None or name not in store[kind]:
        return None
    u, y = store[kind][name]
    return QuantileCurve(_floats(u), _floats(y))


def stored_shares(names: tuple[str, ...]) -> tuple[QuantileCurve, ...] | None:
    """The stored curves of one direction's throughput buckets (main bucket first)."""
    store = _store()
    if store is None or "|".join(names) not in store["shares"]:
        return None
    return tuple(QuantileCurve(_floats(u), _floats(y)) for u, y in store["shares"]["|".join(names)])


def stored_array(name: str) -> np.ndarray | None:
    """The stored array (e.g. "sessions_cdf"), None if not stored."""
    store = _store()
    if store is None or name not in store["arrays"]:
        return None
    return _floats(store["arrays"][name])

