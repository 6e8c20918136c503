"""The build registry: every build, its member set, and which builds went stale.

A build is registered in two steps around the rename of its output directory:
a *pending* row (with its manifest digest and members) before the rename, and
*complete* after it. Only complete builds are listed. A build killed between
the rename and the second step is recognised on the next read: its OUT holds a
manifest with the same digest, so it is completed then. A build killed any
earlier leaves only a pending row, which is never shown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from consentry.errors import NotFoundError
from consentry.pipeline.manifest import MANIFEST_NAME
from consentry.store.member_sets import contains, decode, encode
from consentry.store.protocol import Store
from consentry.timeutil import utc, utcnow

if TYPE_CHECKING:
    from consentry.pipeline.build import BuildProgress, BuildResult

__all__ = [
    "BuildRecord",
    "StaleBuild",
    "builds_for_member",
    "get_build",
    "list_builds",
    "rebuild",
    "stale_builds",
]

_meta = sa.MetaData()
builds_table = sa.Table(
    "builds",
    _meta,
    sa.Column("build_id", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(64), nullable=False),
    sa.Column("as_of_us", sa.BigInteger, nullable=False),
    sa.Column("decided_us", sa.BigInteger, nullable=False),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("out_dir", sa.Text, nullable=False),
    sa.Column("engine", sa.String(32), nullable=False),
    sa.Column("scrub", sa.Boolean, nullable=False),
    sa.Column("sources", sa.Text, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),
    sa.Column("manifest_sha256", sa.String(64), nullable=True),
    sa.Column("members", sa.BigInteger, nullable=False),
    sa.Column("predecessor", sa.String(64), nullable=True),
)
member_chunks_table = sa.Table(
    "build_member_chunks",
    _meta,
    sa.Column("build_id", sa.String(64), primary_key=True),
    sa.Column("first_member_id", sa.String(255), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

PENDING, COMPLETE = "pending", "complete"


def _us(t: datetime) -> int:
    t = utc(t)
    return (t - _EPOCH) // _MICRO


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH


def _dt(us: int) -> datetime:
    return _EPOCH + us * _MICRO


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (times as RFC 3339)."""
        from consentry.timeutil import iso

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
        }


@dataclass(frozen=True)
class StaleBuild:
    """A build holding data of members who have since taken it back.

    `causes` maps a reason code (OPTED_OUT, OBJECTION_UPHELD, OBJECTION_PENDING,
    ACCOUNT_CLOSED, RECORD_DELETED, …) to {"members": n, "records": n}.
    """

    build: BuildRecord
    stale_members: int
    stale_records: int
    causes: dict[str, dict[str, int]] = field(default_factory=dict)
    unchecked: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "build_id": self.build.build_id,
            "purpose": self.build.purpose,
            "as_of": self.build.to_dict()["as_of"],
            "out_dir": self.build.out_dir,
            "members": self.build.members,
            "stale_members": self.stale_members,
            "stale_records": self.stale_records,
            "causes": self.causes,
            "unchecked": list(self.unchecked),
        }


def _record(row: Any) -> BuildRecord:
    return BuildRecord(
        build_id=row.build_id,
        purpose=row.purpose,
        as_of=_dt(row.as_of_us),
        created_at=_dt(row.created_us),
        out_dir=row.out_dir,
        engine=row.engine,
        counts=json.loads(row.counts),
        manifest_sha256=row.manifest_sha256,
        members=int(row.members),
        predecessor=row.predecessor,
        decided_at=_dt(row.decided_us),
        scrub=bool(row.scrub),
        sources=tuple(json.loads(row.sources)),
    )


def register_pending(store: Store, record: BuildRecord, members: pa.Table) -> None:
    """Insert a pending build and its member set (member_id, records) in one transaction."""
    values = {
        "build_id": record.build_id,
        "purpose": record.purpose,
        "as_of_us": _us(record.as_of),
        "decided_us": _us(record.decided_at or record.created_at),
        "created_us": _us(record.created_at),
        "status": PENDING,
        "out_dir": record.out_dir,
        "engine": record.engine,
        "scrub": record.scrub,
        "sources": json.dumps(list(record.sources)),
        "counts": json.dumps(record.counts, sort_keys=True),
        "manifest_sha256": record.manifest_sha256,
        "members": record.members,
        "predecessor": record.predecessor,
    }
    with store.engine.begin() as conn:
        conn.execute(builds_table.insert().values(**values))
        chunks = [{"build_id": record.build_id, "first_member_id": f, "data": d} for f, d in encode(members)]
        if chunks:
            conn.execute(member_chunks_table.insert(), chunks)


def update_pending(store: Store, record: BuildRecord) -> None:
    """Set a pending build's final counts, manifest digest, member count and creation time."""
    with store.engine.begin() as conn:
        conn.execute(
            builds_table.update()
            .where(builds_table.c.build_id == record.build_id, builds_table.c.status == PENDING)
            .values(
                counts=json.dumps(record.counts, sort_keys=True),
                manifest_sha256=record.manifest_sha256,
                members=record.members,
                created_us=_us(record.created_at),
            )
        )


def discard_pending(store: Store, build_id: str) -> None:
    """Remove a pending build and its members (a build that failed after registering)."""
    with store.engine.begin() as conn:
        conn.execute(member_chunks_table.delete().where(member_chunks_table.c.build_id == build_id))
        conn.execute(builds_table.delete().where(builds_table.c.build_id == build_id, builds_table.c.status == PENDING))


class EarlyRegistration:
    """Register a build as pending, and digest its member set, on threads beside the write.

    For builds whose member set is final once decided (nothing downstream can
    drop rows). The pending row has no manifest digest, so it is never shown
    nor completed by `_reconcile`; `finish` fills it in, `abandon` removes it.
    """

    def __init__(self, store: Store, record: BuildRecord, members: pa.Table):
        from consentry.pipeline.manifest import members_digest

        self.store = store
        self.build_id = record.build_id
        pool = ThreadPoolExecutor(2, thread_name_prefix="consentry-register")
        self._registered = pool.submit(register_pending, store, record, members.select(["member_id", "records"]))
        self._digest = pool.submit(members_digest, members.column("member_key"))
        pool.shutdown(wait=False)

    def members_digest(self) -> str:
        """The digest of the member set (waits for it)."""
        return self._digest.result()

    def finish(self, record: BuildRecord) -> None:
        """Wait for the registration, then set the build's final figures (still pending)."""
        self._registered.result()
        update_pending(self.store, record)

    def abandon(self) -> None:
        """Wait for the registration to end, then remove whatever it registered."""
        try:
            self._registered.result()
        except Exception:  # nothing registered, or a partial insert rolled back
            return
        discard_pending(self.store, self.build_id)


def mark_complete(store: Store, build_id: str) -> None:
    """Mark a pending build complete (its OUT is in place)."""
    with store.engine.begin() as conn:
        conn.execute(builds_table.update().where(builds_table.c.build_id == build_id).values(status=COMPLETE))


def _reconcile(store: Store) -> None:
    """Complete pending builds whose OUT is in place with the registered manifest."""
    with store.engine.begin() as conn:
        rows = conn.execute(
            sa.select(builds_table.c.build_id, builds_table.c.out_dir, builds_table.c.manifest_sha256).where(
                builds_table.c.status == PENDING
            )
        ).all()
    for build_id, out_dir, digest in rows:
        path = Path(out_dir) / MANIFEST_NAME
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
        if actual == digest:
            mark_complete(store, build_id)


def list_builds(store: Store) -> list[BuildRecord]:
    """Every complete build, oldest first."""
    _reconcile(store)
    with store.engine.begin() as conn:
        rows = conn.execute(
            sa.select(builds_table)
            .where(builds_table.c.status == COMPLETE)
            .order_by(builds_table.c.created_us, builds_table.c.build_id)
        ).all()
    return [_record(r) for r in rows]


def get_build(store: Store, build_id: str) -> BuildRecord:
    """The complete build with this id (NotFoundError otherwise)."""
    _reconcile(store)
    with store.engine.begin() as conn:
        row = conn.execute(
            sa.select(builds_table).where(builds_table.c.build_id == build_id, builds_table.c.status == COMPLETE)
        ).first()
    if row is None:
        raise NotFoundError(f"no build {build_id!r}; `consentry builds list` shows the registered builds")
    return _record(row)


def builds_for_member(store: Store, member_id: str) -> list[BuildRecord]:
    """The complete builds that include records of `member_id`, oldest first.

    Per build, only the chunk that can hold the member is read: the one with
    the greatest first member id not above it (see member_sets).
    """
    _reconcile(store)
    chunks = member_chunks_table.c
    with store.engine.begin() as conn:
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
            sa.select(builds_table, chunks.data)
            .join(candidate, candidate.c.build_id == builds_table.c.build_id)
            .join(
                member_chunks_table,
                sa.and_(chunks.build_id == candidate.c.build_id, first == candidate.c.first),
            )
            .where(builds_table.c.status == COMPLETE)
            .order_by(builds_table.c.created_us, builds_table.c.build_id)
            .execution_options(yield_per=64)
        )
        return [_record(r) for r in rows if contains(r.data, member_id)]


def build_members(store: Store, build_id: str) -> pa.Table:
    """The members of a build: member_id, records (sorted by member_id; empty for an unknown build)."""
    chunks = member_chunks_table.c
    with store.engine.begin() as conn:
        parts = conn.execute(sa.select(chunks.first_member_id, chunks.data).where(chunks.build_id == build_id)).all()
    return decode(data for _, data in sorted(parts, key=lambda p: str(p[0])))


_CAUSE_SQL = """
SELECT cause, count(*) AS members, sum(records) AS records FROM (
  SELECT b.records, CASE
    WHEN v.member_id IS NULL THEN 'UNKNOWN_MEMBER'
    WHEN v.gate_reason IS NOT NULL THEN v.gate_reason
    WHEN v.closed THEN 'ACCOUNT_CLOSED'
    ELSE v.consent_reason END AS cause
  FROM b LEFT JOIN v ON b.member_id = v.member_id
) WHERE cause IS NOT NULL GROUP BY cause ORDER BY cause
"""


def _member_causes(store: Store, record: BuildRecord, now: datetime) -> dict[str, dict[str, int]]:
    from consentry.decide import decide_members

    members = build_members(store, record.build_id)
    snapshot = store.snapshot(record.purpose, record.as_of, now)
    verdicts = decide_members(store.policy(), record.purpose, snapshot, at=record.as_of, now=now)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("b", members)
        con.register("v", verdicts)
        rows = con.execute(_CAUSE_SQL).fetchall()
    finally:
        con.close()
    return {str(c): {"members": int(m), "records": int(r)} for c, m, r in rows}


def stale_builds(
    store: Store,
    now: datetime | None = None,
    *,
    check_deletions: bool = True,
    key: bytes | None = None,
) -> list[StaleBuild]:
    """Complete builds that hold data their owners have since taken back, with counts per cause.

    Member-level causes come from the ledger (the same rules as a build, as of
    the build's T and decided `now`). Deleted records are found by re-reading
    the build's sources against its output (`check_deletions`); a build whose
    sources or output can no longer be read lists RECORD_DELETED under `unchecked`.
    """
    from consentry.pipeline.lineage import deleted_records

    now = utc(now) if now is not None else utcnow()
    out: list[StaleBuild] = []
    for record in list_builds(store):
        causes = _member_causes(store, record, now)
        unchecked: tuple[str, ...] = ()
        deleted = deleted_records(store, record, now, key) if check_deletions else None
        if deleted is None:
            unchecked = ("RECORD_DELETED",)
        elif deleted["records"]:
            causes["RECORD_DELETED"] = deleted
        if not causes:
            continue
        member_causes = [c for k, c in causes.items() if k != "RECORD_DELETED"]
        stale_members = sum(c["members"] for c in member_causes)
        stale_records = sum(c["records"] for c in member_causes) + causes.get("RECORD_DELETED", {}).get("records", 0)
        out.append(StaleBuild(record, stale_members, stale_records, causes, unchecked))
    return out


def rebuild(
    store: Store,
    build_id: str,
    out: str | Path,
    *,
    force: bool = False,
    key: bytes | None = None,
    progress: Callable[[BuildProgress], None] | None = None,
) -> BuildResult:
    """Build again the purpose, sources and T of `build_id`, decided now; the manifest names it as predecessor.

    Members who withdrew, objected or closed their accounts since, and records
    deleted since, are excluded by the ordinary rules (later withdrawals win).
    """
    from consentry.pipeline.build import build

    previous = get_build(store, build_id)
    return build(
        store,
        previous.purpose,
        list(previous.sources),
        out,
        as_of=previous.as_of,
        engine=previous.engine,
        scrub=previous.scrub,
        force=force,
        key=key,
        progress=progress,
        predecessor=previous.build_id,
    )
