"""From builds reduced to their excluded members (`excluded_members`) to obligation groups per model version.

For each model version: its builds' stale members (cause and time per build),
one row per member and purpose (the earliest cause), whether and by which
later version of the same model each is met (absent from every build of that
version: checked against the member sets), and the groups of one purpose,
cause and UTC day. NumPy and Arrow throughout (members as integer codes and
keys); Python touches groups, not members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from consentry.pipeline.excluded_members import Lineage, stale_lineage
from consentry.pipeline.models import resolve_models
from consentry.pipeline.registry import BuildRecord, get_build
from consentry.store.models import ModelRecord
from consentry.store.protocol import Store

__all__ = ["Computed", "Scope", "compute", "scope_of"]

_TS = pa.timestamp("us", tz="UTC")


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


@dataclass(frozen=True)
class _Raw:
    """One row per stale member of each build of a model (NumPy, aligned): the member's key and its evidence."""

    key: npt.NDArray[np.int64]  # member code * purposes + purpose index
    code: npt.NDArray[np.int64]
    records: npt.NDArray[np.int64]
    cause: pa.Array  # strings
    cause_at: npt.NDArray[np.int64]  # µs since the epoch, UTC
    build: npt.NDArray[np.int64]  # index in the model's builds

    def __len__(self) -> int:
        return len(self.key)


def _raw_rows(lineage: Lineage, model: ModelRecord, purposes: list[str]) -> _Raw:
    """One row per stale member of each build of `model`, build by build."""
    keys, codes, records, causes, times, builds = [], [], [], [], [], []
    for i, build_id in enumerate(model.builds):
        bl = lineage.builds[build_id]
        stale = pc.is_valid(bl.cause)
        code = _np(pc.filter(bl.codes, stale)).astype(np.int64)
        codes.append(code)
        keys.append(code * len(purposes) + purposes.index(bl.build.purpose))
        records.append(_np(pc.filter(bl.records, stale)).astype(np.int64))
        causes.append(pc.filter(bl.cause, stale))
        times.append(_np(pc.filter(bl.cause_at, stale).cast(pa.int64())))
        builds.append(np.full(len(code), i, np.int64))
    cause = pa.concat_arrays([c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in causes])
    join = np.concatenate
    return _Raw(join(keys), join(codes), join(records), cause, join(times), join(builds))


def _np(a: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    return np.asarray(a.to_numpy(zero_copy_only=False))


@dataclass(frozen=True)
class _Members:
    """One row per member and purpose, by key: the earliest cause and its time, records over the builds."""

    key: npt.NDArray[np.int64]
    code: npt.NDArray[np.int64]
    cause: pa.Array
    cause_at: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    records: npt.NDArray[np.int64]
    met_at: npt.NDArray[np.int64]  # _NEVER: not met
    met_by: npt.NDArray[np.int64]  # index in the later versions (-1: not met)


_NEVER = np.iinfo(np.int64).max
_DAY_US = 86_400_000_000


def _per_member(raw: _Raw, purposes: int) -> _Members:
    """The earliest cause of each member and purpose (ties: the first build's), its UTC day, records summed."""
    order = np.lexsort((raw.cause_at, raw.key))  # stable: equal times keep the builds' order
    key = raw.key[order]
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    first = order[starts]
    at = raw.cause_at[first]
    none = np.full(len(starts), _NEVER, np.int64)
    return _Members(key[starts], key[starts] // purposes, raw.cause.take(pa.array(first)), at,
                    at - at % _DAY_US, np.add.reduceat(raw.records[order], starts), none,
                    np.full(len(starts), -1, np.int64))  # fmt: skip


def _met(members: _Members, lineage: Lineage, later: list[ModelRecord]) -> None:
    """Fill met_at and met_by: the first later version none of whose builds holds the member."""
    for i, version in enumerate(later):
        held = [_np(lineage.builds[b].codes) for b in version.builds]
        present = np.isin(members.code, np.concatenate(held)) if held else np.zeros(len(members.code), bool)
        newly = ~present & (members.met_at == _NEVER)
        members.met_at[newly] = _us(version.trained_at)
        members.met_by[newly] = i


def _us(t: datetime) -> int:
    return int(pa.scalar(t, _TS).cast(pa.int64()).as_py())


def _dt(us: int) -> datetime:
    value: datetime = pa.scalar(us, pa.int64()).cast(_TS).as_py()
    return value


def _groups(model: ModelRecord, purposes: list[str], members: _Members, raw: _Raw, lineage: Lineage,
            later: list[ModelRecord]) -> list[dict[str, Any]]:  # fmt: skip
    """One group per purpose, cause and UTC day of the model's members."""
    causes = pc.unique(members.cause)
    cause_ix = _np(pc.index_in(members.cause, value_set=causes)).astype(np.int64)
    purpose_ix = members.key % len(purposes)
    group_key = (members.day // _DAY_US * len(causes) + cause_ix) * len(purposes) + purpose_ix
    _, firsts, of_member = np.unique(group_key, return_index=True, return_inverse=True)
    of_member = of_member.reshape(-1)
    of_row = of_member[np.searchsorted(members.key, raw.key)]
    met = members.met_at != _NEVER
    out = []
    for g, first in enumerate(firsts):
        mine = of_member == g
        codes = members.code[mine]  # ascending
        met_count = int(np.count_nonzero(met[mine]))
        all_met = met_count == len(codes)
        met_at = int(members.met_at[mine].max()) if all_met else None
        met_by = None
        if met_at is not None:
            met_by = later[int(members.met_by[int(np.argmax(members.met_at == met_at))])].model_id
        out.append(
            {
                "model_id": model.model_id,
                "purpose": purposes[int(purpose_ix[first])],
                "cause": members.cause[int(first)].as_py(),
                "day": _dt(int(members.day[first])),
                "arose_at": _dt(int(members.cause_at[mine].min())),
                "members": len(codes),
                "records": int(members.records[mine].sum()),
                "member_ids": pc.take(lineage.excluded, pa.array(codes, pa.int32())).to_pylist(),
                "members_met": met_count,
                "met_at": _dt(met_at) if met_at is not None else None,
                "met_by": met_by,
                "builds": sorted({model.builds[int(b)] for b in np.unique(raw.build[of_row == g])}),
            }
        )
    return out


def _rows(model: ModelRecord, purposes: list[str], members: _Members, raw: _Raw, lineage: Lineage) -> pa.Table:
    """The model's stale members build by build, each with its member's obligation key (purpose, cause, day)."""
    at = np.searchsorted(members.key, raw.key)
    return pa.table(
        {
            "build_id": pa.array(model.builds, pa.string()).take(pa.array(raw.build)),
            "member_id": pc.take(lineage.excluded, pa.array(raw.code, pa.int64())),
            "records": pa.array(raw.records, pa.int64()),
            "purpose": pa.array(purposes, pa.string()).take(pa.array(raw.key % len(purposes))),
            "cause": members.cause.take(pa.array(at)),
            "day": pa.array(members.day[at], pa.int64()).cast(_TS),
        }
    )


def compute(store: Store, scope: Scope, now: datetime, *, rows: bool = False) -> Computed:
    """The obligation groups of every model version in `scope` with stale members at `now`.

    `rows=True` also keeps each model's member rows (`Computed.rows`), which only
    `obligation_members` needs.
    """
    lineage = stale_lineage(store, scope.builds.values(), now)
    purposes = sorted({b.purpose for b in scope.builds.values()})
    computed = Computed([], {})
    for model in scope.models:
        raw = _raw_rows(lineage, model, purposes)
        if len(raw) == 0:
            continue
        later = sorted(
            (n for n in scope.models if n.name == model.name and n.trained_at > model.trained_at),
            key=lambda n: (n.trained_at, n.model_id),
        )
        members = _per_member(raw, len(purposes))
        _met(members, lineage, later)
        computed.groups += _groups(model, purposes, members, raw, lineage, later)
        if rows:
            computed.rows[model.model_id] = _rows(model, purposes, members, raw, lineage)
    return computed
