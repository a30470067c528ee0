"""The quantile curve of every drawn measurement column, built from its published summary."""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from . import fitcache
from .profile import REFERENCE_ROWS, column_facts
from .quantiles import TOP_STRATA, QuantileCurve, fit_curve, stratified_uniforms

# A published top value holding at least this share at the min or max is a point mass.
_POINT_MASS = 0.02

# Extra knots (u, value) where quartiles alone miss the shape. Average bearer throughput is
# bimodal (median 63 kbps, 75th percentile 19,711 / 1,120 kbps): a steep valley separates the
# low mode from the high one.
EXTRA_KNOTS: dict[str, list[tuple[float, float]]] = {
    "Avg Bearer TP DL (kbps)": [(0.56, 120.0), (0.62, 4000.0)],
    "Avg Bearer TP UL (kbps)": [(0.58, 110.0), (0.64, 500.0)],
}

# Duration in s: 21,413 xDRs at 86,399 s and 6,437 at 86,400 s (24-hour partial records).
SPIKE_S = ((86399.0, 21413), (86400.0, 6437))
_BELOW_SPIKE = 0.40  # share of xDRs shorter than the spike (median is in the spike: 0.31..0.5)


def _point_masses(facts: dict) -> tuple[float, float]:
    """Shares of the published min and max values when they are point masses (else 0)."""
    lo = hi = 0.0
    for text, count in facts.get("value_counts_top5", []):
        share = count / facts["count"]
        if share < _POINT_MASS:
            continue
        if float(text) == facts["min"]:
            lo = share
        elif float(text) == facts["max"]:
            hi = share
    return lo, hi


# Candidate positions of the first solved knot (share of the heavy tail it bounds); the first
# candidate that meets mean and std within _FIT_OK wins.
_TAIL_SHARES = (0.03, 0.01, 0.005, 0.1, 0.15)
_FIT_OK = 1e-3


def _free_positions(facts: dict, fixed: list[tuple[float, float]], share: float) -> list[float]:
    """Where the two solved knots go: on the heavy side (right if mean > median)."""
    edge = (TOP_STRATA * 0.75) / facts["count"]
    if facts["mean"] >= facts["p50"]:
        last_fixed = max(u for u, _ in fixed if u < 1.0)
        return [max(1.0 - share, last_fixed + (1 - last_fixed) / 2), 1.0 - edge]
    first_fixed = min(u for u, _ in fixed if u > 0.0)
    return [edge, min(share, first_fixed / 2)]


def _best_fit(facts: dict, fixed: list[tuple[float, float]]) -> QuantileCurve:
    return _fit_to(facts, fixed, facts["mean"], facts["std"])


def _fit_to(facts: dict, fixed: list[tuple[float, float]], mean: float,
            std: float) -> QuantileCurve:
    """The first candidate tail placement that matches the published mean and std."""
    best: tuple[float, QuantileCurve] | None = None
    for share in _TAIL_SHARES:
        fitted, error = fit_curve(fixed, _free_positions(facts, fixed, share), mean, std,
                                  int(facts["count"]))
        if best is None or error < best[0]:
            best = (error, fitted)
        if error < _FIT_OK:
            break
    return best[1]


def _knots(facts: dict, extra: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Fixed knots: min, quartiles, max, point masses at the ends, extra shape knots."""
    lo, hi = _point_masses(facts)
    quartiles = [(0.25, facts["p25"]), (0.5, facts["p50"]), (0.75, facts["p75"])]
    knots = [(0.0, facts["min"]), (1.0, facts["max"])]
    knots += [(u, v) for u, v in quartiles if lo < u < 1.0 - hi]
    if lo:
        knots.append((lo, facts["min"]))
    if hi:
        knots.append((1.0 - hi, facts["max"]))
    return sorted(knots + list(extra))


@cache
def curve(raw: str) -> QuantileCurve:
    """Quantile curve of one measurement column (raw name): the stored fit, else fitted now."""
    stored = fitcache.stored_curve("curve", raw)
    return stored if stored is not None else fit_column_curve(raw)


def fit_column_curve(raw: str) -> QuantileCurve:
    """Fit the quantile curve of one measurement column (raw name) to its published summary."""
    facts = column_facts(raw)
    return _best_fit(facts, _knots(facts, EXTRA_KNOTS.get(raw, [])))


@lru_cache(maxsize=1)
def duration_curve() -> QuantileCurve:
    """Quantile curve of the duration in seconds: the stored fit, else fitted now."""
    stored = fitcache.stored_curve("duration", "Dur. (s)")
    return stored if stored is not None else fit_duration_curve()


def fit_duration_curve() -> QuantileCurve:
    """Fit the duration's quantile curve (s), with the 24-hour spike as flat stretches."""
    facts = column_facts("Dur. (ms)")
    n = REFERENCE_ROWS
    fixed = [(0.0, facts["min"]), (0.25, facts["p25"]), (_BELOW_SPIKE, SPIKE_S[0][0] - 1.0)]
    u = _BELOW_SPIKE
    for value, count in SPIKE_S:
        fixed += [(u + 1e-9, value), (u + count / n, value)]
        u += count / n
    fixed += [(0.75, facts["p75"]), (1.0, facts["max"])]
    return _best_fit(facts, fixed)


# Throughput-bucket percentages of one direction sum to <= 100 (published means sum to 99.2 /
# 99.5). The minor buckets follow their own curves, opposite the main bucket (< 50 kbps /
# < 10 kbps) with a little noise so they do not all peak on the same rows; where they overflow,
# the main bucket gives way. Giving way widens the main bucket, so its curve is fitted to a
# narrower target until the result matches the published mean and std. The noise (a shift of
# the minor buckets' probabilities) sets how often minor buckets peak together; it is chosen
# per direction so that the main bucket's std can be met (too little: the minor buckets' sum
# varies more than the published main bucket does).
SHARE_NOISE = {"DL TP < 50 Kbps (%)": 0.3, "UL TP < 10 Kbps (%)": 0.2}
_SHARE_ROUNDS = 4


def share_values(curves_: list[QuantileCurve], u: np.ndarray, noise: np.ndarray,
                 width: float, ascending: bool = False) -> list[np.ndarray]:
    """Bucket percentages (main first) at main-bucket uniforms u; noise ~ U(-1, 1) per row and
    minor bucket (shape (len(curves_) - 1, len(u))), scaled by width. ascending: u is sorted
    (the main curve is then evaluated the fast way, to the same values)."""
    main = np.rint(curves_[0].sorted_values(u) if ascending else curves_[0].values(u))
    minor = []
    total = np.zeros(len(u))
    for c, e in zip(curves_[1:], noise):
        v = np.abs(1.0 - u + width * e)  # reflect at 0 and 1: stays uniform
        v = np.where(v > 1.0, 2.0 - v, v)
        minor.append(c.rounded_values(v))
        total += minor[-1]
    over = np.flatnonzero(total > 100.0)
    if len(over):  # rare: even an empty main bucket leaves no room
        scale = 100.0 / total[over]
        total[over] = 0.0
        for m in minor:
            m[over] = np.floor(m[over] * scale)
            total[over] += m[over]
    return [np.minimum(main, 100.0 - total), *minor]


@cache
def share_curves(names: tuple[str, ...]) -> tuple[QuantileCurve, ...]:
    """Curves of one direction's bucket columns (raw names, main first), main compensated: the
    stored fits, else fitted now."""
    stored = fitcache.stored_shares(names)
    if stored is not None:
        return stored
    return fit_share_curves(names, [curve(n) for n in names[1:]])


def fit_share_curves(names: tuple[str, ...],
                     minor: list[QuantileCurve]) -> tuple[QuantileCurve, ...]:
    """Fit the main bucket's curve (names[0]) so that, beside the minor buckets' curves (of
    names[1:], in order) giving way as share_values does, it meets its published summary."""
    facts = column_facts(names[0])
    fixed = _knots(facts, [])
    mean, std = facts["mean"], facts["std"]
    n = int(facts["count"])
    rng = np.random.default_rng(0)  # the compensation is a property of the curves, not a seed
    u, noise = stratified_uniforms(rng, n), rng.uniform(-1, 1, (len(minor), n))
    main = _fit_to(facts, fixed, mean, std)
    for _ in range(_SHARE_ROUNDS):
        got = share_values([main, *minor], u, noise, SHARE_NOISE[names[0]])[0]
        mean *= facts["mean"] / got.mean()
        std *= facts["std"] / got.std()
        main = _fit_to(facts, fixed, mean, std)
    return (main, *minor)
