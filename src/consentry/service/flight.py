"""Single-flight: concurrent misses of one cache key share one computation.

Without it, every request that finds a member's cached settings expired reads
the store itself. With many connections on one member, each expiry queued one
worker-thread job per waiting request; each job's hand-off to a thread and back
waits for the event loop, which meanwhile keeps serving the requests that hit
the cache, so the queued ones waited seconds (docs/service.md, "Caching").

Here the first caller of a key computes; callers that arrive meanwhile wait for
its result — on the event loop for async callers (no thread hop at all), on an
event for threads — and a failure reaches every waiter.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Call(Generic[V]):
    """One computation in flight and who waits for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: V | None = None
        self.error: BaseException | None = None
        self.futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[V]]] = []
        self.waiters = 0

    def result(self) -> V:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


def _settle(future: asyncio.Future[V], call: _Call[V]) -> None:
    if future.done():
        return
    if call.error is not None:
        future.set_exception(call.error)
    else:
        future.set_result(call.value)  # type: ignore[arg-type]


class SingleFlight(Generic[K, V]):
    """At most one computation per key at a time; callers meanwhile share its result (thread- and loop-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[K, _Call[V]] = {}

    def waiting(self, key: K) -> int:
        """How many callers wait for the computation of `key` in flight (0 when none is)."""
        with self._lock:
            call = self._calls.get(key)
            return call.waiters if call is not None else 0

    def do(self, key: K, compute: Callable[[], V]) -> V:
        """`compute()`'s value for `key`, or that of the computation already in flight (blocks the thread)."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
            else:
                call.waiters += 1
        if not leader:
            call.done.wait()
            return call.result()
        self._run(key, call, compute)
        return call.result()

    async def do_async(self, key: K, compute: Callable[[], V]) -> V:
        """The same from the event loop: the first caller runs `compute` in a worker thread, the others await it."""
        loop = asyncio.get_running_loop()
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
            else:
                call.waiters += 1
                future: asyncio.Future[V] = loop.create_future()
                call.futures.append((loop, future))
        if not leader:
            if call.done.is_set():  # finished between our registering and now: settle it ourselves
                _settle(future, call)
            return await future
        await run_in_threadpool(self._run, key, call, compute)
        return call.result()

    def _run(self, key: K, call: _Call[V], compute: Callable[[], V]) -> None:
        try:
            call.value = compute()
        except BaseException as e:  # every waiter gets the failure
            call.error = e
        finally:
            with self._lock:
                del self._calls[key]
                futures = list(call.futures)
            call.done.set()
            for loop, future in futures:
                loop.call_soon_threadsafe(_settle, future, call)
