"""Named staff accounts, their API keys (only the SHA-256 is stored), roles, and the audit log.

A staff member has an account: created on the first OpenID Connect sign-in (the
provider's issuer and subject, the role from the configured claim, updated at
each sign-in) or by `consentry staff add-account`. API keys are for automation;
each acts for one account, with its own role. Keys are 256-bit random secrets
(``csk_<key id>_<secret>``), so a plain SHA-256 is enough to store them: there is
nothing to brute-force the way a password is. Every audit entry names the account
(and the key, when one was used).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from consentry.errors import InputError, NotFoundError
from consentry.service.sessions import SessionKind
from consentry.store.protocol import AuditEntry, StaffAccountRecord, StaffKeyRecord, Store
from consentry.timeutil import utcnow

__all__ = ["AuditEntry", "IssuedKey", "StaffAccount", "StaffActor", "StaffKey", "StaffRegistry", "StaffRole"]


class StaffRole(StrEnum):
    """What a staff account or key may do. Every role may view; writes need the matching role."""

    VIEWER = "viewer"
    REVIEWER = "reviewer"
    PUBLISHER = "publisher"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError(f"give the {what} a name of 1 to 200 characters", field="name")
    return name


@dataclass(frozen=True)
class StaffAccount:
    """A named staff member; `issuer`/`subject` set when they sign in with OpenID Connect."""

    account_id: str
    name: str
    role: StaffRole
    created_at: datetime
    issuer: str | None = None
    subject: str | None = None
    signed_in_at: datetime | None = None
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class StaffKey:
    """A staff API key as stored (never the secret itself), and the account it acts for."""

    key_id: str
    name: str
    role: StaffRole
    created_at: datetime
    revoked_at: datetime | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: `secret` is shown once and never stored."""

    key: StaffKey
    secret: str


@dataclass(frozen=True)
class StaffActor:
    """Who is acting: an account, with the role in force, through an API key (`key_id`) or not."""

    account_id: str
    name: str
    role: StaffRole
    key_id: str | None = None

    @property
    def session_subject(self) -> str:
        """What a console session of this actor stores: its key, or its account (OpenID Connect)."""
        return f"key:{self.key_id}" if self.key_id else f"account:{self.account_id}"


class StaffRegistry:
    """Staff accounts, keys and the audit log, kept in the store's database."""

    def __init__(self, store: Store):
        self._accounts = store.staff_accounts
        self._keys = store.staff_keys
        self._audit = store.audit
        self._sessions = store.sessions

    # ------------------------------------------------------------------ accounts

    def add_account(
        self,
        name: str,
        role: StaffRole,
        at: datetime | None = None,
        *,
        issuer: str | None = None,
        subject: str | None = None,
    ) -> StaffAccount:
        """Create a named account (for OpenID Connect sign-ins, with the provider's issuer and subject)."""
        record = StaffAccountRecord(
            f"acct_{secrets.token_hex(6)}", _name(name, "account"), role.value, at or utcnow(), issuer, subject
        )
        self._accounts.add(record)
        return _account(record)

    def account(self, account_id: str) -> StaffAccount | None:
        """The account with this id, disabled or not."""
        record = self._accounts.get(account_id)
        return _account(record) if record is not None else None

    def list_accounts(self) -> list[StaffAccount]:
        """Every account, oldest first."""
        return [_account(r) for r in self._accounts.all()]

    def oidc_sign_in(self, issuer: str, subject: str, name: str, role: StaffRole) -> StaffActor | None:
        """The actor an OpenID Connect sign-in makes (the account created or updated); None if disabled."""
        now = utcnow()
        name = name.strip()[:200] or subject[:200]
        record = self._accounts.by_subject(issuer, subject)
        if record is None:
            account = self.add_account(name, role, now, issuer=issuer, subject=subject)
            self._accounts.signed_in(account.account_id, name, role.value, now)
            return StaffActor(account.account_id, name, role)
        if record.disabled_at is not None:
            return None
        self._accounts.signed_in(record.account_id, name, role.value, now)
        return StaffActor(record.account_id, name, role)

    def disable_account(self, account_id: str, at: datetime | None = None) -> StaffAccount:
        """Disable an account: its keys stop working and its console sessions end (NotFoundError if unknown)."""
        at = at or utcnow()
        self._accounts.disable(account_id, at)
        account = self.account(account_id)
        if account is None:
            raise NotFoundError(f"no staff account {account_id!r}; list them with `consentry staff list-accounts`")
        self._sessions.end_all(SessionKind.STAFF.value, f"account:{account_id}", at)
        for key in self.list_keys():
            if key.account_id == account_id:
                self._sessions.end_all(SessionKind.STAFF.value, f"key:{key.key_id}", at)
        return account

    # ------------------------------------------------------------------ keys

    def add_key(
        self, name: str, role: StaffRole, at: datetime | None = None, *, account_id: str | None = None
    ) -> IssuedKey:
        """Create a key for `role` acting for `account_id` (a new account of the same name when None).

        The returned secret is the only copy.
        """
        name = _name(name, "key")
        created = at or utcnow()
        if account_id is None:
            account_id = self.add_account(name, role, created).account_id
        elif (account := self.account(account_id)) is None or account.disabled_at is not None:
            raise InputError(f"no active staff account {account_id!r}", field="account")
        key_id = secrets.token_hex(4)
        secret = f"csk_{key_id}_{secrets.token_urlsafe(32)}"
        self._keys.add(StaffKeyRecord(key_id, name, role.value, _digest(secret), created, None, account_id))
        return IssuedKey(StaffKey(key_id, name, role, created, None, account_id), secret)

    def revoke(self, key_id: str, at: datetime | None = None) -> StaffKey:
        """Revoke a key and end its console sessions (NotFoundError if unknown)."""
        # An already revoked key keeps its first revocation; its console sessions end now either way.
        self._keys.revoke(key_id, at or utcnow())
        self._sessions.end_all(SessionKind.STAFF.value, f"key:{key_id}", utcnow())
        key = self.key(key_id)
        if key is None:
            raise NotFoundError(f"no staff key {key_id!r}; list them with `consentry staff list-keys`")
        return key

    def key(self, key_id: str) -> StaffKey | None:
        """The key with this id, revoked or not."""
        record = self._keys.get(key_id)
        return _staff_key(record) if record is not None else None

    def list_keys(self) -> list[StaffKey]:
        """Every key, oldest first."""
        return [_staff_key(r) for r in self._keys.all()]

    def authenticate(self, secret: str) -> StaffActor | None:
        """The actor of the active key whose secret this is (its account active too), or None."""
        if not secret.startswith("csk_") or len(secret) > 200:
            return None
        digest = _digest(secret)
        record = self._keys.by_digest(digest)
        if record is None or record.revoked_at is not None or not hmac.compare_digest(record.key_sha256, digest):
            return None
        return self._key_actor(_staff_key(record))

    def session_actor(self, subject: str) -> StaffActor | None:
        """The actor of a console session's subject (`StaffActor.session_subject`), if still active."""
        kind, _, ident = subject.partition(":")
        if kind == "key":
            key = self.key(ident)
            return self._key_actor(key) if key is not None and key.revoked_at is None else None
        if kind == "account":
            account = self.account(ident)
            if account is None or account.disabled_at is not None:
                return None
            return StaffActor(account.account_id, account.name, account.role)
        return None

    def _key_actor(self, key: StaffKey) -> StaffActor | None:
        if key.account_id is None:  # stored without an account: only before migration 0018 ran
            return StaffActor(f"acct_{key.key_id}", key.name, key.role, key.key_id)
        account = self.account(key.account_id)
        if account is None or account.disabled_at is not None:
            return None
        return StaffActor(account.account_id, account.name, key.role, key.key_id)

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        actor: StaffActor,
        action: str,
        target: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write one staff action to the audit log: the account, the key if any (ids only, never personal data)."""
        self._audit.append(
            utcnow(), actor.key_id, actor.role.value, action, target, outcome, detail, account_id=actor.account_id
        )

    def audit_entries(self, limit: int = 200) -> list[AuditEntry]:
        """The latest staff actions (at most 1000), newest first."""
        return self._audit.latest(limit)


def _account(record: StaffAccountRecord) -> StaffAccount:
    return StaffAccount(
        account_id=record.account_id,
        name=record.name,
        role=StaffRole(record.role),
        created_at=record.created_at,
        issuer=record.issuer,
        subject=record.subject,
        signed_in_at=record.signed_in_at,
        disabled_at=record.disabled_at,
    )


def _staff_key(record: StaffKeyRecord) -> StaffKey:
    return StaffKey(
        key_id=record.key_id,
        name=record.name,
        role=StaffRole(record.role),
        created_at=record.created_at,
        revoked_at=record.revoked_at,
        account_id=record.account_id,
    )
