"""Security headers, CSRF tokens and write rate limits."""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry.service.errors import ApiError, ErrorCode
from consentry.store.protocol import RateLimits
from consentry.timeutil import utcnow

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "RateLimiter", "SecurityHeaders", "check_csrf", "csrf_token"]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


#: Responses that carry a session, its CSRF token, or staff data: never stored by a cache.
_NO_STORE_PREFIXES = ("/settings", "/admin", "/v1/me", "/v1/session", "/v1/admin", "/demo", "/sign-out")
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeaders:
    """Adds CSP (with frame-ancestors 'none'), nosniff and friends to every response.

    `Cache-Control: no-store` goes on member, session and staff responses and on any
    response setting a cookie; HSTS on every response when `hsts` (not in the demo).
    """

    def __init__(self, app: ASGIApp, hsts: bool = True):
        self.app = app
        self.extra = [*_HEADERS, _HSTS] if hsts else list(_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in self.extra if k not in present)
                private = scope.get("path", "").startswith(_NO_STORE_PREFIXES) or b"set-cookie" in present
                if private:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf(session: MutableMapping[str, Any], supplied: str | None) -> None:
    """Refuse the request (403 csrf_failed) unless `supplied` matches the session's token."""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not supplied or not hmac.compare_digest(expected, supplied):
        raise ApiError(
            403,
            ErrorCode.CSRF_FAILED,
            "the form's security token is missing or stale; reload the page and try again",
            CSRF_FIELD,
        )


class RateLimiter:
    """Writes per identity (member id, staff key or client address), counted in the store.

    The count lives in the store (`Store.rate_limits`), so every worker process enforces one
    limit: `limit` writes at once, then one every `window_s / limit` seconds. Real time, never
    the demo clock. Each hit is a store write: call it from a worker thread, not the event loop.
    """

    def __init__(self, limits: RateLimits, limit: int, window_s: float):
        self.limit = limit
        self.window_s = window_s
        self._limits = limits

    def hit(self, identity: str) -> None:
        """Count one write; raise 429 rate_limited when the identity is over its limit."""
        wait = self._limits.hit(identity, utcnow(), self.limit, self.window_s)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(
                429,
                ErrorCode.RATE_LIMITED,
                f"too many changes in a short time; try again in {retry} s",
                headers={"Retry-After": str(retry)},
            )
