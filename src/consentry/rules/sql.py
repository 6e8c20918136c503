"""The record-level forms of the reason order, as SQL for engines that decide whole tables.

Generated from `consentry.rules.REASONS`: a record entry contributes its own
condition over the records relation, a run of member entries the verdict
column `decide_members` computed for it, in the order of the declaration.

- `record_reason_sql` — one CASE giving each record its reason code;
- `record_class_sql` + `class_reason_sql` — the same split in two: a record's
  class needs no verdicts, so an engine counts records per member and class
  first (`CLASS_COUNTS`), then joins one row per member to the verdicts
  (`class_tally_sql`);
- `record_allowed_sql` — for members that pass every member-level check, the
  record-level rules as a plain filter a scan can push down;
- `stale_cause_sql` — the member-level reason of each member of a registered
  build, decided again now: why its data should no longer be in the build.

Both dialects (DuckDB, Spark SQL) for the record forms; the tallies run in DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING

import pyarrow as pa

from consentry.policy import Policy
from consentry.rules.order import REASONS, VERDICT_COLUMNS, Reason, VerdictKind
from consentry.rules.records import Dialect
from consentry.rules.scope import Scope
from consentry.vocab import ReasonCode

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "CLASS_COUNTS",
    "RECORD_CLASSES",
    "SIGNAL_CLASSES",
    "class_cause_sql",
    "class_counts",
    "class_reason_sql",
    "class_tally_sql",
    "decide_records",
    "member_cause_sql",
    "member_passes_sql",
    "record_allowed_sql",
    "record_class_sql",
    "record_reason_sql",
    "stale_cause_sql",
    "stale_member_sql",
]

_RECORD_ENTRIES = tuple(r for r in REASONS if r.verdict is None)
_COUNTED_PER_CAUSE = tuple(r for r in _RECORD_ENTRIES if r.causes)


def _classes(r: Reason) -> tuple[str, ...]:
    """A record entry's classes: its code, or one class per cause (`CODE__cause`) when counted per cause."""
    return tuple(f"{r.code.value}__{c}" for c in r.causes) if r.causes else (r.code.value,)


#: What a record's own facts say, before its member is looked at: the first record entry that applies (per
#: cause, for an entry counted per cause), or OK. `class_reason_sql` turns a class and a member's verdict into
#: the reason code, so an engine may count records per member and class before it has the verdicts.
RECORD_CLASSES = (*(c for r in _RECORD_ENTRIES for c in _classes(r)), "OK")

#: The classes only captured rights holders' signals can give: records of sources without signals never have them
SIGNAL_CLASSES = tuple(
    c for r in _RECORD_ENTRIES if r.code is ReasonCode.RESERVED_BY_RIGHTS_HOLDER for c in _classes(r)
)


def class_counts(impossible: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Per class, the count of a member's records in it: aggregates over rows with member_id and class `c`.

    A class in `impossible` (one the sources cannot give, e.g. `SIGNAL_CLASSES`
    for sources without captured signals) is the constant 0, not an aggregate:
    counting costs a pass over every row per class.
    """
    return tuple(f"0::BIGINT AS {c}" if c in impossible else f"count_if(c = '{c}') AS {c}" for c in RECORD_CLASSES)


#: Every class counted (`class_counts`)
CLASS_COUNTS = class_counts()


def _runs() -> Iterator[tuple[str | None, list[Reason]]]:
    """The order as runs: (None, adjacent record entries) or (verdict column, its member entries)."""
    for verdict, entries in groupby(REASONS, key=lambda r: r.verdict):
        yield verdict, list(entries)


def _verdict_when(column: str, entries: list[Reason], m: str) -> str:
    """The WHEN clause reading one verdict column of `m` (a `decide_members` relation)."""
    kind = VERDICT_COLUMNS[column]
    if kind is VerdictKind.KEY:
        return f"WHEN {m}.{column} IS NULL THEN '{entries[0].code}'"
    if kind is VerdictKind.FLAG:
        return f"WHEN {m}.{column} THEN '{entries[0].code}'"
    return f"WHEN {m}.{column} IS NOT NULL THEN {m}.{column}"


def _case(whens: list[str], otherwise: str | None) -> str:
    tail = f"\n  ELSE {otherwise}" if otherwise is not None else ""
    return "CASE" + "".join(f"\n  {w}" for w in whens) + tail + "\nEND"


def record_class_sql(
    policy: Policy,
    purpose: str,
    *,
    at: datetime,
    now: datetime,
    records: str = "r",
    dialect: Dialect = "duckdb",
) -> str:
    """A SQL CASE giving each record's class (RECORD_CLASSES) from its own columns.

    `records` needs member_id, kind, visibility, created_at and deleted_at
    (timestamps with time zone) and a boolean `_malformed`.
    """
    scope = Scope(policy, purpose, at, now, dialect, records)
    whens: list[str] = []
    for r in _RECORD_ENTRIES:
        if r.cause_sql is None:
            whens.append(f"WHEN {r.sql(scope)} THEN '{r.code}'")
        else:  # the causes in order; together they say what `sql` says
            whens += [f"WHEN {r.cause_sql(scope, c)} THEN '{k}'" for c, k in zip(r.causes, _classes(r), strict=True)]
    return _case(whens, "'OK'")


def class_reason_sql(record_class: str, members: str = "m") -> str:
    """A SQL CASE giving the reason code of a record of class `record_class` (an SQL expression).

    Evaluated over a `decide_members` table `members` LEFT JOINed on member_id:
    the record-level classes and the member-level checks interleave in the
    order of the reasons.
    """
    c, whens = record_class, []
    for verdict, entries in _runs():
        if verdict is not None:
            whens.append(_verdict_when(verdict, entries, members))
            continue
        plain = [r for r in entries if not r.causes]
        if plain:  # a plain class is its own reason code
            whens.append(f"WHEN {c} IN ({', '.join(repr(r.code.value) for r in plain)}) THEN {c}")
        for r in entries:
            if r.causes:
                whens.append(f"WHEN {c} IN ({', '.join(repr(k) for k in _classes(r))}) THEN '{r.code}'")
    return _case(whens, f"'{ReasonCode.ALLOWED}'")


def _cause_of_class(reason: str, record_class: str) -> str:
    """The cause of a record of class `record_class` (a class name) whose reason is `reason` (SQL): NULL mostly."""
    for r in _COUNTED_PER_CAUSE:
        for c, k in zip(r.causes, _classes(r), strict=True):
            if k == record_class:
                return f"CASE WHEN {reason} = '{r.code}' THEN '{c}' END"
    return "CAST(NULL AS VARCHAR)"


def class_cause_sql(reason: str, record_class: str) -> str:
    """The cause a record is counted under (NULL for most): its class's cause, when its reason is that class's.

    `reason` and `record_class` are SQL expressions (a record of class
    RESERVED_BY_RIGHTS_HOLDER__aipref whose member is unknown is counted as
    UNKNOWN_MEMBER, with no cause).
    """
    whens = [
        f"WHEN {reason} = '{r.code}' AND {record_class} = '{k}' THEN '{c}'"
        for r in _COUNTED_PER_CAUSE
        for c, k in zip(r.causes, _classes(r), strict=True)
    ]
    return _case(whens, "NULL") if whens else "NULL"


def record_reason_sql(
    policy: Policy,
    purpose: str,
    *,
    at: datetime,
    now: datetime,
    records: str = "r",
    members: str = "m",
    dialect: Dialect = "duckdb",
) -> str:
    """A SQL CASE expression giving each record's reason code.

    Evaluated over `records` LEFT JOIN `members` (a `decide_members` table) ON
    member_id; `records` needs record_id, member_id, kind, visibility,
    created_at and deleted_at (timestamps with time zone) and a boolean
    `_malformed`. The same as `class_reason_sql` of `record_class_sql`, in one
    flat CASE.
    """
    scope = Scope(policy, purpose, at, now, dialect, records)
    whens: list[str] = []
    for verdict, entries in _runs():
        if verdict is not None:
            whens.append(_verdict_when(verdict, entries, members))
        else:
            whens += [f"WHEN {r.sql(scope)} THEN '{r.code}'" for r in entries]
    return _case(whens, f"'{ReasonCode.ALLOWED}'")


def record_allowed_sql(
    policy: Policy,
    purpose: str,
    *,
    at: datetime,
    now: datetime,
    records: str = "r",
    dialect: Dialect = "duckdb",
) -> str:
    """The record-level half of `record_reason_sql`, as a filter: true when a record is ALLOWED.

    Only for records of members whose member-level checks all pass
    (`member_passes_sql`) — the members that have at least one ALLOWED record.
    For them the reason is ALLOWED exactly when the record's class is OK; this
    says the same as plain column comparisons (each record entry's `keeps`),
    which the engine can push into the scan.
    """
    scope = Scope(policy, purpose, at, now, dialect, records)
    return " AND ".join(r.keeps(scope) for r in _RECORD_ENTRIES if r.keeps is not None)


def member_passes_sql(members: str = "m") -> str:
    """True when a member's verdict row (`decide_members`, LEFT JOINed) passes every member-level check."""
    tests = []
    for column, kind in VERDICT_COLUMNS.items():
        if kind is VerdictKind.KEY:
            tests.append(f"{members}.{column} IS NOT NULL")
        elif kind is VerdictKind.FLAG:
            tests.append(f"NOT {members}.{column}")
        else:
            tests.append(f"{members}.{column} IS NULL")
    return " AND ".join(tests)


def class_tally_sql(classes: str, members: str) -> str:
    """Records per reason, and per allowed member: a query with columns reason, member_id, cause, "count" (DuckDB).

    `classes` has member_id and one count column per RECORD_CLASSES entry (one
    row per member, `CLASS_COUNTS`); `members` is `decide_members`' output.
    member_id is NULL unless the reason is ALLOWED; records of members missing
    from `members` are UNKNOWN_MEMBER, as `class_reason_sql` says. `cause`
    splits the count of a reason counted per cause (`class_cause_sql`).
    """
    per_class = "\nUNION ALL\n".join(
        f"SELECT j.rid, reason, {_cause_of_class('reason', c)} AS cause, n "
        f"FROM (SELECT j.rid, {class_reason_sql(repr(c), 'j')} AS reason, j.{c} AS n FROM j WHERE j.{c} > 0) AS j"
        for c in RECORD_CLASSES
    )
    counts = ", ".join(f"g.{c}" for c in RECORD_CLASSES)
    verdicts = ", ".join(f"m.{c}" for c in VERDICT_COLUMNS)
    return (
        f"WITH j AS MATERIALIZED (SELECT g.member_id AS rid, {counts}, {verdicts} "
        f"FROM {classes} AS g LEFT JOIN {members} AS m ON g.member_id = m.member_id) "
        "SELECT reason, CASE WHEN reason = 'ALLOWED' THEN rid END AS member_id, cause, sum(n)::BIGINT AS \"count\" "
        f"FROM ({per_class}) GROUP BY ALL"
    )


def stale_cause_sql(build_members: str = "b", verdicts: str = "v") -> str:
    """Per cause, the members of a build that no longer qualify and their records: cause, members, records.

    `build_members` has member_id and records (a build's member set);
    `verdicts` is `decide_members`' output for the build's purpose and T,
    decided now. The cause is the member-level reason (a member missing from
    the verdicts is UNKNOWN_MEMBER); members whose checks all pass are left out.
    Record-level causes (deletions) are found from the sources instead.
    """
    return (
        f"SELECT cause, count(*) AS members, sum(records) AS records FROM ({stale_member_sql(build_members, verdicts)})"
        " GROUP BY cause ORDER BY cause"
    )


def member_cause_sql(verdicts: str = "v") -> str:
    """A SQL CASE over one row of `verdicts` (`decide_members`' output): the member-level reason, or NULL.

    The member entries of the order, first that applies; NULL when every member-level check passes.
    """
    whens = [_verdict_when(v, entries, verdicts) for v, entries in _runs() if v is not None]
    return _case(whens, None)


def stale_member_sql(build_members: str = "b", verdicts: str = "v") -> str:
    """Each member of a build that no longer qualifies: member_id, records, cause, event_id, case_id.

    The relations are those of `stale_cause_sql`; `event_id` and `case_id` are
    the verdicts' evidence (the deny or the case behind a consent cause).
    """
    cause = member_cause_sql(verdicts)
    return (
        f"SELECT * FROM (\n  SELECT {build_members}.member_id, {build_members}.records, {cause} AS cause,\n"
        f"    {verdicts}.event_id, {verdicts}.case_id\n"
        f"  FROM {build_members} LEFT JOIN {verdicts} ON {build_members}.member_id = {verdicts}.member_id\n"
        ") WHERE cause IS NOT NULL"
    )


def decide_records(
    policy: Policy,
    purpose: str,
    members: pa.Table,
    records: pa.Table,
    *,
    at: datetime,
    now: datetime,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Array:
    """The reason code of every record, in input order, by the vectorised rules (DuckDB).

    Runs on `con` (its time zone set to UTC) when given, else on a DuckDB connection of its own.
    """
    import duckdb

    if "_malformed" not in records.column_names:
        records = records.append_column("_malformed", pa.array([False] * records.num_rows, pa.bool_()))
    for column in ("origin", "_signals"):  # optional: member content without captured signals
        if column not in records.column_names:
            records = records.append_column(column, pa.nulls(records.num_rows, pa.string()))
    records = records.append_column("_row", pa.array(range(records.num_rows), pa.int64()))
    expr = record_reason_sql(policy, purpose, at=at, now=now)
    db = con if con is not None else duckdb.connect()
    try:
        db.execute("SET TimeZone = 'UTC'")
        db.register("records", records)
        db.register("members", members)
        sql = f"SELECT {expr} AS reason FROM records r LEFT JOIN members m ON m.member_id = r.member_id ORDER BY r._row"
        table: pa.Table = db.sql(sql).to_arrow_table()
    finally:
        if con is None:
            db.close()
        else:
            db.unregister("records")
            db.unregister("members")
    return table.column("reason").combine_chunks()
