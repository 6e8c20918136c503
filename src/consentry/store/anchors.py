"""The ledger against evidence kept outside it: taking checkpoints, verifying against them, event proofs.

- `take_checkpoint` walks and verifies the chain, folds every event into the
  Merkle tree, and signs the result (a chain that does not verify is never
  signed).
- `verify_against` walks the chain once and checks every checkpoint and every
  ledger head recorded by a build manifest (`checkpoints.Anchor`).
- `prove_event` gives one event with its Merkle audit path to a checkpoint's
  tree; `check_event_proof` checks such a proof with the checkpoint and the
  public key alone, without the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from consentry.errors import InputError, LedgerIntegrityError
from consentry.store.chain import event_hash
from consentry.store.checkpoints import (
    Anchor,
    AnchorReport,
    AnchorWalk,
    Checkpoint,
    SignedCheckpoint,
    key_id,
    send_to_witness,
    sign,
    signature_ok,
    write_checkpoint,
)
from consentry.store.merkle import Frontier, inclusion_proof, verify_inclusion
from consentry.store.protocol import ConsentEvent, Store
from consentry.store.schema import to_us
from consentry.timeutil import utc

__all__ = [
    "PROOF_FORMAT",
    "check_event_proof",
    "checkpoint_to",
    "event_hash_ok",
    "extends",
    "prove_event",
    "take_checkpoint",
    "verify_against",
]

PROOF_FORMAT = "consentry-event-proof/1"


def take_checkpoint(store: Store, private_key: Any, now: datetime) -> SignedCheckpoint:
    """Verify the whole chain and sign its size, head hash and Merkle root as of `now`."""
    frontier = Frontier()
    report = store.verify(on_event=lambda _id, h: frontier.add(bytes.fromhex(h)))
    if not report.ok:
        raise LedgerIntegrityError(
            f"the ledger does not verify at event {report.first_bad_event} ({report.problem}); "
            "no checkpoint is signed for a broken chain"
        )
    cp = Checkpoint(report.events, report.head_hash, frontier.root().hex(), utc(now))
    return sign(cp, private_key)


def checkpoint_to(
    store: Store, private_key: Any, now: datetime, directory: Path | None, witness: str | None
) -> dict[str, Any]:
    """Take a checkpoint and hand it on: into `directory` and/or to the `witness` command. Returns what was done."""
    if directory is None and witness is None:
        raise InputError("say where checkpoints go: a directory and/or a witness command")
    signed = take_checkpoint(store, private_key, now)
    out: dict[str, Any] = {**signed.checkpoint.body(), "key_id": signed.key_id}
    if directory is not None:
        out["file"] = str(write_checkpoint(signed, directory, private_key.public_key()))
    if witness is not None:
        send_to_witness(signed, witness)
        out["witnessed"] = True
    return out


def verify_against(store: Store, anchors: Sequence[Anchor]) -> AnchorReport:
    """Walk the chain once; report every anchor (checkpoint or manifest head) the chain contradicts."""
    walk = AnchorWalk(anchors)
    report = store.verify(on_event=walk.add)
    result = walk.report(report.ok, report.events)
    if not report.ok:
        result.contradictions.insert(
            0,
            {
                "kind": "chain",
                "source": "ledger",
                "events": report.first_bad_event,
                "problem": f"the chain itself does not verify at event {report.first_bad_event}: {report.problem}",
            },
        )
    return result


def extends(store: Store, checkpoint: SignedCheckpoint) -> str | None:
    """Does the stored chain still hold the checkpoint's prefix? None if so, else what is wrong (no chain walk:
    the stored hash of its last event is compared, which catches truncation, rollback and recomputation)."""
    cp = checkpoint.checkpoint
    events, _ = store.head()
    if events < cp.events:
        return f"the ledger has {events} events but checkpoint {checkpoint.source} recorded {cp.events}"
    if cp.events and store.event(cp.events).hash != cp.head_hash:
        return f"event {cp.events} no longer has the hash checkpoint {checkpoint.source} recorded"
    return None


def _fields(e: ConsentEvent) -> list[Any]:
    """The canonical fields the chain hashes (consentry.store.chain), as JSON values."""
    return [
        e.event_id,
        e.member_id,
        e.purpose,
        e.choice.value,
        to_us(e.at),
        to_us(e.recorded_at),
        e.source.value,
        e.actor,
        e.policy_version,
        e.idempotency_key,
        e.case_id,
    ]


def event_hash_ok(event: ConsentEvent) -> bool:
    """Does the stored event still hash, from its fields and previous hash, to its stored chain hash?"""
    return event_hash(event.prev_hash, tuple(_fields(event))) == event.hash


def prove_event(store: Store, event_id: int, checkpoint: SignedCheckpoint | None = None) -> dict[str, Any]:
    """One event, its chain link and its audit path in the tree of `checkpoint` (default: the whole ledger now)."""
    event = store.event(event_id)
    size = checkpoint.checkpoint.events if checkpoint else store.head()[0]
    if event_id > size:
        raise InputError(f"event {event_id} came after the checkpoint ({size} events); take a newer checkpoint")
    leaves = store.chain_hashes(size)
    if len(leaves) != size:
        raise LedgerIntegrityError(f"the ledger has {len(leaves)} of the checkpoint's {size} events")
    frontier = Frontier()
    for leaf in leaves:
        frontier.add(leaf)
    root = frontier.root().hex()
    if checkpoint is not None and root != checkpoint.checkpoint.merkle_root:
        raise LedgerIntegrityError(
            f"the ledger's first {size} events no longer match the checkpoint {checkpoint.source or ''}".rstrip()
            + " (run `consentry ledger verify --checkpoints DIR`)"
        )
    return {
        "format": PROOF_FORMAT,
        "event": {"fields": _fields(event), "prev_hash": event.prev_hash, "hash": event.hash},
        "leaf_index": event_id - 1,
        "tree_size": size,
        "merkle_root": root,
        "audit_path": [p.hex() for p in inclusion_proof(leaves, event_id - 1)],
        "checkpoint": checkpoint.to_dict() if checkpoint else None,
    }


def check_event_proof(proof: dict[str, Any], checkpoint: SignedCheckpoint, public_key: Any) -> dict[str, Any]:
    """Check a proof from `prove_event` against a signed checkpoint: {"ok": …, "problem": …, …}."""
    problem = _proof_problem(proof, checkpoint, public_key)
    event = proof.get("event") if isinstance(proof, dict) else None
    fields = event.get("fields") if isinstance(event, dict) else None
    return {
        "ok": problem is None,
        "problem": problem,
        "event_id": fields[0] if isinstance(fields, list) and fields else None,
        "checkpoint_events": checkpoint.checkpoint.events,
        "key_id": key_id(public_key),
    }


def _proof_problem(proof: Any, checkpoint: SignedCheckpoint, public_key: Any) -> str | None:
    if not signature_ok(checkpoint, public_key):
        return f"the checkpoint's signature does not verify with key {key_id(public_key)}"
    try:
        if proof["format"] != PROOF_FORMAT:
            return f"not an event proof (format {proof['format']!r})"
        fields, prev, stored = proof["event"]["fields"], proof["event"]["prev_hash"], proof["event"]["hash"]
        index, path = int(proof["leaf_index"]), [bytes.fromhex(p) for p in proof["audit_path"]]
        if not isinstance(fields, list) or len(fields) != 11 or fields[0] != index + 1:
            return "the event's fields are not the 11 canonical fields of event leaf_index + 1"
        if event_hash(str(prev), tuple(fields)) != stored:
            return "the event's fields do not hash to its chain hash (the event was changed)"
        tree = checkpoint.checkpoint
        if not verify_inclusion(bytes.fromhex(stored), index, tree.events, path, bytes.fromhex(tree.merkle_root)):
            return f"the audit path does not lead to the checkpoint's Merkle root over {tree.events} events"
    except (KeyError, TypeError, ValueError) as e:
        return f"not a readable event proof ({e})"
    return None
