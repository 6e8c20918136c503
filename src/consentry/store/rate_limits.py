"""Rate limits as stored (`Store.rate_limits`): one row per key, so every worker process counts alike.

The generic cell rate algorithm (GCRA): a key's row holds the theoretical arrival
time (TAT) of its next action. An action at `t` moves it to `max(TAT, t) + T`,
with `T = window / limit`; it is refused when that would lie more than `window`
after `t`. So `limit` actions may come at once, then one every `T`. Each hit is
one write transaction that locks the key's row (SQLite: the write lock;
PostgreSQL: `SELECT … FOR UPDATE`), so concurrent workers never both take the last slot.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, select, update

from consentry.store.database import insert_or_on_conflict, transaction
from consentry.store.schema import rate_limits, to_us

__all__ = ["SqlRateLimits"]

#: Every this many hits (per store object), rows whose time has passed are deleted.
_PURGE_EVERY = 1024
_MAX_KEY = 255


class SqlRateLimits:
    """`RateLimits` in the `service_rate_limits` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._hits = 0
        self._lock = threading.Lock()

    def hit(self, key: str, at: datetime, limit: int, window_s: float) -> float:
        """Count one action of `key` at `at` within `limit` per `window_s`; 0.0, or the seconds to wait."""
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window_s > 0")
        key = key[:_MAX_KEY]
        now = to_us(at)
        window = round(window_s * 1_000_000)
        step = max(1, window // limit)
        with transaction(self._engine, write=True) as c:
            tat = max(_locked_tat(c, key, now), now) + step
            wait = tat - now - window
            if wait <= 0:
                c.execute(update(rate_limits).where(rate_limits.c.key == key).values(tat_us=tat))
        with self._lock:
            self._hits += 1
            purge = self._hits % _PURGE_EVERY == 0
        if purge:
            self.purge(at)
        return max(wait, 0) / 1_000_000

    def purge(self, at: datetime) -> int:
        """Delete the rows whose time has passed by `at` (they limit nothing); how many."""
        with transaction(self._engine, write=True) as c:
            done = c.execute(delete(rate_limits).where(rate_limits.c.tat_us < to_us(at)))
        return int(done.rowcount)


def _locked_tat(c: Connection, key: str, now: int) -> int:
    """The key's stored TAT (`now` for a new key), its row locked until the transaction ends."""
    ins = insert_or_on_conflict(c, rate_limits)
    c.execute(ins.values(key=key, tat_us=now).on_conflict_do_nothing(index_elements=["key"]))
    tat: int = c.execute(select(rate_limits.c.tat_us).where(rate_limits.c.key == key).with_for_update()).scalar_one()
    return tat
