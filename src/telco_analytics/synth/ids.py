"""Bearer ids as the extract writes them: 15 significant digits, so distinct bearers collide."""

from __future__ import annotations

import numpy as np

# Bearer id blocks: (15-digit mantissa base, power of ten, share). The published quartiles sit
# on 7.349883e18 (25%, 50%) and 1.304243e19 (75%); other prefixes seen: 1.311448e19,
# 7.277826e18, and the extremes 6.917538e18 / 1.318654e19. Shares give the published mean.
BEARER_BLOCKS = (
    (691_753_800_000_000, 18, 0.002),
    (727_782_600_000_000, 18, 0.060),
    (734_988_300_000_000, 18, 0.450),
    (130_424_300_000_000, 19, 0.300),
    (131_144_800_000_000, 19, 0.186),
    (131_865_400_000_000, 19, 0.002),
)
# The last 8 of the 15 digits vary within a block; slots are spread over them by an odd
# multiplier not divisible by 5 (injective modulo 10^8).
_SPREAD, _LOW_DIGITS = 48_271_129, 100_000_000
# Bearers per 15-digit slot: n draws over n / x slots leave (1 - e^-x) / x distinct values;
# x = 0.2053 gives the published 134,708 distinct of 149,010.
_SLOTS_PER_ROW = 1 / 0.2053


def bearer_ids(rng: np.random.Generator, rows: int, total_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(mantissa, exponent) of `rows` bearer ids; total_rows sizes the slots (collision rate)."""
    shares = np.array([b[2] for b in BEARER_BLOCKS])
    block = np.searchsorted(np.cumsum(shares / shares.sum()), rng.random(rows))
    base = np.array([b[0] for b in BEARER_BLOCKS], dtype=np.int64)[block]
    slots = np.maximum(1, (shares[block] * total_rows * _SLOTS_PER_ROW).astype(np.int64))
    slot = (rng.random(rows) * slots).astype(np.int64)
    mantissa = base + slot * _SPREAD % _LOW_DIGITS
    exponent = np.array([b[1] for b in BEARER_BLOCKS], dtype=np.int8)[block]
    return mantissa, exponent
