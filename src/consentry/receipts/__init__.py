"""Consent receipts: one recorded choice, exported for the member to keep, signed, and checked later.

Two layouts of the same facts (docs/receipts.md):

- `iso27560` — the consent record information structure of ISO/IEC TS 27560
  in JSON-LD with W3C Data Privacy Vocabulary (DPV) terms (`iso27560`), with
  SHACL shapes it conforms to (`context.shapes_ttl`);
- `kantara` — the Kantara Initiative Consent Receipt Specification v1.1 layout.

Given the decision the builds make for the purpose at the moment of the choice
(`consentry.decide`), a receipt also says what the choice did then. It may carry
the member's history for the purpose, each event with its ledger evidence.
`signing` signs a receipt as a JWS with a key the store keeps; `verify` checks
a signed receipt's signature and, against the store, its ledger evidence.

A receipt carries only ids and policy facts, never content or other personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from consentry.errors import NotFoundError
from consentry.policy import Policy
from consentry.receipts.facts import Controller, Effect, ReceiptFormat
from consentry.receipts.iso27560 import iso27560_receipt
from consentry.receipts.kantara import kantara_receipt
from consentry.store.protocol import ConsentEvent, Member

__all__ = ["Controller", "Effect", "ReceiptFormat", "build_receipt", "iso27560_receipt", "kantara_receipt"]


def build_receipt(
    fmt: ReceiptFormat,
    policy: Policy,
    member: Member,
    event: ConsentEvent,
    controller: Controller,
    effect: Effect | None = None,
    *,
    history: Sequence[ConsentEvent] = (),
    created: datetime | None = None,
) -> dict[str, Any]:
    """The receipt for `event` in the requested layout (with what it did, given its `effect`).

    `history`: the member's events for the purpose up to the event (`facts.purpose_history`);
    `created`: when the receipt is made (default: when the event was recorded).
    """
    if event.member_id != member.member_id or any(e.member_id != member.member_id for e in history):
        raise NotFoundError(f"choice {event.event_id} is not this member's")
    if fmt is ReceiptFormat.KANTARA:
        return kantara_receipt(policy, member, event, controller, effect, history=history)
    return iso27560_receipt(policy, member, event, controller, effect, history=history, created=created)
