"""Members in SQL: validated rows, upserts, the Arrow schema snapshots build on, and the generation counter."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select, update

from consentry import bounds
from consentry.errors import InputError
from consentry.store.database import insert_or_on_conflict
from consentry.store.protocol import Member
from consentry.store.schema import date_to_day, day_to_date, members, store_counters, to_us, us_to_dt

if TYPE_CHECKING:
    import pyarrow as pa

    #: The members as Arrow (made on first use: reading a member does not import pyarrow).
    MEMBERS_SCHEMA: pa.Schema

__all__ = [
    "MEMBERS_SCHEMA",
    "absent_members",
    "bump_members_generation",
    "member_from_row",
    "member_rows",
    "members_generation",
    "sorted_by_member_id",
    "upsert_members",
]

_CHUNK = 20_000


def __getattr__(name: str) -> Any:
    """`MEMBERS_SCHEMA`, made (and pyarrow imported) on first use."""
    if name == "MEMBERS_SCHEMA":
        import pyarrow as pa

        from consentry.timeutil import ARROW_TS

        fields = [("member_id", pa.string()), ("country", pa.string()), ("birth_date", pa.date32())]
        schema = globals()[name] = pa.schema([*fields, ("created_at", ARROW_TS), ("closed_at", ARROW_TS)])
        return schema
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sorted_by_member_id(table: pa.Table) -> pa.Table:
    """`table` in member_id order (bytewise, as Arrow sorts strings); sorted only if it is not already."""
    if table.num_rows > 1:
        import pyarrow.compute as pc

        ids = table.column("member_id").combine_chunks()
        if not pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
            return table.sort_by([("member_id", "ascending")])
    return table


def member_rows(given: Iterable[Member]) -> list[dict[str, Any]]:
    """Rows for the members table; InputError on a bad country, a naive time or a duplicate id."""
    from consentry.policy.countries import is_country  # the policy package: only when members are written

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    latest = bounds.latest_allowed()
    for m in given:
        if not m.member_id:
            raise InputError("a member has an empty member_id", field="member_id")
        bounds.check_id(m.member_id, "member_id")
        if not (m.created_at.tzinfo is None or (m.closed_at is not None and m.closed_at.tzinfo is None)):
            bounds.check_member(m, where=f"member {m.member_id!r}", latest=latest)
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
    """Insert the rows; a member already stored is updated to match. Every row is stamped with the new generation."""
    generation = bump_members_generation(c)
    for row in rows:
        row["changed_gen"] = generation
    ins = insert_or_on_conflict(c, members)
    stmt = ins.on_conflict_do_update(
        index_elements=[members.c.member_id],
        set_={k: ins.excluded[k] for k in ("country", "birth_day", "created_us", "closed_us", "changed_gen")},
    )
    for i in range(0, len(rows), _CHUNK):
        c.execute(stmt, rows[i : i + _CHUNK])


def bump_members_generation(c: Connection) -> int:
    """Move the members generation on, in the caller's transaction (before any change to members); the new one.

    The changed rows are stamped with it (`changed_gen`), which is what lets a
    reader holding the members as of an older generation fetch only what changed.
    """
    c.execute(update(store_counters).where(store_counters.c.name == "members").values(value=store_counters.c.value + 1))
    return members_generation(c)


def members_generation(c: Connection) -> int:
    """The members generation as of the caller's transaction."""
    return int(c.execute(select(store_counters.c.value).where(store_counters.c.name == "members")).scalar_one())


def member_from_row(r: Row[Any]) -> Member:
    """A Member from a members row."""
    return Member(
        member_id=r.member_id,
        country=r.country,
        birth_date=day_to_date(r.birth_day) if r.birth_day is not None else None,
        created_at=us_to_dt(r.created_us),
        closed_at=us_to_dt(r.closed_us) if r.closed_us is not None else None,
    )


def absent_members(c: Connection, ids: Iterable[str]) -> list[str]:
    """The ids among `ids` that name no stored member, sorted.

    One statement over all the ids, looked up in sorted order so the members
    index is walked front to back (several times faster than in random order).
    """
    wanted = sorted(set(ids))
    if not wanted:
        return []
    if c.dialect.name == "sqlite":
        sql = "SELECT value FROM json_each(?) WHERE NOT EXISTS (SELECT 1 FROM members WHERE member_id = value)"
        params: tuple[Any, ...] = (json.dumps(wanted),)
    else:
        sql = "SELECT x FROM unnest(%s::text[]) AS x WHERE NOT EXISTS (SELECT 1 FROM members WHERE member_id = x)"
        params = (wanted,)
    return sorted(str(r[0]) for r in c.exec_driver_sql(sql, params))
