"""Point-in-time snapshots, checked against hand-made cases and a naive model of the events."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from consentry.policy import Policy
from consentry.store import SNAPSHOT_SCHEMA, Member, NewEvent, SqlStore, member_image, snapshot
from consentry.vocab import CaseStatus, Choice, Source

from .conftest import t

BASE = t("2025-01-01T00:00:00Z")


def test_snapshot_schema_and_rows(ready: SqlStore) -> None:
    ready.record(NewEvent("m1", "genai_training", Choice.DENY, t("2025-01-10T00:00:00Z"), Source.SETTINGS))
    ready.record(NewEvent("m1", "genai_training", Choice.ALLOW, t("2025-02-10T00:00:00Z"), Source.API))
    ready.record(NewEvent("m2", "genai_training", Choice.DENY, t("2025-03-10T00:00:00Z"), Source.IMPORT))
    case = ready.file_objection("m3", ["genai_training"], t("2025-01-05T00:00:00Z"))
    snap = ready.snapshot("genai_training", t("2025-02-01T00:00:00Z"), now=t("2025-06-01T00:00:00Z"))
    assert snap.schema == SNAPSHOT_SCHEMA
    rows = {r["member_id"]: r for r in snap.to_pylist()}
    assert list(rows) == ["m1", "m2", "m3"]
    m1, m2, m3 = rows["m1"], rows["m2"], rows["m3"]
    assert (m1["at_choice"], m1["at_source"], m1["at_event_id"]) == ("deny", "settings", 1)
    assert (m1["now_choice"], m1["now_source"], m1["now_event_id"]) == ("allow", "api", 2)
    assert (m2["at_choice"], m2["now_choice"], m2["now_event_id"]) == (None, "deny", 3)
    assert m1["birth_date"] == date(1990, 5, 1) and m1["country"] == "US"
    assert m3["country"] is None and m3["closed_at"] == datetime(2025, 1, 1, tzinfo=UTC)
    assert (m3["at_case_id"], m3["now_case_id"]) == (case.case_id, case.case_id)
    ready.decide_objection(case.case_id, CaseStatus.REJECTED, t("2025-03-01T00:00:00Z"), grounds="g")
    snap = ready.snapshot("genai_training", t("2025-02-01T00:00:00Z"), now=t("2025-06-01T00:00:00Z"))
    m3 = snap.to_pylist()[2]
    assert (m3["at_case_id"], m3["now_case_id"]) == (case.case_id, None)


def test_now_defaults_to_the_present_and_ignores_future_events(ready: SqlStore) -> None:
    ready.record(NewEvent("m1", "genai_training", Choice.DENY, datetime.now(UTC) + timedelta(minutes=4), Source.API))
    row = ready.snapshot("genai_training", BASE).to_pylist()[0]
    assert row["now_choice"] is None


def test_empty_store_gives_an_empty_snapshot(store: SqlStore) -> None:
    snap = store.snapshot("genai_training", BASE)
    assert snap.num_rows == 0 and snap.schema == SNAPSHOT_SCHEMA


def test_csv_fast_path_agrees_with_row_by_row(
    sqlite_store: SqlStore, reference_policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import MEMBERS

    sqlite_store.publish(reference_policy)
    sqlite_store.add_members(MEMBERS)
    for i in range(30):
        sqlite_store.record(
            NewEvent(
                MEMBERS[i % 3].member_id,
                "genai_training",
                Choice(("allow", "deny")[i % 2]),
                BASE + timedelta(hours=i),
                Source.API,
            )
        )
    at = BASE + timedelta(hours=13)
    fast = sqlite_store.snapshot("genai_training", at, now=BASE + timedelta(days=3))
    # the same in CSV chunks of 2 rows (SQLite caps one text at 1 GB: ~25M members at once)
    monkeypatch.setattr(snapshot, "SQLITE_CHUNK_ROWS", 2)
    monkeypatch.setattr(sqlite_store, "_members_cache", None)
    chunked = sqlite_store.snapshot("genai_training", at, now=BASE + timedelta(days=3))
    assert chunked.equals(fast) and fast.num_rows > 2
    # SqlStore.snapshot imports build_snapshot from its module when called
    monkeypatch.setattr(snapshot, "build_snapshot", functools.partial(snapshot.build_snapshot, fast=False))
    monkeypatch.setattr(member_image, "fetch_members", functools.partial(snapshot.fetch_members, fast=False))
    monkeypatch.setattr(sqlite_store, "_members_cache", None)
    slow = sqlite_store.snapshot("genai_training", at, now=BASE + timedelta(days=3))
    assert fast.equals(slow)


# --- property: snapshot() and state() agree with a naive model -----------------------------

PURPOSES = ["genai_training", "personalization"]
IDS = ["a", "b", "c", "d"]
events_st = st.lists(
    st.tuples(st.sampled_from(IDS[:3]), st.sampled_from(PURPOSES), st.sampled_from(list(Choice)), st.integers(0, 6)),
    max_size=25,
)
cases_st = st.lists(
    st.tuples(
        st.sampled_from(IDS[:3]), st.sampled_from(PURPOSES), st.integers(0, 6), st.one_of(st.none(), st.integers(0, 6))
    ),
    max_size=4,
)


def _wipe(store: SqlStore) -> None:
    with store._engine.begin() as c:
        for table in ("objection_case_purposes", "objection_cases", "consent_events", "members"):
            c.execute(text(f"DELETE FROM {table}"))
        c.execute(text(f"UPDATE ledger_head SET events = 0, last_event_id = 0, hash = '{'0' * 64}'"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=events_st, cases=cases_st, at_day=st.integers(0, 7), now_day=st.integers(0, 7))
def test_snapshot_matches_naive_model(
    store: SqlStore,
    reference_policy: Policy,
    events: list[tuple[str, str, Choice, int]],
    cases: list[tuple[str, str, int, int | None]],
    at_day: int,
    now_day: int,
) -> None:
    _wipe(store)
    store.publish(reference_policy)
    store.add_members([Member(m, "US", None, BASE) for m in IDS])
    day = lambda d: BASE + timedelta(days=d)  # noqa: E731
    store.record_many(NewEvent(m, p, c, day(d), Source.API) for m, p, c, d in events)
    opened: list[tuple[str, str, str, int, int | None]] = []
    for m, p, received, decided in cases:
        case = store.file_objection(m, [p], day(received))
        if decided is not None and decided >= received:
            store.decide_objection(case.case_id, CaseStatus.REJECTED, day(decided), grounds="g")
            opened.append((case.case_id, m, p, received, decided))
        else:
            opened.append((case.case_id, m, p, received, None))
    numbered = list(enumerate(events, start=1))

    def latest(m: str, p: str, upto: int) -> tuple[str, int] | None:
        hits = [(d, eid, c.value) for eid, (mm, pp, c, d) in numbered if mm == m and pp == p and d <= upto]
        if not hits:
            return None
        _d, eid, c = max(hits)
        return c, eid

    def open_case(m: str, p: str, when: int) -> str | None:
        hits = [
            (r, cid)
            for cid, mm, pp, r, dec in opened
            if mm == m and pp == p and r <= when and (dec is None or dec > when)
        ]
        return max(hits)[1] if hits else None

    for p in PURPOSES:
        snap = store.snapshot(p, day(at_day), now=day(now_day))
        assert snap.column("member_id").to_pylist() == IDS
        for row in snap.to_pylist():
            m = row["member_id"]
            for prefix, when in (("at", at_day), ("now", now_day)):
                want = latest(m, p, when)
                got = (row[f"{prefix}_choice"], row[f"{prefix}_event_id"]) if row[f"{prefix}_choice"] else None
                assert got == want
                if prefix == "at":
                    state = store.state(m, p, day(when))
                    assert (None if state is None else (state.choice.value, state.event_id)) == want
            if not any(r == d for _, _, _, r, d in opened):  # a same-instant decide is ambiguous by design
                assert row["at_case_id"] == open_case(m, p, at_day)
                assert row["now_case_id"] == open_case(m, p, now_day)

    # Several moments from one read of the ledger: each the snapshot of its moment alone (one after `now` too)
    for p in PURPOSES:
        moments = [day(at_day), day(7 - at_day), day(8)]
        several = store.snapshots(p, moments, now=day(now_day))
        assert [s.to_pylist() for s in several] == [store.snapshot(p, m, now=day(now_day)).to_pylist() for m in moments]
