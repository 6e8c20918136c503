"""Models and the builds they were trained on: registering, listing, showing one.

A model version names the builds it was trained on, so that a withdrawal that
makes a build stale reaches every model trained on it
(`consentry.pipeline.obligations`). The rows are the store's (`Store.models`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentry.bounds import MAX_CODE, check_id, check_instant, check_text
from consentry.errors import InputError, NotFoundError
from consentry.pipeline.registry import get_build
from consentry.store.models import ModelRecord, model_id_for
from consentry.store.protocol import Store
from consentry.timeutil import utc, utcnow

__all__ = ["ModelRecord", "ModelSummary", "list_models", "register_model", "resolve_models", "show_model"]


def register_model(
    store: Store,
    name: str,
    version: str,
    builds: list[str],
    *,
    trained_at: datetime | None = None,
    uri: str | None = None,
    source: str = "cli",
    now: datetime | None = None,
) -> tuple[ModelRecord, bool]:
    """Record that model `name` version `version` was trained on `builds`; (the record, whether it is new).

    Registering the identical version again changes nothing. The same name and
    version with other builds is refused (ModelError), as is an unknown or
    incomplete build (NotFoundError) and a training time before a build was
    created (InputError); nothing is written then. `trained_at` defaults to now.
    """
    now = utc(now) if now is not None else utcnow()
    check_id(name, "--name")
    check_id(version, "--version", limit=MAX_CODE)
    check_text(uri, "--uri")
    if not builds:
        raise InputError("--build: name at least one build the model was trained on")
    for build_id in builds:
        check_id(build_id, "--build", limit=MAX_CODE)
    trained = check_instant(utc(trained_at), "--trained-at", latest=now) if trained_at is not None else now
    record = ModelRecord(model_id_for(name, version), name, version, tuple(builds), trained, now, uri, source)
    existing = store.models.get(record.model_id)
    if existing is not None and existing.builds == tuple(sorted(set(builds))):
        return existing, False  # identical: a no-op, whatever the training time given again
    for build_id in sorted(set(builds)):
        created = get_build(store, build_id).created_at
        if trained < created:
            raise InputError(
                f"--trained-at: {trained.isoformat()} comes before build {build_id} was created "
                f"({created.isoformat()}); give the time the model was trained"
            )
    return store.models.register(record)


def list_models(store: Store) -> list[ModelRecord]:
    """Every registered model version, by name, then training time."""
    return store.models.all()


def resolve_models(store: Store, ref: str) -> list[ModelRecord]:
    """The model versions `ref` names: a model id, `NAME@VERSION`, or a NAME (all its versions).

    NotFoundError (one line, what to run) when it names none.
    """
    known = store.models.all()
    found = [m for m in known if ref in (m.model_id, f"{m.name}@{m.version}")] or [m for m in known if m.name == ref]
    if not found:
        raise NotFoundError(f"no model {ref!r}; `consentry models list` shows the registered models")
    return found


@dataclass(frozen=True)
class ModelSummary:
    """A model version with the builds behind it and the members and records they hold."""

    model: ModelRecord
    builds: list[dict[str, Any]]
    members: int
    records: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**self.model.to_dict(), "builds": self.builds, "members": self.members, "records": self.records}


def show_model(store: Store, ref: str) -> list[ModelSummary]:
    """Each model version `ref` names, with its builds, distinct members and records included."""
    out = []
    for model in resolve_models(store, ref):
        shown = []
        ids: list[pa.Array] = []
        for build_id in model.builds:
            build = get_build(store, build_id)
            shown.append(
                {
                    "build_id": build_id,
                    "purpose": build.purpose,
                    "as_of": build.to_dict()["as_of"],
                    "members": build.members,
                    "records": int(build.counts.get("included", 0)),
                    "manifest_sha256": build.manifest_sha256,
                }
            )
            ids.append(store.builds.members(build_id).column("member_id").combine_chunks())
        members = len(pc.unique(pa.chunked_array(ids, pa.string()))) if ids else 0
        out.append(ModelSummary(model, shown, members, sum(b["records"] for b in shown)))
    return out
