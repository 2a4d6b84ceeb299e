"""The scratch convolutions' threads: the batch cut into one share of
images per core, each share computed on its own thread
(scratch/_fast_conv.py). numpy's copies and OpenBLAS's products let go
of the GIL, so the shares run side by side.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager


def _cores() -> int:
    """As many threads as OpenBLAS starts (OPENBLAS_NUM_THREADS, else
    OMP_NUM_THREADS, else every core this process may run on)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(name, "").isdigit() and int(os.environ[name]):
            return int(os.environ[name])
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


THREADS = _cores()
_pool: list = [None, 0]                 # the executor and its workers


def set_threads(n: int) -> None:
    """The convolutions' threads from now on (train.py --threads)."""
    global THREADS
    THREADS = max(1, int(n))


@contextmanager
def fixed(n: int):
    """THREADS = n inside the block, as it was after it."""
    global THREADS
    before, THREADS = THREADS, max(1, int(n))
    try:
        yield
    finally:
        THREADS = before


def _forget_pool() -> None:             # a forked child has no threads
    _pool[:] = [None, 0]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def shares(N: int, threads: int | None = None) -> list[slice]:
    """``threads`` (default THREADS) consecutive shares of range(N), at least 8 images each.
    One share per thread, not small blocks: each numpy call costs
    microseconds of Python, and a layer makes dozens per share. Each
    image is computed alone, so the thread count never changes a number."""
    runs = max(1, min(THREADS if threads is None else threads, N // 8))
    cut = [N * r // runs for r in range(runs + 1)]
    return [slice(cut[r], cut[r + 1]) for r in range(runs)]


def run(work, items) -> None:
    """work(item) for each item, one per thread, the first on the
    calling thread."""
    items = list(items)
    if len(items) == 1:
        return work(items[0])
    if _pool[1] < len(items) - 1:
        _pool[:] = [ThreadPoolExecutor(len(items) - 1, "scratch-conv"),
                    len(items) - 1]
    futures = [_pool[0].submit(work, item) for item in items[1:]]
    work(items[0])
    for future in futures:
        future.result()
