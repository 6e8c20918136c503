"""The rules: may this record of this member be used for this purpose as of T?

Two forms of the same rules, which must agree (property-tested):

- `decide()` — one pure function over plain facts, returning a `Decision`
  with its reason code and evidence; `decide_for()` gathers the facts from a store.
- the vectorised form — `decide_members()` turns a ledger snapshot into
  per-member verdicts (an Arrow table), and `consentry.record_rules` holds the
  SQL that combines them with the record-level rules for whole tables in
  DuckDB or Spark; `decide_records()` runs it in DuckDB.

Two moments: `at` (T) is the moment the rules and choices are taken from;
`now` is the moment the decision is made. A pure audit replay has now == at.
A build as of T decides at `now` = the build's own moment, so withdrawals,
upheld or pending objections, deletions and closures recorded after T still
win (DESIGN.md, "later withdrawals always win").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from consentry.policy import Policy, PolicyVersion
from consentry.record_rules import instant_sql, record_reason_sql
from consentry.store.protocol import SNAPSHOT_SCHEMA, Member
from consentry.timeutil import iso, utc, utcnow
from consentry.vocab import Choice, Mode, ReasonCode, Source

if TYPE_CHECKING:
    from consentry.store.protocol import Store

__all__ = [
    "MEMBER_VERDICT_SCHEMA",
    "ConsentFacts",
    "Decision",
    "RecordFacts",
    "adult_cutoff",
    "decide",
    "decide_for",
    "decide_members",
    "decide_records",
    "is_allowed",
]

#: What `decide_members` returns: one row per member of the snapshot.
MEMBER_VERDICT_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("gate_reason", pa.string()),
        ("closed", pa.bool_()),
        ("consent_reason", pa.string()),
        ("event_id", pa.int64()),
        ("case_id", pa.string()),
    ]
)


@dataclass(frozen=True)
class RecordFacts:
    """The record-level facts a decision looks at.

    A missing kind or visibility excludes the record (fail closed), unless
    `partial` is set: then only the facts given are checked ("may a public
    post of this member be used?" without a concrete record).
    """

    kind: str | None = None
    visibility: str | None = None
    created_at: datetime | None = None
    deleted_at: datetime | None = None
    malformed: bool = False
    partial: bool = False


@dataclass(frozen=True)
class ConsentFacts:
    """What the ledger says about one member and one purpose, as of T and as of now."""

    at_choice: Choice | None = None
    at_source: Source | None = None
    at_event_id: int | None = None
    now_choice: Choice | None = None
    now_source: Source | None = None
    now_event_id: int | None = None
    at_case_id: str | None = None
    now_case_id: str | None = None

    @classmethod
    def from_snapshot_row(cls, row: dict[str, Any]) -> ConsentFacts:
        """Facts from one row of a ledger snapshot (SNAPSHOT_SCHEMA)."""

        def enum(e: type[Choice] | type[Source], v: str | None) -> Any:
            return e(v) if v is not None else None

        return cls(
            at_choice=enum(Choice, row["at_choice"]),
            at_source=enum(Source, row["at_source"]),
            at_event_id=row["at_event_id"],
            now_choice=enum(Choice, row["now_choice"]),
            now_source=enum(Source, row["now_source"]),
            now_event_id=row["now_event_id"],
            at_case_id=row["at_case_id"],
            now_case_id=row["now_case_id"],
        )


@dataclass(frozen=True)
class Decision:
    """The answer, its reason code and the evidence behind it."""

    allowed: bool
    reason: ReasonCode
    purpose: str
    at: datetime
    member_id: str | None = None
    policy_version: str | None = None
    policy_sha256: str | None = None
    event_id: int | None = None
    case_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as RFC 3339, enums as their values)."""
        d = asdict(self)
        d["reason"] = self.reason.value
        d["at"] = iso(self.at)
        return d


def adult_cutoff(at: datetime, min_age: int) -> date:
    """The latest birth date of someone at least `min_age` years old on `at`'s UTC date.

    Someone born on 29 February comes of age on 1 March in common years.
    """
    d = utc(at).date()
    year = d.year - min_age
    try:
        return d.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def decide(
    policy: Policy,
    purpose: str,
    member: Member | None,
    consent: ConsentFacts | None = None,
    *,
    at: datetime,
    now: datetime | None = None,
    record: RecordFacts | None = None,
    member_id: str | None = None,
) -> Decision:
    """Apply the reason codes of DESIGN.md, in their order, to one member (and record)."""
    at = utc(at)
    now = at if now is None else utc(now)
    consent = consent or ConsentFacts()
    version = policy.version_at(at)
    mid = member.member_id if member is not None else member_id

    def out(reason: ReasonCode, event_id: int | None = None, case_id: str | None = None) -> Decision:
        return Decision(
            allowed=reason is ReasonCode.ALLOWED,
            reason=reason,
            purpose=purpose,
            at=at,
            member_id=mid,
            policy_version=version.version if version else None,
            policy_sha256=version.sha256 if version else None,
            event_id=event_id,
            case_id=case_id,
        )

    if record is not None and record.malformed:
        return out(ReasonCode.MALFORMED)
    if record is not None and record.created_at is not None and utc(record.created_at) > at:
        return out(ReasonCode.CREATED_AFTER_AS_OF)
    if member is None:
        return out(ReasonCode.UNKNOWN_MEMBER)
    gate = _gate_reason(policy, version, purpose, member, at)
    if gate is not None:
        return out(gate)
    assert version is not None  # _gate_reason returns NOT_DISCLOSED otherwise
    rule = version.purposes[purpose]
    if record is not None:
        if not (record.partial and record.kind is None) and record.kind not in rule.kinds:
            return out(ReasonCode.CATEGORY_EXCLUDED)
        if not (record.partial and record.visibility is None) and record.visibility not in rule.visibility:
            return out(ReasonCode.VISIBILITY_EXCLUDED)
    if member.closed_at is not None and utc(member.closed_at) <= now:
        return out(ReasonCode.ACCOUNT_CLOSED)
    if record is not None and record.deleted_at is not None and utc(record.deleted_at) <= now:
        return out(ReasonCode.RECORD_DELETED)
    mode = version.mode_for(purpose, member.country)
    return out(*_consent_reason(version, mode, consent))


def _gate_reason(
    policy: Policy, version: PolicyVersion | None, purpose: str, member: Member, at: datetime
) -> ReasonCode | None:
    """NOT_DISCLOSED, REGION_EXCLUDED, NOTICE_PERIOD, MINOR or AGE_UNKNOWN — the first that applies."""
    rule = version.purpose(purpose) if version is not None else None
    if version is None or rule is None:
        return ReasonCode.NOT_DISCLOSED
    if version.mode_for(purpose, member.country) is Mode.EXCLUDED:
        return ReasonCode.REGION_EXCLUDED
    starts = policy.processing_starts(purpose, member.country, at)
    if starts is None or at < starts:
        return ReasonCode.NOTICE_PERIOD
    born = member.birth_date
    if rule.min_age is not None and born is not None and born > adult_cutoff(at, rule.min_age):
        return ReasonCode.MINOR
    if member.birth_date is None and rule.require_birth_date:
        return ReasonCode.AGE_UNKNOWN
    return None


def _consent_reason(
    version: PolicyVersion, mode: Mode | None, c: ConsentFacts
) -> tuple[ReasonCode, int | None, str | None]:
    """The member's choices and objections: (reason, event id, case id)."""
    if version.spec.objections.restrict_while_pending:
        case = c.at_case_id or c.now_case_id
        if case is not None:
            return ReasonCode.OBJECTION_PENDING, None, case
    # A deny recorded by now wins over an allow in effect at T.
    if c.now_choice is Choice.DENY:
        deny_source, deny_event = c.now_source, c.now_event_id
    elif c.at_choice is Choice.DENY:
        deny_source, deny_event = c.at_source, c.at_event_id
    else:
        deny_source, deny_event = None, None
    if deny_event is not None and deny_source is Source.OBJECTION_FORM:
        return ReasonCode.OBJECTION_UPHELD, deny_event, None
    if mode is Mode.OPT_IN:
        if c.at_choice is Choice.ALLOW and deny_event is None:
            return ReasonCode.ALLOWED, c.at_event_id, None
        return ReasonCode.NOT_OPTED_IN, deny_event if deny_event is not None else c.at_event_id, None
    if deny_event is not None:
        return ReasonCode.OPTED_OUT, deny_event, None
    return ReasonCode.ALLOWED, c.at_event_id, None


def is_allowed(*args: Any, **kwargs: Any) -> bool:
    """`decide(...)` reduced to yes or no."""
    return decide(*args, **kwargs).allowed


def decide_for(
    store: Store,
    member_id: str,
    purpose: str,
    *,
    at: datetime | None = None,
    now: datetime | None = None,
    kind: str | None = None,
    visibility: str | None = None,
    policy: Policy | None = None,
) -> Decision:
    """Decide for a member in a store: a pure replay as of `at` unless `now` is given."""
    at = utcnow() if at is None else utc(at)
    now = at if now is None else utc(now)
    policy = policy or store.policy()
    member = store.find_member(member_id)
    ev_at = store.state(member_id, purpose, at)
    ev_now = store.state(member_id, purpose, now)
    case_at = store.open_case(member_id, purpose, at)
    case_now = store.open_case(member_id, purpose, now)
    consent = ConsentFacts(
        at_choice=ev_at.choice if ev_at else None,
        at_source=ev_at.source if ev_at else None,
        at_event_id=ev_at.event_id if ev_at else None,
        now_choice=ev_now.choice if ev_now else None,
        now_source=ev_now.source if ev_now else None,
        now_event_id=ev_now.event_id if ev_now else None,
        at_case_id=case_at.case_id if case_at else None,
        now_case_id=case_now.case_id if case_now else None,
    )
    record = RecordFacts(kind=kind, visibility=visibility, partial=True) if kind or visibility else None
    return decide(policy, purpose, member, consent, at=at, now=now, record=record, member_id=member_id)


# ---------------------------------------------------------------- vectorised form


def _country_rules(policy: Policy, purpose: str, countries: list[str | None], at: datetime) -> pa.Table:
    """Mode and processing start per distinct country (unknown and missing ones included)."""
    version = policy.version_at(at)
    modes: list[str | None] = []
    starts: list[datetime | None] = []
    for c in countries:
        mode = version.mode_for(purpose, c) if version else None
        modes.append(mode.value if mode else None)
        starts.append(policy.processing_starts(purpose, c, at))
    return pa.table(
        {
            "country": pa.array(countries, pa.string()),
            "mode": pa.array(modes, pa.string()),
            "starts": pa.array(starts, pa.timestamp("us", tz="UTC")),
        }
    )


def decide_members(policy: Policy, purpose: str, snapshot: pa.Table, *, at: datetime, now: datetime) -> pa.Table:
    """Per-member verdicts (MEMBER_VERDICT_SCHEMA) for a whole ledger snapshot."""
    at, now = utc(at), utc(now)
    snapshot = snapshot.select(SNAPSHOT_SCHEMA.names).cast(SNAPSHOT_SCHEMA)
    version = policy.version_at(at)
    rule = version.purpose(purpose) if version else None
    distinct = pc.unique(snapshot.column("country")).to_pylist()
    if None not in distinct:
        distinct.append(None)
    countries = _country_rules(policy, purpose, distinct, at)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("snapshot", snapshot)
        con.register("countries", countries)
        sql = _MEMBERS_SQL.format(
            disclosed="TRUE" if rule else "FALSE",
            min_age="TRUE" if rule and rule.min_age is not None else "FALSE",
            cutoff=_date_sql(adult_cutoff(at, rule.min_age) if rule and rule.min_age is not None else date.min),
            require_bd="TRUE" if rule and rule.require_birth_date else "FALSE",
            restrict="TRUE" if version and version.spec.objections.restrict_while_pending else "FALSE",
            at=instant_sql(at),
            now=instant_sql(now),
        )
        return _arrow(con, sql).cast(MEMBER_VERDICT_SCHEMA)
    finally:
        con.close()


_MEMBERS_SQL = """
WITH s AS (
  SELECT s.*, c.mode, c.starts,
    CASE WHEN s.now_choice = 'deny' THEN s.now_source
         WHEN s.at_choice = 'deny' THEN s.at_source END AS deny_source,
    CASE WHEN s.now_choice = 'deny' THEN s.now_event_id
         WHEN s.at_choice = 'deny' THEN s.at_event_id END AS deny_event
  FROM snapshot s LEFT JOIN countries c ON c.country IS NOT DISTINCT FROM s.country
)
SELECT
  member_id,
  CASE
    WHEN NOT {disclosed} OR mode IS NULL THEN 'NOT_DISCLOSED'
    WHEN mode = 'excluded' THEN 'REGION_EXCLUDED'
    WHEN starts IS NULL OR {at} < starts THEN 'NOTICE_PERIOD'
    WHEN {min_age} AND birth_date IS NOT NULL AND birth_date > {cutoff} THEN 'MINOR'
    WHEN {require_bd} AND birth_date IS NULL THEN 'AGE_UNKNOWN'
  END AS gate_reason,
  coalesce(closed_at <= {now}, FALSE) AS closed,
  CASE
    WHEN {restrict} AND coalesce(at_case_id, now_case_id) IS NOT NULL THEN 'OBJECTION_PENDING'
    WHEN deny_event IS NOT NULL AND deny_source = 'objection_form' THEN 'OBJECTION_UPHELD'
    WHEN mode = 'opt_in' AND NOT coalesce(at_choice = 'allow' AND deny_event IS NULL, FALSE) THEN 'NOT_OPTED_IN'
    WHEN mode <> 'opt_in' AND deny_event IS NOT NULL THEN 'OPTED_OUT'
  END AS consent_reason,
  CASE
    WHEN {restrict} AND coalesce(at_case_id, now_case_id) IS NOT NULL THEN NULL
    WHEN deny_event IS NOT NULL THEN deny_event
    ELSE at_event_id
  END AS event_id,
  CASE WHEN {restrict} THEN coalesce(at_case_id, now_case_id) END AS case_id
FROM s
"""


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    table: pa.Table = con.sql(sql).to_arrow_table()
    return table


def _date_sql(d: date) -> str:
    return f"DATE '{d.isoformat()}'" if d != date.min else "DATE '0001-01-01'"


def decide_records(
    policy: Policy,
    purpose: str,
    members: pa.Table,
    records: pa.Table,
    *,
    at: datetime,
    now: datetime,
) -> pa.Array:
    """The reason code of every record, in input order, by the vectorised rules (DuckDB)."""
    if "_malformed" not in records.column_names:
        records = records.append_column("_malformed", pa.array([False] * records.num_rows, pa.bool_()))
    records = records.append_column("_row", pa.array(range(records.num_rows), pa.int64()))
    expr = record_reason_sql(policy, purpose, at=at, now=now)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("records", records)
        con.register("members", members)
        table = _arrow(
            con,
            f"SELECT {expr} AS reason FROM records r LEFT JOIN members m ON m.member_id = r.member_id ORDER BY r._row",
        )
    finally:
        con.close()
    return table.column("reason").combine_chunks()
