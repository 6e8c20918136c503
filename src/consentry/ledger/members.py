"""Members in SQL: validated rows, upserts, and the Arrow view the snapshot builds on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, Row
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from consentry.errors import InputError
from consentry.ledger.protocol import Member
from consentry.ledger.schema import date_to_day, day_to_date, members, to_us, us_to_dt
from consentry.policy.countries import is_country
from consentry.timeutil import ARROW_TS

__all__ = ["MEMBER_SQL", "member_from_row", "member_rows", "members_arrow", "members_from_columns", "upsert_members"]

#: The members' columns as the snapshot and `members_table()` read them.
MEMBER_SQL = "SELECT member_id, country, birth_day, created_us, closed_us FROM members ORDER BY member_id"
_CHUNK = 20_000

MEMBERS_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("country", pa.string()),
        ("birth_date", pa.date32()),
        ("created_at", ARROW_TS),
        ("closed_at", ARROW_TS),
    ]
)


def member_rows(given: Iterable[Member]) -> list[dict[str, Any]]:
    """Rows for the members table; InputError on a bad country, a naive time or a duplicate id."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for m in given:
        if not m.member_id:
            raise InputError("a member has an empty member_id", field="member_id")
        if m.member_id in seen:
            raise InputError(f"member {m.member_id!r} is given twice; give each member once", field="member_id")
        seen.add(m.member_id)
        if m.country is not None and not is_country(m.country):
            raise InputError(
                f"member {m.member_id!r}: {m.country!r} is not an ISO 3166-1 alpha-2 code", field="country"
            )
        try:
            rows.append(
                {
                    "member_id": m.member_id,
                    "country": m.country,
                    "birth_day": date_to_day(m.birth_date) if m.birth_date is not None else None,
                    "created_us": to_us(m.created_at),
                    "closed_us": to_us(m.closed_at) if m.closed_at is not None else None,
                }
            )
        except ValueError:
            raise InputError(f"member {m.member_id!r}: times need a time zone", field="created_at") from None
    return rows


def upsert_members(c: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the rows; a member already stored is updated to match."""
    ins = pg_insert(members) if c.dialect.name == "postgresql" else sqlite_insert(members)
    stmt = ins.on_conflict_do_update(
        index_elements=[members.c.member_id],
        set_={k: ins.excluded[k] for k in ("country", "birth_day", "created_us", "closed_us")},
    )
    for i in range(0, len(rows), _CHUNK):
        c.execute(stmt, rows[i : i + _CHUNK])


def member_from_row(r: Row[Any]) -> Member:
    """A Member from a members row."""
    return Member(
        member_id=r.member_id,
        country=r.country,
        birth_date=day_to_date(r.birth_day) if r.birth_day is not None else None,
        created_at=us_to_dt(r.created_us),
        closed_at=us_to_dt(r.closed_us) if r.closed_us is not None else None,
    )


def members_from_columns(cols: list[list[Any]]) -> pa.Table:
    """MEMBERS_SCHEMA from the columns of MEMBER_SQL (days and microseconds cast without copying)."""
    ids, country, day, created, closed = cols
    return pa.table(
        [
            pa.array(ids, pa.string()),
            pa.array(country, pa.string()),
            pa.array(day, pa.int32()).cast(pa.date32()),
            pa.array(created, pa.int64()).cast(ARROW_TS),
            pa.array(closed, pa.int64()).cast(ARROW_TS),
        ],
        schema=MEMBERS_SCHEMA,
    )


def members_arrow(c: Connection) -> pa.Table:
    """Every member as an Arrow table (MEMBERS_SCHEMA), ordered by member_id."""
    rows = c.exec_driver_sql(MEMBER_SQL).all()
    cols: list[list[Any]] = [list(col) for col in zip(*rows, strict=True)] if rows else [[], [], [], [], []]
    return members_from_columns(cols)
