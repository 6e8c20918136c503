"""Planting canaries in a build (`build(..., canaries=N)`) and carrying them into its rebuilds.

    decide ─► members ─► N of them, picked by the secret seed ─► each gets a canary
      ─► scrub ─► PlantCanaries: the canary appended to the text of R of the member's records ─► write
      ─► manifest: how many were planted and the commitment ─► store: the canaries and as many controls

Insertion appends the canary sentence, on a line of its own, to the text of
the member's allowed records in stream order: the first R records get one
copy each (a member with fewer records than R gets several copies per record).
Record ids, record and member counts, the member set and its digest are the
same as without canaries; only the text of those records changes. Planting
comes after the scrubber, so the canary's digits are never taken for PII.
Either engine plants them: the rows come back from it (`Engine.included`) and
are planted in Python, so a build with canaries never takes the engine's own
write of OUT (with Spark, scrubbing then runs in the driver's processes too).

A rebuild plants its predecessor's canaries again, with the same ids and
texts, for the members it still includes: a member it excludes takes their
canaries with them. In a partial rebuild, canaries in carried shards stay as
they were (their files are the predecessor's).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from consentry.audit.canaries import FORMAT, commitment, draw_values, new_seed, seed_choice
from consentry.errors import InputError
from consentry.pipeline.steps import MEMBER_COLUMN, StepStats
from consentry.store.canaries import CanaryRecord, CanarySet

if TYPE_CHECKING:
    from consentry.store.protocol import Store

__all__ = ["MAX_CANARIES", "MAX_REPEATS", "CanaryRequest", "PlantCanaries", "canary_request", "plant_canaries"]

MAX_CANARIES = 100_000
MAX_REPEATS = 10_000


@dataclass(frozen=True)
class CanaryRequest:
    """What a build plants: `count` new canaries from `seed`, `repeats` times each, or a predecessor's again."""

    seed: bytes
    count: int = 0
    repeats: int = 1
    #: the predecessor's planted canaries and controls (a rebuild plants those instead of new ones)
    carried: tuple[CanaryRecord, ...] = ()
    controls: tuple[CanaryRecord, ...] = ()


def canary_request(store: Store, count: int, repeats: int, predecessor: str | None) -> CanaryRequest | None:
    """The canaries a build plants (None: none), checked: InputError naming the option at fault."""
    if not 0 <= count <= MAX_CANARIES:
        raise InputError(f"must be 0 to {MAX_CANARIES}, not {count}", field="--canaries")
    if not 1 <= repeats <= MAX_REPEATS:
        raise InputError(f"must be 1 to {MAX_REPEATS}, not {repeats}", field="--canary-repeats")
    earlier = store.canaries.canary_set(predecessor) if predecessor else None
    if earlier is not None and count:
        raise InputError(
            f"a rebuild plants the canaries of build {predecessor} again; plant new ones in a new build",
            field="--canaries",
        )
    if earlier is None and not count:
        return None
    if earlier is None:
        return CanaryRequest(new_seed(), count, repeats)
    assert predecessor is not None
    rows = store.canaries.canaries_for_builds([predecessor])
    return CanaryRequest(
        earlier.seed,
        carried=tuple(c for c in rows if c.planted),
        controls=tuple(c for c in rows if not c.planted),
    )


def plant_canaries(store: Store, count: int, repeats: int, predecessor: str | None) -> PlantCanaries | None:
    """The step planting a build's canaries (see `canary_request`), or None when it plants none."""
    request = canary_request(store, count, repeats, predecessor)
    return PlantCanaries(request) if request is not None else None


def _canary_id(seed: bytes, prefix: str, i: int) -> str:
    """A canary's id ("c-…" planted, "k-…" control): stable across rebuilds, telling nothing of its text."""
    return f"{prefix}-" + hmac.new(seed, f"id\x00{prefix}\x00{i}".encode(), hashlib.sha256).hexdigest()[:16]


@dataclass
class _Target:
    """One canary to plant: its member, and what went in so far."""

    canary: CanaryRecord
    member_records: int
    repeats: int
    seen: int = 0
    record_ids: list[str] = field(default_factory=list)
    inserted: int = 0


class PlantCanaries:
    """The step that appends each canary to its member's records (after the scrubber, before `Project`)."""

    name = "canaries"

    def __init__(self, request: CanaryRequest) -> None:
        self.request = request
        self.stats = StepStats()
        self._targets: dict[str, _Target] = {}
        self._ids: pa.Array = pa.array([], pa.string())
        self._controls: list[CanaryRecord] = []
        self._kept: list[CanaryRecord] = []  # canaries of carried shards, as the predecessor planted them
        self._bound = False

    def bind(self, members: pa.Table, only: frozenset[int] | None = None) -> None:
        """Choose whose records get which canary, from the build's allowed `members` (member_id, records[, shard]).

        `only`: a partial rebuild's rewritten shards (canaries of the others stay as planted).
        InputError if new canaries outnumber the members.
        """
        req = self.request
        records = dict(zip(members.column("member_id").to_pylist(), members.column("records").to_pylist(), strict=True))
        shard = (
            dict(zip(members.column("member_id").to_pylist(), members.column("shard").to_pylist(), strict=True))
            if "shard" in members.column_names
            else {}
        )
        if req.carried or req.controls:
            wanted = [replace(c, shard=shard.get(str(c.member_id), 0)) for c in req.carried if c.member_id in records]
            self._kept = [c for c in wanted if only is not None and c.shard not in only]
            wanted = [c for c in wanted if only is None or c.shard in only]
            self._controls = sorted(req.controls, key=lambda c: c.canary_id)
        else:
            wanted, self._controls = self._new(records, shard)
        self._targets = {
            str(c.member_id): _Target(c, int(records[str(c.member_id)]), c.repeats or req.repeats) for c in wanted
        }
        self._ids = pa.array(sorted(self._targets), pa.string())
        self._bound = True

    def _new(self, records: dict[str, int], shard: dict[str, int]) -> tuple[list[CanaryRecord], list[CanaryRecord]]:
        req = self.request
        if req.count > len(records):
            raise InputError(
                f"{req.count} canaries need as many members with allowed records; the build has {len(records)}",
                field="--canaries",
            )
        members = seed_choice(req.seed, "member", records, req.count)
        values = draw_values(req.seed, "planted", req.count)
        controls = draw_values(req.seed, "control", req.count, exclude=values)
        planted = [
            CanaryRecord(_canary_id(req.seed, "c", i), "", FORMAT.render(v), True, m, shard.get(m, 0), req.repeats)
            for i, (m, v) in enumerate(zip(members, values, strict=True))
        ]
        kept = [CanaryRecord(_canary_id(req.seed, "k", i), "", FORMAT.render(v), False) for i, v in enumerate(controls)]
        return planted, sorted(kept, key=lambda c: c.canary_id)

    def run(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Yield each batch, the text of the chosen members' records carrying their canaries."""
        if not self._bound:
            raise RuntimeError("PlantCanaries.bind() must come before run()")
        for batch in batches:
            self.stats.rows_in += batch.num_rows
            self.stats.forwarded += batch.num_rows
            yield self._plant(batch) if len(self._ids) else batch

    def _plant(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        member_ids = batch.column(MEMBER_COLUMN)
        hits = pc.is_in(member_ids, value_set=self._ids)
        if not pc.any(hits).as_py():
            return batch
        texts = batch.column("text")
        changed = np.zeros(batch.num_rows, dtype=bool)
        new: list[str] = []
        for i in pc.indices_nonzero(hits).to_pylist():
            target = self._targets[member_ids[i].as_py()]
            n, k = target.member_records, target.seen
            target.seen += 1
            copies = target.repeats // n + (1 if k < target.repeats % n else 0)
            if not copies:
                continue
            old = texts[i].as_py()
            new.append("\n".join(([old] if old else []) + [target.canary.text] * copies))
            changed[i] = True
            target.record_ids.append(str(batch.column("record_id")[i].as_py()))
            target.inserted += copies
        if not new:
            return batch
        planted = pc.replace_with_mask(texts, pa.array(changed), pa.array(new, texts.type))
        return batch.set_column(batch.schema.get_field_index("text"), "text", planted)

    def _planted(self, build_id: str) -> list[CanaryRecord]:
        done = [
            replace(t.canary, build_id=build_id, repeats=t.inserted, record_ids=tuple(t.record_ids))
            for t in self._targets.values()
            if t.inserted
        ]
        return sorted(done + [replace(c, build_id=build_id) for c in self._kept], key=lambda c: c.canary_id)

    def summary(self, build_id: str) -> dict[str, Any]:
        """The manifest's `canaries`: how many were planted and the commitment (never the canaries)."""
        planted = self._planted(build_id)
        return {"planted": len(planted), "commitment": commitment([c.text for c in planted], self._salt(build_id))}

    def _salt(self, build_id: str) -> bytes:
        # per build: a rebuild's commitment to the same canaries differs from its predecessor's
        return hmac.new(self.request.seed, f"salt\x00{build_id}".encode(), hashlib.sha256).digest()

    def records(self, build_id: str) -> tuple[CanarySet, list[CanaryRecord]]:
        """What the store keeps: the canary set and every canary, planted and as many controls."""
        planted = self._planted(build_id)
        controls = [replace(c, build_id=build_id) for c in self._controls[: len(planted)]]
        salt = self._salt(build_id)
        canary_set = CanarySet(
            build_id, self.request.seed, salt, commitment([c.text for c in planted], salt), len(planted)
        )
        return canary_set, planted + controls
