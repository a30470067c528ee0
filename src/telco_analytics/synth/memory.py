"""Reuse freed chunk memory while a large extract is written (glibc only; elsewhere a no-op).

Every chunk allocates a few hundred MB of fresh numpy arrays. With glibc's defaults, blocks
this large are returned to the OS when freed (mmap/munmap, trimmed per-thread heaps), so each
chunk page-faults all of its memory in again: ~45,000 faults and 0.1-0.7 s of system time per
million rows on this VM, as much as generating the rows. While the extract is written, large
blocks come from the heap and freed ones stay there (no mmap, no trim), so the next chunk reuses
them; afterwards the spare memory is handed back (malloc_trim) and the thresholds are set to
the values glibc's dynamic defaults settle at in a numpy-heavy process (mmap above 32 MiB, trim
at 2x).

The chunks are generated in worker threads, whose blocks come from glibc's per-thread arenas:
heaps of 64 MiB that glibc unmaps as soon as one is empty, whatever the trim threshold, unless
its top pad is at least a heap's size. So the top pad is raised to 64 MiB too while the extract
is written (4M rows, two threads: 38,000 -> 14,000 page faults per million rows).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # mallopt parameters
_KEEP = 1 << 30  # blocks below 1 GiB come from the heap, and up to 1 GiB of free top is kept
_HEAP = 64 << 20  # glibc's HEAP_MAX_SIZE on 64-bit: the size of a thread arena's heaps
_AFTER_MMAP, _AFTER_TRIM, _AFTER_PAD = 32 << 20, 64 << 20, 128 << 10  # _AFTER_PAD: glibc's default


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (has mallopt and malloc_trim), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):
        return None


@contextmanager
def reused_memory(enabled: bool = True) -> Iterator[None]:
    """Within the block, freed large blocks stay in the process for the next chunk."""
    libc = _glibc() if enabled else None
    if libc is None:
        yield
        return
    libc.mallopt(_M_TOP_PAD, _HEAP)
    libc.mallopt(_M_MMAP_THRESHOLD, _KEEP)
    libc.mallopt(_M_TRIM_THRESHOLD, _KEEP)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_THRESHOLD, _AFTER_MMAP)
        libc.mallopt(_M_TRIM_THRESHOLD, _AFTER_TRIM)
        libc.mallopt(_M_TOP_PAD, _AFTER_PAD)
        libc.malloc_trim(0)
