"""Staff API keys (only their SHA-256 is stored), roles, and the audit log of staff actions.

Keys are 256-bit random secrets (``csk_<key id>_<secret>``), so a plain SHA-256
is enough to store them: there is nothing to brute-force the way a password is.
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
from consentry.store.protocol import AuditEntry, StaffKeyRecord, Store
from consentry.timeutil import utcnow

__all__ = ["AuditEntry", "IssuedKey", "StaffKey", "StaffRegistry", "StaffRole"]


class StaffRole(StrEnum):
    """What a staff key may do. Every role may view; writes need the matching role."""

    VIEWER = "viewer"
    REVIEWER = "reviewer"
    PUBLISHER = "publisher"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class StaffKey:
    """A staff key as stored (never the secret itself)."""

    key_id: str
    name: str
    role: StaffRole
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: `secret` is shown once and never stored."""

    key: StaffKey
    secret: str


class StaffRegistry:
    """Staff keys and the audit log, kept in the store's database."""

    def __init__(self, store: Store):
        self._keys = store.staff_keys
        self._audit = store.audit
        self._sessions = store.sessions

    def add_key(self, name: str, role: StaffRole, at: datetime | None = None) -> IssuedKey:
        """Create a key for `role`; the returned secret is the only copy."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InputError("give the key a name of 1 to 200 characters", field="name")
        key_id = secrets.token_hex(4)
        secret = f"csk_{key_id}_{secrets.token_urlsafe(32)}"
        created = at or utcnow()
        self._keys.add(StaffKeyRecord(key_id, name, role.value, _digest(secret), created))
        return IssuedKey(StaffKey(key_id, name, role, created), secret)

    def revoke(self, key_id: str, at: datetime | None = None) -> StaffKey:
        """Revoke a key and end its console sessions (NotFoundError if unknown)."""
        # An already revoked key keeps its first revocation; its console sessions end now either way.
        self._keys.revoke(key_id, at or utcnow())
        self._sessions.end_all(SessionKind.STAFF.value, key_id, utcnow())
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

    def authenticate(self, secret: str) -> StaffKey | None:
        """The active key whose secret this is, or None."""
        if not secret.startswith("csk_") or len(secret) > 200:
            return None
        digest = _digest(secret)
        record = self._keys.by_digest(digest)
        if record is None or record.revoked_at is not None or not hmac.compare_digest(record.key_sha256, digest):
            return None
        return _staff_key(record)

    def active(self, key_id: str) -> StaffKey | None:
        """The key if it exists and is not revoked."""
        key = self.key(key_id)
        return key if key is not None and key.revoked_at is None else None

    def audit(
        self,
        key: StaffKey,
        action: str,
        target: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write one staff action to the audit log (ids only, never personal data)."""
        self._audit.append(utcnow(), key.key_id, key.role.value, action, target, outcome, detail)

    def audit_entries(self, limit: int = 200) -> list[AuditEntry]:
        """The latest staff actions (at most 1000), newest first."""
        return self._audit.latest(limit)


def _staff_key(record: StaffKeyRecord) -> StaffKey:
    return StaffKey(
        key_id=record.key_id,
        name=record.name,
        role=StaffRole(record.role),
        created_at=record.created_at,
        revoked_at=record.revoked_at,
    )
