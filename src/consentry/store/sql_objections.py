"""The SQL store's objection cases and Global Privacy Control: filing, extending and deciding cases
(an upheld case records its denies in the same transaction), and GPC denies per policy version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from consentry import bounds
from consentry.errors import NotFoundError
from consentry.store import objections
from consentry.store.appender import append_events
from consentry.store.protocol import ConsentEvent, NewEvent, ObjectionCase
from consentry.store.schema import members, to_us
from consentry.store.transactions import Transactions
from consentry.timeutil import utc, utcnow
from consentry.vocab import CaseStatus, Choice, Source

if TYPE_CHECKING:
    from consentry.policy import Policy

__all__ = ["ObjectionsAndGpc", "require_member"]


def require_member(c: Connection, member_id: str) -> None:
    """NotFoundError unless `member_id` (a bounded id) is a known member."""
    bounds.check_id(member_id, "member_id")
    if c.execute(select(members.c.member_id).where(members.c.member_id == member_id)).first() is None:
        raise NotFoundError(f"no member {member_id!r}; import the members file first")


class ObjectionsAndGpc(Transactions):
    """Objection cases and GPC on the store's transactions (mixed into `SqlStore`, which gives `_policy`
    and `_check`)."""

    if TYPE_CHECKING:

        def _policy(self, c: Connection) -> Policy: ...

        def _check(self, c: Connection, events: list[NewEvent]) -> Callable[[int], str | None]: ...

    def file_objection(
        self, member_id: str, purposes: Sequence[str], at: datetime, text: str | None = None
    ) -> ObjectionCase:
        """File an objection (no reason needed); due_by follows the version in effect at `at`."""
        at = utc(at)
        with self._write() as c:
            require_member(c, member_id)
            case = objections.new_case(member_id, purposes, at, text, self._policy(c).version_at(at))
            objections.insert_case(c, case)
        return case

    def extend_objection(self, case_id: str, at: datetime, reasons: str, days: int) -> ObjectionCase:
        """Extend the case's deadline once, before it passes, with the reasons sent to the member."""
        with self._write() as c:
            case = objections.load_case(c, case_id, lock=True)
            limit = self._policy(c).version(case.policy_version or "").spec.objections.max_extension_days
            case = objections.check_extension(case, utc(at), reasons, days, limit)
            objections.save_case(c, case)
        return case

    def decide_objection(
        self,
        case_id: str,
        outcome: CaseStatus,
        at: datetime | None,
        grounds: str | None = None,
        actor: str | None = None,
    ) -> ObjectionCase:
        """Uphold or reject an open case; upholding records a deny per purpose in the same transaction.

        `at` None: decided now, and the denies are stamped as `record` stamps "now"."""
        with self._write() as c:
            case = objections.load_case(c, case_id, lock=True)
            decided = utc(at) if at is not None else utcnow()
            case = objections.check_decision(case, CaseStatus(outcome), decided, grounds, actor)
            objections.save_case(c, case)
            if case.status is CaseStatus.UPHELD:
                denies = [
                    NewEvent(
                        case.member_id,
                        p,
                        Choice.DENY,
                        at,
                        Source.OBJECTION_FORM,
                        actor=actor,
                        idempotency_key=objections.objection_event_key(case.case_id, p),
                        case_id=case.case_id,
                    )
                    for p in case.purposes
                ]
                append_events(c, denies, want_events=False, version_at=self._check(c, denies))
        return case

    def objection(self, case_id: str) -> ObjectionCase:
        """The case (NotFoundError if unknown)."""
        with self._read() as c:
            return objections.load_case(c, case_id, lock=False)

    def objections(
        self,
        member_id: str | None = None,
        status: CaseStatus | None = None,
        overdue_at: datetime | None = None,
    ) -> list[ObjectionCase]:
        """Cases by received time; `overdue_at` keeps open cases whose due_by is before it."""
        if member_id is not None:
            bounds.check_id(member_id, "member_id")
        q = objections.case_ids_query(member_id, status, utc(overdue_at) if overdue_at is not None else None)
        with self._read() as c:
            return [objections.load_case(c, cid, lock=False) for cid in c.execute(q).scalars()]

    def open_case(self, member_id: str, purpose: str, at: datetime) -> ObjectionCase | None:
        """The latest case covering `purpose` that was open at `at`, if any."""
        bounds.check_id(member_id, "member_id")
        with self._read() as c:
            cid = c.execute(objections.open_case_query(member_id, purpose, to_us(utc(at)))).scalar()
            return objections.load_case(c, cid, lock=False) if cid is not None else None

    def record_gpc(self, member_id: str, at: datetime | None, actor: str | None = None) -> list[ConsentEvent]:
        """Deny, with source `gpc`, every purpose the version in effect marks `gpc: true`.

        Idempotent per (member, policy version, purpose); `at` None: now, stamped as `record` does."""
        with self._write() as c:
            require_member(c, member_id)
            version = self._policy(c).version_at(utc(at) if at is not None else utcnow())
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
