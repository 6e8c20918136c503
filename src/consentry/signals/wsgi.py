"""`ReservationHeaders` for WSGI: the twin of `consentry.signals.asgi.ReservationHeaders`.

    app = ReservationHeaders(app, member_of=profile_owner, signals=lookup)

`member_of(environ)` names the member whose content a request shows (None:
passed through untouched); `signals(member_id)` returns that member's headers.
When the lookup fails the page carries `FAIL_CLOSED` (everything reserved).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from consentry.signals.headers import FAIL_CLOSED, RESERVATION_HEADER_NAMES, Headers

__all__ = ["ReservationHeaders"]

_log = logging.getLogger("consentry.signals")

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class ReservationHeaders:
    """WSGI middleware: the page of a member carries that member's reservation headers."""

    def __init__(
        self, app: WSGIApp, member_of: Callable[[Environ], str | None], signals: Callable[[str], Headers]
    ) -> None:
        self.app = app
        self.member_of = member_of
        self.signals = signals

    def lookup(self, member_id: str) -> Headers:
        """The member's headers, or FAIL_CLOSED when they cannot be worked out."""
        try:
            return self.signals(member_id)
        except Exception:
            _log.warning("reservation of member %r unavailable: page sent with everything reserved", member_id)
            return FAIL_CLOSED

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        member = self.member_of(environ)
        if member is None:
            return self.app(environ, start_response)
        added = list(self.lookup(member))
        replaced = {n.lower() for n, _ in added} & RESERVATION_HEADER_NAMES

        def start(status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None) -> Any:
            kept = [(n, v) for n, v in headers if n.lower() not in replaced]
            return start_response(status, kept + added, exc_info) if exc_info else start_response(status, kept + added)

        return self.app(environ, start)
