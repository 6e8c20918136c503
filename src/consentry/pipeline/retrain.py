"""Which shards of a build must be retrained to forget some members (SISA: one model per shard).

A sharded build keeps each member's shard in its registered member set, so
the shards holding a set of members, and the share of the build's records in
them, come from the store alone: no output file is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentry.pipeline.registry import build_members, get_build
from consentry.store.protocol import Store

__all__ = ["ShardPlan", "affected_shards", "retrain_plan"]


@dataclass(frozen=True)
class ShardPlan:
    """The shards of one build that hold any of the given members, and what they weigh."""

    build_id: str
    shards: int
    #: one entry per affected shard, by shard: shard, members, records, affected_members
    affected: list[dict[str, int]]
    records: int
    members: int

    @property
    def share(self) -> float:
        """The share of the build's records in the affected shards (0.0 for an empty build)."""
        return sum(s["records"] for s in self.affected) / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "build_id": self.build_id,
            "shards": self.shards,
            "members": self.members,
            "records": self.records,
            "affected_shards": self.affected,
            "records_to_retrain": sum(s["records"] for s in self.affected),
            "share": round(self.share, 6),
        }


def affected_shards(store: Store, build_id: str, member_ids: Iterable[str]) -> ShardPlan:
    """The shards of `build_id` holding any of `member_ids` (NotFoundError for an unknown build).

    Members the build does not hold are ignored. An unsharded build is one
    shard: any member it holds means retraining all of it.
    """
    record = get_build(store, build_id)
    members = build_members(store, build_id)
    if "shard" not in members.column_names:
        members = members.append_column("shard", pa.array([0] * members.num_rows, pa.int32()))
    wanted = pa.array(sorted(set(member_ids)), pa.string())
    hit = pc.is_in(members.column("member_id"), value_set=wanted)
    totals = members.group_by("shard").aggregate([("records", "sum"), ("member_id", "count")])
    touched = members.filter(hit).group_by("shard").aggregate([("member_id", "count")])
    counts = dict(zip(touched.column("shard").to_pylist(), touched.column("member_id_count").to_pylist(), strict=True))
    rows = zip(*(totals.column(c).to_pylist() for c in ("shard", "records_sum", "member_id_count")), strict=True)
    affected = [
        {"shard": int(s), "members": int(m), "records": int(r), "affected_members": int(counts[s])}
        for s, r, m in sorted(rows)
        if s in counts
    ]
    return ShardPlan(
        build_id=build_id,
        shards=record.shards,
        affected=affected,
        records=int(pc.sum(members.column("records")).as_py() or 0),
        members=members.num_rows,
    )


def retrain_plan(store: Store, model: str, *, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """For each version of `model` and each of its builds, the shards to retrain for its open obligations.

    `model` is a model id, NAME@VERSION or NAME (NotFoundError if it names
    none). A build is listed when members of its set are behind an open or
    overdue obligation of that version (`obligation_members`), with exactly
    the shards holding them and the share of the build's records in those
    shards. Records deleted at the source are counted by obligations, not
    listed by member, so they name no shard here.
    """
    from consentry.pipeline.models import resolve_models
    from consentry.pipeline.obligations import obligation_members

    versions = {m.model_id: m for m in resolve_models(store, model)}
    rows = obligation_members(store, model=model, as_of=as_of)
    wanted: dict[tuple[str, str], set[str]] = {}
    obligations: dict[tuple[str, str], set[str]] = {}
    for row in rows.select(["model_id", "build_id", "member_id", "obligation_id"]).to_pylist():
        key = (row["model_id"], row["build_id"])
        wanted.setdefault(key, set()).add(row["member_id"])
        obligations.setdefault(key, set()).add(row["obligation_id"])
    plans = []
    for (model_id, build_id), members in sorted(wanted.items()):
        version = versions[model_id]
        plan = affected_shards(store, build_id, members)
        head = {"model_id": model_id, "name": version.name, "version": version.version}
        plans.append(head | plan.to_dict() | {"obligations": sorted(obligations[(model_id, build_id)])})
    return plans
