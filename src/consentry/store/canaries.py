"""Canaries planted in builds (`Store.canaries`): secret, kept here and nowhere else.

Per build planted with canaries, a `CanarySet` (the secret seed they were drawn
from, the salt and the commitment its manifest carries) and its canaries:
planted ones, each with the member, shard and records it went into, and as many
controls, of the same format and never planted in any build, the never-trained
baseline of the memorisation and forgetting audits. Rows go with their build
(ON DELETE CASCADE). Choosing and planting canaries is the pipeline's
(`consentry.pipeline.canaries`); this module only stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Engine

from consentry.store.database import transaction
from consentry.store.schema import build_canaries, build_canary_sets

__all__ = ["CanaryRecord", "CanarySet", "CanaryStore", "SqlCanaryStore"]

#: Build ids looked up per statement (well under SQLite's and PostgreSQL's parameter limits)
_IN_BATCH = 5_000


@dataclass(frozen=True)
class CanaryRecord:
    """One canary of a build: planted into `repeats` insertions in `record_ids` of `member_id`, or a control."""

    canary_id: str
    build_id: str
    text: str
    planted: bool
    member_id: str | None = None
    shard: int | None = None
    repeats: int = 0
    record_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (it holds the canary's text: secret, for the store and the audit only)."""
        return {
            "canary_id": self.canary_id,
            "build_id": self.build_id,
            "text": self.text,
            "planted": self.planted,
            "member_id": self.member_id,
            "shard": self.shard,
            "repeats": self.repeats,
            "record_ids": list(self.record_ids),
        }


@dataclass(frozen=True)
class CanarySet:
    """What a build's canaries were drawn from (secret) and what its manifest commits to."""

    build_id: str
    seed: bytes
    salt: bytes
    commitment: str
    planted: int


class CanaryStore(Protocol):
    """What the pipeline and the audits store and read about canaries (`Store.canaries`)."""

    def record(self, canary_set: CanarySet, canaries: Sequence[CanaryRecord]) -> None:
        """Keep a build's canary set and its canaries (planted and controls) in one transaction."""
        ...

    def canary_set(self, build_id: str) -> CanarySet | None:
        """The canary set of a build (None: it was built without canaries)."""
        ...

    def canaries_for_builds(self, build_ids: Iterable[str]) -> list[CanaryRecord]:
        """Every canary of these builds, planted and controls, by build id then canary id."""
        ...


class SqlCanaryStore:
    """`CanaryStore` in the store's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, canary_set: CanarySet, canaries: Sequence[CanaryRecord]) -> None:
        """Keep a build's canary set and its canaries (planted and controls) in one transaction."""
        if any(c.build_id != canary_set.build_id for c in canaries):
            raise ValueError("every canary must belong to the canary set's build")
        rows = [
            {
                "build_id": c.build_id,
                "canary_id": c.canary_id,
                "planted": c.planted,
                "member_id": c.member_id,
                "shard": c.shard,
                "text": c.text,
                "repeats": c.repeats,
                "record_ids": json.dumps(list(c.record_ids)),
            }
            for c in canaries
        ]
        with transaction(self._engine, write=True) as conn:
            conn.execute(
                build_canary_sets.insert().values(
                    build_id=canary_set.build_id,
                    seed=canary_set.seed.hex(),
                    salt=canary_set.salt.hex(),
                    commitment=canary_set.commitment,
                    planted=canary_set.planted,
                )
            )
            if rows:
                conn.execute(build_canaries.insert(), rows)

    def canary_set(self, build_id: str) -> CanarySet | None:
        """The canary set of a build (None: it was built without canaries)."""
        t = build_canary_sets
        with transaction(self._engine) as conn:
            row = conn.execute(sa.select(t).where(t.c.build_id == build_id)).first()
        if row is None:
            return None
        return CanarySet(
            build_id=row.build_id,
            seed=bytes.fromhex(row.seed),
            salt=bytes.fromhex(row.salt),
            commitment=row.commitment,
            planted=int(row.planted),
        )

    def canaries_for_builds(self, build_ids: Iterable[str]) -> list[CanaryRecord]:
        """Every canary of these builds, planted and controls, by build id then canary id."""
        ids = sorted(set(build_ids))
        t = build_canaries
        found: list[CanaryRecord] = []
        with transaction(self._engine) as conn:
            for i in range(0, len(ids), _IN_BATCH):
                rows = conn.execute(sa.select(t).where(t.c.build_id.in_(ids[i : i + _IN_BATCH]))).all()
                found += [_canary(r) for r in rows]
        return sorted(found, key=lambda c: (c.build_id, c.canary_id))


def _canary(row: Any) -> CanaryRecord:
    return CanaryRecord(
        canary_id=row.canary_id,
        build_id=row.build_id,
        text=row.text,
        planted=bool(row.planted),
        member_id=row.member_id,
        shard=None if row.shard is None else int(row.shard),
        repeats=int(row.repeats),
        record_ids=tuple(json.loads(row.record_ids)),
    )
