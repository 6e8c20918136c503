"""Staff accounts, API keys and the audit log, as stored (`Store.staff_accounts`, `.staff_keys`, `.audit`).

Issuing, checking and revoking keys, and what gets audited, are the service's;
this module only stores and loads.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from consentry.store.database import transaction
from consentry.store.protocol import AuditEntry, StaffAccountRecord, StaffKeyRecord
from consentry.store.schema import audit_log, staff_accounts, staff_keys, to_us, us_to_dt

__all__ = ["SqlAuditLog", "SqlStaffAccounts", "SqlStaffKeys"]


def _us(t: datetime | None) -> int | None:
    return to_us(t) if t is not None else None


def _dt(us: int | None) -> datetime | None:
    return us_to_dt(us) if us is not None else None


class SqlStaffAccounts:
    """`StaffAccounts` in the `service_staff_accounts` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, account: StaffAccountRecord) -> None:
        """Store a new account."""
        with transaction(self._engine, write=True) as c:
            c.execute(
                insert(staff_accounts).values(
                    account_id=account.account_id,
                    name=account.name,
                    role=account.role,
                    issuer=account.issuer,
                    subject=account.subject,
                    created_us=to_us(account.created_at),
                    signed_in_us=_us(account.signed_in_at),
                    disabled_us=_us(account.disabled_at),
                )
            )

    def get(self, account_id: str) -> StaffAccountRecord | None:
        """The account with this id, disabled or not."""
        with transaction(self._engine) as c:
            row = c.execute(select(staff_accounts).where(staff_accounts.c.account_id == account_id)).first()
        return _account(row) if row is not None else None

    def by_subject(self, issuer: str, subject: str) -> StaffAccountRecord | None:
        """The account an OpenID Connect provider's subject signs in to, if any."""
        query = select(staff_accounts).where(staff_accounts.c.issuer == issuer, staff_accounts.c.subject == subject)
        with transaction(self._engine) as c:
            row = c.execute(query).first()
        return _account(row) if row is not None else None

    def signed_in(self, account_id: str, name: str, role: str, at: datetime) -> None:
        """Record a sign-in, with the name and role the provider gave this time."""
        with transaction(self._engine, write=True) as c:
            c.execute(
                update(staff_accounts)
                .where(staff_accounts.c.account_id == account_id)
                .values(name=name, role=role, signed_in_us=to_us(at))
            )

    def disable(self, account_id: str, at: datetime) -> bool:
        """Mark an active account disabled at `at`; False if no active account has this id."""
        with transaction(self._engine, write=True) as c:
            done = c.execute(
                update(staff_accounts)
                .where(staff_accounts.c.account_id == account_id, staff_accounts.c.disabled_us.is_(None))
                .values(disabled_us=to_us(at))
            )
        return done.rowcount > 0

    def all(self) -> list[StaffAccountRecord]:
        """Every account, oldest first."""
        with transaction(self._engine) as c:
            rows = c.execute(select(staff_accounts).order_by(staff_accounts.c.created_us)).all()
        return [_account(r) for r in rows]


_MAX_AUDIT_ROWS = 1000


class SqlStaffKeys:
    """`StaffKeys` in the `service_staff_keys` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, key: StaffKeyRecord) -> None:
        """Store a new key."""
        with transaction(self._engine, write=True) as c:
            c.execute(
                insert(staff_keys).values(
                    key_id=key.key_id,
                    name=key.name,
                    role=key.role,
                    key_sha256=key.key_sha256,
                    created_us=to_us(key.created_at),
                    revoked_us=to_us(key.revoked_at) if key.revoked_at is not None else None,
                    account_id=key.account_id,
                )
            )

    def revoke(self, key_id: str, at: datetime) -> bool:
        """Mark an active key revoked at `at`; False if no active key has this id."""
        with transaction(self._engine, write=True) as c:
            done = c.execute(
                update(staff_keys)
                .where(staff_keys.c.key_id == key_id, staff_keys.c.revoked_us.is_(None))
                .values(revoked_us=to_us(at))
            )
        return done.rowcount > 0

    def get(self, key_id: str) -> StaffKeyRecord | None:
        """The key with this id, revoked or not."""
        with transaction(self._engine) as c:
            row = c.execute(select(staff_keys).where(staff_keys.c.key_id == key_id)).first()
        return _key(row) if row is not None else None

    def by_digest(self, key_sha256: str) -> StaffKeyRecord | None:
        """The key whose secret has this SHA-256, revoked or not."""
        with transaction(self._engine) as c:
            row = c.execute(select(staff_keys).where(staff_keys.c.key_sha256 == key_sha256)).first()
        return _key(row) if row is not None else None

    def all(self) -> list[StaffKeyRecord]:
        """Every key, oldest first."""
        with transaction(self._engine) as c:
            rows = c.execute(select(staff_keys).order_by(staff_keys.c.created_us)).all()
        return [_key(r) for r in rows]


class SqlAuditLog:
    """`AuditLog` in the `service_audit_log` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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
        with transaction(self._engine, write=True) as c:
            c.execute(
                insert(audit_log).values(
                    at_us=to_us(at),
                    key_id=key_id,
                    role=role,
                    action=action[:64],
                    target=target[:255] if target else None,
                    outcome=outcome[:16],
                    detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
                    account_id=account_id,
                )
            )

    def latest(self, limit: int) -> list[AuditEntry]:
        """The latest `limit` actions (held to 1 to 1000), newest first."""
        query = select(audit_log).order_by(audit_log.c.audit_id.desc()).limit(max(1, min(limit, _MAX_AUDIT_ROWS)))
        with transaction(self._engine) as c:
            rows = c.execute(query).all()
        return [
            AuditEntry(
                r.audit_id,
                us_to_dt(r.at_us),
                r.key_id,
                r.role,
                r.action,
                r.target,
                r.outcome,
                json.loads(r.detail) if r.detail else None,
                r.account_id,
            )
            for r in rows
        ]


def _key(row: Any) -> StaffKeyRecord:
    return StaffKeyRecord(
        key_id=row.key_id,
        name=row.name,
        role=row.role,
        key_sha256=row.key_sha256,
        created_at=us_to_dt(row.created_us),
        revoked_at=us_to_dt(row.revoked_us) if row.revoked_us is not None else None,
        account_id=row.account_id,
    )


def _account(row: Any) -> StaffAccountRecord:
    return StaffAccountRecord(
        account_id=row.account_id,
        name=row.name,
        role=row.role,
        created_at=us_to_dt(row.created_us),
        issuer=row.issuer,
        subject=row.subject,
        signed_in_at=_dt(row.signed_in_us),
        disabled_at=_dt(row.disabled_us),
    )
