"""What the rest of Consentry needs from a store: the `Store` protocol and its records.

One SQL implementation (`consentry.store.sql.SqlStore`) serves SQLite and
PostgreSQL; the same tests run against both. Times are timezone-aware UTC
datetimes everywhere; Arrow columns use ``timestamp("us", tz="UTC")``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from consentry.store.service_records import (
    AuditEntry,
    AuditLog,
    CaseAssignments,
    Flashes,
    MemberLanguages,
    RateLimits,
    Secrets,
    SessionRecord,
    Sessions,
    StaffAccountRecord,
    StaffAccounts,
    StaffKeyRecord,
    StaffKeys,
)
from consentry.vocab import CaseStatus, Choice, Source

if TYPE_CHECKING:
    import pyarrow as pa

    from consentry.policy import Policy
    from consentry.store.audits import AuditReports
    from consentry.store.builds import BuildRegistry
    from consentry.store.canaries import CanaryStore
    from consentry.store.models import ModelRegistry

__all__ = [
    "SNAPSHOT_SCHEMA",
    "AuditEntry",
    "AuditLog",
    "CaseAssignments",
    "ConsentEvent",
    "Flashes",
    "Member",
    "MemberFacts",
    "MemberLanguages",
    "NewEvent",
    "ObjectionCase",
    "PublishOutcome",
    "PublishedVersion",
    "RateLimits",
    "Secrets",
    "SessionRecord",
    "Sessions",
    "StaffAccountRecord",
    "StaffAccounts",
    "StaffKeyRecord",
    "StaffKeys",
    "Store",
    "VerifyReport",
]

if TYPE_CHECKING:
    #: One row per member for a purpose: the member's facts, their latest choice
    #: effective at T (`at_*`) and as recorded now (`now_*`), and the id of an
    #: objection case covering the purpose that was open at T / is open now.
    #: Built on first use, so that importing the store does not import pyarrow.
    SNAPSHOT_SCHEMA: pa.Schema


def _snapshot_schema() -> pa.Schema:
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("member_id", pa.string()),
            ("country", pa.string()),
            ("birth_date", pa.date32()),
            ("created_at", ts),
            ("closed_at", ts),
            ("at_choice", pa.string()),
            ("at_source", pa.string()),
            ("at_event_id", pa.int64()),
            ("now_choice", pa.string()),
            ("now_source", pa.string()),
            ("now_event_id", pa.int64()),
            ("at_case_id", pa.string()),
            ("now_case_id", pa.string()),
        ]
    )


def __getattr__(name: str) -> Any:
    """`SNAPSHOT_SCHEMA`, built (and pyarrow imported) on first use."""
    if name == "SNAPSHOT_SCHEMA":
        schema = globals()[name] = _snapshot_schema()
        return schema
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Member:
    """A platform member as the members file describes them."""

    member_id: str
    country: str | None
    birth_date: date | None
    created_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True)
class NewEvent:
    """A consent event to append; the store sets id, recorded_at and hashes.

    `at` None means "now, as the store records it": the store stamps it under the
    ledger's write lock, never before the member's latest event for the purpose,
    so the choice acknowledged last is the one in effect. An explicit `at` is taken
    as given (a backdated choice, e.g. from an import); `recorded_at` keeps when it
    was actually written.
    """

    member_id: str
    purpose: str
    choice: Choice
    at: datetime | None
    source: Source
    actor: str | None = None
    policy_version: str | None = None
    idempotency_key: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class ConsentEvent:
    """One immutable fact in the ledger."""

    event_id: int
    member_id: str
    purpose: str
    choice: Choice
    at: datetime
    recorded_at: datetime
    source: Source
    actor: str | None
    policy_version: str | None
    idempotency_key: str | None
    case_id: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ObjectionCase:
    """An objection filed through the form, and where its review stands."""

    case_id: str
    member_id: str
    purposes: tuple[str, ...]
    received_at: datetime
    due_by: datetime
    status: CaseStatus
    text: str | None
    policy_version: str | None
    extended_at: datetime | None = None
    extension_reasons: str | None = None
    decided_at: datetime | None = None
    grounds: str | None = None
    decided_by: str | None = None

    def open_at(self, t: datetime) -> bool:
        """True if the case had been received and not yet decided at `t`."""
        return self.received_at <= t and (self.decided_at is None or self.decided_at > t)


@dataclass(frozen=True)
class MemberFacts:
    """One member as one read saw them: the member, their events in ledger order, their cases by received time."""

    member: Member
    events: tuple[ConsentEvent, ...]
    cases: tuple[ObjectionCase, ...]


@dataclass(frozen=True)
class PublishedVersion:
    """A policy version as stored: immutable, identified by id and SHA-256."""

    policy: str
    version: str
    sha256: str
    published_at: datetime
    effective_at: datetime
    stored_at: datetime
    canonical_json: str


@dataclass(frozen=True)
class PublishOutcome:
    """What publishing did with one version."""

    version: str
    sha256: str
    status: Literal["stored", "unchanged"]


@dataclass(frozen=True)
class VerifyReport:
    """The result of walking the hash chain."""

    ok: bool
    events: int
    head_hash: str
    first_bad_event: int | None = None
    problem: str | None = None


class Store(Protocol):
    """Members, the consent ledger, objection cases and published policy versions."""

    @property
    def secrets(self) -> Secrets:
        """Named secrets kept for other layers."""
        ...

    @property
    def staff_keys(self) -> StaffKeys:
        """Staff API keys (the service's)."""
        ...

    @property
    def staff_accounts(self) -> StaffAccounts:
        """Named staff accounts (the service's)."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The log of staff actions (the service's)."""
        ...

    @property
    def builds(self) -> BuildRegistry:
        """The builds registry: every build, its member set, the last check of its records."""
        ...

    @property
    def canaries(self) -> CanaryStore:
        """Canaries planted in builds and their controls (secret: for the audits only)."""
        ...

    @property
    def models(self) -> ModelRegistry:
        """The models registry: model versions, the builds they were trained on, waived obligations."""
        ...

    @property
    def model_audits(self) -> AuditReports:
        """Memorisation and forgetting audits stored against model versions."""
        ...

    @property
    def sessions(self) -> Sessions:
        """Sign-in sessions (the service's)."""
        ...

    @property
    def rate_limits(self) -> RateLimits:
        """Rate limits shared by every worker (the service's)."""
        ...

    @property
    def languages(self) -> MemberLanguages:
        """The language each member chose for the member pages (the service's)."""
        ...

    @property
    def flashes(self) -> Flashes:
        """One-time confirmations waiting for a session's next page (the service's)."""
        ...

    @property
    def assignments(self) -> CaseAssignments:
        """Who on the privacy staff handles each objection case (the service's)."""
        ...

    # policy versions
    def publish(self, policy: Policy) -> list[PublishOutcome]: ...
    def published_versions(self) -> list[PublishedVersion]: ...
    def policy(self) -> Policy:
        """The published policy rebuilt from stored versions (NotFoundError if none)."""
        ...

    # members
    def import_members(self, path: Path) -> int: ...
    def add_members(self, members: Iterable[Member]) -> int: ...
    def member(self, member_id: str) -> Member:
        """The member (NotFoundError if unknown)."""
        ...

    def find_member(self, member_id: str) -> Member | None: ...
    def member_facts(self, member_id: str) -> MemberFacts | None:
        """The member, their events and their objection cases in one read (None if unknown)."""
        ...

    def close_account(self, member_id: str, at: datetime) -> Member: ...
    def members_table(self) -> pa.Table: ...

    # consent ledger
    def record(self, event: NewEvent) -> ConsentEvent:
        """Append one event (a repeated idempotency key returns the earlier event)."""
        ...

    def record_many(self, events: Iterable[NewEvent]) -> int: ...
    def import_events(self, path: Path) -> int: ...
    def events(self, member_id: str | None = None, purpose: str | None = None) -> list[ConsentEvent]: ...
    def state(self, member_id: str, purpose: str, at: datetime | None = None) -> ConsentEvent | None:
        """The member's latest event for the purpose with `event.at <= at` (None: any time)."""
        ...

    def snapshot(self, purpose: str, at: datetime, now: datetime | None = None) -> pa.Table:
        """SNAPSHOT_SCHEMA rows for every member, as of `at` and as recorded by `now`."""
        ...

    def snapshots(self, purpose: str, ats: Sequence[datetime], now: datetime | None = None) -> list[pa.Table]:
        """`snapshot` at each of `ats` (in that order), from one read of the purpose's events and the members."""
        ...

    def maintain_member_image(self) -> bool:
        """Rewrite the member image if the last members read found it missing or far behind; True if written."""
        ...

    def refresh_member_image(self) -> bool:
        """Store the members as they are now as the member image; False if it was already current."""
        ...

    def head(self) -> tuple[int, str]:
        """(number of events, hash of the last event) — "0"*64 for an empty ledger."""
        ...

    def verify(self, on_event: Callable[[int, str], None] | None = None) -> VerifyReport:
        """Walk the chain; `on_event(event_id, hash)` sees every event that checked out, in order."""
        ...

    def event(self, event_id: int) -> ConsentEvent:
        """One event by its id (NotFoundError if absent)."""
        ...

    def chain_hashes(self, upto: int) -> list[bytes]:
        """The chain hashes of events 1..`upto`, in order (32 bytes each)."""
        ...

    # objections and GPC
    def file_objection(
        self, member_id: str, purposes: Sequence[str], at: datetime, text: str | None = None
    ) -> ObjectionCase: ...
    def extend_objection(self, case_id: str, at: datetime, reasons: str, days: int) -> ObjectionCase: ...
    def decide_objection(
        self,
        case_id: str,
        outcome: CaseStatus,
        at: datetime | None,
        grounds: str | None = None,
        actor: str | None = None,
    ) -> ObjectionCase: ...
    def objection(self, case_id: str) -> ObjectionCase: ...
    def objections(
        self,
        member_id: str | None = None,
        status: CaseStatus | None = None,
        overdue_at: datetime | None = None,
    ) -> list[ObjectionCase]: ...
    def open_case(self, member_id: str, purpose: str, at: datetime) -> ObjectionCase | None: ...
    def record_gpc(self, member_id: str, at: datetime | None, actor: str | None = None) -> list[ConsentEvent]:
        """Deny, with source `gpc`, every purpose the version in effect marks `gpc: true`.

        Idempotent per (member, policy version, purpose)."""
        ...
