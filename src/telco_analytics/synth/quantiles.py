"""Quantile curves fitted to published summaries, and stratified sampling from them.

A column is drawn as Q(u): Q interpolates linearly, in log1p space, between knots (u, value)
at the published min, quartiles and max, with flat stretches for published point masses, and
with two free knots on the heavy side solved so that the mean and standard deviation match the
published ones. u is stratified (one draw per 1/n stratum, in random order), so quantiles land
where published; the top strata use their midpoints, so the few extreme values that dominate a
heavy-tailed std are the same in every sample of the same size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .latent import place, ranked_order

# Extreme strata sampled at their midpoint (see module docstring); also the fit's top grid.
TOP_STRATA = 40
_BULK_GRID = 6000  # points standing for the bulk of the distribution in the fit
_CELLS = 1 << 16  # cells of u in rounded_values' table (a power of two: u * _CELLS is exact)
_HALF_MARGIN = 1e-9  # a value this close to a rounding boundary is never read off the table


@dataclass(frozen=True)
class QuantileCurve:
    """Piecewise log1p-linear quantile function: value(u) for u in [0, 1]."""

    u: np.ndarray
    y: np.ndarray  # log1p of the value at each knot

    def values(self, u: np.ndarray) -> np.ndarray:
        """Values at probabilities u (float64, not rounded)."""
        return np.expm1(np.interp(u, self.u, self.y))

    def sorted_values(self, u: np.ndarray) -> np.ndarray:
        """values(u) for ascending u in [0, 1], bit for bit, ~3x faster: each knot segment is
        one slice of u, interpolated as np.interp does (slope * (u - u_j) + y_j) without its
        per-value search."""
        slopes = np.diff(self.y) / np.diff(self.u)
        if not np.isfinite(slopes).all():  # np.interp's own care for vertical segments
            return self.values(u)
        starts = np.searchsorted(u, self.u[1:-1]).tolist()
        out = np.empty(len(u))
        for j, (a, b) in enumerate(zip([0, *starts], [*starts, len(u)])):
            if a < b:
                part = out[a:b]
                np.subtract(u[a:b], self.u[j], out=part)
                part *= slopes[j]
                part += self.y[j]
        if len(u) and u[-1] == self.u[-1]:  # np.interp returns the last knot there exactly
            out[np.searchsorted(u, self.u[-1]):] = self.y[-1]
        return np.expm1(out, out=out)

    def rounded_values(self, u: np.ndarray) -> np.ndarray:
        """np.rint(values(u)) for any u in [0, 1], bit for bit, faster on unsorted u (where
        np.interp searches the knots for every value): read off a table of the curve's rounded
        value on each of 2^16 cells of u, except in the few cells where it changes (NaN)."""
        out = np.take(self._rounded_cells, (u * _CELLS).astype(np.intp), mode="clip")
        exact = np.flatnonzero(np.isnan(out))
        out[exact] = np.rint(self.values(u[exact]))
        return out

    @cached_property
    def _rounded_cells(self) -> np.ndarray:
        """Per cell [i, i + 1) / 2^16 of u (and a last one for u = 1): the rounded value, NaN
        where it may vary within the cell. It cannot where the rounded values at both ends
        agree, no knot lies in the cell (one linear piece: monotone) and neither end is
        within _HALF_MARGIN of a rounding boundary (a last-bit wobble cannot cross it)."""
        edges = np.arange(_CELLS + 1) / _CELLS
        at = self.sorted_values(edges)
        rounded = np.rint(at)
        near_half = np.abs(np.abs(at - rounded) - 0.5) < _HALF_MARGIN * np.maximum(1.0, at)
        mixed = np.ones(_CELLS + 1, dtype=bool)
        mixed[:-1] = (rounded[:-1] != rounded[1:]) | near_half[:-1] | near_half[1:]
        knot_cells = np.minimum((self.u * _CELLS).astype(np.intp), _CELLS)
        mixed[knot_cells] = True
        mixed[np.maximum(knot_cells - 1, 0)] = True  # a knot on a cell's upper edge
        rounded[mixed] = np.nan
        rounded.flags.writeable = False
        return rounded

    def knots(self) -> list[tuple[float, float]]:
        """The knots as (u, value) pairs, for inspection."""
        return [(float(a), float(np.expm1(b))) for a, b in zip(self.u, self.y)]


def _from_ranks(rng: np.random.Generator, k: np.ndarray, n: int) -> np.ndarray:
    """Uniforms given the stratum k (a permutation of range(n)) of each value."""
    r = rng.random(n)
    r[k >= n - TOP_STRATA] = 0.5  # stable extremes (see module docstring)
    return (k + r) / n


def stratified_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """n uniforms in [0, 1), one in each stratum [k/n, (k+1)/n), in random order."""
    return _from_ranks(rng, rng.permutation(n), n)


def sorted_uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    """n uniforms in [0, 1), one in each stratum [k/n, (k+1)/n), in stratum order: the same
    draws as stratified_uniforms before the shuffle (top strata at their midpoints)."""
    r = rng.random(n)
    r[max(n - TOP_STRATA, 0):] = 0.5
    r += _ramp(n)  # the same sums as r += np.arange(n), without building and casting it
    r /= n
    return r


_RAMP = np.arange(0.0)


def _ramp(n: int) -> np.ndarray:
    """0.0, 1.0, ..., n - 1 (a view of one shared array, grown as needed; read-only)."""
    global _RAMP
    ramp = _RAMP
    if len(ramp) < n:
        ramp = np.arange(float(max(n, 2 * len(ramp))))
        ramp.flags.writeable = False
        _RAMP = ramp  # threads may both grow it: either array will do
    return ramp[:n]


class Strata:
    """Stratified uniforms for the many columns of one chunk at the cost of one permutation.

    A random permutation read from different offsets gives nearly independent rank vectors
    (its entries at distinct positions are nearly independent draws), so each column takes the
    permutation from its own offset instead of shuffling again (a shuffle costs ~20 ms per
    million rows, which would dominate generation).
    """

    def __init__(self, rng: np.random.Generator, rows: int, columns: int = 64) -> None:
        self._rng = rng
        self._rows = rows
        perm = rng.permutation(rows)
        self._twice = np.concatenate([perm, perm])
        # distinct offsets: two columns never share a rank vector
        self._offsets = list(rng.choice(rows, min(columns, rows), replace=False)) \
            if rows > 4 * columns else []

    def ranks(self) -> np.ndarray:
        """A random permutation of range(rows) (a fresh one for tiny chunks)."""
        if not self._offsets:
            return self._rng.permutation(self._rows)
        s = int(self._offsets.pop())
        return self._twice[s:s + self._rows]

    def order(self, n: int) -> np.ndarray:
        """A random order of range(n) (n <= rows)."""
        k = self.ranks()
        return k[k < n] if n < self._rows else k  # keeps a random order of range(n)

    def uniforms(self, n: int) -> np.ndarray:
        """n stratified uniforms in random order (n <= rows)."""
        return _from_ranks(self._rng, self.order(n), n)

    def draw(self, curve: QuantileCurve, n: int) -> np.ndarray:
        """curve at n stratified uniforms, in random order.

        Same distribution as curve.values(self.uniforms(n)), ~4x cheaper: the curve is
        evaluated on the uniforms in stratum order (np.interp is ~6x faster on sorted input)
        and the values are then put in a random order.
        """
        return np.take(curve.sorted_values(sorted_uniforms(self._rng, n)), self.order(n))

    def draw_ranked(self, curve: QuantileCurve, score: np.ndarray, rows: int,
                    at: np.ndarray | None = None) -> np.ndarray:
        """The values draw gives, placed by ascending score instead of at random (the smallest
        on the lowest score). score: one per row taking a value, the rows `at` (default:
        every row); the other rows are NaN."""
        values = curve.sorted_values(sorted_uniforms(self._rng, len(score)))
        self.ranks()  # the order draw would have used: later columns keep theirs
        order = ranked_order(score)
        return place(values, order if at is None else at[order], rows)

    def subset(self, counts: list[int]) -> list[np.ndarray]:
        """Nested random row masks with the given sizes (smaller ones inside larger ones)."""
        k = self.ranks()
        return [k < c for c in counts]


def _fit_grid(n_ref: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and weights that mimic a stratified sample of n_ref values."""
    top = min(TOP_STRATA, n_ref)
    edge = 1.0 - top / n_ref
    bulk = (np.arange(_BULK_GRID) + 0.5) / _BULK_GRID * edge
    extremes = (np.arange(n_ref - top, n_ref) + 0.5) / n_ref
    weights = np.concatenate([np.full(_BULK_GRID, edge / _BULK_GRID), np.full(top, 1.0 / n_ref)])
    return np.concatenate([bulk, extremes]), weights


def fit_curve(fixed: list[tuple[float, float]], free_u: list[float], mean: float, std: float,
              n_ref: int) -> tuple[QuantileCurve, float]:
    """Quantile curve through the fixed knots whose free knots match mean and std, and its error.

    The error is the largest relative miss of the mean or std (0.01 = 1%).

    fixed: (u, value) pairs incl. u=0 and u=1; free_u: positions of the knots to solve, which
    must lie strictly inside one segment of the fixed knots; n_ref: the published count.
    """
    from scipy.optimize import least_squares  # only needed while fitting

    fixed = sorted(fixed)
    fu = np.array([a for a, _ in fixed])
    fy = np.log1p(np.array([b for _, b in fixed], dtype=float))
    free_u = sorted(free_u)
    grid, weights = _fit_grid(n_ref)
    # each free knot lies between the previous knot's value and the next fixed knot's value
    upper = [fy[np.searchsorted(fu, a)] for a in free_u]
    lower0 = fy[np.searchsorted(fu, free_u[0]) - 1] if free_u else 0.0

    def build(params: np.ndarray) -> QuantileCurve:
        lo = lower0
        ys = []
        for p, hi in zip(params, upper):
            lo = lo + (hi - lo) / (1.0 + np.exp(-p))
            ys.append(lo)
        u = np.concatenate([fu, free_u])
        y = np.concatenate([fy, ys])
        order = np.argsort(u, kind="stable")
        return QuantileCurve(u[order], np.maximum.accumulate(y[order]))

    def residuals(params: np.ndarray) -> np.ndarray:
        v = build(params).values(grid)
        m = float(weights @ v)
        s = float(np.sqrt(max(weights @ (v - m) ** 2, 0.0)))
        return np.array([m / mean - 1.0, s / std - 1.0])

    if not free_u:
        params = np.array([])
    else:
        params = least_squares(residuals, np.zeros(len(free_u)), method="trf", max_nfev=200).x
    return build(params), float(np.abs(residuals(params)).max())
