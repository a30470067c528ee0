"""The planted joint structure of the built-in sample: latent causes and the scores they give.

Per session, in latent standard deviations (see latent.py for how a score places values):
  C  capability of the session's handset (capability.py)
  G  congestion of the cell it ended in, halved outside the busy hours (congestion.py)
  H  1 when its user is in the heavy segment, else 0
  R  radio conditions of the session, N(0, 1)
  A  activity of the session, N(0, 1)
and per column a score, each with noise of its own:
  throughput (TP DL, TP UL)         tp_capability*C - tp_congestion*G + tp_radio*R
  round-trip time (RTT DL, RTT UL)  rtt_congestion*G - rtt_radio*R
  retransmission (TCP DL, TCP UL)   tcp_congestion*G - tcp_radio*R
  duration                          duration_heavy*H + duration_activity*A
  volume (Gaming DL, the bulk of Total DL)  volume_heavy*H + volume_activity*A
  sessions of a user                sessions_heavy*H (the segment is drawn given the counts)
So within a session RTT and throughput move against each other (R), duration and volume
together (A); a congested cell has high latency and retransmission and low throughput, more so
at the busy hours; heavy users have more, longer and larger sessions. Volume follows its score
through Gaming DL alone: the 14 app columns stay independent of each other (no other app
column is related to the score).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from . import latent
from .capability import capability
from .catalog import LOCATION_POOL
from .congestion import congested_cells, hour_of_day, off_peak_shift

STRUCTURES = ("planted", "none")  # none: every column drawn independently (the old sample)
_STREAM = 0x57A7  # the latent draws' own random stream: the value draws stay the same


@dataclass(frozen=True)
class Loadings:
    """How strongly each latent cause moves each score (latent standard deviations)."""

    tp_capability: float = 1.0
    tp_congestion: float = 1.0
    tp_radio: float = 1.0
    tp_noise: float = 0.6
    rtt_congestion: float = 1.3
    rtt_radio: float = 1.0
    rtt_noise: float = 0.5
    tcp_congestion: float = 1.2
    tcp_radio: float = 0.8
    tcp_noise: float = 0.7
    duration_heavy: float = 0.8
    duration_activity: float = 0.6
    duration_noise: float = 0.8
    volume_heavy: float = 2.0
    volume_activity: float = 0.6
    volume_noise: float = 0.8
    sessions_heavy: float = 4.0
    heavy_share: float = 0.015  # share of named users in the heavy segment


LOADINGS = Loadings()
# Column -> (family of its score); DL and UL of a family share the causes, not the noise.
FAMILY = {
    "avg_bearer_tp_dl_kbps": "tp", "avg_bearer_tp_ul_kbps": "tp",
    "avg_rtt_dl_ms": "rtt", "avg_rtt_ul_ms": "rtt",
    "tcp_dl_retrans_bytes": "tcp", "tcp_ul_retrans_bytes": "tcp",
}
VOLUME_COLUMN = "gaming_dl_bytes"


@dataclass(frozen=True)
class Planted:
    """The planted structure of one extract (seed): lookup tables shared by its chunks."""

    seed: int
    loadings: Loadings
    capability: np.ndarray  # int16 per catalog type (+ a last 0), weighted by tp_capability
    congestion: np.ndarray  # int16 per pool cell (+ a last 0), unweighted

    @classmethod
    @lru_cache(maxsize=4)
    def for_seed(cls, seed: int, loadings: Loadings = LOADINGS) -> Planted:
        cells = congested_cells(seed)
        return cls(seed=seed, loadings=loadings,
                   capability=latent.levels(capability(seed), loadings.tp_capability),
                   congestion=latent.levels(cells.per_pool(LOCATION_POOL)[:-1], 1.0))

    def rng(self, first_row: int) -> np.random.Generator:
        """The latent draws' random stream of the chunk starting at first_row."""
        return np.random.default_rng([self.seed, first_row, _STREAM])

    def parameters(self) -> dict[str, float]:
        return asdict(self.loadings)


def heavy_users(rng: np.random.Generator, counts: np.ndarray, loadings: Loadings) -> np.ndarray:
    """Which users (given their session counts) are in the heavy segment: a heavy user's
    sessions_heavy score raises the rank of its count. Drawn as its count given the segment
    would be (segment flags and scores for as many users, flags put in score order onto the
    users in count order), without moving the counts, whose order the rest of the chunk's
    draws follow."""
    heavy = rng.random(len(counts)) < loadings.heavy_share
    score = latent.flag(heavy, loadings.sessions_heavy) + latent.normal(rng, len(counts), 1.0)
    out = np.empty(len(counts), dtype=bool)
    # users of equal counts stay in user order, which is random (counts come in random order)
    by_count = np.argsort(np.minimum(counts, 255).astype(np.uint8), kind="stable")
    out[by_count] = heavy[latent.ranked_order(score)]
    return out


class ChunkLatents:
    """The latent causes of one chunk's sessions that exist before the rows are put in time
    order (heavy users, activity), and the scores built from them."""

    def __init__(self, planted: Planted, rng: np.random.Generator, heavy: np.ndarray) -> None:
        self.planted = planted
        self.loadings = planted.loadings
        self.rng = rng
        self.heavy = heavy  # bool per row (users' order)
        self.activity = latent.normal(rng, len(heavy), 1.0)

    def _engagement(self, heavy: np.ndarray, activity: np.ndarray, kind: str) -> np.ndarray:
        w = self.loadings
        score = latent.flag(heavy, getattr(w, f"{kind}_heavy"))
        score += latent.weighted(activity, getattr(w, f"{kind}_activity"))
        score += latent.normal(self.rng, len(heavy), getattr(w, f"{kind}_noise"))
        return score

    def duration_score(self) -> np.ndarray:
        """Score of the session durations, rows in users' order."""
        return self._engagement(self.heavy, self.activity, "duration")

    def sessions(self, order: np.ndarray, handset: np.ndarray, location: np.ndarray,
                 end: np.ndarray) -> SessionScores:
        """The scores of the rows in time order (order: users' order -> time order)."""
        volume = self._engagement(self.heavy[order], self.activity[order], "volume")
        return SessionScores(self, handset, location, end, volume)


class SessionScores:
    """Scores of the structured measurement columns of one chunk, rows in time order."""

    def __init__(self, latents: ChunkLatents, handset: np.ndarray, location: np.ndarray,
                 end: np.ndarray, volume: np.ndarray) -> None:
        w, rng, planted = latents.loadings, latents.rng, latents.planted
        rows = len(handset)
        radio = latent.normal(rng, rows, 1.0)
        # congestion: only the few rows in congested cells, halved outside the busy hours
        severity = np.take(planted.congestion, location)
        congested = np.flatnonzero(severity)
        level = severity[congested] >> np.take(off_peak_shift(), hour_of_day(end[congested]))
        self._rng, self._loadings = rng, w
        self._volume = volume
        self._shared = {
            "tp": np.take(planted.capability, handset) + latent.weighted(radio, w.tp_radio),
            "rtt": latent.weighted(radio, -w.rtt_radio),
            "tcp": latent.weighted(radio, -w.tcp_radio),
        }
        for family, sign in (("tp", -1.0), ("rtt", 1.0), ("tcp", 1.0)):
            weight = sign * getattr(w, f"{family}_congestion")
            self._shared[family][congested] += latent.weighted(level, weight)

    def has(self, name: str) -> bool:
        """Whether the column is placed by a score (else drawn independently)."""
        return name == VOLUME_COLUMN or name in FAMILY

    def of(self, name: str, at: np.ndarray | None = None) -> np.ndarray:
        """The score of a column's rows `at` (default: every row)."""
        if name == VOLUME_COLUMN:
            return self._volume if at is None else self._volume[at]
        family = FAMILY[name]
        shared = self._shared[family] if at is None else self._shared[family][at]
        noise = getattr(self._loadings, f"{family}_noise")
        return shared + latent.normal(self._rng, len(shared), noise)
