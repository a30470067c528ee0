"""Fits side by side: same result as a direct call, errors re-raised, one OpenMP thread."""

from __future__ import annotations

import threading

import pytest
from threadpoolctl import threadpool_info

from telco_analytics.models.parallel import THREADS_PER_FIT, SideBySide


def test_result_comes_from_another_thread():
    main = threading.get_ident()
    with SideBySide(lambda a, b=0: (a + b, threading.get_ident()), 2, b=3) as job:
        pass
    total, ident = job.result()
    assert total == 5 and ident != main


def test_error_of_the_background_fit_is_raised_by_result():
    def fail():
        raise ValueError("boom")

    with SideBySide(fail) as job:
        pass
    with pytest.raises(ValueError, match="boom"):
        job.result()


def test_background_fit_uses_one_openmp_thread():
    def openmp_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"]

    import sklearn.cluster  # noqa: F401 - loads scikit-learn's OpenMP runtime

    with SideBySide(openmp_threads) as job:
        pass
    assert job.result() and set(job.result()) == {THREADS_PER_FIT}
