"""Test helper: measure work in CPU seconds of this process, never in wall-clock time.

On a busy machine wall-clock time counts the time other processes run; the CPU time
this process spends (`time.process_time`) counts only its own work, so a linearity
check stays true with every core busy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

__all__ = ["cpu_seconds", "growth"]


def cpu_seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    """The least CPU time of `repeat` calls of `fn`, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def growth(work: Callable[[int], object], factor: int = 8, floor: float = 0.02, max_size: int = 1024) -> float:
    """How many times more CPU `work(factor * n)` costs than `work(n)`.

    `n` starts at 1 and doubles until `work(n)` costs at least `floor` CPU seconds, so
    that the small run is large enough to dwarf the clock's resolution and noise.
    Linear work gives about `factor`, quadratic about `factor ** 2`.
    """
    n = 1
    small = cpu_seconds(partial(work, n))
    while small < floor and n < max_size:
        n *= 2
        small = cpu_seconds(partial(work, n))
    return cpu_seconds(partial(work, n * factor)) / max(small, 1e-6)
