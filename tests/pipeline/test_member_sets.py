"""Build member sets stored as one value: round trips, probes, and the migration from per-member rows."""

from __future__ import annotations

import pyarrow as pa
import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.ledger import engine, open_store
from consentry.pipeline import member_sets
from consentry.pipeline.registry import build_members, builds_for_member, list_builds

_ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


def _table(ids: list[str]) -> pa.Table:
    return pa.table({"member_id": ids, "records": pa.array(range(1, len(ids) + 1), pa.int64())})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(_ids, unique=True, max_size=60), probes=st.lists(_ids, max_size=10))
def test_round_trip_and_probes_agree_with_the_set(
    members: list[str], probes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(member_sets, "ROW_GROUP_MEMBERS", 4)  # many row groups: the probe must pick the right one
    data = member_sets.encode(_table(members))
    decoded = member_sets.decode(data)
    pairs = sorted(zip(members, range(1, len(members) + 1), strict=True), key=lambda p: p[0].encode())
    assert decoded.to_pylist() == [{"member_id": m, "records": n} for m, n in pairs]
    for probe in [*probes, *members[:5]]:
        assert member_sets.contains(data, probe) == (probe in members), probe


def test_probe_without_statistics_reads_every_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(_table(["b", "a", "d", "c"]), sink, row_group_size=2, write_statistics=False)
    data = bytes(sink.getvalue())
    assert all(member_sets.contains(data, m) for m in "abcd")
    assert not member_sets.contains(data, "e")


def test_the_migration_moves_member_rows_into_sets_and_back(store_url: str) -> None:
    eng = engine.create_store_engine(store_url)
    with eng.connect().execution_options(**engine.WRITE) as conn, conn.begin():
        cfg = engine._alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
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
    with store.engine.connect() as conn:
        assert not sa.inspect(conn).has_table("build_members")

    with store.engine.connect().execution_options(**engine.WRITE) as conn, conn.begin():
        cfg = engine._alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
        back = conn.execute(sa.text("SELECT build_id, member_id, records FROM build_members")).all()
    assert sorted(tuple(r) for r in back) == sorted(rows)
    store.close()
