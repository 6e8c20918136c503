"""The rules: may this record of this member be used for this purpose as of T?

The reason order is declared once, as ordered data (`REASONS`, in
`consentry.rules.order`); every form of the rules is generated from it and
property-tested against the row-wise one:

- `decide` — one pure function over plain facts, returning a `Decision` with
  its reason code and evidence (`decide_for` gathers the facts from a store);
- `decide_members` — per-member verdicts for a whole ledger snapshot (DuckDB);
- the record SQL of the engines, in DuckDB and Spark SQL (`record_reason_sql`,
  `record_class_sql` + `class_reason_sql`, `record_allowed_sql`,
  `class_tally_sql`), and `decide_records`, which runs it in DuckDB;
- `stale_cause_sql` — why the members of a registered build no longer qualify
  (`stale_member_sql`: member by member).

What a well-formed record is lives beside it, in `consentry.rules.records`.
"""

from __future__ import annotations

from consentry.rules.facts import ConsentFacts, Decision, Facts, RecordFacts, adult_cutoff, latest_event, open_case_at
from consentry.rules.members import MEMBER_VERDICT_SCHEMA, decide_members, members_sql
from consentry.rules.order import OTHERWISE, REASONS, VERDICT_COLUMNS, Outcome, Reason, Stage, VerdictKind
from consentry.rules.records import Dialect
from consentry.rules.rowwise import decide, decide_for, is_allowed
from consentry.rules.scope import Scope, instant_sql
from consentry.rules.sql import (
    CLASS_COUNTS,
    RECORD_CLASSES,
    SIGNAL_CLASSES,
    class_cause_sql,
    class_counts,
    class_reason_sql,
    class_tally_sql,
    decide_records,
    member_cause_sql,
    member_passes_sql,
    record_allowed_sql,
    record_class_sql,
    record_reason_sql,
    stale_cause_sql,
    stale_member_sql,
)

__all__ = [
    "CLASS_COUNTS",
    "MEMBER_VERDICT_SCHEMA",
    "OTHERWISE",
    "REASONS",
    "RECORD_CLASSES",
    "SIGNAL_CLASSES",
    "VERDICT_COLUMNS",
    "ConsentFacts",
    "Decision",
    "Dialect",
    "Facts",
    "Outcome",
    "Reason",
    "RecordFacts",
    "Scope",
    "Stage",
    "VerdictKind",
    "adult_cutoff",
    "class_cause_sql",
    "class_counts",
    "class_reason_sql",
    "class_tally_sql",
    "decide",
    "decide_for",
    "decide_members",
    "decide_records",
    "instant_sql",
    "is_allowed",
    "latest_event",
    "member_cause_sql",
    "member_passes_sql",
    "members_sql",
    "open_case_at",
    "record_allowed_sql",
    "record_class_sql",
    "record_reason_sql",
    "stale_cause_sql",
    "stale_member_sql",
]
