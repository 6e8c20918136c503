"""The reason order, declared once: every rule of a decision, as ordered data.

A record of a member gets the first reason in `REASONS` that applies, or
ALLOWED (`OTHERWISE`) when none does. Each entry holds its code, its stage,
what it means, its row-wise predicate over `Facts`, and its SQL fragment over
a `Scope` (rendered in the scope's dialect, DuckDB or Spark SQL). Every form
of the rules is generated from this list:

- the row-wise `decide` (`consentry.rules.rowwise`) tries the predicates in order;
- the vectorised member verdicts (`consentry.rules.members`) put the member
  entries' fragments into one column per verdict (`VERDICT_COLUMNS`);
- the record SQL of both engines, and the causes of stale builds
  (`consentry.rules.sql`), interleave the record entries' fragments with those
  verdict columns in the same order.

Stages: `record` (the record's own columns as of T), `member` (the member and
the disclosure gate as of T), `consent` (the member's choices and objections,
as of T and as recorded by now: a later withdrawal wins), `later` (closures and
deletions recorded by the moment of the decision, after T included).

SCRUB_FAILED is not here: the scrub step gives it, after the rules, to an
allowed record whose text could not be scrubbed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from consentry.rules.facts import Facts, adult_cutoff
from consentry.rules.reservations import CAUSES, reserved_by
from consentry.rules.scope import Scope
from consentry.timeutil import utc
from consentry.vocab import Choice, Mode, ReasonCode, Source

__all__ = ["OTHERWISE", "REASONS", "VERDICT_COLUMNS", "Outcome", "Reason", "Stage", "VerdictKind"]


class Stage(StrEnum):
    """Which facts a reason looks at."""

    RECORD = "record"
    MEMBER = "member"
    CONSENT = "consent"
    LATER = "later"


class VerdictKind(StrEnum):
    """How a member verdict column holds its entries' outcome."""

    KEY = "key"  # the member's row itself: its absence is the reason
    REASON = "reason"  # the code of the first of its entries that applies, else NULL
    FLAG = "flag"  # true when its one entry applies


#: The member verdict columns, in order (`decide_members` adds event_id and case_id, the evidence).
VERDICT_COLUMNS: dict[str, VerdictKind] = {
    "member_id": VerdictKind.KEY,
    "gate_reason": VerdictKind.REASON,
    "closed": VerdictKind.FLAG,
    "consent_reason": VerdictKind.REASON,
}

Predicate = Callable[[Facts], bool]
Fragment = Callable[[Scope], str]
Evidence = Callable[[Facts], tuple[int | None, str | None]]


def _no_evidence(_: Facts) -> tuple[int | None, str | None]:
    return None, None


@dataclass(frozen=True)
class Reason:
    """One rule of the order.

    `applies` is the row-wise predicate; `sql` the same condition in SQL. A
    member entry (`verdict` set) reads the relation of `decide_members`; a
    record entry (`verdict` None) reads the records relation and also gives
    `keeps`: its negation as plain comparisons a scan can push down. Consent
    entries give their evidence (event id, case id), row-wise and as SQL.
    """

    code: ReasonCode
    stage: Stage
    meaning: str
    applies: Predicate
    sql: Fragment
    verdict: str | None = None
    keeps: Fragment | None = None
    evidence: Evidence = _no_evidence
    event_sql: str = "NULL"
    case_sql: str = "NULL"
    #: a record entry may be counted per cause (e.g. which signal reserved the record): the causes, in order,
    #: the row-wise cause of a record it applies to, and per cause its condition (together they are `sql`)
    causes: tuple[str, ...] = ()
    cause: Callable[[Facts], str | None] | None = None
    cause_sql: Callable[[Scope, str], str] | None = None


@dataclass(frozen=True)
class Outcome:
    """What a decision is when no reason applies."""

    code: ReasonCode
    meaning: str
    evidence: Evidence
    event_sql: str


def _deny_or_allow_event(f: Facts) -> tuple[int | None, str | None]:
    return (f.deny_event if f.deny_event is not None else f.consent.at_event_id), None


def _created_after(f: Facts) -> bool:
    return f.record is not None and f.record.created_at is not None and utc(f.record.created_at) > f.at


def _minor(f: Facts) -> bool:
    min_age, born = f.the_rule.min_age, f.the_member.birth_date
    return min_age is not None and born is not None and born > adult_cutoff(f.at, min_age)


def _kind_excluded(f: Facts) -> bool:
    r = f.record
    if r is None:
        return False
    web_excluded = r.origin == "web" and not f.the_rule.web_eligible
    return (not (r.partial and r.kind is None) and r.kind not in f.the_rule.kinds) or web_excluded


def _reserved_by(f: Facts) -> str | None:
    """Which honoured signal reserves the record (or that an unreadable one does); None when none does."""
    return reserved_by(f.record.signals, f.the_rule.honoured_signals) if f.record is not None else None


def _visibility_excluded(f: Facts) -> bool:
    r = f.record
    return r is not None and not (r.partial and r.visibility is None) and r.visibility not in f.the_rule.visibility


def _closed(f: Facts) -> bool:
    return f.the_member.closed_at is not None and utc(f.the_member.closed_at) <= f.now


def _deleted(f: Facts) -> bool:
    return f.record is not None and f.record.deleted_at is not None and utc(f.record.deleted_at) <= f.now


def _pending(f: Facts) -> bool:
    assert f.version is not None
    return f.version.spec.objections.restrict_while_pending and f.open_case is not None


def _not_opted_in(f: Facts) -> bool:
    return f.mode is Mode.OPT_IN and not (f.consent.at_choice is Choice.ALLOW and f.deny_event is None)


REASONS: tuple[Reason, ...] = (
    Reason(
        ReasonCode.MALFORMED,
        Stage.RECORD,
        "the row cannot be read (missing id, unparseable date, text not a string)",
        applies=lambda f: f.record is not None and f.record.malformed,
        sql=lambda s: f"{s.records}._malformed",
        keeps=lambda s: f"NOT {s.records}._malformed",
    ),
    Reason(
        ReasonCode.CREATED_AFTER_AS_OF,
        Stage.RECORD,
        "the record did not exist yet at T",
        applies=_created_after,
        sql=lambda s: f"{s.records}.created_at > {s.at_sql}",
        keeps=lambda s: f"{s.records}.created_at <= {s.at_sql}",
    ),
    Reason(
        ReasonCode.UNKNOWN_MEMBER,
        Stage.MEMBER,
        "no such member (fail closed)",
        applies=lambda f: f.member is None,
        sql=lambda s: "FALSE",  # a member of the snapshot is known; records of others find no verdict row
        verdict="member_id",
    ),
    Reason(
        ReasonCode.NOT_DISCLOSED,
        Stage.MEMBER,
        "the version in effect at T does not disclose the purpose",
        applies=lambda f: f.rule is None,
        sql=lambda s: f"NOT {s.disclosed} OR mode IS NULL",
        verdict="gate_reason",
    ),
    Reason(
        ReasonCode.REGION_EXCLUDED,
        Stage.MEMBER,
        "the member's country falls under an excluded rule (unknown or missing: the strictest rule)",
        applies=lambda f: f.mode is Mode.EXCLUDED,
        sql=lambda s: "mode = 'excluded'",
        verdict="gate_reason",
    ),
    Reason(
        ReasonCode.NOTICE_PERIOD,
        Stage.MEMBER,
        "permitted at T, but members were told less than notice_days before (the disclosure gate)",
        applies=lambda f: f.starts is None or f.at < f.starts,
        sql=lambda s: f"starts IS NULL OR {s.at_sql} < starts",
        verdict="gate_reason",
    ),
    Reason(
        ReasonCode.MINOR,
        Stage.MEMBER,
        "younger than the purpose's min_age at T",
        applies=_minor,
        sql=lambda s: f"{s.min_age} AND birth_date IS NOT NULL AND birth_date > {s.cutoff}",
        verdict="gate_reason",
    ),
    Reason(
        ReasonCode.AGE_UNKNOWN,
        Stage.MEMBER,
        "no birth date, and the purpose requires one",
        applies=lambda f: f.the_member.birth_date is None and f.the_rule.require_birth_date,
        sql=lambda s: f"{s.require_birth_date} AND birth_date IS NULL",
        verdict="gate_reason",
    ),
    Reason(
        ReasonCode.CATEGORY_EXCLUDED,
        Stage.RECORD,
        "the record's kind is not one the purpose lists, or it is web content and the purpose takes none",
        applies=_kind_excluded,
        sql=lambda s: f"{s.records}.kind IS NULL OR NOT ({s.kinds_sql}) OR {s.web_excluded_sql}",
        keeps=lambda s: f"{s.kinds_sql} AND NOT {s.web_excluded_sql}",
    ),
    Reason(
        ReasonCode.VISIBILITY_EXCLUDED,
        Stage.RECORD,
        "the record's visibility is not one the purpose lists",
        applies=_visibility_excluded,
        sql=lambda s: f"{s.records}.visibility IS NULL OR NOT ({s.visibility_sql})",
        keeps=lambda s: s.visibility_sql,
    ),
    Reason(
        ReasonCode.RESERVED_BY_RIGHTS_HOLDER,
        Stage.RECORD,
        "rights holders' signals captured with it reserve it and the purpose honours them (unreadable: excluded)",
        applies=lambda f: _reserved_by(f) is not None,
        sql=lambda s: s.reserved_sql,
        keeps=lambda s: f"NOT {s.reserved_sql}",
        causes=CAUSES,
        cause=_reserved_by,
        cause_sql=lambda s, cause: s.reserved_cause_sql(cause),
    ),
    Reason(
        ReasonCode.ACCOUNT_CLOSED,
        Stage.LATER,
        "the account was closed at or before the moment of the decision",
        applies=_closed,
        sql=lambda s: f"closed_at <= {s.now_sql}",
        verdict="closed",
    ),
    Reason(
        ReasonCode.RECORD_DELETED,
        Stage.LATER,
        "the record was deleted at or before the moment of the decision",
        applies=_deleted,
        sql=lambda s: f"{s.records}.deleted_at IS NOT NULL AND {s.records}.deleted_at <= {s.now_sql}",
        keeps=lambda s: f"({s.records}.deleted_at IS NULL OR {s.records}.deleted_at > {s.now_sql})",
    ),
    Reason(
        ReasonCode.OBJECTION_PENDING,
        Stage.CONSENT,
        "an objection covering the purpose is open, and the policy restricts processing meanwhile",
        applies=_pending,
        sql=lambda s: f"{s.restrict_while_pending} AND coalesce(at_case_id, now_case_id) IS NOT NULL",
        verdict="consent_reason",
        evidence=lambda f: (None, f.open_case),
        case_sql="coalesce(at_case_id, now_case_id)",
    ),
    Reason(
        ReasonCode.OBJECTION_UPHELD,
        Stage.CONSENT,
        "the deny that counts came from an upheld objection",
        applies=lambda f: f.deny_event is not None and f.deny[0] is Source.OBJECTION_FORM,
        sql=lambda s: "deny_event IS NOT NULL AND deny_source = 'objection_form'",
        verdict="consent_reason",
        evidence=lambda f: (f.deny_event, None),
        event_sql="deny_event",
    ),
    Reason(
        ReasonCode.OPTED_OUT,
        Stage.CONSENT,
        "opt-out mode, and the member's choice is a deny (settings, GPC, import, …)",
        applies=lambda f: f.mode is not Mode.OPT_IN and f.deny_event is not None,
        sql=lambda s: "mode <> 'opt_in' AND deny_event IS NOT NULL",
        verdict="consent_reason",
        evidence=lambda f: (f.deny_event, None),
        event_sql="deny_event",
    ),
    Reason(
        ReasonCode.NOT_OPTED_IN,
        Stage.CONSENT,
        "opt-in mode, and no allow (or a deny since)",
        applies=_not_opted_in,
        sql=lambda s: "mode = 'opt_in' AND NOT coalesce(at_choice = 'allow' AND deny_event IS NULL, FALSE)",
        verdict="consent_reason",
        evidence=_deny_or_allow_event,
        event_sql="coalesce(deny_event, at_event_id)",
    ),
)

#: No reason applies: allowed, with the member's allow (if any) as evidence.
OTHERWISE = Outcome(
    ReasonCode.ALLOWED,
    "no reason applies",
    evidence=_deny_or_allow_event,
    event_sql="coalesce(deny_event, at_event_id)",
)


def _check(reasons: tuple[Reason, ...]) -> None:
    """Refuse a declaration the generated forms cannot follow (at import: a mistake fails every test)."""
    decided = [c for c in ReasonCode if c not in (ReasonCode.SCRUB_FAILED, ReasonCode.ALLOWED)]
    if [r.code for r in reasons] != decided:
        raise AssertionError("REASONS must list ReasonCode's decided codes, in ReasonCode's order")
    runs = [r.verdict for i, r in enumerate(reasons) if i == 0 or r.verdict != reasons[i - 1].verdict]
    columns = [v for v in runs if v is not None]
    if len(columns) != len(set(columns)) or list(VERDICT_COLUMNS) != columns:
        raise AssertionError("each verdict column takes one run of adjacent member entries, in VERDICT_COLUMNS' order")
    for r in reasons:
        single = VERDICT_COLUMNS.get(r.verdict or "") in (VerdictKind.KEY, VerdictKind.FLAG)
        if single and sum(o.verdict == r.verdict for o in reasons) != 1:
            raise AssertionError(f"verdict column {r.verdict} holds one entry only")
        if (r.verdict is None) != (r.keeps is not None):
            raise AssertionError(f"{r.code}: a record entry gives `keeps`, a member entry does not")
        if bool(r.causes) != (r.cause is not None) or bool(r.causes) != (r.cause_sql is not None):
            raise AssertionError(f"{r.code}: causes come with their row-wise `cause` and their `cause_sql`")
        if r.causes and r.verdict is not None:
            raise AssertionError(f"{r.code}: only a record entry is counted per cause")


_check(REASONS)
