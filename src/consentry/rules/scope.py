"""What an SQL fragment of the reason order may refer to: the policy facts of one build, as SQL text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from consentry.policy import Policy, PolicyVersion, PurposeRule
from consentry.rules.facts import adult_cutoff
from consentry.rules.records import Dialect
from consentry.rules.reservations import cause_sql, reserved_sql
from consentry.timeutil import utc
from consentry.vocab import SignalKind

__all__ = ["Scope", "instant_sql"]


def instant_sql(t: datetime, dialect: Dialect = "duckdb") -> str:
    """An instant as a SQL timestamp literal (UTC) of the dialect."""
    text = utc(t).strftime("%Y-%m-%d %H:%M:%S.%f")
    if dialect == "spark":
        return f"TIMESTAMP '{text}+00:00'"
    return f"TIMESTAMPTZ '{text}+00'"


def _in_list(values: list[str]) -> str:
    # Kinds and visibilities are validated lower_snake_case names: nothing to escape.
    return ", ".join(f"'{v}'" for v in values)


def _flag(value: bool) -> str:
    return "TRUE" if value else "FALSE"


@dataclass(frozen=True)
class Scope:
    """One purpose of one policy, as of `at`, decided `now`, rendered in `dialect`.

    Record fragments read the records relation `records` (its columns:
    `consentry.rules.records` plus the boolean `_malformed` and the signals
    verdict `_signals`). Member fragments
    read the relation `decide_members` builds: a ledger snapshot row
    (SNAPSHOT_SCHEMA) with the member's region `mode` and processing `starts`,
    and the deny that counts (`deny_source`, `deny_event`).
    """

    policy: Policy
    purpose: str
    at: datetime
    now: datetime
    dialect: Dialect = "duckdb"
    records: str = "r"

    @cached_property
    def at_sql(self) -> str:
        """T as a timestamp literal."""
        return instant_sql(self.at, self.dialect)

    @cached_property
    def now_sql(self) -> str:
        """The moment of the decision as a timestamp literal."""
        return instant_sql(self.now, self.dialect)

    @cached_property
    def version(self) -> PolicyVersion | None:
        """The policy version in effect at T."""
        return self.policy.version_at(utc(self.at))

    @cached_property
    def rule(self) -> PurposeRule | None:
        """The purpose's rule in that version (None: not disclosed)."""
        return self.version.purpose(self.purpose) if self.version is not None else None

    @cached_property
    def kinds_sql(self) -> str:
        """The record's kind is one the purpose lists (FALSE when nothing is disclosed)."""
        if self.rule is None:
            return "FALSE"
        return f"{self.records}.kind IN ({_in_list(self.rule.kinds)})"

    @cached_property
    def visibility_sql(self) -> str:
        """The record's visibility is one the purpose lists (FALSE when nothing is disclosed)."""
        if self.rule is None:
            return "FALSE"
        return f"{self.records}.visibility IN ({_in_list([v.value for v in self.rule.visibility])})"

    @cached_property
    def web_excluded_sql(self) -> str:
        """The record is third-party content (origin web) and the purpose does not take web content."""
        if self.rule is not None and self.rule.web_eligible:
            return "FALSE"
        return f"coalesce({self.records}.origin = 'web', FALSE)"

    @property
    def honoured(self) -> tuple[SignalKind, ...]:
        """The signal kinds the purpose honours (none when nothing is disclosed: CATEGORY_EXCLUDED comes first)."""
        return self.rule.honoured_signals if self.rule is not None else ()

    @cached_property
    def reserved_sql(self) -> str:
        """The record's signals verdict (`_signals`) reserves it for this purpose; never NULL."""
        return reserved_sql(f"{self.records}._signals", self.honoured)

    def reserved_cause_sql(self, cause: str) -> str:
        """`cause` is why the record is reserved (see `consentry.rules.reservations.reserved_by`)."""
        return cause_sql(f"{self.records}._signals", self.honoured, cause)

    @property
    def disclosed(self) -> str:
        """The version in effect at T discloses the purpose."""
        return _flag(self.rule is not None)

    @property
    def min_age(self) -> str:
        """The purpose has a minimum age."""
        return _flag(self.rule is not None and self.rule.min_age is not None)

    @property
    def cutoff(self) -> str:
        """The latest birth date of a member old enough at T (any date when there is no minimum age)."""
        if self.rule is None or self.rule.min_age is None:
            return "DATE '0001-01-01'"
        d: date = adult_cutoff(self.at, self.rule.min_age)
        return f"DATE '{d.isoformat()}'" if d != date.min else "DATE '0001-01-01'"

    @property
    def require_birth_date(self) -> str:
        """The purpose needs a birth date."""
        return _flag(self.rule is not None and self.rule.require_birth_date)

    @property
    def restrict_while_pending(self) -> str:
        """An open objection restricts processing (the version's objections rule)."""
        return _flag(self.version is not None and self.version.spec.objections.restrict_while_pending)
