"""From builds reduced to their excluded members (`excluded_members`) to obligation groups per model version.

For each model version: its builds' stale members (cause and time per build),
one row per member and purpose (the earliest cause), whether and by which
later version of the same model each is met (absent from every build of that
version: checked against the member sets), and the groups of one purpose,
cause and UTC day. Arrow throughout; Python touches groups, not members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentry.pipeline.excluded_members import Lineage, stale_lineage
from consentry.pipeline.models import resolve_models
from consentry.pipeline.registry import BuildRecord, get_build
from consentry.store.models import ModelRecord
from consentry.store.protocol import Store

__all__ = ["Computed", "Scope", "compute", "scope_of"]

_TS = pa.timestamp("us", tz="UTC")
_KEYS = ["purpose", "cause", "day"]


@dataclass
class Scope:
    """The model versions one computation covers (with every version of their names), and their builds."""

    models: list[ModelRecord]
    builds: dict[str, BuildRecord] = field(default_factory=dict)


def scope_of(store: Store, model: str | None, now: datetime) -> Scope:
    """The versions registered by `now` (of `model`'s names only, when given) and their builds."""
    known = [m for m in store.models.all() if m.registered_at <= now]
    if model is not None:
        names = {m.name for m in resolve_models(store, model)}
        known = [m for m in known if m.name in names]
    scope = Scope(known)
    for m in known:
        for build_id in m.builds:
            if build_id not in scope.builds:
                scope.builds[build_id] = get_build(store, build_id)
    return scope


@dataclass
class Computed:
    """Obligation groups (dicts with model_id, purpose, cause, day, …) and, per model, its member rows."""

    groups: list[dict[str, Any]]
    #: model id -> rows (build_id, member_id, records, purpose, cause, day) of its stale members
    rows: dict[str, pa.Table]


def _raw_rows(lineage: Lineage, model: ModelRecord) -> pa.Table:
    """One row per stale member of each build of `model`: purpose, code, records, cause, cause_at, build_id."""
    parts = []
    for build_id in model.builds:
        bl = lineage.builds[build_id]
        stale = pc.is_valid(bl.cause)
        n = pc.sum(stale.cast(pa.int64())).as_py() or 0
        parts.append(
            pa.table(
                {
                    "purpose": pa.repeat(bl.build.purpose, n),
                    "code": pc.filter(bl.codes, stale),
                    "records": pc.filter(bl.records, stale),
                    "cause": pc.filter(bl.cause, stale),
                    "cause_at": pc.filter(bl.cause_at, stale),
                    "build_id": pa.repeat(build_id, n),
                }
            )
        )
    return pa.concat_tables(parts)


def _per_member(raw: pa.Table) -> pa.Table:
    """One row per member and purpose: the earliest cause and its time, records over the builds, the UTC day."""
    ordered = raw.sort_by([("purpose", "ascending"), ("code", "ascending"), ("cause_at", "ascending")])
    members = ordered.group_by(["purpose", "code"], use_threads=False).aggregate(
        [("cause", "first"), ("cause_at", "first"), ("records", "sum")]
    )
    members = members.rename_columns(["purpose", "code", "cause", "cause_at", "records"])
    return members.append_column("day", pc.floor_temporal(members.column("cause_at"), unit="day"))


def _met(members: pa.Table, lineage: Lineage, later: list[ModelRecord]) -> pa.Table:
    """`members` with met_at and met_by: the first later version none of whose builds holds the member."""
    codes = members.column("code")
    met_at = pa.nulls(members.num_rows, _TS)
    met_by = pa.nulls(members.num_rows, pa.string())
    for version in later:
        held = [lineage.builds[b].codes for b in version.builds]
        present = pc.is_in(codes, value_set=pa.concat_arrays(held)) if held else pa.repeat(False, len(codes))
        newly = pc.and_(pc.invert(present), pc.is_null(met_at))
        met_at = pc.if_else(newly, pa.scalar(version.trained_at, _TS), met_at)
        met_by = pc.if_else(newly, pa.scalar(version.model_id), met_by)
    return members.append_column("met_at", met_at).append_column("met_by", met_by)


def _keyed(raw: pa.Table, members: pa.Table) -> pa.Table:
    """The raw rows (build by build) with the member's obligation key: its earliest cause and day."""
    purposes = pc.unique(members.column("purpose"))
    position = pc.index_in(_member_key(raw, purposes), value_set=_member_key(members, purposes))
    own = raw.drop_columns(["cause", "cause_at"])
    return own.append_column("cause", pc.take(members.column("cause"), position)).append_column(
        "day", pc.take(members.column("day"), position)
    )


def _member_key(t: pa.Table, purposes: pa.Array) -> pa.Array:
    """Purpose and member code as one integer per row."""
    purpose = pc.cast(pc.index_in(t.column("purpose"), value_set=purposes), pa.int64())
    return pc.add(pc.multiply(pc.cast(t.column("code"), pa.int64()), len(purposes)), purpose)


def _groups(model: ModelRecord, members: pa.Table, keyed: pa.Table, lineage: Lineage) -> list[dict[str, Any]]:
    grouped = members.group_by(_KEYS).aggregate(
        [
            ("code", "list"),
            ("records", "sum"),
            ("cause_at", "min"),
            ("met_at", "count"),
            ("met_at", "max"),
        ]
    )
    builds = {
        (g["purpose"], g["cause"], g["day"]): sorted(g["build_id_distinct"])
        for g in keyed.group_by(_KEYS).aggregate([("build_id", "distinct")]).to_pylist()
    }
    out = []
    for g in grouped.to_pylist():
        codes = sorted(g["code_list"])
        all_met = g["met_at_count"] == len(codes)
        met_by = None
        if all_met:
            rows = members.filter(pc.equal(members.column("met_at"), pa.scalar(g["met_at_max"], _TS)))
            met_by = rows.column("met_by")[0].as_py()
        out.append(
            {
                "model_id": model.model_id,
                "purpose": g["purpose"],
                "cause": g["cause"],
                "day": g["day"],
                "arose_at": g["cause_at_min"],
                "members": len(codes),
                "records": g["records_sum"],
                "member_ids": pc.take(lineage.excluded, pa.array(codes, pa.int32())).to_pylist(),
                "members_met": g["met_at_count"],
                "met_at": g["met_at_max"] if all_met else None,
                "met_by": met_by,
                "builds": builds.get((g["purpose"], g["cause"], g["day"]), []),
            }
        )
    return out


def compute(store: Store, scope: Scope, now: datetime) -> Computed:
    """The obligation groups of every model version in `scope` with stale members at `now`."""
    lineage = stale_lineage(store, scope.builds.values(), now)
    computed = Computed([], {})
    for model in scope.models:
        raw = _raw_rows(lineage, model)
        if raw.num_rows == 0:
            continue
        later = sorted(
            (n for n in scope.models if n.name == model.name and n.trained_at > model.trained_at),
            key=lambda n: (n.trained_at, n.model_id),
        )
        members = _met(_per_member(raw), lineage, later)
        keyed = _keyed(raw, members)
        computed.groups += _groups(model, members, keyed, lineage)
        computed.rows[model.model_id] = pa.table(
            {
                "build_id": keyed.column("build_id"),
                "member_id": pc.take(lineage.excluded, keyed.column("code")),
                "records": keyed.column("records"),
                "purpose": keyed.column("purpose"),
                "cause": keyed.column("cause"),
                "day": keyed.column("day"),
            }
        )
    return computed
