"""The facts a decision looks at, and the decision itself.

`RecordFacts` and `ConsentFacts` are what a caller hands to `decide`;
`Facts` bundles them with the policy, the member and the two moments (T and
now) for the row-wise predicates of the reason order (`consentry.rules.order`),
deriving each policy fact (the version in effect, the region's mode, when
processing starts) at most once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from consentry.policy import Policy, PolicyVersion, PurposeRule
from consentry.store.protocol import ConsentEvent, Member, ObjectionCase
from consentry.timeutil import iso, utc
from consentry.vocab import Choice, Mode, ReasonCode, Source

__all__ = ["ConsentFacts", "Decision", "Facts", "RecordFacts", "adult_cutoff", "latest_event", "open_case_at"]


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
    #: "member" (None means the same) or "web": third-party content
    origin: str | None = None
    #: the verdict of the rights holders' signals captured with it (`consentry.rules.reservations`); None: none
    signals: str | None = None


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
    def from_ledger(
        cls,
        at_event: ConsentEvent | None,
        now_event: ConsentEvent | None,
        at_case: ObjectionCase | None,
        now_case: ObjectionCase | None,
    ) -> ConsentFacts:
        """Facts from the latest event and the open case as of T, and as of now."""
        return cls(
            at_choice=at_event.choice if at_event else None,
            at_source=at_event.source if at_event else None,
            at_event_id=at_event.event_id if at_event else None,
            now_choice=now_event.choice if now_event else None,
            now_source=now_event.source if now_event else None,
            now_event_id=now_event.event_id if now_event else None,
            at_case_id=at_case.case_id if at_case else None,
            now_case_id=now_case.case_id if now_case else None,
        )

    @classmethod
    def from_history(
        cls, events: Iterable[ConsentEvent], cases: Iterable[ObjectionCase], purpose: str, at: datetime
    ) -> ConsentFacts:
        """Facts as of `at` (T and now the same moment) from a member's events and cases."""
        event, case = latest_event(events, purpose, at), open_case_at(cases, purpose, at)
        return cls.from_ledger(event, event, case, case)

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


def latest_event(events: Iterable[ConsentEvent], purpose: str, at: datetime) -> ConsentEvent | None:
    """The member's choice in effect at `at`: their latest event for the purpose with `at` <= T, ties broken
    by the higher event id (the rule of `Store.state`)."""
    mine = [e for e in events if e.purpose == purpose and e.at <= at]
    return max(mine, key=lambda e: (e.at, e.event_id)) if mine else None


def open_case_at(cases: Iterable[ObjectionCase], purpose: str, at: datetime) -> ObjectionCase | None:
    """The latest-received case covering the purpose that is open at `at` (the rule of `Store.open_case`)."""
    open_ = [c for c in cases if purpose in c.purposes and c.open_at(at)]
    return max(open_, key=lambda c: (c.received_at, c.case_id)) if open_ else None


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


_UNSET: Any = object()


class Facts:
    """Everything one row-wise decision looks at (`at` and `now` in UTC, now ≥ at for a build).

    The predicates of the reason order read it; a predicate runs only once
    every reason before it has not applied, so a member predicate may assume
    a member, and one after NOT_DISCLOSED may assume the purpose's rule. Each
    derived fact is computed on first use, at most once.
    """

    __slots__ = (
        "_deny",
        "_mode",
        "_starts",
        "at",
        "consent",
        "member",
        "now",
        "policy",
        "purpose",
        "record",
        "rule",
        "version",
    )

    def __init__(
        self,
        policy: Policy,
        purpose: str,
        member: Member | None,
        consent: ConsentFacts,
        record: RecordFacts | None,
        at: datetime,
        now: datetime,
    ):
        self.policy, self.purpose, self.member, self.consent, self.record = policy, purpose, member, consent, record
        self.at, self.now = at, now
        self.version: PolicyVersion | None = policy.version_at(at)
        #: The purpose's rule in the version in effect at T (None: not disclosed).
        self.rule: PurposeRule | None = self.version.purpose(purpose) if self.version is not None else None
        self._mode: Mode | None = _UNSET
        self._starts: datetime | None = _UNSET
        self._deny: tuple[Source | None, int | None] = _UNSET

    @property
    def the_member(self) -> Member:
        """The member (UNKNOWN_MEMBER comes before every reason that reads it)."""
        assert self.member is not None
        return self.member

    @property
    def the_rule(self) -> PurposeRule:
        """The purpose's rule (NOT_DISCLOSED comes before every reason that reads it)."""
        assert self.rule is not None
        return self.rule

    @property
    def mode(self) -> Mode | None:
        """The mode of the member's region at T."""
        if self._mode is _UNSET:
            assert self.version is not None
            self._mode = self.version.mode_for(self.purpose, self.the_member.country)
        return self._mode

    @property
    def starts(self) -> datetime | None:
        """When processing may start for the member's region (the disclosure gate)."""
        if self._starts is _UNSET:
            self._starts = self.policy.processing_starts(self.purpose, self.the_member.country, self.at)
        return self._starts

    @property
    def deny(self) -> tuple[Source | None, int | None]:
        """The deny that counts, as (source, event id): one recorded by now wins over an allow in effect at T."""
        if self._deny is _UNSET:
            c = self.consent
            if c.now_choice is Choice.DENY:
                self._deny = c.now_source, c.now_event_id
            elif c.at_choice is Choice.DENY:
                self._deny = c.at_source, c.at_event_id
            else:
                self._deny = None, None
        return self._deny

    @property
    def deny_event(self) -> int | None:
        """The event id of the deny that counts, if any."""
        return self.deny[1]

    @property
    def open_case(self) -> str | None:
        """An objection case open at T, else one open now."""
        return self.consent.at_case_id or self.consent.now_case_id
