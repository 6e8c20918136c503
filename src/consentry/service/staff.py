"""Staff API keys (only their SHA-256 is stored), roles, and the audit log of staff actions.

Keys are 256-bit random secrets (``csk_<key id>_<secret>``), so a plain SHA-256
is enough to store them: there is nothing to brute-force the way a password is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from consentry.errors import InputError, NotFoundError
from consentry.store.protocol import Store
from consentry.timeutil import utcnow

__all__ = ["AuditEntry", "IssuedKey", "StaffKey", "StaffRegistry", "StaffRole"]


class StaffRole(StrEnum):
    """What a staff key may do. Every role may view; writes need the matching role."""

    VIEWER = "viewer"
    REVIEWER = "reviewer"
    PUBLISHER = "publisher"


_meta = sa.MetaData()
staff_keys = sa.Table(
    "service_staff_keys",
    _meta,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_us", sa.BigInteger, nullable=False),
    sa.Column("revoked_us", sa.BigInteger, nullable=True),
)
audit_log = sa.Table(
    "service_audit_log",
    _meta,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
)


def _us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


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


@dataclass(frozen=True)
class AuditEntry:
    """One staff action."""

    audit_id: int
    at: datetime
    key_id: str
    role: str
    action: str
    target: str | None
    outcome: str
    detail: dict[str, Any] | None


class StaffRegistry:
    """Staff keys and the audit log, kept in the store's database."""

    def __init__(self, store: Store):
        self._engine = store.engine

    def add_key(self, name: str, role: StaffRole, at: datetime | None = None) -> IssuedKey:
        """Create a key for `role`; the returned secret is the only copy."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InputError("give the key a name of 1 to 200 characters", field="name")
        key_id = secrets.token_hex(4)
        secret = f"csk_{key_id}_{secrets.token_urlsafe(32)}"
        created = at or utcnow()
        with self._engine.begin() as conn:
            conn.execute(
                staff_keys.insert().values(
                    key_id=key_id,
                    name=name,
                    role=role.value,
                    key_sha256=_digest(secret),
                    created_us=_us(created),
                    revoked_us=None,
                )
            )
        return IssuedKey(StaffKey(key_id, name, role, created), secret)

    def revoke(self, key_id: str, at: datetime | None = None) -> StaffKey:
        """Revoke a key (NotFoundError if unknown)."""
        with self._engine.begin() as conn:
            done = conn.execute(
                staff_keys.update()
                .where(staff_keys.c.key_id == key_id, staff_keys.c.revoked_us.is_(None))
                .values(revoked_us=_us(at or utcnow()))
            )
        if done.rowcount == 0 and self.key(key_id) is None:
            raise NotFoundError(f"no staff key {key_id!r}; list them with `consentry staff list-keys`")
        key = self.key(key_id)
        assert key is not None
        return key

    def key(self, key_id: str) -> StaffKey | None:
        """The key with this id, revoked or not."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(staff_keys).where(staff_keys.c.key_id == key_id)).first()
        return self._key(row) if row is not None else None

    def list_keys(self) -> list[StaffKey]:
        """Every key, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(staff_keys).order_by(staff_keys.c.created_us)).all()
        return [self._key(r) for r in rows]

    def authenticate(self, secret: str) -> StaffKey | None:
        """The active key whose secret this is, or None."""
        if not secret.startswith("csk_") or len(secret) > 200:
            return None
        digest = _digest(secret)
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(staff_keys).where(staff_keys.c.key_sha256 == digest)).first()
        if row is None or row.revoked_us is not None or not hmac.compare_digest(row.key_sha256, digest):
            return None
        return self._key(row)

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
        with self._engine.begin() as conn:
            conn.execute(
                audit_log.insert().values(
                    at_us=_us(utcnow()),
                    key_id=key.key_id,
                    role=key.role.value,
                    action=action[:64],
                    target=target[:255] if target else None,
                    outcome=outcome[:16],
                    detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
                )
            )

    def audit_entries(self, limit: int = 200) -> list[AuditEntry]:
        """The latest staff actions, newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(audit_log).order_by(audit_log.c.audit_id.desc()).limit(max(1, min(limit, 1000)))
            ).all()
        return [
            AuditEntry(
                r.audit_id,
                _from_us(r.at_us),
                r.key_id,
                r.role,
                r.action,
                r.target,
                r.outcome,
                json.loads(r.detail) if r.detail else None,
            )
            for r in rows
        ]

    @staticmethod
    def _key(row: Any) -> StaffKey:
        return StaffKey(
            key_id=row.key_id,
            name=row.name,
            role=StaffRole(row.role),
            created_at=_from_us(row.created_us),
            revoked_at=_from_us(row.revoked_us) if row.revoked_us is not None else None,
        )
