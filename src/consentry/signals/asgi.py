"""`ReservationHeaders`: ASGI middleware adding a member's reservation headers to their pages.

    app = ReservationHeaders(app, member_of=profile_owner, signals=lookup)

`member_of(scope)` names the member whose content a request shows (None: not
a member's page, passed through untouched); `signals(member_id)` returns the
headers for that member (`consentry.signals.Headers`), awaitable or not — a
plain function must not block (serve it from memory); do I/O in an async one,
e.g. a call to `GET /v1/signals/members/{member_id}` of the Consentry service.
The lookup runs before the page; when it fails, the page carries
`FAIL_CLOSED` (everything reserved) and the failure is logged with the member
id only. Headers the app set under the same names are replaced when the
member reserves something.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from consentry.signals.headers import FAIL_CLOSED, RESERVATION_HEADER_NAMES, Headers

__all__ = ["MemberOf", "ReservationHeaders", "SignalsLookup"]

_log = logging.getLogger("consentry.signals")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Which member a request's page belongs to (None: not a member's page).
MemberOf = Callable[[Scope], str | None]
#: A member's reservation headers.
SignalsLookup = Callable[[str], Headers | Awaitable[Headers]]


def encode(headers: Headers) -> list[tuple[bytes, bytes]]:
    """Headers as ASGI byte pairs (names lower-cased; values are ASCII by construction)."""
    return [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in headers]


def merged(existing: list[tuple[bytes, bytes]], added: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`existing` without the reservation headers `added` replaces, followed by `added`."""
    if not added:
        return existing
    names = {n.decode("latin-1").lower() for n, _ in added} & RESERVATION_HEADER_NAMES
    kept = [(n, v) for n, v in existing if n.decode("latin-1").lower() not in names]
    return kept + added


class ReservationHeaders:
    """ASGI middleware: the page of a member carries that member's reservation headers."""

    def __init__(self, app: ASGIApp, member_of: MemberOf, signals: SignalsLookup) -> None:
        self.app = app
        self.member_of = member_of
        self.signals = signals

    async def lookup(self, member_id: str) -> Headers:
        """The member's headers, or FAIL_CLOSED when they cannot be worked out."""
        try:
            found = self.signals(member_id)
            return await found if inspect.isawaitable(found) else found
        except Exception:
            _log.warning("reservation of member %r unavailable: page sent with everything reserved", member_id)
            return FAIL_CLOSED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        member = self.member_of(scope) if scope["type"] == "http" else None
        if member is None:
            await self.app(scope, receive, send)
            return
        added = encode(await self.lookup(member))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = merged(list(message.get("headers", [])), added)
            await send(message)

        await self.app(scope, receive, send_with_headers)
