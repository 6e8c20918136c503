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

from consentry.vocab import CaseStatus, Choice, Source

if TYPE_CHECKING:
    import pyarrow as pa

    from consentry.policy import Policy
    from consentry.store.builds import BuildRegistry
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


@dataclass(frozen=True)
class StaffKeyRecord:
    """A staff API key as stored: the SHA-256 of its secret, never the secret."""

    key_id: str
    name: str
    role: str
    key_sha256: str
    created_at: datetime
    revoked_at: datetime | None = None
    #: the account the key acts for (None only for keys stored before migration 0018 ran)
    account_id: str | None = None


@dataclass(frozen=True)
class StaffAccountRecord:
    """A named staff account as stored; `issuer` and `subject` for those who sign in with OpenID Connect."""

    account_id: str
    name: str
    role: str
    created_at: datetime
    issuer: str | None = None
    subject: str | None = None
    signed_in_at: datetime | None = None
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One staff action: the account that took it, and the API key if one was used."""

    audit_id: int
    at: datetime
    key_id: str | None
    role: str
    action: str
    target: str | None
    outcome: str
    detail: dict[str, Any] | None
    account_id: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    """A sign-in session as stored: the SHA-256 of its token, never the token."""

    token_sha256: str
    kind: str
    subject: str
    created_at: datetime
    seen_at: datetime
    ended_at: datetime | None = None


class Sessions(Protocol):
    """Sign-in sessions (the service's), so that ending one holds for every worker at once."""

    def open(self, session: SessionRecord) -> None:
        """Store a new session."""
        ...

    def get(self, token_sha256: str) -> SessionRecord | None:
        """The session with this token digest, ended or not."""
        ...

    def touch(self, token_sha256: str, at: datetime) -> None:
        """Record activity at `at` on a session not yet ended."""
        ...

    def end(self, token_sha256: str, at: datetime) -> bool:
        """End one session at `at`; False if it was unknown or already ended."""
        ...

    def end_all(self, kind: str, subject: str, at: datetime) -> int:
        """End every open session of `subject` at `at`; how many were ended."""
        ...

    def purge(self, seen_before: datetime) -> int:
        """Delete sessions last seen before `seen_before` (ended or expired by then); how many."""
        ...


class RateLimits(Protocol):
    """Rate limits that every worker process shares (the service's write and sign-in limits)."""

    def hit(self, key: str, at: datetime, limit: int, window_s: float) -> float:
        """Count one action of `key` at `at` if it stays within `limit` per `window_s` seconds.

        Returns 0.0 when counted, else the seconds to wait before the next action would be
        (a refused action is not counted). Actions refill evenly: `limit` at once, then one
        every `window_s / limit` seconds.
        """
        ...


class Secrets(Protocol):
    """Named secrets kept in the store for other layers (the pipeline's pseudonym key, receipt signing keys)."""

    def get(self, name: str) -> str | None:
        """The stored value of `name`, or None."""
        ...

    def setdefault(self, name: str, value: str) -> str:
        """The stored value of `name`, storing `value` first if there is none (a concurrent first writer wins)."""
        ...

    def names(self, prefix: str) -> list[str]:
        """The names stored that start with `prefix`, sorted."""
        ...


class StaffKeys(Protocol):
    """Staff API keys as stored."""

    def add(self, key: StaffKeyRecord) -> None:
        """Store a new key."""
        ...

    def revoke(self, key_id: str, at: datetime) -> bool:
        """Mark an active key revoked at `at`; False if no active key has this id."""
        ...

    def get(self, key_id: str) -> StaffKeyRecord | None:
        """The key with this id, revoked or not."""
        ...

    def by_digest(self, key_sha256: str) -> StaffKeyRecord | None:
        """The key whose secret has this SHA-256, revoked or not."""
        ...

    def all(self) -> list[StaffKeyRecord]:
        """Every key, oldest first."""
        ...


class StaffAccounts(Protocol):
    """Named staff accounts as stored."""

    def add(self, account: StaffAccountRecord) -> None:
        """Store a new account."""
        ...

    def get(self, account_id: str) -> StaffAccountRecord | None:
        """The account with this id, disabled or not."""
        ...

    def by_subject(self, issuer: str, subject: str) -> StaffAccountRecord | None:
        """The account an OpenID Connect provider's subject signs in to, if any."""
        ...

    def signed_in(self, account_id: str, name: str, role: str, at: datetime) -> None:
        """Record a sign-in, with the name and role the provider gave this time."""
        ...

    def disable(self, account_id: str, at: datetime) -> bool:
        """Mark an active account disabled at `at`; False if no active account has this id."""
        ...

    def all(self) -> list[StaffAccountRecord]:
        """Every account, oldest first."""
        ...


class AuditLog(Protocol):
    """The log of staff actions."""

    def append(
        self,
        at: datetime,
        key_id: str | None,
        role: str,
        action: str,
        target: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
        account_id: str | None = None,
    ) -> None:
        """Write one action; text longer than its column is cut, `detail` is stored as JSON."""
        ...

    def latest(self, limit: int) -> list[AuditEntry]:
        """The latest `limit` actions (1 to 1000), newest first."""
        ...


class MemberLanguages(Protocol):
    """The language each member chose for the member pages (the service's)."""

    def get(self, member_id: str) -> str | None:
        """The language the member chose, or None when they chose none."""
        ...

    def set(self, member_id: str, language: str | None, at: datetime) -> None:
        """Record the member's choice at `at`; None forgets it."""
        ...


class Flashes(Protocol):
    """One-time confirmations waiting for the next page of a session (the service's)."""

    def push(self, session_sha256: str, message: str, at: datetime) -> None:
        """Keep `message` for the next page of the session with this token digest."""
        ...

    def pop(self, session_sha256: str) -> list[str]:
        """The session's waiting messages, oldest first, forgotten as they are read."""
        ...


class CaseAssignments(Protocol):
    """Who on the privacy staff handles each objection case (the service's)."""

    def assign(self, case_id: str, assignee: str | None, at: datetime, by: str) -> None:
        """Assign the case to `assignee` (a staff name or id); None unassigns it."""
        ...

    def all(self) -> dict[str, str]:
        """Every assigned case id with its assignee."""
        ...


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
    def models(self) -> ModelRegistry:
        """The models registry: model versions, the builds they were trained on, waived obligations."""
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
