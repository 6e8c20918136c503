"""What every request handler shares: the store, settings, the clock and a short-lived policy cache."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from starlette.requests import Request

from consentry.policy import Policy
from consentry.service.config import ServiceConfig
from consentry.service.flight import SingleFlight
from consentry.service.member_actions import SettingsView, honour_gpc, settings_view
from consentry.service.member_cache import MemberCache
from consentry.service.public_signals import MemberSignals
from consentry.service.security import RateLimiter
from consentry.service.sessions import SessionBook
from consentry.service.staff import StaffRegistry
from consentry.signals.reservation import reservation_for
from consentry.store.protocol import Store
from consentry.timeutil import utcnow

__all__ = ["ServiceContext", "get_ctx"]

_POLICY_TTL_S = 2.0
#: How long a member's settings view may be served from memory. Writes through this
#: process invalidate it at once; changes made elsewhere (CLI, another worker) show
#: within this delay.
_VIEW_TTL_S = 1.0
_VIEW_CACHE_MAX = 100_000


class ServiceContext:
    """One per app: the store and the service-wide helpers built around it."""

    def __init__(self, store: Store, config: ServiceConfig):
        self.store = store
        self.config = config
        self.staff = StaffRegistry(store)
        self.sessions = SessionBook(store.sessions, config.session_idle_s, config.session_max_age_s)
        self.limiter = RateLimiter(store.rate_limits, config.write_limit, config.write_window_s)
        self._started = utcnow()
        self._policy: Policy | None = None
        self._policy_loaded = 0.0
        self._lock = threading.Lock()
        self._gpc_seen: set[tuple[str, str]] = set()
        # Concurrent misses of one key share one store read (consentry.service.flight).
        self._views: MemberCache[SettingsView] = MemberCache(self._load_settings, _VIEW_TTL_S, _VIEW_CACHE_MAX)
        self._signals: MemberCache[MemberSignals] = MemberCache(self._load_signals, _VIEW_TTL_S, _VIEW_CACHE_MAX)
        self._policy_flight: SingleFlight[str, Policy] = SingleFlight()

    def now(self) -> datetime:
        """The service's "now": real time, or the pinned clock moving on from start-up."""
        if self.config.clock_start is None:
            return utcnow()
        return self.config.clock_start + (utcnow() - self._started)

    @property
    def real_clock(self) -> bool:
        """Is "now" the real time (not a pinned clock)? Then the store stamps choices made now."""
        return self.config.clock_start is None

    def event_at(self) -> datetime | None:
        """The `at` of a choice made now: None (the store stamps it under its write lock, so the choice
        acknowledged last is the one in effect), or the pinned clock's now when the service runs on one."""
        return None if self.real_clock else self.now()

    def policy(self) -> Policy:
        """The published policy, re-read from the store at most every couple of seconds (one reader at a time)."""
        with self._lock:
            if self._policy is not None and time.monotonic() - self._policy_loaded < _POLICY_TTL_S:
                return self._policy
        return self._policy_flight.do("policy", self._load_policy)

    def _load_policy(self) -> Policy:
        policy = self.store.policy()
        with self._lock:
            self._policy, self._policy_loaded = policy, time.monotonic()
        return policy

    def forget_policy(self) -> None:
        """Drop the cached policy (after a publish)."""
        with self._lock:
            self._policy = None
        self._views.clear()
        self._signals.clear()

    def cached_settings(self, member_id: str) -> SettingsView | None:
        """The member's settings if the short-lived cache holds them (no store read: safe on the event loop)."""
        return self._views.cached(member_id)

    def settings(self, member_id: str) -> SettingsView:
        """The member's settings now, from a short-lived cache that this process's writes invalidate.

        Concurrent misses for one member share one store read (blocks the calling thread).
        """
        return self._views.get(member_id)

    async def settings_async(self, member_id: str) -> SettingsView:
        """`settings` from the event loop: a hit costs no thread hop, and concurrent misses share one."""
        return await self._views.get_async(member_id)

    def view_readers_waiting(self, member_id: str) -> int:
        """How many requests wait for the member's settings being read now (for tests and diagnostics)."""
        return self._views.waiting(member_id)

    def _load_settings(self, member_id: str) -> SettingsView:
        return settings_view(self.store, member_id, self.now(), self.policy())

    async def signals_async(self, member_id: str) -> MemberSignals:
        """The member's reservation signals now (public), cached like the settings and invalidated with them."""
        return await self._signals.get_async(member_id)

    def signals(self, member_id: str) -> MemberSignals:
        """`signals_async` for a worker thread (blocks on a miss)."""
        return self._signals.get(member_id)

    def signal_readers_waiting(self, member_id: str) -> int:
        """How many requests wait for the member's signals being worked out now (for tests and diagnostics)."""
        return self._signals.waiting(member_id)

    def _load_signals(self, member_id: str) -> MemberSignals:
        return MemberSignals.of(reservation_for(self.store, member_id, self.now(), self.policy()))

    def member_changed(self, member_id: str) -> None:
        """Forget the member's cached settings and signals (after any write that concerns them)."""
        self._views.forget(member_id)
        self._signals.forget(member_id)

    def gpc_signal(self, member_id: str, at: datetime) -> None:
        """Honour a Sec-GPC: 1 request once per member and policy version (the store is idempotent too)."""
        version = self.policy().version_at(at)
        if version is None:
            return
        key = (member_id, version.version)
        with self._lock:
            if key in self._gpc_seen:
                return
        honour_gpc(self.store, member_id, self.event_at())
        self.member_changed(member_id)
        with self._lock:
            if len(self._gpc_seen) > 200_000:
                self._gpc_seen.clear()
            self._gpc_seen.add(key)


async def get_ctx(request: Request) -> ServiceContext:
    """The app's ServiceContext (a FastAPI dependency; async so it costs no thread hop)."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx
