"""`SqlStore`: the `Store` protocol over SQLAlchemy Core, for SQLite and PostgreSQL."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from consentry.errors import InputError, NotFoundError, PolicyConflictError, StoreError
from consentry.ledger import objections as workflow
from consentry.ledger.appender import EVENT_COLUMNS, append_events, row_to_event
from consentry.ledger.chain import verify_rows
from consentry.ledger.engine import WRITE
from consentry.ledger.files import read_events, read_members
from consentry.ledger.members import member_from_row, member_rows, members_arrow, upsert_members
from consentry.ledger.protocol import (
    ConsentEvent,
    Member,
    NewEvent,
    ObjectionCase,
    PublishedVersion,
    PublishOutcome,
    VerifyReport,
)
from consentry.ledger.schema import (
    consent_events,
    ledger_head,
    members,
    objection_case_purposes,
    objection_cases,
    policy_versions,
    to_us,
    us_to_dt,
)
from consentry.ledger.snapshot import build_snapshot
from consentry.policy import Policy
from consentry.timeutil import utc, utcnow
from consentry.vocab import CaseStatus, Choice, Source

__all__ = ["SqlStore"]

_EVENT_COLS = [consent_events.c[name] for name in EVENT_COLUMNS]
_CHOICES = frozenset(c.value for c in Choice)
_SOURCES = frozenset(s.value for s in Source)


class SqlStore:
    """Members, the consent ledger, objection cases and published policy versions in one database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._policy_cache: tuple[tuple[int, int], Policy] | None = None
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for layers that keep tables of their own (builds)."""
        return self._engine

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, self._dbapi_error) as e:
            raise _store_error(e) from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._engine.connect().execution_options(**WRITE) as conn, conn.begin():
                yield conn
        except (SQLAlchemyError, self._dbapi_error) as e:
            raise _store_error(e) from None

    # ------------------------------------------------------------------ policy versions

    def publish(self, policy: Policy) -> list[PublishOutcome]:
        """Store every version of `policy`; identical versions are left as they are.

        PolicyConflictError (nothing written) if a published version id would get
        different content, or the store already holds a policy of another name.
        """
        with self._write() as c:
            stored = {r.version: r for r in c.execute(select(policy_versions))}
            names = {r.policy for r in stored.values()}
            if names and names != {policy.name}:
                raise PolicyConflictError(
                    f"this store holds policy {sorted(names)[0]!r}, not {policy.name!r}; "
                    "publish to that policy's name or use another database (CONSENTRY_DB)"
                )
            effective = {r.effective_us: r.version for r in stored.values()}
            outcomes: list[PublishOutcome] = []
            new: list[dict[str, Any]] = []
            now = to_us(utcnow())
            for v in policy.versions:
                old = stored.get(v.version)
                if old is not None:
                    if old.sha256 != v.sha256:
                        raise PolicyConflictError(
                            f"version {v.version!r} is already published with sha256 {old.sha256[:12]}…, "
                            f"and this file's differs ({v.sha256[:12]}…); a published version is immutable: "
                            "restore it and publish the change under a new version id"
                        )
                    outcomes.append(PublishOutcome(v.version, v.sha256, "unchanged"))
                    continue
                eff = to_us(v.effective_at)
                if eff in effective:
                    raise PolicyConflictError(
                        f"version {v.version!r} takes effect at the same moment as published version "
                        f"{effective[eff]!r}; give it another effective_at"
                    )
                effective[eff] = v.version
                new.append(
                    {
                        "policy": policy.name,
                        "version": v.version,
                        "sha256": v.sha256,
                        "published_us": to_us(v.published_at),
                        "effective_us": eff,
                        "stored_us": now,
                        "canonical_json": v.canonical_json,
                    }
                )
                outcomes.append(PublishOutcome(v.version, v.sha256, "stored"))
            if new:
                c.execute(insert(policy_versions), new)
        return outcomes

    def published_versions(self) -> list[PublishedVersion]:
        """Every stored version, in order of `effective_at`."""
        with self._read() as c:
            rows = c.execute(select(policy_versions).order_by(policy_versions.c.effective_us)).all()
        return [
            PublishedVersion(
                r.policy,
                r.version,
                r.sha256,
                us_to_dt(r.published_us),
                us_to_dt(r.effective_us),
                us_to_dt(r.stored_us),
                r.canonical_json,
            )
            for r in rows
        ]

    def policy(self) -> Policy:
        """The published policy rebuilt from stored versions (NotFoundError if none)."""
        with self._read() as c:
            return self._policy(c)

    def _policy(self, c: Connection) -> Policy:
        n, last = c.execute(select(func.count(), func.max(policy_versions.c.stored_us))).one()
        key = (int(n), int(last or 0))
        if self._policy_cache is not None and self._policy_cache[0] == key:
            return self._policy_cache[1]
        rows = c.execute(select(policy_versions.c.policy, policy_versions.c.canonical_json)).all()
        if not rows:
            raise NotFoundError("no policy is published in this store; run `consentry policy publish FILE`")
        policy = Policy.from_canonical(rows[0].policy, [r.canonical_json for r in rows])
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
        with self._read() as c:
            row = c.execute(select(members).where(members.c.member_id == member_id)).first()
        return member_from_row(row) if row is not None else None

    def close_account(self, member_id: str, at: datetime) -> Member:
        """Record that the member's account was closed at `at`."""
        with self._write() as c:
            done = c.execute(update(members).where(members.c.member_id == member_id).values(closed_us=to_us(utc(at))))
            if done.rowcount != 1:
                raise NotFoundError(f"no member {member_id!r}; import the members file first")
        return self.member(member_id)

    def members_table(self) -> pa.Table:
        """Every member as Arrow: member_id, country, birth_date, created_at, closed_at."""
        with self._read() as c:
            return members_arrow(c)

    # ------------------------------------------------------------------ consent ledger

    def record(self, event: NewEvent) -> ConsentEvent:
        """Append one event (a repeated idempotency key returns the earlier event)."""
        with self._write() as c:
            if c.execute(select(members.c.member_id).where(members.c.member_id == event.member_id)).first() is None:
                raise NotFoundError(f"no member {event.member_id!r}; import the members file first")
            version_at = self._check(c, [event])
            return append_events(c, [event], want_events=True, version_at=version_at).events[0]

    def record_many(self, events: Iterable[NewEvent]) -> int:
        """Append events in one transaction, all or nothing; returns how many were new."""
        with self._write() as c:
            batch = list(events)
            version_at = self._check(c, batch)
            try:
                return append_events(c, batch, want_events=False, version_at=version_at).inserted
            except self._integrity_errors() as e:
                raise InputError(
                    f"an event names a member who is not in the store; import the members first ({type(e).__name__})"
                ) from None

    def import_events(self, path: Path) -> int:
        """Import a consent-events JSONL file all-or-nothing; returns how many events were new."""
        lines = read_events(Path(path))
        with self._write() as c:
            known = self._known_purposes(c)
            ids = list({e.member_id for _, e in lines})
            present: set[str] = set()
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                present.update(c.execute(select(members.c.member_id).where(members.c.member_id.in_(chunk))).scalars())
            for where, e in lines:
                if e.member_id not in present:
                    raise InputError(
                        f"unknown member {e.member_id!r}; import the members file first", where=where, field="member_id"
                    )
                if e.purpose not in known:
                    raise InputError(_unknown_purpose(e.purpose, known), where=where, field="purpose")
            batch = [e for _, e in lines]
            return append_events(c, batch, want_events=False, version_at=self._check(c, batch)).inserted

    def _check(self, c: Connection, events: list[NewEvent]) -> Callable[[int], str | None]:
        """Check purposes, choices, sources and times; return the version-in-effect lookup."""
        try:
            policy: Policy | None = self._policy(c)
        except NotFoundError:
            policy = None
        known = frozenset(policy.purposes()) if policy else frozenset()
        for e in events:
            if e.purpose not in known:
                raise InputError(_unknown_purpose(e.purpose, known), field="purpose")
            if e.at.tzinfo is None:
                raise InputError("time has no time zone; write it as RFC 3339, e.g. 2025-01-01T00:00:00Z", field="at")
            if e.choice not in _CHOICES or e.source not in _SOURCES:
                raise InputError(f"choice must be allow|deny and source one of {', '.join(_SOURCES)}")
        if policy is None:
            return lambda _us: None
        starts = [to_us(v.effective_at) for v in policy.versions]
        ids = [v.version for v in policy.versions]

        def version_at(at_us: int) -> str | None:
            i = bisect.bisect_right(starts, at_us)
            return ids[i - 1] if i else None

        return version_at

    def _integrity_errors(self) -> type[Exception]:
        dbapi = self._engine.dialect.loaded_dbapi
        err: type[Exception] = dbapi.IntegrityError
        return err

    def events(self, member_id: str | None = None, purpose: str | None = None) -> list[ConsentEvent]:
        """Events in ledger order, optionally for one member and/or purpose."""
        q = select(*_EVENT_COLS).order_by(consent_events.c.event_id)
        if member_id is not None:
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
        now_us = to_us(utc(now) if now is not None else utcnow())
        with self._read() as c:
            return build_snapshot(c, purpose, to_us(utc(at)), now_us)

    def head(self) -> tuple[int, str]:
        """(number of events, hash of the last event) — "0"*64 for an empty ledger."""
        with self._read() as c:
            n, h = c.execute(select(ledger_head.c.events, ledger_head.c.hash).where(ledger_head.c.id == 1)).one()
        return int(n), str(h)

    def verify(self) -> VerifyReport:
        """Walk the whole chain; report the first event changed, removed or reordered."""
        with self._read() as c:
            n, h = c.execute(select(ledger_head.c.events, ledger_head.c.hash).where(ledger_head.c.id == 1)).one()
            result = c.execution_options(stream_results=True, yield_per=20_000).execute(
                select(*_EVENT_COLS).order_by(consent_events.c.event_id)
            )
            return verify_rows((tuple(r) for r in result), int(n), str(h))

    # ------------------------------------------------------------------ objections and GPC

    def file_objection(
        self, member_id: str, purposes: Sequence[str], at: datetime, text: str | None = None
    ) -> ObjectionCase:
        """File an objection (no reason needed); due_by follows the version in effect at `at`."""
        at = utc(at)
        with self._write() as c:
            if c.execute(select(members.c.member_id).where(members.c.member_id == member_id)).first() is None:
                raise NotFoundError(f"no member {member_id!r}; import the members file first")
            case = workflow.new_case(member_id, purposes, at, text, self._policy(c).version_at(at))
            c.execute(insert(objection_cases).values(**_case_values(case)))
            c.execute(insert(objection_case_purposes), [{"case_id": case.case_id, "purpose": p} for p in case.purposes])
        return case

    def extend_objection(self, case_id: str, at: datetime, reasons: str, days: int) -> ObjectionCase:
        """Extend the case's deadline once, before it passes, with the reasons sent to the member."""
        with self._write() as c:
            case = _load_case(c, case_id, lock=True)
            limit = self._policy(c).version(case.policy_version or "").spec.objections.max_extension_days
            case = workflow.check_extension(case, utc(at), reasons, days, limit)
            c.execute(update(objection_cases).where(objection_cases.c.case_id == case_id).values(**_case_values(case)))
        return case

    def decide_objection(
        self,
        case_id: str,
        outcome: CaseStatus,
        at: datetime,
        grounds: str | None = None,
        actor: str | None = None,
    ) -> ObjectionCase:
        """Uphold or reject an open case; upholding records a deny per purpose in the same transaction."""
        at = utc(at)
        with self._write() as c:
            case = _load_case(c, case_id, lock=True)
            case = workflow.check_decision(case, CaseStatus(outcome), at, grounds, actor)
            c.execute(update(objection_cases).where(objection_cases.c.case_id == case_id).values(**_case_values(case)))
            if case.status is CaseStatus.UPHELD:
                denies = [
                    NewEvent(
                        case.member_id,
                        p,
                        Choice.DENY,
                        at,
                        Source.OBJECTION_FORM,
                        actor=actor,
                        idempotency_key=workflow.objection_event_key(case.case_id, p),
                        case_id=case.case_id,
                    )
                    for p in case.purposes
                ]
                append_events(c, denies, want_events=False, version_at=self._check(c, denies))
        return case

    def objection(self, case_id: str) -> ObjectionCase:
        """The case (NotFoundError if unknown)."""
        with self._read() as c:
            return _load_case(c, case_id, lock=False)

    def objections(
        self,
        member_id: str | None = None,
        status: CaseStatus | None = None,
        overdue_at: datetime | None = None,
    ) -> list[ObjectionCase]:
        """Cases by received time; `overdue_at` keeps open cases whose due_by is before it."""
        q = select(objection_cases.c.case_id).order_by(objection_cases.c.received_us, objection_cases.c.case_id)
        if member_id is not None:
            q = q.where(objection_cases.c.member_id == member_id)
        if status is not None:
            q = q.where(objection_cases.c.status == CaseStatus(status).value)
        if overdue_at is not None:
            q = q.where(
                objection_cases.c.status == CaseStatus.RECEIVED.value,
                objection_cases.c.due_us < to_us(utc(overdue_at)),
            )
        with self._read() as c:
            return [_load_case(c, cid, lock=False) for cid in c.execute(q).scalars()]

    def open_case(self, member_id: str, purpose: str, at: datetime) -> ObjectionCase | None:
        """The latest case covering `purpose` that was open at `at`, if any."""
        t = to_us(utc(at))
        oc, op = objection_cases.c, objection_case_purposes.c
        q = (
            select(oc.case_id)
            .join(objection_case_purposes, op.case_id == oc.case_id)
            .where(
                oc.member_id == member_id,
                op.purpose == purpose,
                oc.received_us <= t,
                (oc.decided_us.is_(None)) | (oc.decided_us > t),
            )
            .order_by(oc.received_us.desc())
            .limit(1)
        )
        with self._read() as c:
            cid = c.execute(q).scalar()
            return _load_case(c, cid, lock=False) if cid is not None else None

    def record_gpc(self, member_id: str, at: datetime, actor: str | None = None) -> list[ConsentEvent]:
        """Deny, with source `gpc`, every purpose the version in effect marks `gpc: true`.

        Idempotent per (member, policy version, purpose)."""
        at = utc(at)
        with self._write() as c:
            if c.execute(select(members.c.member_id).where(members.c.member_id == member_id)).first() is None:
                raise NotFoundError(f"no member {member_id!r}; import the members file first")
            version = self._policy(c).version_at(at)
            if version is None or not any(rule.gpc for rule in version.purposes.values()):
                return []
            denies = [
                NewEvent(
                    member_id,
                    p,
                    Choice.DENY,
                    at,
                    Source.GPC,
                    actor=actor,
                    policy_version=version.version,
                    idempotency_key=f"gpc:{member_id}:{version.version}:{p}",
                )
                for p, rule in sorted(version.purposes.items())
                if rule.gpc
            ]
            return append_events(c, denies, want_events=True, version_at=self._check(c, denies)).events


def _unknown_purpose(purpose: str, known: frozenset[str]) -> str:
    if not known:
        return f"unknown purpose {purpose!r}: no policy is published; run `consentry policy publish FILE` first"
    return f"unknown purpose {purpose!r}; published versions disclose {', '.join(sorted(known))}"


def _store_error(e: Exception) -> StoreError:
    orig = getattr(e, "orig", None)
    first = (str(orig if orig is not None else e).splitlines() or [""])[0][:200]
    return StoreError(f"the database refused or failed ({type(e).__name__}: {first}); check CONSENTRY_DB")


def _case_values(case: ObjectionCase) -> dict[str, Any]:
    def us(t: datetime | None) -> int | None:
        return to_us(t) if t is not None else None

    return {
        "case_id": case.case_id,
        "member_id": case.member_id,
        "received_us": to_us(case.received_at),
        "due_us": to_us(case.due_by),
        "status": case.status.value,
        "text": case.text,
        "policy_version": case.policy_version,
        "extended_us": us(case.extended_at),
        "extension_reasons": case.extension_reasons,
        "decided_us": us(case.decided_at),
        "grounds": case.grounds,
        "decided_by": case.decided_by,
    }


def _load_case(c: Connection, case_id: str, *, lock: bool) -> ObjectionCase:
    q = select(objection_cases).where(objection_cases.c.case_id == case_id)
    if lock and c.dialect.name == "postgresql":
        q = q.with_for_update()
    r = c.execute(q).first()
    if r is None:
        raise NotFoundError(f"no objection case {case_id!r}; list cases with `consentry objection list`")
    purposes = c.execute(
        select(objection_case_purposes.c.purpose)
        .where(objection_case_purposes.c.case_id == case_id)
        .order_by(objection_case_purposes.c.purpose)
    ).scalars()

    def dt(us: int | None) -> datetime | None:
        return us_to_dt(us) if us is not None else None

    return ObjectionCase(
        case_id=r.case_id,
        member_id=r.member_id,
        purposes=tuple(purposes),
        received_at=us_to_dt(r.received_us),
        due_by=us_to_dt(r.due_us),
        status=CaseStatus(r.status),
        text=r.text,
        policy_version=r.policy_version,
        extended_at=dt(r.extended_us),
        extension_reasons=r.extension_reasons,
        decided_at=dt(r.decided_us),
        grounds=r.grounds,
        decided_by=r.decided_by,
    )
