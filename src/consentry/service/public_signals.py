"""A member's reservation as the public API states it: the reserved categories and the headers, nothing else.

The answer is public (a web tier asks it on every page view), so it says only
what the member's pages say anyway: no reason code, no country, no choice
history, and the same answer for an id that is no member as for a member who
reserves everything. It is rendered once per cache fill (`ServiceContext.signals_async`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from consentry.signals.headers import Headers, reservation_headers
from consentry.signals.reservation import Reservation
from consentry.vocab import SignalKind

__all__ = ["MemberSignals", "SignalsOut"]


class SignalsOut(BaseModel):
    """What a member's public pages say about AI use of their content."""

    member_id: str
    reserved: dict[SignalKind, list[str]] = Field(
        description="Reserved categories per signal kind, e.g. {aipref: [train-ai]}; empty when nothing is reserved."
    )
    headers: dict[str, str] = Field(
        description="The response headers the member's pages carry (Content-Usage, tdm-reservation, tdm-policy, "
        "X-Robots-Tag); empty when nothing is reserved."
    )


@dataclass(frozen=True)
class MemberSignals:
    """A member's headers and the API's JSON body, rendered once."""

    headers: Headers
    body: bytes

    @classmethod
    def of(cls, reservation: Reservation) -> MemberSignals:
        """Render the reservation."""
        headers = reservation_headers(reservation)
        out = SignalsOut(
            member_id=reservation.member_id,
            reserved={k: sorted(v) for k, v in sorted(reservation.reserved.items()) if v},
            headers=dict(headers),
        )
        return cls(headers, out.model_dump_json().encode())
