"""Cell congestion: the few cells (Last Location Name) where the network is overloaded.

A congested cell serves its sessions with higher round-trip times and retransmission and lower
throughput, and more so at the busy hours of the evening. The congested cells are drawn among
the pool's most popular cells (so that each has tens of sessions in a reference-size sample):
a few severe ones and more moderate ones, each with a severity in latent standard deviations
at the busy hours and half of it at other hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .catalog import location_names

SEVERE_CELLS, MODERATE_CELLS = 10, 20
SEVERE_LEVELS = (3.0, 2.4)  # severities of the severe cells, spread evenly (busy hours)
MODERATE_LEVELS = (1.6, 0.8)
# Candidates: the pool's most popular cells (index < this: >= ~35 sessions per 150k rows).
CANDIDATE_CELLS = 200
BUSY_HOURS = (18, 19, 20, 21, 22)  # hour of the session's end (the cell is where it ended)
OFF_PEAK_SHIFT = 1  # outside the busy hours the severity is halved (an int16 right shift)
_HOUR_MS = 3_600_000


@dataclass(frozen=True)
class CongestedCells:
    """The congested cells of one extract, most severe first."""

    index: np.ndarray  # int pool index of each congested cell
    severity: np.ndarray  # float, latent standard deviations at the busy hours

    def names(self, seed: int) -> list[str]:
        """The cells' Last Location Name in the extract of this seed."""
        return location_names(seed)[self.index].tolist()

    def per_pool(self, pool_size: int) -> np.ndarray:
        """Severity of every pool cell (0 for the uncongested ones), plus a last 0 for a
        missing location (index -1)."""
        out = np.zeros(pool_size + 1)
        out[self.index] = self.severity
        return out


@lru_cache(maxsize=4)
def congested_cells(seed: int) -> CongestedCells:
    """The congested cells of the extract of this seed."""
    rng = np.random.default_rng([seed, 0xCE11])
    index = rng.choice(CANDIDATE_CELLS, SEVERE_CELLS + MODERATE_CELLS, replace=False)
    severity = np.concatenate([np.linspace(*SEVERE_LEVELS, SEVERE_CELLS),
                               np.linspace(*MODERATE_LEVELS, MODERATE_CELLS)])
    return CongestedCells(index=index, severity=severity)


@lru_cache(maxsize=1)
def off_peak_shift() -> np.ndarray:
    """Per hour of the day, the right shift applied to a congestion score (0 at busy hours)."""
    shift = np.full(24, OFF_PEAK_SHIFT, dtype=np.int16)
    shift[list(BUSY_HOURS)] = 0
    return shift


def hour_of_day(epoch_ms: np.ndarray) -> np.ndarray:
    """Hour of the day (0..23) of instants in ms since 1970 (the extract's naive local time)."""
    return (epoch_ms // _HOUR_MS) % 24
