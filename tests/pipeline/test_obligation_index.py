"""Obligations from member indexes and NumPy equal a straightforward computation from the member sets.

A small store (SQLite and PostgreSQL) with builds of two purposes as of two
moments, model versions over them (later versions leave some withdrawn
members out), denies on several days and closed accounts. The reference reads
every member set (no index) and groups member by member in plain Python.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, func, select, update

from consentry.pipeline.excluded_members import Lineage, stale_lineage
from consentry.pipeline.forgetting import compute, scope_of
from consentry.pipeline.models import register_model
from consentry.pipeline.obligations import obligation_members, obligations
from consentry.policy import load_policy
from consentry.store import Member, NewEvent, SqlStore
from consentry.store.builds import BuildRecord
from consentry.store.member_index import encode_index
from consentry.store.schema import build_member_index
from consentry.vocab import Choice, Source

POLICY = Path(__file__).parents[2] / "examples" / "policies" / "social-network.yaml"
GENAI, FEED = "genai_training", "personalization"
N = 600


def _seed(store: SqlStore) -> datetime:
    """Members, builds, model versions and withdrawals; returns the moment to compute at."""
    rng = random.Random(19)
    store.publish(load_policy(POLICY))
    joined = datetime(2024, 1, 1, tzinfo=UTC)
    store.add_members(Member(f"u{i:04d}", "US", date(1980, 1, 1), joined) for i in range(N))
    now = datetime.now(UTC).replace(microsecond=0)
    trained = now - timedelta(days=1)
    withdrawn = rng.sample(range(N), 120)
    early, late = set(withdrawn[:60]), set(withdrawn[60:])

    def build(name: str, purpose: str, month: int, leave_out: set[int], share: float, age: float = 10) -> str:
        decided = now - timedelta(days=age)
        kept = [i for i in range(N) if i not in leave_out and rng.random() < share]
        members = pa.table({"member_id": [f"u{i:04d}" for i in kept], "records": [1 + i % 5 for i in kept]})
        as_of = datetime(2025, month, 1, tzinfo=UTC)
        record = BuildRecord(name, purpose, as_of, decided, f"/nonexistent/{name}", "local", {"included": 1},
                             "0" * 64, members.num_rows, None, decided_at=decided)  # fmt: skip
        store.builds.register_pending(record, members)
        store.builds.mark_complete(name)
        return name

    # b1 and f0 were decided after some withdrawals: a cause is never dated before the build that holds the data
    b = [build(f"b{k}", GENAI, 1 + k % 2, set(), 0.8, 1.5 if k == 1 else 10) for k in range(4)]
    feed = build("f0", FEED, 1, set(), 0.9, 1.5)
    without_early = build("b-no-early", GENAI, 2, early, 0.95)
    without_all = build("b-no-any", GENAI, 1, early | late, 0.95)
    register_model(store, "ranker", "1", [b[0], b[1], feed], trained_at=trained + timedelta(hours=1))
    register_model(store, "ranker", "2", [without_early, feed], trained_at=trained + timedelta(hours=2))
    register_model(store, "ranker", "3", [without_all], trained_at=trained + timedelta(hours=3))
    register_model(store, "tagger", "1", [b[2], b[3]], trained_at=trained + timedelta(hours=1))
    register_model(store, "tagger", "2", [b[3]], trained_at=trained + timedelta(hours=2))
    for n, i in enumerate(sorted(early)):
        at = now - timedelta(days=1 + n % 3, hours=n % 5)
        store.record(NewEvent(f"u{i:04d}", GENAI if n % 4 else FEED, Choice.DENY, at, Source.SETTINGS))
    for n, i in enumerate(sorted(late)):
        if n % 6 == 0:
            store.close_account(f"u{i:04d}", now - timedelta(hours=2 + n % 7))
        else:
            store.record(NewEvent(f"u{i:04d}", GENAI, Choice.DENY, now - timedelta(hours=n % 30), Source.SETTINGS))
    return now + timedelta(minutes=1)


def _reference(lineage: Lineage, store: SqlStore, now: datetime) -> list[dict[str, Any]]:
    """The obligation groups member by member, from `lineage` (read from member sets) and Python sets."""
    excluded = lineage.excluded.to_pylist()
    models = scope_of(store, None, now).models
    held = {b: set(bl.codes.to_pylist()) for b, bl in lineage.builds.items()}
    out = []
    for model in models:
        first: dict[tuple[str, int], dict[str, Any]] = {}
        rows = []
        for b in model.builds:
            bl = lineage.builds[b]
            for code, records, cause, at in zip(bl.codes.to_pylist(), bl.records.to_pylist(), bl.cause.to_pylist(),
                                                bl.cause_at.to_pylist(), strict=True):  # fmt: skip
                if cause is None:
                    continue
                key = (bl.build.purpose, code)
                rows.append((key, b))
                m = first.setdefault(key, {"cause": cause, "at": at, "records": 0})
                if at < m["at"]:
                    m.update(cause=cause, at=at)
                m["records"] += records
        later = sorted((n for n in models if n.name == model.name and n.trained_at > model.trained_at),
                       key=lambda n: (n.trained_at, n.model_id))  # fmt: skip
        for (_, code), m in first.items():
            met = next((v for v in later if not any(code in held[b] for b in v.builds)), None)
            m["met"] = met
        groups: dict[tuple[str, str, datetime], list[tuple[str, int]]] = defaultdict(list)
        for key in sorted(first):
            m = first[key]
            groups[(key[0], m["cause"], m["at"].replace(hour=0, minute=0, second=0, microsecond=0))].append(key)
        for (purpose, cause, day), keys in groups.items():
            mets = [first[k]["met"] for k in keys]
            all_met = all(v is not None for v in mets)
            met_at = max(v.trained_at for v in mets if v is not None) if all_met else None
            met_by = next(first[k]["met"].model_id for k in sorted(first) if first[k]["met"]
                          and first[k]["met"].trained_at == met_at) if all_met else None  # fmt: skip
            out.append({
                "model_id": model.model_id, "purpose": purpose, "cause": cause, "day": day,
                "arose_at": min(first[k]["at"] for k in keys), "members": len(keys),
                "records": sum(first[k]["records"] for k in keys),
                "member_ids": [excluded[c] for _, c in sorted(keys, key=lambda k: k[1])],
                "members_met": sum(v is not None for v in mets), "met_at": met_at, "met_by": met_by,
                "builds": sorted({b for k, b in rows if k in set(keys)}),
            })  # fmt: skip
    return sorted(out, key=lambda g: (g["model_id"], g["purpose"], g["cause"], g["day"]))


def test_obligations_from_indexes_equal_a_member_by_member_computation(store: SqlStore) -> None:
    now = _seed(store)
    scope = scope_of(store, None, now)
    by_sets = stale_lineage(store, scope.builds.values(), now, use_index=False)
    by_index = stale_lineage(store, scope.builds.values(), now)
    assert by_index.excluded.equals(by_sets.excluded)
    for build_id, bl in by_sets.builds.items():
        other = by_index.builds[build_id]
        assert [other.codes, other.records, other.cause, other.cause_at] == [bl.codes, bl.records, bl.cause,
                                                                             bl.cause_at], build_id  # fmt: skip
    expected = _reference(by_sets, store, now)
    groups = sorted(
        compute(store, scope, now).groups, key=lambda g: (g["model_id"], g["purpose"], g["cause"], g["day"])
    )
    assert groups == expected
    statuses = {o.status for o in obligations(store, as_of=now)}
    assert {"met", "open"} <= statuses and any(0 < g["members_met"] < g["members"] for g in groups)
    assert len({g["cause"] for g in groups}) >= 2 and len({g["purpose"] for g in groups}) == 2

    rows = obligation_members(store, as_of=now).to_pylist()
    open_keys = {(g["model_id"], m) for g in expected if g["met_by"] is None for m in g["member_ids"]}
    assert {(r["model_id"], r["member_id"]) for r in rows} == open_keys


def test_a_build_without_an_index_gets_one_on_first_use(store: SqlStore) -> None:
    now = _seed(store)
    before = [o.to_dict() for o in obligations(store, as_of=now)]
    with store._engine.begin() as c:  # as a build registered before indexes existed
        c.execute(delete(build_member_index).where(build_member_index.c.build_id.in_(["b0", "b-no-early"])))
    assert store.builds.member_index("b0") is None
    assert [o.to_dict() for o in obligations(store, as_of=now)] == before
    index = store.builds.member_index("b0")
    assert index is not None and index.usable and len(index.codes) == store.builds.members("b0").num_rows
    with store._engine.connect() as c:
        assert c.execute(select(func.count()).select_from(build_member_index)).scalar() == 7

    # An index that cannot be trusted (equal codes) is passed over for the member set
    unusable = bytes([1, 0]) + encode_index(store.builds.members("b1"))[2:]
    with store._engine.begin() as c:
        c.execute(update(build_member_index).where(build_member_index.c.build_id == "b1").values(data=unusable))
    assert store.builds.member_index("b1").usable is False  # type: ignore[union-attr]
    assert [o.to_dict() for o in obligations(store, as_of=now)] == before
