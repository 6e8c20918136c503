"""`consentry receipts verify FILE`: a signed receipt's signature, then its ledger evidence against the store.

Checks, in order (the first that fails is named, and no later one runs):

- `format` — the file is a JWS (compact or flattened JSON) signed with Ed25519 carrying a receipt;
- `key` — it names a key the store has (current or previous: `signing.jwks`);
- `signature` — the signature verifies with that key;
- `evidence` — every event the receipt states (the event and its history) is in
  the ledger as stated: same member, purpose, choice, time and chain hashes;
- `chain` — each of those ledger events still hashes to its stored chain hash
  (the row was not edited after it was hashed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consentry.errors import InputError, NotFoundError
from consentry.receipts.signing import SignatureProblem, jwks, read_jws
from consentry.store.anchors import event_hash_ok
from consentry.store.protocol import ConsentEvent, Store
from consentry.timeutil import iso

__all__ = ["CHECKS", "ReceiptVerification", "read_receipt_file", "verify_signed_receipt"]

CHECKS = ("format", "key", "signature", "evidence", "chain")


@dataclass
class ReceiptVerification:
    """What `verify_signed_receipt` found."""

    ok: bool
    passed: list[str] = field(default_factory=list)
    failed: str | None = None
    problem: str | None = None
    key_id: str | None = None
    record_id: str | None = None
    events: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON the CLI prints."""
        return {
            "ok": self.ok,
            "checks_passed": self.passed,
            "failed_check": self.failed,
            "problem": self.problem,
            "key_id": self.key_id,
            "record_id": self.record_id,
            "events": self.events,
        }


@dataclass(frozen=True)
class _Claim:
    """One event as the receipt states it."""

    event_id: int
    member_id: str
    purpose: str
    choice: str
    at: str | int
    hash: str
    prev_hash: str | None


def _iso_claims(r: dict[str, Any]) -> Iterator[_Claim]:
    member, purpose = r["data_subject"]["id"], r["purpose"]["id"]
    events = [r["event"], *r.get("history", [])]
    for e in events:
        ev = e["evidence"]
        yield _Claim(int(ev["ledger_event_id"]), member, purpose, e["choice"], e["time"], ev["hash"], ev["prev_hash"])


def _kantara_claims(r: dict[str, Any]) -> Iterator[_Claim]:
    member = r["piiPrincipalId"]
    p = r["services"][0]["purposes"][0]
    purpose = p["purposeCategory"][0]
    event_id = int(str(r["consentReceiptID"]).rsplit(":event:", 1)[1])
    yield _Claim(event_id, member, purpose, p["choice"], int(r["consentTimestamp"]), r["ledgerEventHash"], None)
    for h in r.get("history", []):
        hid = int(str(h["consentReceiptID"]).rsplit(":event:", 1)[1])
        yield _Claim(hid, member, purpose, h["choice"], h["at"], h["ledgerEventHash"], None)


def _claims(receipt: dict[str, Any]) -> list[_Claim]:
    try:
        return list(_kantara_claims(receipt) if "consentReceiptID" in receipt else _iso_claims(receipt))
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise SignatureProblem("format", f"the signed receipt lacks its ledger evidence ({e!r})") from None


def _mismatch(claim: _Claim, event: ConsentEvent) -> str | None:
    at = int(event.at.timestamp()) if isinstance(claim.at, int) else iso(event.at)
    stated = {
        "member": (claim.member_id, event.member_id),
        "purpose": (claim.purpose, event.purpose),
        "choice": (claim.choice, event.choice.value),
        "time": (claim.at, at),
        "hash": (claim.hash, event.hash),
    }
    if claim.prev_hash is not None:
        stated["previous hash"] = (claim.prev_hash, event.prev_hash)
    for what, (said, stored) in stated.items():
        if said != stored:
            return f"event {claim.event_id}: the receipt's {what} differs from the ledger's"
    return None


def verify_signed_receipt(text: str, store: Store) -> ReceiptVerification:
    """Run the checks of the module doc on a signed receipt (JWS text, either serialization) against `store`."""
    out = ReceiptVerification(ok=False)
    try:
        signed = read_jws(text, jwks(store.secrets))
    except SignatureProblem as e:
        out.passed = list(CHECKS[: CHECKS.index(e.check)])
        out.failed, out.problem = e.check, str(e)
        return out
    out.passed, out.key_id = ["format", "key", "signature"], signed.key_id
    out.record_id = signed.receipt.get("record_id") or signed.receipt.get("consentReceiptID")
    try:
        claims = _claims(signed.receipt)
    except SignatureProblem as e:
        out.failed, out.problem = e.check, str(e)
        return out
    out.events = [c.event_id for c in claims]
    stored: list[ConsentEvent] = []
    for claim in claims:
        try:
            event = store.event(claim.event_id)
        except NotFoundError:
            out.failed, out.problem = "evidence", f"event {claim.event_id} is not in the ledger"
            return out
        problem = _mismatch(claim, event)
        if problem:
            out.failed, out.problem = "evidence", problem
            return out
        stored.append(event)
    out.passed.append("evidence")
    for event in stored:
        if not event_hash_ok(event):
            out.failed = "chain"
            out.problem = f"ledger event {event.event_id} no longer hashes to its chain hash (it was edited)"
            return out
    out.passed.append("chain")
    out.ok = True
    return out


def read_receipt_file(path: Path) -> str:
    """The text of a signed receipt file; InputError naming it if unreadable."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not a signed receipt (not UTF-8 text: {e.reason})") from e
