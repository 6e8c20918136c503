"""The facts both receipt layouts state: the notice, the controller, the event's kind, what the choice did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from consentry.decide import Decision
from consentry.errors import NotFoundError
from consentry.policy import Policy, PolicyVersion, PurposeRule
from consentry.policy.receipt_terms import PurposeReceiptTerms, ReceiptTerms
from consentry.store.protocol import ConsentEvent
from consentry.timeutil import iso
from consentry.vocab import Choice, LegalBasis, Source

__all__ = [
    "Controller",
    "Effect",
    "EventType",
    "Notice",
    "ReceiptFormat",
    "consent_given_before",
    "event_type",
    "method",
    "notice_for",
    "purpose_history",
]


class ReceiptFormat(StrEnum):
    """The layouts a receipt can be exported in."""

    ISO27560 = "iso27560"
    KANTARA = "kantara"


class EventType(StrEnum):
    """ISO/IEC TS 27560's event type: did the member act on this choice, or was it inferred from a signal."""

    EXPLICIT = "explicit"
    IMPLICIT = "implicit"


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the processing the receipt is about."""

    name: str = "Example Social Network"
    contact: str = "Privacy Office"
    email: str = "privacy@example.org"
    address: str = "1 Example Street, Example City"
    url: str = "https://example.org/privacy"


_METHOD = {
    Source.SETTINGS: "member toggled the setting on the data-privacy settings page",
    Source.API: "member changed the setting through the platform's API",
    Source.OBJECTION_FORM: "objection filed through the objection form and upheld",
    Source.GPC: "Global Privacy Control signal (Sec-GPC: 1) sent by the member's browser",
    Source.IMPORT: "imported from the platform's earlier consent records",
    Source.ADMIN: "recorded by the privacy team on the member's request",
}
# A setting, the API, a form and a request to the privacy team are the member's own act on this choice;
# a browser signal and an import are inferred from something else.
_IMPLICIT = frozenset({Source.GPC, Source.IMPORT})


def method(event: ConsentEvent) -> str:
    """How the choice was expressed, in words."""
    return _METHOD[event.source]


def event_type(event: ConsentEvent) -> EventType:
    """Explicit (the member acted on this choice) or implicit (a signal or an import)."""
    return EventType.IMPLICIT if event.source in _IMPLICIT else EventType.EXPLICIT


@dataclass(frozen=True)
class Notice:
    """The policy version the event was recorded under, with the purpose's rule and receipt terms there."""

    policy: str
    purpose: str
    version: PolicyVersion
    rule: PurposeRule
    terms: ReceiptTerms

    @property
    def basis(self) -> LegalBasis:
        return self.rule.legal_basis

    @property
    def purpose_terms(self) -> PurposeReceiptTerms:
        return self.terms.purpose(self.purpose)

    @property
    def published_at(self) -> str:
        return iso(self.version.published_at) or ""


def notice_for(policy: Policy, event: ConsentEvent) -> Notice:
    """The notice the event answers: its recorded version, or the latest in effect that names the purpose."""
    version = policy.version(event.policy_version) if event.policy_version else policy.version_at(event.at)
    if version is None:
        raise NotFoundError(f"no policy version was in effect for choice {event.event_id}")
    rule = version.purpose(event.purpose)
    if rule is None:
        # The purpose was disclosed by an earlier version; use the latest that names it.
        named = [v for v in policy.versions if v.discloses(event.purpose) and v.effective_at <= event.at]
        if not named:
            raise NotFoundError(f"purpose {event.purpose!r} of choice {event.event_id} is in no policy version")
        version = named[-1]
        rule = version.purposes[event.purpose]
    return Notice(policy.name, event.purpose, version, rule, version.spec.receipts or ReceiptTerms())


def purpose_history(events: Sequence[ConsentEvent], event: ConsentEvent) -> list[ConsentEvent]:
    """The member's events for the event's purpose up to and including it, oldest first."""
    mine = [
        e
        for e in events
        if e.member_id == event.member_id and e.purpose == event.purpose and e.event_id <= event.event_id
    ]
    return sorted(mine, key=lambda e: e.event_id)


def consent_given_before(history: Sequence[ConsentEvent], event: ConsentEvent) -> bool:
    """Had the member allowed the purpose before this event?"""
    return any(e.choice is Choice.ALLOW and e.event_id < event.event_id for e in history)


@dataclass(frozen=True)
class Effect:
    """What the choice did when it was made: the decision, and its reason in the member's words."""

    decision: Decision
    reason_label: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "as_of": iso(self.decision.at),
            "data_used": self.decision.allowed,
            "reason": self.decision.reason.value,
            "reason_label": self.reason_label,
        }
