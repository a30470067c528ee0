"""Requests that arrive together are scored together.

Scoring one row with the gradient-boosting model costs about 1.2 ms of fixed work (input
checks, one pass per tree), scoring a hundred rows hardly more. Under load many requests are
parsed in the same turn of the event loop: each one queues its rows here, the first one
schedules a flush for the next turn, and the flush scores every queued row in one call and
hands each request its own scores. At low load a batch is one request, as before. No thread:
it all runs on the server's event loop (scoring is short, and blocking it for that long is
cheaper than a hop to a worker thread and back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import numpy as np


class ScoringBatch:
    """Queue rows, score them in one call at the next turn of the event loop."""

    def __init__(self, score: Callable[[np.ndarray], Sequence[float]]) -> None:
        self._score = score  # rows (n x features) -> n scores
        self._pending: list[tuple[np.ndarray, asyncio.Future]] = []
        self._flush_scheduled = False
        self.largest = 0  # the most requests scored in one call (shown by /health)

    async def scores(self, rows: np.ndarray) -> list[float]:
        """The scores of these rows (one per row), once the batch they joined is scored."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()
        self._pending.append((rows, done))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await done

    def _flush(self) -> None:
        batch, self._pending, self._flush_scheduled = self._pending, [], False
        self.largest = max(self.largest, len(batch))
        try:
            scores = [float(s) for s in self._score(np.vstack([rows for rows, _ in batch]))]
        except Exception as exc:  # noqa: BLE001 - every request of the batch gets the error
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        start = 0
        for rows, done in batch:
            if not done.done():  # a client that went away cancelled its future
                done.set_result(scores[start:start + len(rows)])
            start += len(rows)
