"""The store's fast paths give the same answers as the plain ones.

Bulk appends (foreign keys checked by the store, the snapshot index rebuilt
after a large batch), the canonical JSON encoder, the members cache behind
snapshots, and a member's facts read in one go.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentry.errors import InputError
from consentry.store import Member, NewEvent, SqlStore, appender, open_store, sql
from consentry.store.chain import canonical_json
from consentry.vocab import CaseStatus, Choice, Source

from .conftest import MEMBERS, t

BASE = t("2025-01-01T00:00:00Z")
PURPOSES = ("genai_training", "personalization", "content_moderation")

_reference = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
field = st.one_of(st.none(), st.integers(-(2**63), 2**63), st.text(), st.booleans())


@given(st.lists(field, max_size=12).map(tuple))
def test_canonical_json_is_the_documented_compact_json(fields: tuple[Any, ...]) -> None:
    assert canonical_json(fields) == _reference(fields)


def _batch(n: int, members: list[str]) -> list[NewEvent]:
    return [
        NewEvent(
            members[i % len(members)],
            PURPOSES[i % 3],
            Choice.DENY if i % 4 else Choice.ALLOW,
            BASE + timedelta(minutes=i),
            Source.IMPORT,
            idempotency_key=f"k{i}" if i % 5 == 0 else None,
        )
        for i in range(n)
    ]


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the bulk paths from a handful of events on."""
    monkeypatch.setattr(sql, "_BULK_EVENTS", 5)
    monkeypatch.setattr(appender, "_REBUILD_MIN", 5)


@pytest.mark.usefixtures("small_bulk")
def test_bulk_appends_keep_the_chain_keys_and_index(ready: SqlStore) -> None:
    ids = [m.member_id for m in MEMBERS]
    small = ready.record_many(_batch(3, ids))  # row by row, foreign keys on
    assert small == 3
    batch = _batch(40, ids)
    assert ready.record_many(batch) == 40 - 1  # k0 was recorded by the first batch
    assert ready.record_many(batch) == 40 - 8  # the 8 keyed events repeat; the others are new again
    report = ready.verify()
    assert report.ok and report.events == ready.head()[0]
    events = ready.events()
    assert [e.event_id for e in events] == list(range(1, len(events) + 1))
    with ready._engine.connect() as c:
        indexes = set(c.exec_driver_sql(_INDEX_SQL[c.dialect.name]).scalars())
    assert "ix_consent_events_purpose_member_at" in indexes
    for p in PURPOSES:
        snap = {r["member_id"]: r for r in ready.snapshot(p, BASE + timedelta(days=1)).to_pylist()}
        for m in ids:
            state = ready.state(m, p, BASE + timedelta(days=1))
            assert snap[m]["at_event_id"] == (state.event_id if state else None)


_INDEX_SQL = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index'",
    "postgresql": (
        "SELECT indexname FROM pg_indexes WHERE tablename = 'consent_events' AND schemaname = current_schema()"
    ),
}


@pytest.mark.usefixtures("small_bulk")
@pytest.mark.parametrize("before", [0, 40], ids=["index-rebuilt", "index-kept"])
def test_bulk_append_naming_an_unknown_member_writes_nothing(ready: SqlStore, before: int) -> None:
    if before:
        ready.record_many(_batch(before, ["m1", "m2"]))
    head = ready.head()
    batch = [*_batch(10, ["m3", "m2"]), NewEvent("ghost", "genai_training", Choice.DENY, BASE, Source.IMPORT)]
    with pytest.raises(InputError, match="not in the store"):
        ready.record_many(batch)
    assert ready.head() == head and ready.verify().ok
    assert ready.events(member_id="m3") == []


@pytest.mark.usefixtures("small_bulk")
def test_foreign_keys_are_back_on_after_a_bulk_append(sqlite_store: SqlStore, reference_policy: Any) -> None:
    sqlite_store.publish(reference_policy)
    sqlite_store.add_members(MEMBERS)
    sqlite_store.record_many(_batch(20, ["m1", "m2"]))
    with pytest.raises(InputError):
        sqlite_store.record_many(
            [*_batch(20, ["m1"]), NewEvent("ghost", "genai_training", Choice.DENY, BASE, Source.API)]
        )
    pool = sqlite_store._engine.pool
    conns = [pool.connect() for _ in range(3)]  # the pooled connections the appends used, and more
    try:
        for conn in conns:
            assert conn.driver_connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    finally:
        for conn in conns:
            conn.close()


def test_snapshot_members_follow_changes_from_another_store(ready: SqlStore) -> None:
    before = ready.snapshot("genai_training", BASE)
    assert before.num_rows == 3
    other = open_store(ready._engine.url.render_as_string(hide_password=False))
    try:
        other.add_members([Member("m4", "FR", None, BASE)])
        other.close_account("m1", BASE)
    finally:
        other.close()
    after = {r["member_id"]: r for r in ready.snapshot("genai_training", BASE).to_pylist()}
    assert set(after) == {"m1", "m2", "m3", "m4"}
    assert after["m1"]["closed_at"] == BASE and after["m4"]["country"] == "FR"
    assert ready.members_table().num_rows == 4


def test_member_facts_agree_with_the_separate_reads(ready: SqlStore) -> None:
    assert ready.member_facts("nobody") is None
    ready.record_many(_batch(9, ["m1", "m2"]))
    case = ready.file_objection("m1", ["personalization", "content_moderation"], BASE + timedelta(hours=1))
    ready.file_objection("m1", ["personalization"], BASE + timedelta(hours=2))
    ready.decide_objection(case.case_id, CaseStatus.UPHELD, BASE + timedelta(hours=3))
    for member_id in ("m1", "m2", "m3"):
        facts = ready.member_facts(member_id)
        assert facts is not None
        assert facts.member == ready.member(member_id)
        assert list(facts.events) == ready.events(member_id=member_id)
        assert list(facts.cases) == ready.objections(member_id=member_id)
    facts = ready.member_facts("m1")
    assert facts is not None and len(facts.cases) == 2 and facts.cases[0].purposes == tuple(sorted(case.purposes))
