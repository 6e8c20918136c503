"""The builds registry: every build, its member set, and the last check of its records.

A build is registered in two steps around the rename of its output directory:
a *pending* row (with its member set) before the rename, and *complete* after
it. Only complete builds are listed. Deciding what a pending row left by a
killed build means is the pipeline's (`consentry.pipeline.registry.reconcile`);
this module only stores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from consentry.store.database import WRITE, store_error
from consentry.store.member_index import MemberIndex, decode_index, encode_index
from consentry.store.member_sets import decode, encode, shard_of_member
from consentry.store.schema import (
    build_deletion_checks,
    build_member_chunks,
    build_member_index,
    builds,
    to_us,
    us_to_dt,
)
from consentry.timeutil import iso

__all__ = ["PENDING", "BuildRecord", "BuildRegistry", "SqlBuildRegistry"]

PENDING, COMPLETE = "pending", "complete"


@dataclass(frozen=True)
class BuildRecord:
    """A registered build: what it was for, where it went, what it included."""

    build_id: str
    purpose: str
    as_of: datetime
    created_at: datetime
    out_dir: str
    engine: str
    counts: dict[str, Any]
    manifest_sha256: str | None
    members: int
    predecessor: str | None
    decided_at: datetime | None = None
    scrub: bool = True
    sources: tuple[str, ...] = ()
    #: (events, head hash) of the ledger when the build read it; None for builds registered before it was kept
    ledger: tuple[int, str] | None = None
    #: cohort shards of the output (1: unsharded)
    shards: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (times as RFC 3339)."""
        return {
            "build_id": self.build_id,
            "purpose": self.purpose,
            "as_of": iso(self.as_of),
            "created_at": iso(self.created_at),
            "decided_at": iso(self.decided_at),
            "out_dir": self.out_dir,
            "engine": self.engine,
            "scrub": self.scrub,
            "sources": list(self.sources),
            "counts": self.counts,
            "manifest_sha256": self.manifest_sha256,
            "members": self.members,
            "predecessor": self.predecessor,
            "ledger": {"events": self.ledger[0], "head_hash": self.ledger[1]} if self.ledger else None,
            "shards": self.shards,
        }


class BuildRegistry(Protocol):
    """What the pipeline stores about builds (`Store.builds`)."""

    def register_pending(self, record: BuildRecord, members: pa.Table) -> None:
        """Insert a pending build and its member set (member_id, records) in one transaction."""
        ...

    def update_pending(self, record: BuildRecord) -> None:
        """Set a pending build's final counts, manifest digest, member count and creation time."""
        ...

    def discard_pending(self, build_id: str) -> None:
        """Remove a pending build and its members (complete builds stay)."""
        ...

    def mark_complete(self, build_id: str) -> None:
        """Mark a pending build complete (its output is in place)."""
        ...

    def pending(self) -> list[BuildRecord]:
        """Every pending build, oldest first."""
        ...

    def complete(self) -> list[BuildRecord]:
        """Every complete build, oldest first."""
        ...

    def get(self, build_id: str) -> BuildRecord | None:
        """The complete build with this id (None otherwise)."""
        ...

    def for_member(self, member_id: str) -> list[BuildRecord]:
        """The complete builds whose member set holds `member_id`, oldest first."""
        ...

    def shards_for_member(self, member_id: str) -> list[tuple[BuildRecord, int]]:
        """The complete builds whose member set holds `member_id`, each with the member's shard, oldest first."""
        ...

    def members(self, build_id: str) -> pa.Table:
        """The member set of a build: member_id, records (and shard, if sharded), by member_id (empty if unknown)."""
        ...

    def member_index(self, build_id: str) -> MemberIndex | None:
        """The build's member index (consentry.store.member_index); None if it has none stored."""
        ...

    def save_member_index(self, build_id: str, members: pa.Table) -> MemberIndex:
        """Compute the index of a build's member set, keep it unless one is already kept, and return it."""
        ...

    def record_deletions(self, build_id: str, checked_at: datetime, deleted: dict[str, int] | None) -> None:
        """Keep the result of checking a build's records against its sources (None: could not be checked)."""
        ...

    def deletions(self, build_id: str) -> tuple[datetime | None, dict[str, int] | None]:
        """When the build's records were last checked, and {"members", "records"} deleted by then."""
        ...


#: Bytes per stored part of a member index (a part is well below every database's limit on one value)
INDEX_PART_BYTES = 64 << 20


def _index_parts(build_id: str, data: bytes) -> list[dict[str, Any]]:
    return [
        {"build_id": build_id, "part": i, "data": data[start : start + INDEX_PART_BYTES]}
        for i, start in enumerate(range(0, max(len(data), 1), INDEX_PART_BYTES))
    ]


def _record(row: Any) -> BuildRecord:
    return BuildRecord(
        build_id=row.build_id,
        purpose=row.purpose,
        as_of=us_to_dt(row.as_of_us),
        created_at=us_to_dt(row.created_us),
        out_dir=row.out_dir,
        engine=row.engine,
        counts=json.loads(row.counts),
        manifest_sha256=row.manifest_sha256,
        members=int(row.members),
        predecessor=row.predecessor,
        decided_at=us_to_dt(row.decided_us),
        scrub=bool(row.scrub),
        sources=tuple(json.loads(row.sources)),
        ledger=(int(row.ledger_events), str(row.ledger_head)) if row.ledger_events is not None else None,
        shards=int(row.shards),
    )


_ORDER = (builds.c.created_us, builds.c.build_id)


class SqlBuildRegistry:
    """The builds registry in the store's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def _begin(self, *, write: bool = False) -> Iterator[Connection]:
        try:
            with self._engine.connect().execution_options(**(WRITE if write else {})) as conn, conn.begin():
                yield conn
        except SQLAlchemyError as e:
            raise store_error(e) from None

    def register_pending(self, record: BuildRecord, members: pa.Table) -> None:
        """Insert a pending build and its member set (member_id, records) in one transaction."""
        values = {
            "build_id": record.build_id,
            "purpose": record.purpose,
            "as_of_us": to_us(record.as_of),
            "decided_us": to_us(record.decided_at or record.created_at),
            "created_us": to_us(record.created_at),
            "status": PENDING,
            "out_dir": record.out_dir,
            "engine": record.engine,
            "scrub": record.scrub,
            "sources": json.dumps(list(record.sources)),
            "counts": json.dumps(record.counts, sort_keys=True),
            "manifest_sha256": record.manifest_sha256,
            "members": record.members,
            "predecessor": record.predecessor,
            "ledger_events": record.ledger[0] if record.ledger else None,
            "ledger_head": record.ledger[1] if record.ledger else None,
            "shards": record.shards,
        }
        chunks = [{"build_id": record.build_id, "first_member_id": f, "data": d} for f, d in encode(members)]
        index = _index_parts(record.build_id, encode_index(members))
        with self._begin() as conn:
            conn.execute(builds.insert().values(**values))
            if chunks:
                conn.execute(build_member_chunks.insert(), chunks)
            conn.execute(build_member_index.insert(), index)

    def update_pending(self, record: BuildRecord) -> None:
        """Set a pending build's final counts, manifest digest, member count and creation time."""
        with self._begin() as conn:
            conn.execute(
                builds.update()
                .where(builds.c.build_id == record.build_id, builds.c.status == PENDING)
                .values(
                    counts=json.dumps(record.counts, sort_keys=True),
                    manifest_sha256=record.manifest_sha256,
                    members=record.members,
                    created_us=to_us(record.created_at),
                )
            )

    def discard_pending(self, build_id: str) -> None:
        """Remove a pending build and its members (complete builds stay)."""
        pending = sa.select(builds.c.build_id).where(builds.c.build_id == build_id, builds.c.status == PENDING)
        with self._begin() as conn:
            conn.execute(build_member_chunks.delete().where(build_member_chunks.c.build_id.in_(pending)))
            conn.execute(build_member_index.delete().where(build_member_index.c.build_id.in_(pending)))
            conn.execute(builds.delete().where(builds.c.build_id == build_id, builds.c.status == PENDING))

    def mark_complete(self, build_id: str) -> None:
        """Mark a pending build complete (its output is in place)."""
        with self._begin() as conn:
            conn.execute(builds.update().where(builds.c.build_id == build_id).values(status=COMPLETE))

    def _with_status(self, status: str) -> list[BuildRecord]:
        with self._begin() as conn:
            rows = conn.execute(sa.select(builds).where(builds.c.status == status).order_by(*_ORDER)).all()
        return [_record(r) for r in rows]

    def pending(self) -> list[BuildRecord]:
        """Every pending build, oldest first."""
        return self._with_status(PENDING)

    def complete(self) -> list[BuildRecord]:
        """Every complete build, oldest first."""
        return self._with_status(COMPLETE)

    def get(self, build_id: str) -> BuildRecord | None:
        """The complete build with this id (None otherwise)."""
        with self._begin() as conn:
            row = conn.execute(
                sa.select(builds).where(builds.c.build_id == build_id, builds.c.status == COMPLETE)
            ).first()
        return None if row is None else _record(row)

    def for_member(self, member_id: str) -> list[BuildRecord]:
        """The complete builds whose member set holds `member_id`, oldest first."""
        return [record for record, _ in self.shards_for_member(member_id)]

    def shards_for_member(self, member_id: str) -> list[tuple[BuildRecord, int]]:
        """The complete builds whose member set holds `member_id`, each with the member's shard, oldest first.

        Per build, only the chunk that can hold the member is read: the one with
        the greatest first member id not above it (see member_sets).
        """
        chunks = build_member_chunks.c
        with self._begin() as conn:
            first: sa.ColumnElement[str] = chunks.first_member_id
            if conn.dialect.name == "postgresql":
                first = sa.collate(first, "C")  # bytewise, the order the chunks were cut in
            candidate = (
                sa.select(chunks.build_id, sa.func.max(first).label("first"))
                .where(first <= member_id)
                .group_by(chunks.build_id)
                .subquery()
            )
            rows = conn.execute(
                sa.select(builds, chunks.data)
                .join(candidate, candidate.c.build_id == builds.c.build_id)
                .join(
                    build_member_chunks,
                    sa.and_(chunks.build_id == candidate.c.build_id, first == candidate.c.first),
                )
                .where(builds.c.status == COMPLETE)
                .order_by(*_ORDER)
                .execution_options(yield_per=64)
            )
            found = ((r, shard_of_member(r.data, member_id)) for r in rows)
            return [(_record(r), shard) for r, shard in found if shard is not None]

    def members(self, build_id: str) -> pa.Table:
        """The member set of a build: member_id, records (and shard, if sharded), by member_id (empty if unknown)."""
        chunks = build_member_chunks.c
        with self._begin() as conn:
            parts = conn.execute(
                sa.select(chunks.first_member_id, chunks.data).where(chunks.build_id == build_id)
            ).all()
        return decode(data for _, data in sorted(parts, key=lambda p: str(p[0])))

    def member_index(self, build_id: str) -> MemberIndex | None:
        """The build's member index (consentry.store.member_index); None if it has none stored."""
        index = build_member_index.c
        with self._begin() as conn:
            parts = (
                conn.execute(sa.select(index.data).where(index.build_id == build_id).order_by(index.part))
                .scalars()
                .all()
            )
        if not parts:
            return None
        return decode_index(parts[0] if len(parts) == 1 else b"".join(parts))

    def save_member_index(self, build_id: str, members: pa.Table) -> MemberIndex:
        """Compute the index of a build's member set, keep it unless one is already kept, and return it."""
        data = encode_index(members)
        with self._begin(write=True) as conn:
            kept = conn.execute(
                sa.select(build_member_index.c.part).where(build_member_index.c.build_id == build_id).limit(1)
            ).first()
            known = conn.execute(sa.select(builds.c.build_id).where(builds.c.build_id == build_id)).first()
            if kept is None and known is not None:
                conn.execute(build_member_index.insert(), _index_parts(build_id, data))
        return decode_index(data)

    def record_deletions(self, build_id: str, checked_at: datetime, deleted: dict[str, int] | None) -> None:
        """Keep the result of checking a build's records against its sources (None: could not be checked)."""
        values = {
            "checked_us": to_us(checked_at),
            "members": None if deleted is None else deleted["members"],
            "records": None if deleted is None else deleted["records"],
        }
        table = build_deletion_checks
        with self._begin() as conn:
            conn.execute(table.delete().where(table.c.build_id == build_id))
            conn.execute(table.insert().values(build_id=build_id, **values))

    def deletions(self, build_id: str) -> tuple[datetime | None, dict[str, int] | None]:
        """When the build's records were last checked, and {"members", "records"} deleted by then."""
        table = build_deletion_checks
        with self._begin() as conn:
            row = conn.execute(sa.select(table).where(table.c.build_id == build_id)).first()
        if row is None:
            return None, None
        if row.records is None:
            return us_to_dt(row.checked_us), None
        return us_to_dt(row.checked_us), {"members": int(row.members), "records": int(row.records)}
