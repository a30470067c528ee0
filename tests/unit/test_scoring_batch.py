"""Requests queued in one turn of the event loop are scored in one call, each gets its own."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from telco_analytics.serve.batching import ScoringBatch


def _run(coroutine):
    """asyncio.run on a thread of its own: in the full suite the browser tests' synchronous
    Playwright leaves an event loop running on the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_requests_of_one_turn_share_one_call_and_get_their_own_scores():
    calls = []

    def score(rows: np.ndarray) -> np.ndarray:
        calls.append(len(rows))
        return rows[:, 0] * 10 + rows[:, 1]

    batch = ScoringBatch(score)

    async def main():
        requests = [np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [5.0, 6.0]]),
                    np.array([[7.0, 8.0]])]
        return await asyncio.gather(*(batch.scores(r) for r in requests))

    results = _run(main())
    assert results == [[12.0], [34.0, 56.0], [78.0]]
    assert calls == [4]  # one call for the three requests' four rows
    assert batch.largest == 3


def test_a_later_request_starts_a_new_batch():
    calls = []
    batch = ScoringBatch(lambda rows: (calls.append(len(rows)), rows[:, 0])[1])

    async def main():
        first = await batch.scores(np.array([[1.0]]))
        second = await batch.scores(np.array([[2.0], [3.0]]))
        return first, second

    assert _run(main()) == ([1.0], [2.0, 3.0])
    assert calls == [1, 2]


def test_a_scoring_error_reaches_every_request_of_the_batch():
    def score(rows: np.ndarray) -> np.ndarray:
        raise ValueError("model broke")

    batch = ScoringBatch(score)

    async def main():
        return await asyncio.gather(batch.scores(np.array([[1.0]])),
                                    batch.scores(np.array([[2.0]])), return_exceptions=True)

    results = _run(main())
    assert [type(r) for r in results] == [ValueError, ValueError]


def test_a_cancelled_request_does_not_stop_the_others():
    batch = ScoringBatch(lambda rows: rows[:, 0])

    async def main():
        gone = asyncio.ensure_future(batch.scores(np.array([[1.0]])))
        kept = asyncio.ensure_future(batch.scores(np.array([[2.0]])))
        await asyncio.sleep(0)  # both queued
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await kept

    assert _run(main()) == [2.0]
