"""Consent receipts: one recorded choice, exported for the member to keep.

Two layouts of the same facts:

- `iso27560` — the consent record information structure of ISO/IEC TS 27560
  expressed in JSON-LD with W3C Data Privacy Vocabulary (DPV) terms: record id,
  data subject, purpose, legal basis, jurisdiction, notice (policy version,
  terms URL, hash), event time, method, state and controller, plus the ledger
  evidence (event id and hash chain position) that lets anyone verify it;
- `kantara` — the Kantara Initiative Consent Receipt Specification v1.1 layout.

Given the decision the builds make for the purpose at the moment of the
choice (`consentry.decide`), a receipt also says what the choice did then:
whether the data was used, and why in words — a choice to allow during the
notice period, or while an objection is pending, did not yet let the data be
used.

A receipt carries only ids and policy facts, never content or other personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from consentry.decide import Decision
from consentry.errors import NotFoundError
from consentry.policy import Policy
from consentry.store.protocol import ConsentEvent, Member
from consentry.timeutil import iso
from consentry.vocab import Choice, LegalBasis, Source

__all__ = ["Controller", "Effect", "ReceiptFormat", "build_receipt", "iso27560_receipt", "kantara_receipt"]

DPV = "https://w3id.org/dpv#"
DPV_CONTEXT = {
    "dpv": DPV,
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
ISO27560_SCHEMA = "ISO/IEC TS 27560:2023"
KANTARA_VERSION = "KI-CR-v1.1.0"


class ReceiptFormat(StrEnum):
    """The layouts a receipt can be exported in."""

    ISO27560 = "iso27560"
    KANTARA = "kantara"


@dataclass(frozen=True)
class Controller:
    """Who is responsible for the processing the receipt is about."""

    name: str = "Example Social Network"
    contact: str = "Privacy Office"
    email: str = "privacy@example.org"
    address: str = "1 Example Street, Example City"
    url: str = "https://example.org/privacy"


_LEGAL_BASIS = {LegalBasis.CONSENT: "dpv:Consent", LegalBasis.LEGITIMATE_INTEREST: "dpv:LegitimateInterest"}

_METHOD = {
    Source.SETTINGS: "member toggled the setting on the data-privacy settings page",
    Source.API: "member changed the setting through the platform's API",
    Source.OBJECTION_FORM: "objection filed through the objection form and upheld",
    Source.GPC: "Global Privacy Control signal (Sec-GPC: 1) sent by the member's browser",
    Source.IMPORT: "imported from the platform's earlier consent records",
    Source.ADMIN: "recorded by the privacy team on the member's request",
}


def _state(event: ConsentEvent, basis: LegalBasis) -> str:
    """The DPV status the event put the purpose in."""
    if basis is LegalBasis.CONSENT:
        return "dpv:ConsentGiven" if event.choice is Choice.ALLOW else "dpv:ConsentWithdrawn"
    # Under legitimate interest a deny is an objection to processing, an allow its withdrawal.
    return "dpv:ObjectionWithdrawn" if event.choice is Choice.ALLOW else "dpv:ObjectionRecorded"


def _facts(policy: Policy, event: ConsentEvent) -> tuple[str, str, LegalBasis, str, str, str]:
    """(version id, sha256, legal basis, label, terms url, published_at) for the event's notice."""
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
    return (
        version.version,
        version.sha256,
        rule.legal_basis,
        rule.label,
        version.terms_url,
        iso(version.published_at) or "",
    )


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


def iso27560_receipt(
    policy: Policy, member: Member, event: ConsentEvent, controller: Controller, effect: Effect | None = None
) -> dict[str, Any]:
    """The event as an ISO/IEC TS 27560 consent record in JSON-LD with DPV terms."""
    version, sha, basis, label, url, published = _facts(policy, event)
    receipt = {
        "@context": DPV_CONTEXT,
        "@type": "dpv:ConsentRecord",
        "schema_version": ISO27560_SCHEMA,
        "record_id": f"{policy.name}:event:{event.event_id}",
        "data_subject": {"@type": "dpv:DataSubject", "id": member.member_id},
        "controller": {
            "@type": "dpv:DataController",
            "name": controller.name,
            "contact": controller.contact,
            "email": controller.email,
            "address": controller.address,
            "url": controller.url,
        },
        "notice": {
            "@type": "dpv:PrivacyNotice",
            "policy": policy.name,
            "version": version,
            "sha256": sha,
            "url": url,
            "published_at": published,
        },
        "purpose": {"@type": "dpv:Purpose", "id": event.purpose, "label": label},
        "legal_basis": _LEGAL_BASIS[basis],
        "jurisdiction": {"@type": "dpv:Jurisdiction", "country": member.country},
        "event": {
            "time": iso(event.at),
            "recorded_at": iso(event.recorded_at),
            "method": _METHOD[event.source],
            "source": event.source.value,
            "actor": "data subject" if event.actor == member.member_id else (event.actor or "system"),
        },
        "choice": event.choice.value,
        "state": _state(event, basis),
        "evidence": {
            "ledger_event_id": event.event_id,
            "hash": event.hash,
            "prev_hash": event.prev_hash,
            "case_id": event.case_id,
        },
    }
    if effect is not None:
        receipt["processing"] = effect.to_dict()
    return receipt


def kantara_receipt(
    policy: Policy, member: Member, event: ConsentEvent, controller: Controller, effect: Effect | None = None
) -> dict[str, Any]:
    """The event in the Kantara Initiative Consent Receipt v1.1 layout."""
    version, sha, basis, label, url, _ = _facts(policy, event)
    receipt = {
        "version": KANTARA_VERSION,
        "jurisdiction": member.country or "unknown",
        "consentTimestamp": int(event.at.timestamp()),
        "collectionMethod": _METHOD[event.source],
        "consentReceiptID": f"{policy.name}:event:{event.event_id}",
        "language": "en",
        "piiPrincipalId": member.member_id,
        "piiControllers": [
            {
                "piiController": controller.name,
                "contact": controller.contact,
                "address": controller.address,
                "email": controller.email,
                "piiControllerUrl": controller.url,
            }
        ],
        "policyUrl": url,
        "services": [
            {
                "service": policy.name,
                "purposes": [
                    {
                        "purpose": label,
                        "purposeCategory": [event.purpose],
                        "consentType": "EXPLICIT" if basis is LegalBasis.CONSENT else "LEGITIMATE_INTEREST",
                        "piiCategory": ["member content"],
                        "primaryPurpose": False,
                        "termination": "until the member changes this setting",
                        "thirdPartyDisclosure": False,
                        "choice": event.choice.value,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "policyVersion": version,
        "policySha256": sha,
        "ledgerEventHash": event.hash,
    }
    if effect is not None:
        receipt["processingStatus"] = effect.to_dict()
    return receipt


def build_receipt(
    fmt: ReceiptFormat,
    policy: Policy,
    member: Member,
    event: ConsentEvent,
    controller: Controller,
    effect: Effect | None = None,
) -> dict[str, Any]:
    """The receipt for `event` in the requested layout (with what it did, given its `effect`)."""
    if event.member_id != member.member_id:
        raise NotFoundError(f"choice {event.event_id} is not this member's")
    if fmt is ReceiptFormat.KANTARA:
        return kantara_receipt(policy, member, event, controller, effect)
    return iso27560_receipt(policy, member, event, controller, effect)
