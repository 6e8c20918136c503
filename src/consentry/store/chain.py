"""The hash chain over consent events.

Each event's hash is SHA-256 over the previous event's hash, a newline, and
the canonical encoding of the event: the compact JSON array

    [event_id, member_id, purpose, choice, at_us, recorded_us, source,
     actor, policy_version, idempotency_key, case_id]

where `at_us`/`recorded_us` are integer microseconds since the Unix epoch (UTC)
and absent values are `null`. The first event's previous hash is "0" * 64.
Because the id is part of what is hashed, ids run 1, 2, 3, … without gaps and
a removed, changed or reordered event breaks the chain at that event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from consentry.store.protocol import VerifyReport

__all__ = ["EMPTY_HASH", "canonical_json", "event_hash", "verify_rows"]

EMPTY_HASH = "0" * 64

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _reusable_encoder() -> Callable[[tuple[Any, ...]], str]:
    """`_encoder.encode`, minus the encoder object it builds on every call (a third of an append's time).

    The C encoder below is the one `encode` itself uses, with the same settings,
    so the text is identical; without the C accelerator, `encode` it is.
    """
    try:
        from _json import make_encoder
    except ImportError:  # pragma: no cover - CPython always has it
        return _encoder.encode
    c_encode = make_encoder(None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda fields: "".join(c_encode(fields, 0))


#: The canonical encoding of an event's fields: compact JSON, non-ASCII kept as is.
canonical_json: Callable[[tuple[Any, ...]], str] = _reusable_encoder()


def event_hash(prev_hash: str, fields: tuple[Any, ...]) -> str:
    """The chain hash of an event whose canonical fields are `fields` (see module doc)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(fields)}".encode()).hexdigest()


def verify_rows(
    rows: Iterable[tuple[Any, ...]],
    head_events: int,
    head_hash: str,
    on_event: Callable[[int, str], None] | None = None,
) -> VerifyReport:
    """Walk rows of (*canonical fields, prev_hash, hash) in event_id order.

    Reports the first event that was changed (its hash no longer matches its
    fields), removed (a gap in ids or a prev_hash that names no predecessor)
    or reordered, and a chain that ends short of the recorded head.
    `on_event(event_id, hash)` sees every event that checked out, in order.
    """
    prev = EMPTY_HASH
    n = 0
    for row in rows:
        fields, prev_hash, stored = row[:-2], row[-2], row[-1]
        event_id = int(fields[0])
        n += 1
        if event_id != n:
            missing = "removed" if event_id > n else "duplicated or reordered"
            return _bad(n - 1, prev, event_id, f"expected event {n} here; an event was {missing}")
        if prev_hash != prev:
            return _bad(n - 1, prev, event_id, "prev_hash does not match the event before it (removed or reordered)")
        if event_hash(prev_hash, fields) != stored:
            return _bad(n - 1, prev, event_id, "hash does not match the event's fields (changed)")
        prev = stored
        if on_event is not None:
            on_event(event_id, stored)
    if n != head_events or prev != head_hash:
        return _bad(
            n,
            prev,
            n + 1 if n < head_events else n,
            f"the chain has {n} events ending in {prev[:12]}… but the ledger head records "
            f"{head_events} ending in {head_hash[:12]}… (events removed at the end, or the head altered)",
        )
    return VerifyReport(ok=True, events=n, head_hash=prev)


def _bad(good: int, prev: str, event_id: int, problem: str) -> VerifyReport:
    return VerifyReport(ok=False, events=good, head_hash=prev, first_bad_event=event_id, problem=problem)
