"""Independent model fits side by side, one core each.

A k-means or boosting fit on a few columns is memory-bound and scales poorly with OpenMP
threads; on a shared 2-core machine two spin-waiting OpenMP threads per fit were 1.5-10x
slower than one as soon as anything else ran (see clustering.KMEANS_THREADS). Two independent
fits, each limited to one OpenMP thread, on two Python threads use both cores without that
contention: scikit-learn's Cython loops release the GIL. The results are exactly those of the
same fits run one after the other (no randomness is shared between them).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Self, TypeVar

from threadpoolctl import threadpool_limits

T = TypeVar("T")

# OpenMP threads of each fit. The OpenMP thread count is per calling thread, so the limit is
# set inside every worker, not once for the process.
THREADS_PER_FIT = 1


def single_threaded(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """func(*args, **kwargs) with one OpenMP thread in the calling thread."""
    with threadpool_limits(limits=THREADS_PER_FIT, user_api="openmp"):
        return func(*args, **kwargs)


class SideBySide:
    """Starts a fit on a background thread; `result()` waits for it (and re-raises its error).

    Use as a context manager so the thread is always joined, also when the caller fails:

        with SideBySide(fit_elbow, Z) as elbow:
            main = fit_main(X)        # runs meanwhile on this thread
        inertia = elbow.result()
    """

    def __init__(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telco-fit")
        self._future: Future = self._pool.submit(single_threaded, func, *args, **kwargs)

    def result(self) -> Any:
        return self._future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
