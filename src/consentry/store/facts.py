"""One member's facts in one read: the member row, their events and their objection cases.

What a member's settings page needs, on every request: three statements on one
pooled connection, inside one read transaction (SQLite: one WAL snapshot;
PostgreSQL: REPEATABLE READ), sent through the driver's cursor with prepared
SQL text, so the store costs one connection checkout and no statement building.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consentry.store.appender import EVENT_COLUMNS, row_to_event
from consentry.store.objections import CASE_COLUMNS, cases_from_rows
from consentry.store.protocol import Member, MemberFacts
from consentry.store.schema import day_to_date, us_to_dt

__all__ = ["read_member_facts"]

_MEMBER_SQL = "SELECT member_id, country, birth_day, created_us, closed_us FROM members WHERE member_id = {m}"
# Naming the purposes lets the (purpose, member, ...) index seek instead of scan.
_EVENTS_SQL = "SELECT {cols} FROM consent_events WHERE purpose IN ({purposes}) AND member_id = {m} ORDER BY event_id"
_CASES_SQL = (
    "SELECT {cols}, p.purpose FROM objection_cases c "
    "LEFT JOIN objection_case_purposes p ON p.case_id = c.case_id "
    "WHERE c.member_id = {m} ORDER BY c.received_us, c.case_id, p.purpose"
)


def read_member_facts(cursor: Any, mark: str, member_id: str, purposes: Sequence[str]) -> MemberFacts | None:
    """The member's facts through a DB-API `cursor` whose placeholder is `mark` (None if unknown).

    `purposes`: every purpose an event may carry (the published ones: the store refuses others).
    """
    cursor.execute(_MEMBER_SQL.format(m=mark), (member_id,))
    row = cursor.fetchone()
    if row is None:
        return None
    member = Member(
        member_id=row[0],
        country=row[1],
        birth_date=day_to_date(row[2]) if row[2] is not None else None,
        created_at=us_to_dt(row[3]),
        closed_at=us_to_dt(row[4]) if row[4] is not None else None,
    )
    events: tuple[Any, ...] = ()
    if purposes:
        sql = _EVENTS_SQL.format(cols=", ".join(EVENT_COLUMNS), purposes=", ".join([mark] * len(purposes)), m=mark)
        cursor.execute(sql, (*purposes, member_id))
        events = tuple(row_to_event(r) for r in cursor.fetchall())
    cursor.execute(_CASES_SQL.format(cols=", ".join(f"c.{n}" for n in CASE_COLUMNS), m=mark), (member_id,))
    cases = tuple(cases_from_rows(cursor.fetchall()))
    return MemberFacts(member, events, cases)
