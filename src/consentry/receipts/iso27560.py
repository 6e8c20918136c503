"""An event as an ISO/IEC TS 27560 consent receipt in JSON-LD with W3C DPV terms.

The layout follows the DPVCG guide "Consent Records and Receipts as per ISO/IEC
TS 27560:2023 using DPV": every field maps to a term of `context.context`, so a
JSON-LD processor reads all of it. A field with no value is left out, never
written as null. The status of the choice is a DPV consent status for consent
purposes (`dpv:ConsentGiven`, with `dpv:ExpressedConsent` or
`dpv:ImpliedConsent`; `dpv:ConsentRefused`; `dpv:ConsentWithdrawn`) and a DPV
legitimate-interest status for legitimate-interest purposes: a deny is an
objection (`dpv:LegitimateInterestObjected`), an allow its withdrawal
(`dpv:LegitimateInterestNotObjected`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from consentry.policy import Policy
from consentry.policy.receipt_terms import PurposeReceiptTerms, RecipientRole, Right
from consentry.receipts.context import SCHEMA_27560, context
from consentry.receipts.facts import (
    Controller,
    Effect,
    EventType,
    Notice,
    consent_given_before,
    event_type,
    method,
    notice_for,
)
from consentry.store.protocol import ConsentEvent, Member
from consentry.timeutil import iso
from consentry.vocab import Choice, Control, LegalBasis

__all__ = ["RIGHT_TITLES", "iso27560_receipt", "record_id"]

RIGHT_TITLES = {
    Right.ACCESS: "Right of access",
    Right.RECTIFICATION: "Right to rectification",
    Right.ERASURE: "Right to erasure",
    Right.RESTRICTION: "Right to restriction of processing",
    Right.PORTABILITY: "Right to data portability",
    Right.OBJECT: "Right to object",
    Right.WITHDRAW_CONSENT: "Right to withdraw consent",
    Right.COMPLAINT: "Right to lodge a complaint with a supervisory authority",
}
_ROLE = {
    RecipientRole.CONTROLLER: "dpv:DataController",
    RecipientRole.PROCESSOR: "dpv:DataProcessor",
    RecipientRole.THIRD_PARTY: "dpv:ThirdParty",
}
_LEGAL_BASIS = {LegalBasis.CONSENT: "dpv:Consent", LegalBasis.LEGITIMATE_INTEREST: "dpv:LegitimateInterest"}
_HOW_TO_CHANGE = {
    Control.SETTING: "change the setting on the data-privacy settings page",
    Control.OBJECTION_FORM: "file an objection through the objection form",
    Control.NONE: "write to the controller's privacy office",
}


def record_id(policy: str, event_id: int) -> str:
    """The receipt's identifier: the policy's name and the ledger event's id."""
    return f"{policy}:event:{event_id}"


def _status(event: ConsentEvent, basis: LegalBasis, given_before: bool) -> list[str]:
    """The DPV status types the event put the purpose in."""
    if basis is LegalBasis.LEGITIMATE_INTEREST:
        return [
            "dpv:LegitimateInterestNotObjected" if event.choice is Choice.ALLOW else "dpv:LegitimateInterestObjected"
        ]
    if event.choice is Choice.ALLOW:
        kind = "dpv:ImpliedConsent" if event_type(event) is EventType.IMPLICIT else "dpv:ExpressedConsent"
        return ["dpv:ConsentGiven", kind]
    return ["dpv:ConsentWithdrawn" if given_before else "dpv:ConsentRefused"]


def _event(event: ConsentEvent, member: Member, basis: LegalBasis, history: Sequence[ConsentEvent]) -> dict[str, Any]:
    own = event.actor == member.member_id or event.actor == "gpc-header"
    return {
        "@type": _status(event, basis, consent_given_before(history, event)),
        "time": iso(event.at),
        "indicated_by": "dpv:DataSubject" if own else "dpv:DataController",
        "method": method(event),
        "event_type": event_type(event).value,
        "choice": event.choice.value,
        "recorded_at": iso(event.recorded_at),
        "source": event.source.value,
        "actor": "data subject" if event.actor == member.member_id else (event.actor or "system"),
        "evidence": {
            "@type": "cs:LedgerEvidence",
            "ledger_event_id": event.event_id,
            "hash": event.hash,
            "prev_hash": event.prev_hash,
            "case_id": event.case_id,
        },
    }


def _duration(iso_duration: str | None, until: str) -> dict[str, Any]:
    if iso_duration:
        return {"@type": "dpv:TemporalDuration", "value": iso_duration}
    return {"@type": "dpv:UntilEventDuration", "value": until}


def _processing(notice: Notice, terms: PurposeReceiptTerms, controller: Controller) -> dict[str, Any]:
    """Personal data, operations, storage and processing conditions, recipients."""
    kinds = ", ".join(notice.rule.kinds)
    data = [
        {
            "@type": "dpv:SpecialCategoryPersonalData"
            if d.special_category
            else ("dpv:SensitivePersonalData" if d.sensitive else "dpv:PersonalData"),
            "category": f"pd:{d.category}",
            "label": d.label,
        }
        for d in terms.personal_data
    ] or [{"@type": "dpv:PersonalData", "category": "pd:SocialMedia", "label": f"member content: {kinds}"}]
    storage: list[dict[str, Any]] = []
    if notice.terms.storage_locations:
        locations = [f"loc:{c}" for c in notice.terms.storage_locations]
        storage.append({"@type": "dpv:StorageLocation", "location": locations})
    retention = _duration(terms.retention, "until the member's data is erased, or the member's choice excludes it")
    storage.append({"@type": "dpv:StorageDuration", "duration": retention, "description": terms.retention_note})
    where = [f"loc:{c}" for c in notice.terms.processing_locations]
    recipients: list[dict[str, Any]] = [{"@type": ["dpv:Recipient", "dpv:DataController"], "name": controller.name}]
    recipients += [
        {
            "@type": ["dpv:Recipient", _ROLE[r.role]],
            "name": r.name,
            "location": f"loc:{r.country}" if r.country else None,
        }
        for r in terms.recipients
    ]
    return {
        "personal_data": data,
        "operations": [f"dpv:{op}" for op in terms.operations],
        "storage": storage,
        "processing_conditions": [{"@type": "dpv:ProcessingLocation", "location": where}] if where else None,
        "recipients": recipients,
    }


def _rights_and_controls(notice: Notice, controller: Controller) -> dict[str, Any]:
    terms = notice.terms
    rights_url = terms.rights_url or controller.url
    consent = notice.basis is LegalBasis.CONSENT
    rights = [
        {"@type": "dpv:DataSubjectRight", "label": RIGHT_TITLES[r], "exercised_at": rights_url}
        for r in terms.rights
        if consent or r is not Right.WITHDRAW_CONSENT
    ]
    control = {
        "@type": "dpv:WithdrawConsent" if consent else "dpv:ObjectingToProcess",
        "description": _HOW_TO_CHANGE[notice.rule.control],
        "exercised_at": terms.withdrawal_url or controller.url,
    }
    return {"rights": rights, "withdrawal" if consent else "objection": control}


def iso27560_receipt(
    policy: Policy,
    member: Member,
    event: ConsentEvent,
    controller: Controller,
    effect: Effect | None = None,
    *,
    history: Sequence[ConsentEvent] = (),
    created: datetime | None = None,
) -> dict[str, Any]:
    """The event as an ISO/IEC TS 27560 consent receipt in JSON-LD (see the module doc)."""
    notice = notice_for(policy, event)
    terms, rule = notice.purpose_terms, notice.rule
    authority = notice.terms.authority_for(member.country)
    receipt: dict[str, Any] = {
        "@context": context(notice.basis),
        "@type": ["dpv:ConsentRecord", "dpv:ConsentReceipt"],
        "schema_version": SCHEMA_27560,
        "record_id": record_id(policy.name, event.event_id),
        "created": iso(created or event.recorded_at),
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
            "version": notice.version.version,
            "sha256": notice.version.sha256,
            "url": notice.version.terms_url,
            "published_at": notice.published_at,
            "language": notice.terms.language,
        },
        "purpose": {
            "@type": "dpv:Purpose",
            "id": event.purpose,
            "label": rule.label,
            "description": rule.description,
            "category": f"dpv:{terms.category}" if terms.category else None,
        },
        "legal_basis": _LEGAL_BASIS[notice.basis],
        "jurisdiction": {"@id": f"loc:{member.country}", "@type": "dpv:Country"}
        if member.country
        else {"@type": "dpv:Location", "description": "not known: the policy's strictest rules apply"},
        **_processing(notice, terms, controller),
        **_rights_and_controls(notice, controller),
        "authority": {"@type": "dpv:DataProtectionAuthority", "name": authority.name, "url": authority.url}
        if authority
        else None,
        "event": {
            **_event(event, member, notice.basis, history),
            "validity": _duration(notice.terms.validity, "until the member changes this choice"),
        },
        "history": [_event(e, member, notice.basis, history) for e in history] or None,
        "effect": {"@type": "cs:ProcessingEffect", **effect.to_dict()} if effect is not None else None,
    }
    pruned: dict[str, Any] = _prune(receipt)
    return pruned


def _prune(value: Any) -> Any:
    """Drop None values and empty lists, so every field a receipt has carries a value."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items() if v is not None and k != "@context"}
        out = {k: v for k, v in out.items() if v != []}
        if "@context" in value:
            out = {"@context": value["@context"], **out}
        return out
    if isinstance(value, list):
        return [_prune(v) for v in value if v is not None]
    return value
