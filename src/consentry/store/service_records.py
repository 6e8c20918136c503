"""What the service (and the layers beside it) keep in the store: staff keys and accounts, the audit log,
sign-in sessions, rate limits, secrets, members' page preferences and case assignments.

Records and narrow protocols, reached through the `Store` protocol's properties
(`store.staff_keys`, `store.sessions`, …); `consentry.store.protocol` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "AuditEntry",
    "AuditLog",
    "CaseAssignments",
    "Flashes",
    "MemberLanguages",
    "RateLimits",
    "Secrets",
    "SessionRecord",
    "Sessions",
    "StaffAccountRecord",
    "StaffAccounts",
    "StaffKeyRecord",
    "StaffKeys",
]


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
