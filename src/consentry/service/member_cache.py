"""Short-lived per-member values (settings views, signals): kept a moment, dropped by this process's writes.

A value is served from memory for `ttl_s`; `forget(member)` (after any write
that concerns the member) drops it at once. Concurrent misses of one member
share one load (`consentry.service.flight.SingleFlight`), and a load keyed by
the member's write generation: a read that starts after a write never joins a
read of the state before it, and a load that a write overtook is not kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from consentry.service.flight import SingleFlight

__all__ = ["MemberCache"]

V = TypeVar("V")


class MemberCache(Generic[V]):
    """Values per member from `load(member_id)`, kept `ttl_s` seconds, at most `max_entries` of them."""

    def __init__(self, load: Callable[[str], V], ttl_s: float, max_entries: int = 100_000) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._max = max_entries
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, V]] = {}
        self._generation: dict[str, int] = {}
        self._flight: SingleFlight[tuple[str, int], V] = SingleFlight()

    def cached(self, member_id: str) -> V | None:
        """The member's value if memory holds a fresh one (no load: safe on the event loop)."""
        with self._lock:
            hit = self._values.get(member_id)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self._ttl_s else None

    def get(self, member_id: str) -> V:
        """The member's value, loaded on a miss (blocks the calling thread; concurrent misses share one load)."""
        value = self.cached(member_id)
        if value is not None:
            return value
        key = self._key(member_id)
        return self._flight.do(key, lambda: self._fill(*key))

    async def get_async(self, member_id: str) -> V:
        """`get` from the event loop: a hit costs no thread hop; a miss loads in a worker thread."""
        value = self.cached(member_id)
        if value is not None:
            return value
        key = self._key(member_id)
        return await self._flight.do_async(key, lambda: self._fill(*key))

    def waiting(self, member_id: str) -> int:
        """How many callers wait for the member's load in flight (for tests and diagnostics)."""
        return self._flight.waiting(self._key(member_id))

    def forget(self, member_id: str) -> None:
        """Drop the member's value, and keep no load that started before now."""
        with self._lock:
            self._values.pop(member_id, None)
            self._generation[member_id] = self._generation.get(member_id, 0) + 1
            if len(self._generation) > self._max:
                self._generation = {member_id: self._generation[member_id]}

    def clear(self) -> None:
        """Drop every value (loads in flight still finish and may be kept)."""
        with self._lock:
            self._values.clear()

    def _key(self, member_id: str) -> tuple[str, int]:
        with self._lock:
            return member_id, self._generation.get(member_id, 0)

    def _fill(self, member_id: str, generation: int) -> V:
        started = time.monotonic()
        value = self._load(member_id)
        with self._lock:
            if self._generation.get(member_id, 0) == generation:  # no write landed meanwhile
                if len(self._values) >= self._max:
                    self._values.clear()
                self._values[member_id] = (started, value)
        return value
