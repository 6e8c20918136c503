"""The canaries a build planted and their controls, kept in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from migrating import migrated
from sqlalchemy import inspect

from consentry.errors import StoreError
from consentry.store import SqlStore, database
from consentry.store.builds import BuildRecord
from consentry.store.canaries import CanaryRecord, CanarySet

T = datetime(2026, 1, 1, tzinfo=UTC)


def _register(store: SqlStore, build_id: str) -> None:
    record = BuildRecord(build_id, "genai_training", T, T, f"/out/{build_id}", "local", {}, None, 1, None)
    members = pa.table({"member_id": ["m1"], "records": pa.array([3], pa.int64())})
    store.builds.register_pending(record, members)


def _canaries(build_id: str) -> list[CanaryRecord]:
    return [
        CanaryRecord("c-1", build_id, "my verification code is 1 2 3 4 5 6 7 8", True, "m1", 0, 3, ("r1", "r2")),
        CanaryRecord("c-2", build_id, "my verification code is 0 0 0 0 0 0 0 9", True, "m2", 2, 1, ("r9",)),
        CanaryRecord("k-1", build_id, "my verification code is 5 5 5 5 5 5 5 5", False),
        CanaryRecord("k-2", build_id, "my verification code is 4 4 4 4 4 4 4 4", False),
    ]


def test_a_builds_canaries_and_controls_come_back_as_recorded(store: SqlStore) -> None:
    for b in ("b1", "b2", "b3"):
        _register(store, b)
    store.canaries.record(CanarySet("b1", b"s" * 32, b"t" * 32, "ab" * 32, 2), _canaries("b1"))
    store.canaries.record(CanarySet("b2", b"u" * 32, b"v" * 32, "cd" * 32, 2), list(reversed(_canaries("b2"))))
    got = store.canaries.canaries_for_builds(["b2", "b1", "b3", "nope"])
    assert [(c.build_id, c.canary_id) for c in got] == [
        (b, c) for b in ("b1", "b2") for c in ("c-1", "c-2", "k-1", "k-2")
    ]
    assert got[:4] == _canaries("b1")
    assert [c.planted for c in got[:4]] == [True, True, False, False]
    assert got[2].member_id is None and got[2].record_ids == () and got[2].repeats == 0
    assert store.canaries.canaries_for_builds([]) == []
    assert store.canaries.canary_set("b1") == CanarySet("b1", b"s" * 32, b"t" * 32, "ab" * 32, 2)
    assert store.canaries.canary_set("b3") is None


def test_canaries_need_their_build_and_go_with_a_discarded_one(store: SqlStore) -> None:
    with pytest.raises(StoreError):
        store.canaries.record(CanarySet("ghost", b"s", b"t", "ab" * 32, 2), _canaries("ghost"))
    _register(store, "b1")
    with pytest.raises(ValueError, match="canary set's build"):
        store.canaries.record(CanarySet("b1", b"s", b"t", "ab" * 32, 2), _canaries("b2"))
    store.canaries.record(CanarySet("b1", b"s", b"t", "ab" * 32, 2), _canaries("b1"))
    with pytest.raises(StoreError):  # a build's canaries are recorded once
        store.canaries.record(CanarySet("b1", b"s", b"t", "ab" * 32, 2), [])
    assert len(store.canaries.canaries_for_builds(["b1"])) == 4
    store.builds.discard_pending("b1")
    assert store.canaries.canaries_for_builds(["b1"]) == []
    assert store.canaries.canary_set("b1") is None


def test_0020_adds_the_canary_tables_and_a_downgrade_removes_them(store_url: str) -> None:
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "heads") as conn:
        assert {"build_canaries", "build_canary_sets"} <= set(inspect(conn).get_table_names())
    with migrated(eng, "downgrade", "0013") as conn:
        assert not {"build_canaries", "build_canary_sets"} & set(inspect(conn).get_table_names())
    with migrated(eng, "upgrade", "heads") as conn:
        assert {"build_canaries", "build_canary_sets"} <= set(inspect(conn).get_table_names())
    eng.dispose()
