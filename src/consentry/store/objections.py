"""Objection cases: the workflow's rules, and how cases are stored and loaded.

A member files an objection through the form; no reason is required.

- Filing: the purposes must be disclosed by the version in effect when the
  case is received. Any disclosed purpose may be objected to, not only those
  whose control is `objection_form`: the right to object does not depend on
  which control the platform chose to offer, and staff decide the case.
  `due_by` = received + `objections.response_days` of that version.
- Extension: at most once, only before the original `due_by`, by 1 to
  `objections.max_extension_days` days, with the reasons recorded.
- Decision: `upheld` or `rejected`, once; a rejection needs recorded grounds;
  not before the case was received. An upheld case records a `deny` from the
  `objection_form` source for each of its purposes (done by the store).

The rules (`new_case`, `check_extension`, `check_decision`) touch no database;
the SQL functions below them only store and load cases.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, insert, select, update

from consentry import bounds
from consentry.errors import InputError, NotFoundError, ObjectionError
from consentry.store.protocol import ObjectionCase
from consentry.store.schema import objection_case_purposes, objection_cases, to_us, us_to_dt
from consentry.timeutil import iso
from consentry.vocab import CaseStatus

if TYPE_CHECKING:
    from consentry.policy import PolicyVersion

__all__ = [
    "CASE_COLUMNS",
    "case_from_row",
    "case_ids_query",
    "cases_from_rows",
    "check_decision",
    "check_extension",
    "insert_case",
    "load_case",
    "new_case",
    "new_case_id",
    "objection_event_key",
    "open_case_query",
    "save_case",
]

_MAX_TEXT = 10_000


def new_case_id() -> str:
    """A short, unguessable case id such as ``obj_k3v9q2x7m4hd8w1c``."""
    return "obj_" + secrets.token_hex(8)


def objection_event_key(case_id: str, purpose: str) -> str:
    """Idempotency key of the deny an upheld case records for `purpose`."""
    return f"objection:{case_id}:{purpose}"


def new_case(
    member_id: str,
    purposes: Sequence[str],
    at: datetime,
    text: str | None,
    version: PolicyVersion | None,
) -> ObjectionCase:
    """A received case, after checking the purposes against the version in effect at `at`."""
    wanted = tuple(sorted({p.strip() for p in purposes if p and p.strip()}))
    if not wanted:
        raise InputError("name at least one purpose to object to", field="purposes")
    if version is None:
        raise ObjectionError(
            f"no policy version is in effect at {iso(at)}, so nothing is disclosed to object to; "
            "check the time or publish the policy"
        )
    undisclosed = [p for p in wanted if not version.discloses(p)]
    if undisclosed:
        raise ObjectionError(
            f"policy version {version.version} does not disclose {', '.join(undisclosed)}; "
            f"it discloses {', '.join(sorted(version.purposes))}"
        )
    if text is not None and len(text) > _MAX_TEXT:
        raise InputError(f"longer than {_MAX_TEXT} characters; shorten it", field="text")
    due = at + timedelta(days=version.spec.objections.response_days)
    return ObjectionCase(
        case_id=new_case_id(),
        member_id=member_id,
        purposes=wanted,
        received_at=at,
        due_by=due,
        status=CaseStatus.RECEIVED,
        text=text or None,
        policy_version=version.version,
    )


def check_extension(
    case: ObjectionCase, at: datetime, reasons: str, days: int, max_extension_days: int
) -> ObjectionCase:
    """The case with its deadline extended, or ObjectionError saying why it cannot be."""
    if case.status is not CaseStatus.RECEIVED:
        raise ObjectionError(f"case {case.case_id} is already {case.status.value}; only open cases can be extended")
    if case.extended_at is not None:
        raise ObjectionError(f"case {case.case_id} was already extended on {iso(case.extended_at)}; only once")
    if not reasons or not reasons.strip():
        raise ObjectionError("an extension needs its reasons, as sent to the member; give --reasons")
    if at < case.received_at:
        raise ObjectionError(f"{iso(at)} is before case {case.case_id} was received ({iso(case.received_at)})")
    if at >= case.due_by:
        raise ObjectionError(
            f"the reasons for an extension must be sent before the original deadline {iso(case.due_by)}; "
            "decide the case instead"
        )
    if not 1 <= days <= max_extension_days:
        raise ObjectionError(
            f"an extension may add 1 to {max_extension_days} days under policy version "
            f"{case.policy_version}; {days} asked"
        )
    return replace(case, due_by=case.due_by + timedelta(days=days), extended_at=at, extension_reasons=reasons.strip())


def check_decision(
    case: ObjectionCase, outcome: CaseStatus, at: datetime, grounds: str | None, actor: str | None
) -> ObjectionCase:
    """The decided case, or ObjectionError saying why it cannot be decided so."""
    if outcome is CaseStatus.RECEIVED:
        raise ObjectionError("the outcome must be upheld or rejected")
    if case.status is not CaseStatus.RECEIVED:
        raise ObjectionError(
            f"case {case.case_id} was already {case.status.value} on {iso(case.decided_at)}; a decision is final"
        )
    if at < case.received_at:
        raise ObjectionError(f"{iso(at)} is before case {case.case_id} was received ({iso(case.received_at)})")
    if outcome is CaseStatus.REJECTED and not (grounds and grounds.strip()):
        raise ObjectionError("a rejection needs its grounds recorded; give --grounds")
    return replace(
        case,
        status=outcome,
        decided_at=at,
        grounds=grounds.strip() if grounds and grounds.strip() else None,
        decided_by=actor,
    )


# ------------------------------------------------------------------ storage

#: objection_cases columns in ObjectionCase field order (purposes aside).
CASE_COLUMNS = (
    "case_id",
    "member_id",
    "received_us",
    "due_us",
    "status",
    "text",
    "policy_version",
    "extended_us",
    "extension_reasons",
    "decided_us",
    "grounds",
    "decided_by",
)


def _values(case: ObjectionCase) -> dict[str, Any]:
    """The case's row, every field within its bounds (InputError naming the first one outside)."""
    latest = bounds.latest_allowed()
    bounds.check_id(case.member_id, "member_id")
    for name, text in (("text", case.text), ("reasons", case.extension_reasons), ("grounds", case.grounds)):
        bounds.check_text(text, name)
    if case.decided_by is not None:
        bounds.check_id(case.decided_by, "actor")
    for name, t in (("at", case.received_at), ("at", case.extended_at), ("at", case.decided_at)):
        if t is not None:
            bounds.check_instant(t, name, latest=latest)
    return {
        "case_id": case.case_id,
        "member_id": case.member_id,
        "received_us": to_us(case.received_at),
        "due_us": to_us(case.due_by),
        "status": case.status.value,
        "text": case.text,
        "policy_version": case.policy_version,
        "extended_us": _us(case.extended_at),
        "extension_reasons": case.extension_reasons,
        "decided_us": _us(case.decided_at),
        "grounds": case.grounds,
        "decided_by": case.decided_by,
    }


def _us(t: datetime | None) -> int | None:
    return to_us(t) if t is not None else None


def _dt(us: int | None) -> datetime | None:
    return us_to_dt(us) if us is not None else None


def insert_case(c: Connection, case: ObjectionCase) -> None:
    """Store a new case and the purposes it covers."""
    for p in case.purposes:
        bounds.check_code(p, "purpose")
    c.execute(insert(objection_cases).values(**_values(case)))
    c.execute(insert(objection_case_purposes), [{"case_id": case.case_id, "purpose": p} for p in case.purposes])


def save_case(c: Connection, case: ObjectionCase) -> None:
    """Write a changed case (status, deadline, decision) over the stored one."""
    c.execute(update(objection_cases).where(objection_cases.c.case_id == case.case_id).values(**_values(case)))


def case_from_row(row: Sequence[Any], purposes: Iterable[str]) -> ObjectionCase:
    """An ObjectionCase from a row of CASE_COLUMNS and its purposes."""
    return ObjectionCase(
        case_id=row[0],
        member_id=row[1],
        purposes=tuple(purposes),
        received_at=us_to_dt(row[2]),
        due_by=us_to_dt(row[3]),
        status=CaseStatus(row[4]),
        text=row[5],
        policy_version=row[6],
        extended_at=_dt(row[7]),
        extension_reasons=row[8],
        decided_at=_dt(row[9]),
        grounds=row[10],
        decided_by=row[11],
    )


def cases_from_rows(rows: Iterable[Sequence[Any]]) -> list[ObjectionCase]:
    """Cases from rows of (*CASE_COLUMNS, purpose), a case's rows adjacent, purposes in order."""
    cases: list[ObjectionCase] = []
    current: Sequence[Any] | None = None
    purposes: list[str] = []
    for row in rows:
        if current is not None and row[0] != current[0]:
            cases.append(case_from_row(current, purposes))
            purposes = []
        current = row
        if row[-1] is not None:
            purposes.append(row[-1])
    if current is not None:
        cases.append(case_from_row(current, purposes))
    return cases


def load_case(c: Connection, case_id: str, *, lock: bool) -> ObjectionCase:
    """The case (NotFoundError if unknown); `lock` holds its row until commit on PostgreSQL."""
    bounds.check_code(case_id, "case_id")
    q = select(*(objection_cases.c[n] for n in CASE_COLUMNS)).where(objection_cases.c.case_id == case_id)
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
    return case_from_row(tuple(r), purposes)


def case_ids_query(member_id: str | None, status: CaseStatus | None, overdue_at: datetime | None) -> Select[Any]:
    """Ids of the cases that match, by received time."""
    oc = objection_cases.c
    q = select(oc.case_id).order_by(oc.received_us, oc.case_id)
    if member_id is not None:
        q = q.where(oc.member_id == member_id)
    if status is not None:
        q = q.where(oc.status == CaseStatus(status).value)
    if overdue_at is not None:
        q = q.where(oc.status == CaseStatus.RECEIVED.value, oc.due_us < to_us(overdue_at))
    return q


def open_case_query(member_id: str, purpose: str, at_us: int) -> Select[Any]:
    """The id of the latest-received case covering `purpose` that was open at `at_us`."""
    oc, op = objection_cases.c, objection_case_purposes.c
    return (
        select(oc.case_id)
        .join(objection_case_purposes, op.case_id == oc.case_id)
        .where(
            oc.member_id == member_id,
            op.purpose == purpose,
            oc.received_us <= at_us,
            (oc.decided_us.is_(None)) | (oc.decided_us > at_us),
        )
        .order_by(oc.received_us.desc())
        .limit(1)
    )
