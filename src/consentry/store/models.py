"""The models registry: model versions, the builds each was trained on, and waived obligations.

A model version is registered once with its builds; registering the same name
and version again with the same builds changes nothing, with other builds it
is refused. Obligations are computed above the store
(`consentry.pipeline.obligations`); only a waiver, a staff decision, is kept here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from consentry.errors import ModelError, NotFoundError
from consentry.store.database import transaction
from consentry.store.schema import (
    builds,
    consent_events,
    model_builds,
    model_obligation_waivers,
    models,
    objection_cases,
    to_us,
    us_to_dt,
)
from consentry.timeutil import iso

__all__ = ["ModelRecord", "ModelRegistry", "SqlModelRegistry", "Waiver", "model_id_for"]

#: Ids looked up per statement (well under SQLite's and PostgreSQL's parameter limits)
_IN_BATCH = 10_000


def model_id_for(name: str, version: str) -> str:
    """The model id of a name and version: stable, so a repeated registration finds its row."""
    return "m-" + hashlib.sha256(f"{name}\x00{version}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ModelRecord:
    """A registered model version: what it is called, when it was trained, on which builds."""

    model_id: str
    name: str
    version: str
    builds: tuple[str, ...]
    trained_at: datetime
    registered_at: datetime
    uri: str | None = None
    source: str = "cli"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (times as RFC 3339)."""
        return {
            "model_id": self.model_id,
            "name": self.name,
            "version": self.version,
            "builds": list(self.builds),
            "trained_at": iso(self.trained_at),
            "registered_at": iso(self.registered_at),
            "uri": self.uri,
            "source": self.source,
        }


@dataclass(frozen=True)
class Waiver:
    """Staff's decision not to retrain for an obligation: who, when, why, and the members it covers."""

    obligation_id: str
    model_id: str
    waived_at: datetime
    actor: str
    grounds: str
    members: frozenset[str]


class ModelRegistry(Protocol):
    """What the layers above store about models (`Store.models`)."""

    def register(self, record: ModelRecord) -> tuple[ModelRecord, bool]:
        """Store a model version and its builds; (the stored record, whether it was new).

        An identical version already stored is returned as it is. NotFoundError
        names a build that is unknown or not complete; ModelError a name and
        version already stored with other builds. Nothing is written then.
        """
        ...

    def get(self, model_id: str) -> ModelRecord | None:
        """The model version with this id, or None."""
        ...

    def all(self) -> list[ModelRecord]:
        """Every model version, by name, then training time."""
        ...

    def using_builds(self, build_ids: Sequence[str]) -> list[ModelRecord]:
        """The model versions trained on any of these builds, by name, then training time."""
        ...

    def event_times(self, event_ids: Iterable[int]) -> dict[int, datetime]:
        """When each of these ledger events took effect (their `at`; absent ids are left out)."""
        ...

    def case_times(self, case_ids: Iterable[str]) -> dict[str, tuple[datetime, datetime | None]]:
        """When each of these objection cases was received and decided (None: not yet)."""
        ...

    def waive(self, waiver: Waiver) -> Waiver:
        """Store a waiver (ModelError if the obligation is already waived)."""
        ...

    def waivers(self) -> list[Waiver]:
        """Every waiver, oldest first."""
        ...


def _record(row: Any, build_ids: Sequence[str]) -> ModelRecord:
    return ModelRecord(
        model_id=row.model_id,
        name=row.name,
        version=row.version,
        builds=tuple(sorted(build_ids)),
        trained_at=us_to_dt(row.trained_us),
        registered_at=us_to_dt(row.registered_us),
        uri=row.uri,
        source=row.source,
    )


def _batches(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), _IN_BATCH):
        yield ids[start : start + _IN_BATCH]


class SqlModelRegistry:
    """The models registry in the store's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def register(self, record: ModelRecord) -> tuple[ModelRecord, bool]:
        """Store a model version and its builds; (the stored record, whether it was new).

        An identical version already stored is returned as it is. NotFoundError
        names a build that is unknown or not complete; ModelError a name and
        version already stored with other builds. Nothing is written then.
        """
        wanted = tuple(sorted(set(record.builds)))
        with transaction(self._engine, write=True) as c:
            existing = self._select(c, models.c.model_id == record.model_id)
            if existing:
                if existing[0].builds != wanted:
                    raise ModelError(
                        f"model {record.name} version {record.version} is already registered with builds "
                        f"{', '.join(existing[0].builds)}; register the new training under a new version"
                    )
                return existing[0], False
            complete = set(
                c.execute(
                    sa.select(builds.c.build_id).where(builds.c.build_id.in_(wanted), builds.c.status == "complete")
                ).scalars()
            )
            for build_id in wanted:
                if build_id not in complete:
                    raise NotFoundError(
                        f"no complete build {build_id!r}; `consentry builds list` shows the registered builds"
                    )
            c.execute(
                models.insert().values(
                    model_id=record.model_id,
                    name=record.name,
                    version=record.version,
                    trained_us=to_us(record.trained_at),
                    registered_us=to_us(record.registered_at),
                    uri=record.uri,
                    source=record.source,
                )
            )
            c.execute(model_builds.insert(), [{"model_id": record.model_id, "build_id": b} for b in wanted])
        return ModelRecord(**{**record.__dict__, "builds": wanted}), True

    def _select(self, c: Connection, *where: sa.ColumnElement[bool]) -> list[ModelRecord]:
        rows = c.execute(sa.select(models).where(*where).order_by(models.c.name, models.c.trained_us)).all()
        ids = [r.model_id for r in rows]
        used: dict[str, list[str]] = {i: [] for i in ids}
        for batch in _batches(ids):
            for model_id, build_id in c.execute(
                sa.select(model_builds.c.model_id, model_builds.c.build_id).where(model_builds.c.model_id.in_(batch))
            ):
                used[model_id].append(build_id)
        return [_record(r, used[r.model_id]) for r in rows]

    def get(self, model_id: str) -> ModelRecord | None:
        """The model version with this id, or None."""
        with transaction(self._engine) as c:
            found = self._select(c, models.c.model_id == model_id)
        return found[0] if found else None

    def all(self) -> list[ModelRecord]:
        """Every model version, by name, then training time."""
        with transaction(self._engine) as c:
            return self._select(c, sa.true())

    def using_builds(self, build_ids: Sequence[str]) -> list[ModelRecord]:
        """The model versions trained on any of these builds, by name, then training time."""
        if not build_ids:
            return []
        used = sa.select(model_builds.c.model_id).where(model_builds.c.build_id.in_(list(build_ids)))
        with transaction(self._engine) as c:
            return self._select(c, models.c.model_id.in_(used))

    def event_times(self, event_ids: Iterable[int]) -> dict[int, datetime]:
        """When each of these ledger events took effect (their `at`; absent ids are left out)."""
        ids = sorted(set(event_ids))
        out: dict[int, datetime] = {}
        with transaction(self._engine) as c:
            for batch in _batches(ids):
                q = sa.select(consent_events.c.event_id, consent_events.c.at_us)
                for event_id, at in c.execute(q.where(consent_events.c.event_id.in_(batch))):
                    out[int(event_id)] = us_to_dt(at)
        return out

    def case_times(self, case_ids: Iterable[str]) -> dict[str, tuple[datetime, datetime | None]]:
        """When each of these objection cases was received and decided (None: not yet)."""
        ids = sorted(set(case_ids))
        out: dict[str, tuple[datetime, datetime | None]] = {}
        cases = objection_cases.c
        with transaction(self._engine) as c:
            for batch in _batches(ids):
                q = sa.select(cases.case_id, cases.received_us, cases.decided_us).where(cases.case_id.in_(batch))
                for case_id, received, decided in c.execute(q):
                    out[str(case_id)] = (us_to_dt(received), None if decided is None else us_to_dt(decided))
        return out

    def waive(self, waiver: Waiver) -> Waiver:
        """Store a waiver (ModelError if the obligation is already waived)."""
        table = model_obligation_waivers
        with transaction(self._engine, write=True) as c:
            if c.execute(sa.select(table.c.obligation_id).where(table.c.obligation_id == waiver.obligation_id)).first():
                raise ModelError(f"obligation {waiver.obligation_id} is already waived")
            c.execute(
                table.insert().values(
                    obligation_id=waiver.obligation_id,
                    model_id=waiver.model_id,
                    waived_us=to_us(waiver.waived_at),
                    actor=waiver.actor,
                    grounds=waiver.grounds,
                    members=json.dumps(sorted(waiver.members)),
                )
            )
        return waiver

    def waivers(self) -> list[Waiver]:
        """Every waiver, oldest first."""
        table = model_obligation_waivers
        with transaction(self._engine) as c:
            rows = c.execute(sa.select(table).order_by(table.c.waived_us, table.c.obligation_id)).all()
        return [
            Waiver(
                obligation_id=r.obligation_id,
                model_id=r.model_id,
                waived_at=us_to_dt(r.waived_us),
                actor=r.actor,
                grounds=r.grounds,
                members=frozenset(json.loads(r.members)),
            )
            for r in rows
        ]
