"""Who the sessions belong to: users, their session counts, ids and devices, per chunk.

Each chunk has its own users, so a user never spans chunks; ids come from injective maps of a
global user number that only depends on the chunk's first row, so users never collide across
chunks and chunks can be generated independently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import fitcache
from .catalog import SESSIONS_PER_USER, handset_catalog
from .profile import REFERENCE_ROWS, column_facts
from .quantiles import stratified_uniforms

# Sessions per user = 1 + NegativeBinomial(r, mean 0.3938): r sets the tail so that a
# reference-size sample's busiest user has ~18 xDRs (published max 18).
_NB_R = 0.28
_MAX_SESSIONS = 200
# Share of a user's later sessions made from a second device (IMEI distinct ~ users + ~60).
_SWITCH = 0.002

# Injective number plans (size, multiplier coprime to size, base).
_MSISDN = (199_000_000, 2_654_435_761, 33_601_000_000)  # 11-digit 336.../337...
_MSISDN_OVERFLOW_BASE = 336_000_000_000  # 12 digits, for user numbers beyond the plan
_IMSI = (1_000_000_000, 2_246_822_519, 208_201_000_000_000)  # MCC 208, MNC 20
_SERIAL = (1_000_000, 3_266_489_917 % 1_000_000 | 1, 0)  # IMEI serial after the 8-digit TAC


@dataclass(frozen=True)
class Subscribers:
    """Row-level identity columns of one chunk (before rows are put in time order)."""

    msisdn: np.ndarray  # int64, -1 where the xDR has no MSISDN
    imsi: np.ndarray  # int64
    imei: np.ndarray  # int64
    handset: np.ndarray  # int32 index into the handset catalog
    heavy: np.ndarray  # bool, the xDR's user is in the heavy segment
    heavy_msisdn: np.ndarray  # int64 MSISDN of each heavy user of the chunk


@lru_cache(maxsize=1)
def _sessions_cdf() -> np.ndarray:
    """CDF of sessions per user (index k = k + 1 sessions): the stored one, else computed now."""
    stored = fitcache.stored_array("sessions_cdf")
    return stored if stored is not None else fit_sessions_cdf()


def fit_sessions_cdf() -> np.ndarray:
    """Compute the CDF of sessions per user (index k = k + 1 sessions): 1 + NegBin(_NB_R)."""
    from scipy.stats import nbinom  # only when fitting: scipy.stats is slow to import

    mean_extra = SESSIONS_PER_USER - 1.0
    return nbinom.cdf(np.arange(_MAX_SESSIONS), _NB_R, _NB_R / (_NB_R + mean_extra))


def sessions_per_user(rng: np.random.Generator, rows: int) -> np.ndarray:
    """Session counts of the users owning exactly `rows` xDRs (stratified, so stable)."""
    users = max(1, round(rows / SESSIONS_PER_USER))
    counts = 1 + np.searchsorted(_sessions_cdf(), stratified_uniforms(rng, users))
    diff = rows - int(counts.sum())
    if diff > 0:  # a few more single-session users
        counts = np.concatenate([counts, np.ones(diff, dtype=counts.dtype)])
    elif diff < 0:  # drop single-session users (or trim the busiest when too few)
        ones = np.flatnonzero(counts == 1)[: -diff]
        counts = np.delete(counts, ones)
        while counts.sum() > rows:
            counts[np.argmax(counts)] -= int(min(counts.sum() - rows, counts.max() - 1))
    return counts


def _number(g: np.ndarray, plan: tuple[int, int, int], offset: int) -> np.ndarray:
    """Injective map of global user numbers into a number plan (shuffled by the multiplier)."""
    size, mult, base = plan
    return base + (g % size * (mult % size) + offset) % size


def _apportion(shares: np.ndarray, total: int) -> np.ndarray:
    """Integer counts proportional to shares summing to total (largest remainders)."""
    exact = shares * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    counts[np.argsort(counts - exact, kind="stable")[:short]] += 1
    return counts


# Which users are heavy, given their session counts (in user order): bool per user.
Engagement = Callable[[np.ndarray], np.ndarray]


def subscribers(rng: np.random.Generator, rows: int, first_row: int, seed: int,
                engagement: Engagement | None = None) -> Subscribers:
    """Identity columns for `rows` xDRs whose global row numbers start at first_row.

    engagement, when given, says which named users are heavy (else nobody is)."""
    anon_rows = round(rows * (column_facts("MSISDN/Number")["missing_count"] - 1) / REFERENCE_ROWS)
    named = sessions_per_user(rng, rows - anon_rows)
    heavy = engagement(named) if engagement is not None else np.zeros(len(named), dtype=bool)
    anon = sessions_per_user(rng, anon_rows) if anon_rows else np.zeros(0, np.int64)
    counts = np.concatenate([named, anon])
    users = len(counts)
    g = first_row + np.arange(users, dtype=np.int64)  # users <= rows: disjoint across chunks
    offsets = np.random.default_rng([seed, 0x1D]).integers(0, 2**31, 3)
    msisdn = np.where(g < _MSISDN[0], _number(g, _MSISDN, int(offsets[0])),
                      _MSISDN_OVERFLOW_BASE + g)
    msisdn[len(named):] = -1
    cat = handset_catalog()
    handset = np.repeat(np.arange(len(cat.types), dtype=np.int32),
                        _apportion(cat.user_share, users))
    handset = rng.permutation(handset)
    imsi = _number(g, _IMSI, int(offsets[1]))
    imei = cat.tac[handset] * 1_000_000 + _number(g, _SERIAL, int(offsets[2]))

    row_user = np.repeat(np.arange(users), counts)
    later = np.ones(rows, dtype=bool)
    later[np.cumsum(counts) - counts] = False  # a user's first session keeps the main device
    row_handset, row_imei = handset[row_user], imei[row_user]
    switch = np.flatnonzero(later & (rng.random(rows) < _SWITCH))
    if len(switch):
        other = np.searchsorted(cat.cumulative(), rng.random(len(switch)) * cat.cumulative()[-1])
        other = np.minimum(other, len(cat.types) - 1).astype(np.int32)
        row_handset[switch] = other
        row_imei[switch] = cat.tac[other] * 1_000_000 + _number(
            first_row + switch, _SERIAL, int(offsets[2]) + 500_000)
    heavy_user = np.zeros(users, dtype=bool)
    heavy_user[:len(named)] = heavy
    return Subscribers(msisdn=msisdn[row_user], imsi=imsi[row_user], imei=row_imei,
                       handset=row_handset, heavy=heavy_user[row_user],
                       heavy_msisdn=msisdn[:len(named)][heavy])
