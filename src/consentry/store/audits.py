"""Audit reports stored against model versions: memorisation and forgetting audits.

A report is stored whole, as JSON, with what a release decision needs beside it:
the model version judged, the kind of audit, when it ran, the policy version and
thresholds applied, and whether the model passed. Reports are never updated; a
later run adds a new one, and the latest of a kind is the one that counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Engine

from consentry.errors import NotFoundError
from consentry.store.database import transaction
from consentry.store.schema import model_audits, models, to_us, us_to_dt
from consentry.timeutil import iso

__all__ = ["AuditRecord", "AuditReports", "SqlAuditReports", "audit_id_for"]


def audit_id_for(model_id: str, kind: str, created_at: datetime, report: str) -> str:
    """The id of an audit report: derived from what it judged, when, and its content."""
    key = f"{model_id}\x00{kind}\x00{to_us(created_at)}\x00{report}"
    return "au-" + hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AuditRecord:
    """One stored audit of a model version."""

    audit_id: str
    model_id: str
    kind: str
    created_at: datetime
    policy_version: str | None
    thresholds: dict[str, Any]
    passed: bool
    report: dict[str, Any]
    baseline_model_id: str | None = None

    def to_dict(self, *, report: bool = True) -> dict[str, Any]:
        """JSON-able form; `report=False` leaves the whole report out."""
        out: dict[str, Any] = {
            "audit_id": self.audit_id,
            "model_id": self.model_id,
            "baseline_model_id": self.baseline_model_id,
            "kind": self.kind,
            "created_at": iso(self.created_at),
            "policy_version": self.policy_version,
            "thresholds": self.thresholds,
            "passed": self.passed,
        }
        if report:
            out["report"] = self.report
        return out


class AuditReports(Protocol):
    """What the layers above store about model audits (`Store.model_audits`)."""

    def add(self, record: AuditRecord) -> AuditRecord:
        """Store an audit report (NotFoundError if its model version is not registered)."""
        ...

    def get(self, audit_id: str) -> AuditRecord | None:
        """The audit report with this id, or None."""
        ...

    def for_model(self, model_id: str, kind: str | None = None) -> list[AuditRecord]:
        """The audits of a model version (of one kind, if given), newest first."""
        ...

    def latest(self, model_ids: list[str], kind: str) -> dict[str, AuditRecord]:
        """The latest audit of `kind` of each of these model versions that has one."""
        ...


def _record(row: Any) -> AuditRecord:
    return AuditRecord(
        audit_id=row.audit_id,
        model_id=row.model_id,
        kind=row.kind,
        created_at=us_to_dt(row.created_us),
        policy_version=row.policy_version,
        thresholds=json.loads(row.thresholds),
        passed=bool(row.passed),
        report=json.loads(row.report),
        baseline_model_id=row.baseline_model_id,
    )


class SqlAuditReports:
    """Audit reports in the store's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, record: AuditRecord) -> AuditRecord:
        """Store an audit report (NotFoundError if its model version is not registered)."""
        with transaction(self._engine, write=True) as c:
            known = c.execute(sa.select(models.c.model_id).where(models.c.model_id == record.model_id)).first()
            if known is None:
                raise NotFoundError(f"no model {record.model_id!r}; `consentry models list` shows the registered ones")
            c.execute(
                model_audits.insert().values(
                    audit_id=record.audit_id,
                    model_id=record.model_id,
                    baseline_model_id=record.baseline_model_id,
                    kind=record.kind,
                    created_us=to_us(record.created_at),
                    policy_version=record.policy_version,
                    thresholds=json.dumps(record.thresholds, sort_keys=True),
                    passed=record.passed,
                    report=json.dumps(record.report, sort_keys=True, ensure_ascii=False),
                )
            )
        return record

    def get(self, audit_id: str) -> AuditRecord | None:
        """The audit report with this id, or None."""
        with transaction(self._engine) as c:
            row = c.execute(sa.select(model_audits).where(model_audits.c.audit_id == audit_id)).first()
        return None if row is None else _record(row)

    def for_model(self, model_id: str, kind: str | None = None) -> list[AuditRecord]:
        """The audits of a model version (of one kind, if given), newest first."""
        t = model_audits.c
        q = sa.select(model_audits).where(t.model_id == model_id)
        if kind is not None:
            q = q.where(t.kind == kind)
        with transaction(self._engine) as c:
            rows = c.execute(q.order_by(t.created_us.desc(), t.audit_id)).all()
        return [_record(r) for r in rows]

    def latest(self, model_ids: list[str], kind: str) -> dict[str, AuditRecord]:
        """The latest audit of `kind` of each of these model versions that has one."""
        if not model_ids:
            return {}
        t = model_audits.c
        newest = (
            sa.select(t.model_id, sa.func.max(t.created_us).label("created_us"))
            .where(t.model_id.in_(model_ids), t.kind == kind)
            .group_by(t.model_id)
            .subquery()
        )
        q = (
            sa.select(model_audits)
            .join(newest, sa.and_(t.model_id == newest.c.model_id, t.created_us == newest.c.created_us))
            .where(t.kind == kind)
            .order_by(t.audit_id)
        )
        out: dict[str, AuditRecord] = {}
        with transaction(self._engine) as c:
            for row in c.execute(q):
                out.setdefault(row.model_id, _record(row))
        return out
