"""The record-level rules as SQL, for engines that decide whole tables (DuckDB locally, Spark).

The same rules as `consentry.decide.decide`, in forms an engine can run over
records joined to `decide_members`' per-member verdicts (property-tested
against the row-wise form in tests/test_decide.py):

- `record_reason_sql` — one CASE giving each record its reason code;
- `record_class_sql` + `class_reason_sql` — the same split in two: a record's
  class needs no verdicts, so an engine counts records per member and class
  first (`CLASS_COUNTS`), then joins one row per member to the verdicts
  (`class_tally_sql`);
- `record_allowed_sql` — for members that pass every member-level check, the
  record-level rules as a plain filter a scan can push down.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from consentry.policy import Policy, PurposeRule
from consentry.timeutil import utc

__all__ = [
    "CLASS_COUNTS",
    "RECORD_CLASSES",
    "Dialect",
    "class_reason_sql",
    "class_tally_sql",
    "instant_sql",
    "record_allowed_sql",
    "record_class_sql",
    "record_reason_sql",
]

Dialect = Literal["duckdb", "spark"]


def instant_sql(t: datetime, dialect: Dialect = "duckdb") -> str:
    """An instant as a SQL timestamp literal (UTC) of the dialect."""
    text = utc(t).strftime("%Y-%m-%d %H:%M:%S.%f")
    if dialect == "spark":
        return f"TIMESTAMP '{text}+00:00'"
    return f"TIMESTAMPTZ '{text}+00'"


def _in_list(values: list[str]) -> str:
    # Kinds and visibilities are validated lower_snake_case names: nothing to escape.
    return ", ".join(f"'{v}'" for v in values)


#: What a record's own facts say, before its member is looked at: the first record-level condition that
#: holds, in the order the reasons are checked, or OK. `class_reason_sql` turns a class and a member's
#: verdict into the reason code, so an engine may count records per member and class before it has the
#: verdicts.
RECORD_CLASSES = (
    "MALFORMED",
    "CREATED_AFTER_AS_OF",
    "CATEGORY_EXCLUDED",
    "VISIBILITY_EXCLUDED",
    "RECORD_DELETED",
    "OK",
)


def _kinds_and_visibility(policy: Policy, purpose: str, at: datetime, records: str) -> tuple[str, str]:
    """SQL conditions: the record's kind, and its visibility, are among those the purpose allows as of `at`."""
    version = policy.version_at(utc(at))
    rule: PurposeRule | None = version.purpose(purpose) if version else None
    if rule is None:  # not disclosed: no kind and no visibility is allowed
        return "FALSE", "FALSE"
    kinds = f"{records}.kind IN ({_in_list(rule.kinds)})"
    return kinds, f"{records}.visibility IN ({_in_list([v.value for v in rule.visibility])})"


def _record_conditions(
    policy: Policy, purpose: str, at: datetime, now: datetime, records: str, dialect: Dialect
) -> dict[str, str]:
    """Per record class but OK, the SQL condition over `records` that puts a record in it (checked in this order)."""
    r = records
    kinds, vis = _kinds_and_visibility(policy, purpose, at, r)
    return {
        "MALFORMED": f"{r}._malformed",
        "CREATED_AFTER_AS_OF": f"{r}.created_at > {instant_sql(at, dialect)}",
        "CATEGORY_EXCLUDED": f"{r}.kind IS NULL OR NOT ({kinds})",
        "VISIBILITY_EXCLUDED": f"{r}.visibility IS NULL OR NOT ({vis})",
        "RECORD_DELETED": f"{r}.deleted_at IS NOT NULL AND {r}.deleted_at <= {instant_sql(now, dialect)}",
    }


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
    conditions = _record_conditions(policy, purpose, at, now, records, dialect)
    whens = "".join(f"\n  WHEN {cond} THEN '{c}'" for c, cond in conditions.items())
    return f"CASE{whens}\n  ELSE 'OK'\nEND"


def class_reason_sql(record_class: str, members: str = "m") -> str:
    """A SQL CASE giving the reason code of a record of class `record_class` (an SQL expression).

    Evaluated over a `decide_members` table `members` LEFT JOINed on member_id:
    the record-level classes and the member-level checks interleave in the
    documented order of the reasons.
    """
    c, m = record_class, members
    return f"""CASE
  WHEN {c} IN ('MALFORMED', 'CREATED_AFTER_AS_OF') THEN {c}
  WHEN {m}.member_id IS NULL THEN 'UNKNOWN_MEMBER'
  WHEN {m}.gate_reason IS NOT NULL THEN {m}.gate_reason
  WHEN {c} IN ('CATEGORY_EXCLUDED', 'VISIBILITY_EXCLUDED') THEN {c}
  WHEN {m}.closed THEN 'ACCOUNT_CLOSED'
  WHEN {c} = 'RECORD_DELETED' THEN {c}
  WHEN {m}.consent_reason IS NOT NULL THEN {m}.consent_reason
  ELSE 'ALLOWED'
END"""


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
    f, m = _record_conditions(policy, purpose, at, now, records, dialect), members
    return f"""CASE
  WHEN {f["MALFORMED"]} THEN 'MALFORMED'
  WHEN {f["CREATED_AFTER_AS_OF"]} THEN 'CREATED_AFTER_AS_OF'
  WHEN {m}.member_id IS NULL THEN 'UNKNOWN_MEMBER'
  WHEN {m}.gate_reason IS NOT NULL THEN {m}.gate_reason
  WHEN {f["CATEGORY_EXCLUDED"]} THEN 'CATEGORY_EXCLUDED'
  WHEN {f["VISIBILITY_EXCLUDED"]} THEN 'VISIBILITY_EXCLUDED'
  WHEN {m}.closed THEN 'ACCOUNT_CLOSED'
  WHEN {f["RECORD_DELETED"]} THEN 'RECORD_DELETED'
  WHEN {m}.consent_reason IS NOT NULL THEN {m}.consent_reason
  ELSE 'ALLOWED'
END"""


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

    Only for records of members whose member-level checks all pass (no
    gate_reason, no consent_reason, not closed) — the members that have at
    least one ALLOWED record. For them the reason is ALLOWED exactly when the
    record's class is OK; this says the same as plain column comparisons,
    which the engine can push into the scan.
    """
    r = records
    kinds, vis = _kinds_and_visibility(policy, purpose, at, r)
    return (
        f"NOT {r}._malformed AND {r}.created_at <= {instant_sql(at, dialect)} AND {kinds} AND {vis} "
        f"AND ({r}.deleted_at IS NULL OR {r}.deleted_at > {instant_sql(now, dialect)})"
    )


#: Per class, the count of a member's records in it: aggregates over rows with member_id and class `c`
CLASS_COUNTS = tuple(f"count_if(c = '{c}') AS {c}" for c in RECORD_CLASSES)


def class_tally_sql(classes: str, members: str) -> str:
    """Records per reason, and per allowed member: a query with columns reason, member_id, "count".

    `classes` has member_id and one count column per RECORD_CLASSES entry (one
    row per member, `CLASS_COUNTS`); `members` is `decide_members`' output.
    member_id is NULL unless the reason is ALLOWED; records of members missing
    from `members` are UNKNOWN_MEMBER, as `class_reason_sql` says.
    """
    per_class = "\nUNION ALL\n".join(
        f"SELECT j.rid, {class_reason_sql(repr(c), 'j')} AS reason, j.{c} AS n FROM j WHERE j.{c} > 0"
        for c in RECORD_CLASSES
    )
    counts = ", ".join(f"g.{c}" for c in RECORD_CLASSES)
    return (
        f"WITH j AS MATERIALIZED (SELECT g.member_id AS rid, {counts}, m.member_id, m.gate_reason, m.closed, "
        f"m.consent_reason FROM {classes} AS g LEFT JOIN {members} AS m ON g.member_id = m.member_id) "
        "SELECT reason, CASE WHEN reason = 'ALLOWED' THEN rid END AS member_id, sum(n)::BIGINT AS \"count\" "
        f"FROM ({per_class}) GROUP BY ALL"
    )
