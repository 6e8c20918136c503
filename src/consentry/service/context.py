"""What every request handler shares: the store, settings, the clock and a short-lived policy cache."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from starlette.requests import Request

from consentry.ledger.protocol import Store
from consentry.member_view import honour_gpc
from consentry.policy import Policy
from consentry.service.config import ServiceConfig
from consentry.service.security import RateLimiter
from consentry.service.staff import StaffRegistry
from consentry.timeutil import utcnow

__all__ = ["ServiceContext", "get_ctx"]

_POLICY_TTL_S = 2.0


class ServiceContext:
    """One per app: the store and the service-wide helpers built around it."""

    def __init__(self, store: Store, config: ServiceConfig):
        self.store = store
        self.config = config
        self.staff = StaffRegistry(store)
        self.limiter = RateLimiter(config.write_limit, config.write_window_s)
        self._started = utcnow()
        self._policy: Policy | None = None
        self._policy_loaded = 0.0
        self._lock = threading.Lock()
        self._gpc_seen: set[tuple[str, str]] = set()

    def now(self) -> datetime:
        """The service's "now": real time, or the pinned clock moving on from start-up."""
        if self.config.clock_start is None:
            return utcnow()
        return self.config.clock_start + (utcnow() - self._started)

    def policy(self) -> Policy:
        """The published policy, re-read from the store at most every couple of seconds."""
        with self._lock:
            fresh = self._policy is not None and time.monotonic() - self._policy_loaded < _POLICY_TTL_S
            if fresh:
                assert self._policy is not None
                return self._policy
        policy = self.store.policy()
        with self._lock:
            self._policy, self._policy_loaded = policy, time.monotonic()
        return policy

    def forget_policy(self) -> None:
        """Drop the cached policy (after a publish)."""
        with self._lock:
            self._policy = None

    def gpc_signal(self, member_id: str, at: datetime) -> None:
        """Honour a Sec-GPC: 1 request once per member and policy version (the store is idempotent too)."""
        version = self.policy().version_at(at)
        if version is None:
            return
        key = (member_id, version.version)
        with self._lock:
            if key in self._gpc_seen:
                return
        honour_gpc(self.store, member_id, at)
        with self._lock:
            if len(self._gpc_seen) > 200_000:
                self._gpc_seen.clear()
            self._gpc_seen.add(key)


def get_ctx(request: Request) -> ServiceContext:
    """The app's ServiceContext (a FastAPI dependency)."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx
