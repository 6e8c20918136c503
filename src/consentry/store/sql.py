"""`SqlStore`: the `Store` protocol over SQLAlchemy Core, for SQLite and PostgreSQL.

The store opens connections and transactions and keeps two caches, each checked
against the database on every use: the published policy (keyed by the stored
versions' count and last store time) and the members as Arrow (keyed by the
members generation, which every change to members moves on in its own
transaction). The SQL lives beside it: `appender` (the hash chain), `members`,
`versions`, `objections` (objection cases), `facts` (a member's facts in one
read) and `snapshot`; `secrets` and `staff` keep the other layers' tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select, update

from consentry import bounds
from consentry.errors import InputError, NotFoundError
from consentry.store.appender import EVENT_COLUMNS, append_events, check_events, row_to_event, unknown_purpose
from consentry.store.chain import verify_rows
from consentry.store.facts import read_member_facts
from consentry.store.members import (
    absent_members,
    bump_members_generation,
    member_from_row,
    member_rows,
    members_generation,
    upsert_members,
)
from consentry.store.protocol import (
    ConsentEvent,
    Member,
    MemberFacts,
    NewEvent,
    PublishedVersion,
    PublishOutcome,
    VerifyReport,
)
from consentry.store.rate_limits import SqlRateLimits
from consentry.store.schema import consent_events, ledger_head, members, to_us
from consentry.store.secrets import SqlSecrets
from consentry.store.service_prefs import SqlCaseAssignments, SqlFlashes, SqlMemberLanguages
from consentry.store.sessions import SqlSessions
from consentry.store.sql_objections import ObjectionsAndGpc
from consentry.store.staff import SqlAuditLog, SqlStaffAccounts, SqlStaffKeys
from consentry.store.versions import POLICY_KEY_SQL, POLICY_ROWS_SQL, publish_versions, stored_versions
from consentry.timeutil import utc, utcnow

if TYPE_CHECKING:
    import pyarrow as pa

    from consentry.policy import Policy
    from consentry.store.audits import SqlAuditReports
    from consentry.store.builds import SqlBuildRegistry
    from consentry.store.canaries import SqlCanaryStore
    from consentry.store.models import SqlModelRegistry

# Arrow (members tables, snapshots), the policy models, the builds registry and the file
# readers are imported where used, so that a command reading a member or the ledger
# imports none of them.

__all__ = ["SqlStore"]

_EVENT_COLS = [consent_events.c[name] for name in EVENT_COLUMNS]
#: From this many events, SQLite appends check members themselves instead of row by row (foreign keys).
_BULK_EVENTS = 10_000

Rows = Sequence[Sequence[Any]]


class SqlStore(ObjectionsAndGpc):
    """Members, the consent ledger, objection cases and published policy versions in one database."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._policy_cache: tuple[tuple[int, int], Policy] | None = None
        self._members_cache: tuple[int, pa.Table, bool] | None = None  # (generation, members, image due)
        self.secrets = SqlSecrets(engine)
        self.staff_keys = SqlStaffKeys(engine)
        self.staff_accounts = SqlStaffAccounts(engine)
        self.audit = SqlAuditLog(engine)
        self.sessions = SqlSessions(engine)
        self.rate_limits = SqlRateLimits(engine)
        self.languages = SqlMemberLanguages(engine)
        self.flashes = SqlFlashes(engine)
        self.assignments = SqlCaseAssignments(engine)

    @property
    def builds(self) -> SqlBuildRegistry:
        """The builds registry: every build, its member set, the last check of its records."""
        from consentry.store.builds import SqlBuildRegistry

        return SqlBuildRegistry(self._engine)

    @property
    def canaries(self) -> SqlCanaryStore:
        """Canaries planted in builds and their controls (secret: for the audits only)."""
        from consentry.store.canaries import SqlCanaryStore

        return SqlCanaryStore(self._engine)

    @property
    def models(self) -> SqlModelRegistry:
        """The models registry: model versions, their builds, waived obligations."""
        from consentry.store.models import SqlModelRegistry

        return SqlModelRegistry(self._engine)

    @property
    def model_audits(self) -> SqlAuditReports:
        """Memorisation and forgetting audits stored against model versions."""
        from consentry.store.audits import SqlAuditReports

        return SqlAuditReports(self._engine)

    # ------------------------------------------------------------------ policy versions

    def publish(self, policy: Policy) -> list[PublishOutcome]:
        """Store every version of `policy`; identical versions are left as they are.

        PolicyConflictError (nothing written) if a published version id would get
        different content, or the store already holds a policy of another name.
        """
        with self._write() as c:
            return publish_versions(c, policy)

    def published_versions(self) -> list[PublishedVersion]:
        """Every stored version, in order of `effective_at`."""
        with self._read() as c:
            return stored_versions(c)

    def policy(self) -> Policy:
        """The published policy rebuilt from stored versions (NotFoundError if none)."""
        with self._read() as c:
            return self._policy(c)

    def _policy(self, c: Connection) -> Policy:
        return self._policy_via(lambda sql: c.exec_driver_sql(sql).all())

    def _policy_via(self, run: Callable[[str], Rows]) -> Policy:
        """The policy from the cache if the stored versions are unchanged, else rebuilt (`run`: SQL → rows)."""
        ((n, last),) = run(POLICY_KEY_SQL)
        key = (int(n), int(last or 0))
        if self._policy_cache is not None and self._policy_cache[0] == key:
            return self._policy_cache[1]
        rows = run(POLICY_ROWS_SQL)
        if not rows:
            raise NotFoundError("no policy is published in this store; run `consentry policy publish FILE`")
        from consentry.policy import Policy

        policy = Policy.from_canonical(rows[0][0], [r[1] for r in rows])
        self._policy_cache = (key, policy)
        return policy

    def _known_purposes(self, c: Connection) -> frozenset[str]:
        try:
            return frozenset(self._policy(c).purposes())
        except NotFoundError:
            return frozenset()

    # ------------------------------------------------------------------ members

    def import_members(self, path: Path) -> int:
        """Import a members file (JSONL, CSV, Parquet) all-or-nothing; existing members are updated."""
        from consentry.store.files import read_members

        return self.add_members(read_members(Path(path)))

    def add_members(self, members: Iterable[Member]) -> int:
        """Insert or update members in one transaction; returns how many were given."""
        rows = member_rows(members)
        with self._write() as c:
            upsert_members(c, rows)
        return len(rows)

    def member(self, member_id: str) -> Member:
        """The member (NotFoundError if unknown)."""
        m = self.find_member(member_id)
        if m is None:
            raise NotFoundError(f"no member {member_id!r}; import the members file first")
        return m

    def find_member(self, member_id: str) -> Member | None:
        """The member, or None if unknown."""
        bounds.check_id(member_id, "member_id")
        with self._read() as c:
            row = c.execute(select(members).where(members.c.member_id == member_id)).first()
        return member_from_row(row) if row is not None else None

    def member_facts(self, member_id: str) -> MemberFacts | None:
        """The member, their events (ledger order) and objection cases in one read (None if unknown)."""
        bounds.check_id(member_id, "member_id")
        with self._driver_read() as cur:

            def run(sql: str) -> Rows:
                cur.execute(sql)
                rows: Rows = cur.fetchall()
                return rows

            try:
                purposes = sorted(self._policy_via(run).purposes())
            except NotFoundError:
                purposes = []
            return read_member_facts(cur, self._mark, member_id, purposes)

    def close_account(self, member_id: str, at: datetime) -> Member:
        """Record that the member's account was closed at `at`."""
        bounds.check_id(member_id, "member_id")
        bounds.check_instant(utc(at), "closed_at")
        with self._write() as c:
            generation = bump_members_generation(c)
            done = c.execute(
                update(members)
                .where(members.c.member_id == member_id)
                .values(closed_us=to_us(utc(at)), changed_gen=generation)
            )
            if done.rowcount != 1:
                raise NotFoundError(f"no member {member_id!r}; import the members file first")
        return self.member(member_id)

    def members_table(self) -> pa.Table:
        """Every member as Arrow: member_id, country, birth_date, created_at, closed_at."""
        with self._read(consistent=True) as c:
            return self._members_arrow(c)

    def _members_arrow(self, c: Connection) -> pa.Table:
        """The members as Arrow, from memory while the stored generation is the one loaded, else via the image."""
        generation = members_generation(c)
        cached = self._members_cache
        if cached is not None and cached[0] == generation:
            return cached[1]
        from consentry.store.member_image import current_members

        table, due = current_members(c, generation)
        self._members_cache = (generation, table, due)
        return table

    def maintain_member_image(self) -> bool:
        """Rewrite the member image from the members read last, if they found it missing or far behind."""
        cached = self._members_cache
        if cached is None or not cached[2]:
            return False
        generation, table, _ = cached
        from consentry.store.member_image import save_image

        with self._write() as c:
            written = save_image(c, generation, table)
        self._members_cache = (generation, table, False)
        return written

    def refresh_member_image(self) -> bool:
        """Store the members as they are now as the member image; False if it was already current."""
        with self._read(consistent=True) as c:
            generation = members_generation(c)
            table = self._members_arrow(c)
        from consentry.store.member_image import save_image

        with self._write() as c:
            return save_image(c, generation, table)

    # ------------------------------------------------------------------ consent ledger

    def record(self, event: NewEvent) -> ConsentEvent:
        """Append one event (a repeated idempotency key returns the earlier event)."""
        bounds.check_events([event])
        with self._write() as c:
            if c.execute(select(members.c.member_id).where(members.c.member_id == event.member_id)).first() is None:
                raise NotFoundError(f"no member {event.member_id!r}; import the members file first")
            version_at = self._check(c, [event])
            return append_events(c, [event], want_events=True, version_at=version_at).events[0]

    def record_many(self, events: Iterable[NewEvent]) -> int:
        """Append events in one transaction, all or nothing; returns how many were new."""
        batch = list(events)
        bulk = self._sqlite and len(batch) >= _BULK_EVENTS
        with self._write(bulk=bulk) as c:
            version_at = self._check(c, batch)
            try:
                return append_events(c, batch, want_events=False, version_at=version_at, check_members=bulk).inserted
            except self._integrity_errors() as e:
                raise InputError(
                    f"an event names a member who is not in the store; import the members first ({type(e).__name__})"
                ) from None

    def import_events(self, path: Path) -> int:
        """Import a consent-events JSONL file all-or-nothing; returns how many events were new."""
        from consentry.store.files import read_events

        lines = read_events(Path(path))
        with self._write(bulk=len(lines) >= _BULK_EVENTS) as c:
            known = self._known_purposes(c)
            missing = set(absent_members(c, (e.member_id for _, e in lines)))
            for where, e in lines:
                if e.member_id in missing:
                    raise InputError(
                        f"unknown member {e.member_id!r}; import the members file first", where=where, field="member_id"
                    )
                if e.purpose not in known:
                    raise InputError(unknown_purpose(e.purpose, known), where=where, field="purpose")
            batch = [e for _, e in lines]
            return append_events(c, batch, want_events=False, version_at=self._check(c, batch)).inserted

    def _check(self, c: Connection, events: list[NewEvent]) -> Callable[[int], str | None]:
        """Check purposes, choices, sources and times; return the version-in-effect lookup."""
        try:
            policy: Policy | None = self._policy(c)
        except NotFoundError:
            policy = None
        return check_events(events, policy)

    def _integrity_errors(self) -> type[Exception]:
        dbapi = self._engine.dialect.loaded_dbapi
        err: type[Exception] = dbapi.IntegrityError
        return err

    def events(self, member_id: str | None = None, purpose: str | None = None) -> list[ConsentEvent]:
        """Events in ledger order, optionally for one member and/or purpose."""
        q = select(*_EVENT_COLS).order_by(consent_events.c.event_id)
        if member_id is not None:
            bounds.check_id(member_id, "member_id")
            q = q.where(consent_events.c.member_id == member_id)
        with self._read() as c:
            if purpose is not None:
                q = q.where(consent_events.c.purpose == purpose)
            elif member_id is not None:
                # Every stored purpose is a published one (record() checks): naming
                # them lets the (purpose, member, ...) index seek instead of scan.
                q = q.where(consent_events.c.purpose.in_(sorted(self._known_purposes(c))))
            return [row_to_event(r) for r in c.execute(q)]

    def state(self, member_id: str, purpose: str, at: datetime | None = None) -> ConsentEvent | None:
        """The member's latest event for the purpose with `event.at <= at` (None: any time)."""
        bounds.check_id(member_id, "member_id")
        q = (
            select(*_EVENT_COLS)
            .where(consent_events.c.member_id == member_id, consent_events.c.purpose == purpose)
            .order_by(consent_events.c.at_us.desc(), consent_events.c.event_id.desc())
            .limit(1)
        )
        if at is not None:
            q = q.where(consent_events.c.at_us <= to_us(utc(at)))
        with self._read() as c:
            row = c.execute(q).first()
        return row_to_event(row) if row is not None else None

    def snapshot(self, purpose: str, at: datetime, now: datetime | None = None) -> pa.Table:
        """SNAPSHOT_SCHEMA rows for every member, as of `at` and as recorded by `now`."""
        from consentry.store.snapshot import build_snapshot

        now_us = to_us(utc(now) if now is not None else utcnow())
        with self._read(consistent=True) as c:
            return build_snapshot(c, purpose, to_us(utc(at)), now_us, self._members_arrow(c))

    def snapshots(self, purpose: str, ats: Sequence[datetime], now: datetime | None = None) -> list[pa.Table]:
        """`snapshot` at each of `ats` (in that order), from one read of the purpose's events and the members."""
        from consentry.store.snapshot import build_snapshots

        now_us = to_us(utc(now) if now is not None else utcnow())
        with self._read(consistent=True) as c:
            return build_snapshots(c, purpose, [to_us(utc(a)) for a in ats], now_us, self._members_arrow(c))

    def head(self) -> tuple[int, str]:
        """(number of events, hash of the last event) — "0"*64 for an empty ledger."""
        with self._read() as c:
            n, h = c.execute(select(ledger_head.c.events, ledger_head.c.hash).where(ledger_head.c.id == 1)).one()
        return int(n), str(h)

    def verify(self, on_event: Callable[[int, str], None] | None = None) -> VerifyReport:
        """Walk the whole chain; report the first event changed, removed or reordered.

        `on_event(event_id, hash)` is called for every event that checked out, in order.
        """
        with self._read() as c:
            n, h = c.execute(select(ledger_head.c.events, ledger_head.c.hash).where(ledger_head.c.id == 1)).one()
            result = c.execution_options(stream_results=True, yield_per=20_000).execute(
                select(*_EVENT_COLS).order_by(consent_events.c.event_id)
            )
            return verify_rows((tuple(r) for r in result), int(n), str(h), on_event)

    def event(self, event_id: int) -> ConsentEvent:
        """One event by its id."""
        with self._read() as c:
            row = c.execute(select(*_EVENT_COLS).where(consent_events.c.event_id == event_id)).first()
        if row is None:
            raise NotFoundError(f"no event {event_id} in the ledger")
        return row_to_event(row)

    def chain_hashes(self, upto: int) -> list[bytes]:
        """The chain hashes of events 1..`upto`, in order (32 bytes each)."""
        q = select(consent_events.c.hash).where(consent_events.c.event_id <= upto).order_by(consent_events.c.event_id)
        with self._read() as c:
            rows = c.execution_options(stream_results=True, yield_per=50_000).execute(q)
            return [bytes.fromhex(h) for (h,) in rows]
