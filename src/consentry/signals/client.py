"""Ask a Consentry service for members' headers: the `signals` function of `ReservationHeaders`.

    lookup = ServiceSignals("https://consent.internal.example")
    app = asgi.ReservationHeaders(app, member_of=page_owner, signals=lookup.headers_async)
    app = wsgi.ReservationHeaders(app, member_of=page_owner, signals=lookup.headers)

Each call is one `GET /v1/signals/members/{member_id}` (the service answers from
memory; it is meant to be asked on every page view). A failure — unreachable,
a timeout, a non-200 answer, a body that is not the documented shape — raises
`SignalsUnavailable`, and the middleware sends the page with `FAIL_CLOSED`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from consentry.errors import ConsentryError
from consentry.signals.headers import RESERVATION_HEADER_NAMES, Headers

if TYPE_CHECKING:
    import httpx

__all__ = ["ServiceSignals", "SignalsUnavailable"]


class SignalsUnavailable(ConsentryError):
    """The service did not say what a member's pages carry."""


def _headers(member_id: str, status: int, body: bytes) -> Headers:
    if status != 200:
        raise SignalsUnavailable(f"signals of member {member_id!r}: the service answered {status}")
    try:
        data: Any = json.loads(body)
        pairs = tuple((str(k), str(v)) for k, v in data["headers"].items())
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SignalsUnavailable(f"signals of member {member_id!r}: not the documented answer") from None
    if any(n.lower() not in RESERVATION_HEADER_NAMES or not v.isascii() for n, v in pairs):
        raise SignalsUnavailable(f"signals of member {member_id!r}: a header that is not a reservation")
    return pairs


class ServiceSignals:
    """Members' headers from the service at `base_url` (sync for WSGI, async for ASGI)."""

    def __init__(self, base_url: str, timeout_s: float = 2.0, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._client = client

    def _path(self, member_id: str) -> str:
        return f"/v1/signals/members/{quote(member_id, safe='')}"

    def headers(self, member_id: str) -> Headers:
        """The member's headers (blocks: for WSGI and worker threads)."""
        try:
            with urllib.request.urlopen(self.base_url + self._path(member_id), timeout=self.timeout_s) as r:
                return _headers(member_id, r.status, r.read())
        except urllib.error.HTTPError as e:
            return _headers(member_id, e.code, b"")
        except (OSError, ValueError) as e:
            raise SignalsUnavailable(f"signals of member {member_id!r}: {e}") from None

    async def headers_async(self, member_id: str) -> Headers:
        """The member's headers, from the event loop (HTTPX; one pooled client)."""
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout_s)
        try:
            r = await self._client.get(self._path(member_id))
        except httpx.HTTPError as e:
            raise SignalsUnavailable(f"signals of member {member_id!r}: {e}") from None
        return _headers(member_id, r.status_code, r.content)
