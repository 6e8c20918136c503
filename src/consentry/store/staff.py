"""Staff API keys and the audit log of staff actions, as stored (`Store.staff_keys`, `Store.audit`).

Issuing, checking and revoking keys, and what gets audited, are the service's;
this module only stores and loads.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from consentry.store.database import transaction
from consentry.store.protocol import AuditEntry, StaffKeyRecord
from consentry.store.schema import audit_log, staff_keys, to_us, us_to_dt

__all__ = ["SqlAuditLog", "SqlStaffKeys"]

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
        key_id: str,
        role: str,
        action: str,
        target: str | None = None,
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
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
    )
