"""Reservations as the HTTP response headers of the standards, and the site-wide files.

- IETF AI preferences (draft-ietf-aipref-attach, -vocab): `Content-Usage`, a
  Structured Fields Dictionary (RFC 9651) of usage categories, each the Token
  `n` for a reserved category, serialised with `http-sf` (`train-ai=n`);
- W3C TDMRep: `tdm-reservation: 1` and `tdm-policy: <terms URL>`;
- `X-Robots-Tag: noai, noimageai`.

A category the member does not reserve is left unstated, never sent as `y`:
Consentry publishes members' reservations, it grants nothing on their behalf.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import http_sf

from consentry.signals.reservation import Reservation
from consentry.vocab import PUBLISHED_SIGNAL_CATEGORIES, SignalKind

__all__ = [
    "FAIL_CLOSED",
    "RESERVATION_HEADER_NAMES",
    "Headers",
    "content_usage",
    "reservation_headers",
]

#: Response headers as (name, value) pairs, in the order they are sent.
Headers = tuple[tuple[str, str], ...]

#: Every header a reservation may set (lower case), so a middleware can replace what an app set.
RESERVATION_HEADER_NAMES = frozenset({"content-usage", "tdm-reservation", "tdm-policy", "x-robots-tag"})


def _ordered(kind: SignalKind, categories: Iterable[str]) -> list[str]:
    order = PUBLISHED_SIGNAL_CATEGORIES[kind]
    return sorted(categories, key=order.index)


def content_usage(categories: Iterable[str]) -> str:
    """The `Content-Usage` value reserving `categories` (e.g. `train-ai=n`), serialised by http-sf."""
    chosen = _ordered(SignalKind.AIPREF, categories)
    return http_sf.ser({c: http_sf.Token("n") for c in chosen}) if chosen else ""


def _headers(aipref: Sequence[str], tdm: bool, tdm_policy: str | None, robots: Sequence[str]) -> Headers:
    out: list[tuple[str, str]] = []
    if aipref:
        out.append(("Content-Usage", content_usage(aipref)))
    if tdm:
        out.append(("tdm-reservation", "1"))
        if tdm_policy:
            out.append(("tdm-policy", tdm_policy))
    if robots:
        out.append(("X-Robots-Tag", ", ".join(_ordered(SignalKind.ROBOTS, robots))))
    return tuple(out)


def reservation_headers(reservation: Reservation) -> Headers:
    """The headers a member's public pages carry: none when the member reserves nothing."""
    return _headers(
        _ordered(SignalKind.AIPREF, reservation.categories(SignalKind.AIPREF)),
        bool(reservation.categories(SignalKind.TDMREP)),
        reservation.tdm_policy,
        _ordered(SignalKind.ROBOTS, reservation.categories(SignalKind.ROBOTS)),
    )


#: What a page carries when its member's reservation cannot be worked out (the lookup failed):
#: AI training and AI use reserved in every standard; search is left alone.
FAIL_CLOSED: Headers = _headers(["train-ai", "ai-use"], True, None, ["noai", "noimageai"])
