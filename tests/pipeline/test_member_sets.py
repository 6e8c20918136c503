"""Build member sets stored as one value: round trips, probes, and the migration from per-member rows."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from migrating import migrated

from consentry.pipeline.registry import BuildRecord, build_members, builds_for_member, list_builds
from consentry.store import database, member_sets, open_store
from pipeline.lake import GENAI, Platform, t

_ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


def _table(ids: list[str]) -> pa.Table:
    return pa.table({"member_id": ids, "records": pa.array(range(1, len(ids) + 1), pa.int64())})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(_ids, unique=True, max_size=60), probes=st.lists(_ids, max_size=10))
def test_round_trip_and_probes_agree_with_the_set(
    members: list[str], probes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_sets, "CHUNK_MEMBERS", 4)  # many chunks: the probe must pick the right one
    chunks = member_sets.encode(_table(members))
    assert len(chunks) == -(-len(members) // 4)
    pairs = sorted(zip(members, range(1, len(members) + 1), strict=True), key=lambda p: p[0].encode())
    assert member_sets.decode(data for _, data in chunks).to_pylist() == [
        {"member_id": m, "records": n} for m, n in pairs
    ]
    for first, data in chunks:  # each chunk starts with its first id
        assert member_sets.decode([data]).column("member_id")[0].as_py() == first
    for probe in [*probes, *members[:5]]:
        assert any(member_sets.contains(data, probe) for _, data in chunks) == (probe in members), probe


def test_probes_pick_the_right_chunk_in_bytewise_order(any_platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids whose bytewise order differs from a linguistic collation, cut into two-member chunks."""
    monkeypatch.setattr(member_sets, "CHUNK_MEMBERS", 2)
    store = any_platform.store
    if store._engine.dialect.name == "postgresql":  # as in a database created with a linguistic collation
        with store._engine.begin() as conn:
            conn.exec_driver_sql(
                'ALTER TABLE build_member_chunks ALTER COLUMN first_member_id TYPE varchar(255) COLLATE "und-x-icu"'
            )
    ids = ["B", "a", "Z", "ü", "é", "Éa", "b", "_x", "10", "9"]
    now = t("2025-01-01")
    for n, members in enumerate([ids, ids[::2]]):
        record = BuildRecord(f"b-{n}", GENAI, now, now, "/x", "local", {}, "0" * 64, len(members), None)
        store.builds.register_pending(record, _table(members))
        store.builds.mark_complete(record.build_id)
    for n, member in enumerate(ids):
        expected = ["b-0", "b-1"] if n % 2 == 0 else ["b-0"]
        assert [b.build_id for b in builds_for_member(store, member)] == expected, member
    for absent in ["", "A", "c", "zz", "ü0", "\U0010ffff"]:
        assert builds_for_member(store, absent) == [], absent
    assert build_members(store, "b-0").column("member_id").to_pylist() == sorted(ids, key=str.encode)


def test_the_migration_moves_member_rows_into_sets_and_back(store_url: str) -> None:
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "0002") as conn:
        for n, build_id in enumerate(["b-1", "b-2"]):
            conn.execute(
                sa.text(
                    "INSERT INTO builds (build_id, purpose, as_of_us, decided_us, created_us, status, out_dir, "
                    "engine, scrub, sources, counts, manifest_sha256, members, predecessor) VALUES "
                    "(:b, 'genai_training', 0, 0, :n, 'complete', '/x', 'local', false, '[]', '{}', NULL, 2, NULL)"
                ),
                {"b": build_id, "n": n},
            )
        rows = [("b-1", "m2", 3), ("b-1", "m1", 1), ("b-2", "m2", 7), ("b-2", "ü", 2)]
        conn.execute(
            sa.text("INSERT INTO build_members (build_id, member_id, records) VALUES (:b, :m, :r)"),
            [{"b": b, "m": m, "r": r} for b, m, r in rows],
        )
    eng.dispose()

    store = open_store(store_url)  # upgrades to every head: the rows become sets
    assert [b.build_id for b in list_builds(store)] == ["b-1", "b-2"]
    assert build_members(store, "b-1").to_pylist() == [
        {"member_id": "m1", "records": 1},
        {"member_id": "m2", "records": 3},
    ]
    assert [b.build_id for b in builds_for_member(store, "m2")] == ["b-1", "b-2"]
    assert [b.build_id for b in builds_for_member(store, "ü")] == ["b-2"]
    assert builds_for_member(store, "m3") == []
    with store._engine.connect() as conn:
        assert not sa.inspect(conn).has_table("build_members")
        assert conn.execute(sa.text("SELECT count(*) FROM build_member_chunks")).scalar() == 2

    with migrated(store._engine, "downgrade", "0002") as conn:
        back = conn.execute(sa.text("SELECT build_id, member_id, records FROM build_members")).all()
    assert sorted(tuple(r) for r in back) == sorted(rows)
    store.close()
