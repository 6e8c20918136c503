"""The hash chain: verify() finds the first changed, removed or reordered event; appends never fork."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import text

from consentry.store import NewEvent, SqlStore
from consentry.store.chain import EMPTY_HASH, event_hash
from consentry.vocab import Choice, Source

from .conftest import t


def _fill(store: SqlStore, n: int = 6) -> None:
    for i in range(n):
        store.record(
            NewEvent(
                "m1" if i % 2 else "m2",
                "genai_training",
                Choice.DENY if i % 3 else Choice.ALLOW,
                t(f"2025-01-{i + 1:02d}T00:00:00Z"),
                Source.SETTINGS,
            )
        )


def _sql(store: SqlStore, sql: str) -> None:
    with store._engine.begin() as c:
        c.execute(text(sql))


def test_empty_ledger(store: SqlStore) -> None:
    assert store.head() == (0, EMPTY_HASH)
    report = store.verify()
    assert report.ok and report.events == 0 and report.head_hash == EMPTY_HASH


def test_chain_links_each_event_to_the_previous(ready: SqlStore) -> None:
    _fill(ready)
    events = ready.events()
    assert [e.event_id for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == EMPTY_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert ready.head() == (6, events[-1].hash)
    report = ready.verify()
    assert report.ok and report.events == 6 and report.head_hash == events[-1].hash


def test_hash_covers_the_documented_canonical_fields(ready: SqlStore) -> None:
    _fill(ready, 1)
    (e,) = ready.events()
    fields = (
        1,
        "m2",
        "genai_training",
        "allow",
        1735689600000000,
        _us(e.recorded_at),
        "settings",
        None,
        "2024-11-20",
        None,
        None,
    )
    assert e.hash == event_hash(EMPTY_HASH, fields)


def _us(dt: object) -> int:
    from consentry.store.schema import to_us

    assert hasattr(dt, "tzinfo")
    return to_us(dt)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ("UPDATE consent_events SET choice = 'allow' WHERE event_id = 3", 3),
        ("UPDATE consent_events SET at_us = at_us + 1 WHERE event_id = 5", 5),
        ("UPDATE consent_events SET source = 'admin' WHERE event_id = 1", 1),
        ("DELETE FROM consent_events WHERE event_id = 4", 5),
        ("UPDATE consent_events SET event_id = event_id + 100 WHERE event_id = 2", 3),
    ],
    ids=["choice-changed", "time-changed", "source-changed", "removed", "moved"],
)
def test_verify_reports_first_bad_event(ready: SqlStore, tamper: str, first_bad: int) -> None:
    _fill(ready)
    _sql(ready, tamper)
    report = ready.verify()
    assert not report.ok
    assert report.first_bad_event == first_bad
    assert report.problem


def test_verify_detects_two_events_swapped(ready: SqlStore) -> None:
    _fill(ready)
    # Swap every column but the id between events 2 and 3: a reordering.
    cols = "member_id, purpose, choice, at_us, recorded_us, source, actor, policy_version, prev_hash, hash"
    with ready._engine.begin() as c:
        r2 = c.execute(text(f"SELECT {cols} FROM consent_events WHERE event_id = 2")).one()
        r3 = c.execute(text(f"SELECT {cols} FROM consent_events WHERE event_id = 3")).one()
        names = [n.strip() for n in cols.split(",")]
        for eid, row in ((2, r3), (3, r2)):
            sets = ", ".join(f"{n} = :{n}" for n in names)
            c.execute(
                text(f"UPDATE consent_events SET {sets} WHERE event_id = {eid}"), dict(zip(names, row, strict=True))
            )
    report = ready.verify()
    assert not report.ok and report.first_bad_event == 2


def test_verify_detects_removal_of_the_last_event(ready: SqlStore) -> None:
    _fill(ready)
    _sql(ready, "DELETE FROM consent_events WHERE event_id = 6")
    report = ready.verify()
    assert not report.ok
    assert report.events == 5
    assert "head" in (report.problem or "")


@pytest.mark.parametrize("writers", [8])
def test_concurrent_appends_never_fork_or_lose_events(ready: SqlStore, writers: int) -> None:
    per_writer = 25
    errors: list[BaseException] = []

    def work(w: int) -> None:
        try:
            for i in range(per_writer):
                ready.record(
                    NewEvent(
                        ("m1", "m2", "m3")[i % 3],
                        "genai_training",
                        Choice.DENY if (w + i) % 2 else Choice.ALLOW,
                        t("2025-02-01T00:00:00Z"),
                        Source.API,
                        actor=f"writer-{w}",
                    )
                )
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    report = ready.verify()
    assert report.ok, report
    assert report.events == writers * per_writer
    assert [e.event_id for e in ready.events()] == list(range(1, writers * per_writer + 1))
