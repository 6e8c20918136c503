"""An event in the Kantara Initiative Consent Receipt Specification v1.1 layout.

Kantara v1.1 receipts are plain JSON with the spec's own field names. The spec
records consent: its `consentType` says how consent was expressed (`EXPLICIT`
or `IMPLIED`), and it has no value for legitimate interest. A receipt for a
legitimate-interest purpose therefore says how the member expressed their
choice in `consentType` too, names the basis in the purpose's text, and adds
`legalBasis` (an extension field, like `policyVersion` and `ledgerEventHash`);
docs/receipts.md explains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consentry.policy import Policy
from consentry.policy.receipt_terms import RecipientRole
from consentry.receipts.facts import Controller, Effect, EventType, event_type, method, notice_for
from consentry.receipts.iso27560 import record_id
from consentry.store.protocol import ConsentEvent, Member
from consentry.timeutil import iso
from consentry.vocab import LegalBasis

__all__ = ["KANTARA_VERSION", "kantara_receipt"]

KANTARA_VERSION = "KI-CR-v1.1.0"


def kantara_receipt(
    policy: Policy,
    member: Member,
    event: ConsentEvent,
    controller: Controller,
    effect: Effect | None = None,
    *,
    history: Sequence[ConsentEvent] = (),
) -> dict[str, Any]:
    """The event in the Kantara Initiative Consent Receipt v1.1 layout (see the module doc)."""
    notice = notice_for(policy, event)
    terms, rule = notice.purpose_terms, notice.rule
    li = notice.basis is LegalBasis.LEGITIMATE_INTEREST
    third = [r.name for r in terms.recipients if r.role is not RecipientRole.PROCESSOR]
    categories = [d.label or d.category for d in terms.personal_data] or [
        f"4 - Communications/Social: {', '.join(rule.kinds)}"
    ]
    sensitive = [d.label or d.category for d in terms.personal_data if d.sensitive or d.special_category]
    purpose: dict[str, Any] = {
        "purpose": f"{rule.label} (legal basis: legitimate interest; you may object)" if li else rule.label,
        "purposeCategory": [event.purpose],
        "consentType": "IMPLIED" if event_type(event) is EventType.IMPLICIT else "EXPLICIT",
        "piiCategory": categories,
        "primaryPurpose": False,
        "termination": f"after {notice.terms.validity}" if notice.terms.validity else "until the member changes it",
        "thirdPartyDisclosure": bool(third),
        "choice": event.choice.value,
        "legalBasis": notice.basis.value,
    }
    if third:
        purpose["thirdPartyName"] = ", ".join(third)
    receipt: dict[str, Any] = {
        "version": KANTARA_VERSION,
        "jurisdiction": member.country or "unknown",
        "consentTimestamp": int(event.at.timestamp()),
        "collectionMethod": method(event),
        "consentReceiptID": record_id(policy.name, event.event_id),
        "language": notice.terms.language,
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
        "policyUrl": notice.version.terms_url,
        "services": [{"service": policy.name, "purposes": [purpose]}],
        "sensitive": bool(sensitive),
        "spiCat": sensitive,
        "policyVersion": notice.version.version,
        "policySha256": notice.version.sha256,
        "ledgerEventHash": event.hash,
    }
    if history:
        receipt["history"] = [
            {
                "consentReceiptID": record_id(policy.name, e.event_id),
                "at": iso(e.at),
                "choice": e.choice.value,
                "collectionMethod": method(e),
                "ledgerEventHash": e.hash,
            }
            for e in history
        ]
    if effect is not None:
        receipt["processingStatus"] = effect.to_dict()
    return receipt
