"""Objection cases in SQL: rows to and from `ObjectionCase`, and the queries the store runs.

The workflow rules (deadlines, extensions, decisions) live in `objections.py`;
this module only stores and loads cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, insert, select, update

from consentry.errors import NotFoundError
from consentry.store.protocol import ObjectionCase
from consentry.store.schema import objection_case_purposes, objection_cases, to_us, us_to_dt
from consentry.vocab import CaseStatus

__all__ = [
    "CASE_COLUMNS",
    "case_from_row",
    "case_ids_query",
    "cases_from_rows",
    "insert_case",
    "load_case",
    "open_case_query",
    "save_case",
]

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
