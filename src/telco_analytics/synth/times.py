"""Session timing: start/end instants, their millisecond parts and the two durations.

Ends fall in the extract window and durations follow the published curve (with the 24-hour
spike); starts are end minus duration, kept in the published start range. The identities of
the reference extract hold by construction: Dur. (s) = floor(Dur. (ms) / 1000) and
Dur. (ms) mod 1000 = (End ms - Start ms) mod 1000.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curves import duration_curve
from .quantiles import Strata

_S = 1000  # ms per second


def _epoch_ms(text: str) -> int:
    """Milliseconds since 1970 of an ISO timestamp (naive, as in the extract)."""
    return int(np.datetime64(text, "ms").astype(np.int64))


# Published ranges and End quartiles (xlsx variant, which keeps the seconds).
START_MIN, START_MAX = _epoch_ms("2019-04-04T12:01:18"), _epoch_ms("2019-04-29T07:28:43")
_END_KNOTS_U = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_END_KNOTS_MS = np.array([_epoch_ms(t) for t in (
    "2019-04-24T22:59:58", "2019-04-26T07:30:11", "2019-04-27T23:02:05",
    "2019-04-29T07:15:07", "2019-04-30T23:59:27")], dtype=float)
END_MIN, END_MAX = int(_END_KNOTS_MS[0]), int(_END_KNOTS_MS[-1])
# Share of 24-hour records closed at midnight 4/25 (End spike 0:00-0:02: 1,864 of 27,850).
_MIDNIGHT_SHARE = 1864 / 27850
_MIDNIGHT = _epoch_ms("2019-04-25T00:00:00")
SPIKE_MIN_S = 86399
_LONG_MS = 19 * 86_400_000  # longer than this: starts pile up at the first start (4/4 12:01)
_LONG_JITTER_MS = 6 * 3_600_000


@dataclass(frozen=True)
class Timing:
    """Per-row timing columns (int64 ms since 1970, or ms / s counts)."""

    start: np.ndarray
    end: np.ndarray
    duration_ms: np.ndarray

    @property
    def start_ms(self) -> np.ndarray:
        """Millisecond part of the start instant (0..999)."""
        return self.start % _S

    @property
    def end_ms(self) -> np.ndarray:
        """Millisecond part of the end instant (0..999)."""
        return self.end % _S

    @property
    def duration_s(self) -> np.ndarray:
        """Whole seconds, the first 'Dur. (ms)' column of the extract."""
        return self.duration_ms // _S


def timing(rng: np.random.Generator, strata: Strata, rows: int,
           duration_score: np.ndarray | None = None) -> Timing:
    """Start, end and duration of `rows` sessions; the durations placed by duration_score
    (longest on the highest) when given, else at random."""
    curve = duration_curve()
    drawn = (strata.draw(curve, rows) if duration_score is None
             else strata.draw_ranked(curve, duration_score, rows))
    seconds = np.rint(drawn).astype(np.int64)
    duration = seconds * _S + rng.integers(0, _S, rows)
    end = np.interp(rng.random(rows), _END_KNOTS_U, _END_KNOTS_MS).astype(np.int64)
    end += rng.integers(0, _S, rows)  # sub-second part
    midnight = (seconds >= SPIKE_MIN_S) & (rng.random(rows) < _MIDNIGHT_SHARE)
    # ends pile up on 0:01, then 0:02 and 0:00 (published 1,150 / 418 / 296)
    minute = np.searchsorted([296 / 1864, (296 + 1150) / 1864], rng.random(int(midnight.sum())))
    end[midnight] = _MIDNIGHT + minute * 60 * _S + rng.integers(0, 60 * _S, len(minute))
    # the longest records (up to ~21.5 days) opened at the very start of the extract
    long = duration > _LONG_MS
    start_long = np.maximum(START_MIN, END_MIN - duration[long])
    end[long] = start_long + duration[long] + (rng.random(int(long.sum())) * _LONG_JITTER_MS)
    start = end - duration
    bad = (start < START_MIN) | (start > START_MAX)
    if bad.any():  # redraw the end within the window that keeps the start in range
        lo = np.maximum(END_MIN, START_MIN + duration[bad])
        hi = np.minimum(END_MAX, START_MAX + duration[bad])
        end[bad] = lo + (rng.random(int(bad.sum())) * (hi - lo)).astype(np.int64)
        start[bad] = end[bad] - duration[bad]
    return Timing(start=start, end=end, duration_ms=duration)
