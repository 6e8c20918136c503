"""Worker processes that die with the process that started them.

A process pool's workers wait on a pipe that they themselves hold open, so
when their parent is killed (`kill -9`, the OOM killer) nothing ever tells
them to stop: they, and the resource tracker that counts on them, run on
under PID 1. `die_with_parent` runs first in every worker: on Linux it asks
the kernel to SIGKILL the worker when its parent goes (PR_SET_PDEATHSIG), and
then checks that the parent is still the one that started it, in case it went
before the request was made.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["die_with_parent", "worker_initializer"]

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """In a worker: be killed when process `parent` dies (Linux), and exit at once if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def _initialize(parent: int, then: Callable[..., None], args: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    then(*args)


def worker_initializer(then: Callable[..., None], *args: Any) -> tuple[Callable[..., None], tuple[Any, ...]]:
    """`(initializer, initargs)` for a process pool: tie each worker to this process, then run `then(*args)`."""
    return _initialize, (os.getpid(), then, args)
