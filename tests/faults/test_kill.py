"""kill -9 at seeded random points, 20 trials per operation, on SQLite and PostgreSQL.

After every kill: every acknowledged write is there, nothing half-imported is
visible, the chain verifies, and the store opens and takes the next write.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentry.policy import Policy
from consentry.store import Member, SqlStore, open_store
from consentry.vocab import CaseStatus, Choice

from .conftest import Outcome, assert_kills_landed, kill_delays, killed_run, reference_span

pytestmark = pytest.mark.faults

BATCH = 4_000


@pytest.fixture
def base(store: SqlStore, store_url: str, reference_policy: Policy) -> tuple[SqlStore, str]:
    from datetime import UTC, date, datetime

    store.publish(reference_policy)
    store.add_members([Member("m1", "US", date(1990, 1, 1), datetime(2020, 1, 1, tzinfo=UTC))])
    return store, store_url


def _members_file(path: Path, prefix: str) -> Path:
    rows = (
        {
            "member_id": f"{prefix}-{i:05d}",
            "country": "US",
            "birth_date": "1990-01-01",
            "created_at": "2021-01-01T00:00:00Z",
        }
        for i in range(BATCH)
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _events_file(path: Path, trial: int) -> Path:
    rows = (
        {
            "member_id": "m1",
            "purpose": "genai_training",
            "choice": "deny" if i % 2 else "allow",
            "at": f"2024-03-{trial + 1:02d}T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "source": "import",
        }
        for i in range(BATCH)
    )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _intact(store: SqlStore) -> None:
    report = store.verify()
    assert report.ok, report


def test_member_imports_are_all_or_nothing(base: tuple[SqlStore, str], tmp_path: Path) -> None:
    _, url = base
    span = reference_span("members", url, str(_members_file(tmp_path / "ref.jsonl", "ref")))
    outcomes = []
    for trial, delay in enumerate(kill_delays(seed=1, span=span)):
        prefix = f"t{trial:02d}"
        out = killed_run("members", url, str(_members_file(tmp_path / f"{prefix}.jsonl", prefix)), delay=delay)
        outcomes.append(out)
        fresh = open_store(url)
        try:
            ids = {m for m in fresh.members_table().column("member_id").to_pylist() if m.startswith(prefix)}
            assert len(ids) in (0, BATCH), f"trial {trial}: {len(ids)} of {BATCH} members visible"
            if out.done:
                assert len(ids) == BATCH, f"trial {trial}: acknowledged import missing"
            _intact(fresh)
        finally:
            fresh.close()
    assert_kills_landed(outcomes)


def test_event_imports_are_all_or_nothing(base: tuple[SqlStore, str], tmp_path: Path) -> None:
    store, url = base
    span = reference_span("events", url, str(_events_file(tmp_path / "ref.jsonl", 27)))
    before = store.head()[0]
    outcomes = []
    for trial, delay in enumerate(kill_delays(seed=2, span=span)):
        out = killed_run("events", url, str(_events_file(tmp_path / f"e{trial}.jsonl", trial)), delay=delay)
        outcomes.append(out)
        fresh = open_store(url)
        try:
            events, _ = fresh.head()
            assert events - before in (0, BATCH), f"trial {trial}: {events - before} of {BATCH} events visible"
            if out.done:
                assert events - before == BATCH, f"trial {trial}: acknowledged import missing"
            _intact(fresh)
            before = events
        finally:
            fresh.close()
    assert_kills_landed(outcomes)


def _acks(out: Outcome) -> list[tuple[str, str]]:
    return [(parts[1], parts[2]) for parts in (line.split() for line in out.lines) if parts[:1] == ["ack"]]


def test_consent_choices_survive_and_the_last_acknowledged_wins(base: tuple[SqlStore, str]) -> None:
    _, url = base
    span = reference_span("choices", url, "m1", "100")
    outcomes = []
    for trial, delay in enumerate(kill_delays(seed=3, span=span)):
        out = killed_run("choices", url, "m1", "100", delay=delay)
        outcomes.append(out)
        fresh = open_store(url)
        try:
            _intact(fresh)
            acks = _acks(out)
            for event_id, choice in acks:
                assert fresh.event(int(event_id)).choice == Choice(choice), f"trial {trial}: event {event_id} lost"
            if acks:
                last_acked = int(acks[-1][0])
                state = fresh.state("m1", "genai_training")
                assert state is not None
                # The state is the last acknowledged choice, or one written after it whose ack the kill cut off.
                assert state.event_id >= last_acked, f"trial {trial}: state {state.event_id} < acked {last_acked}"
                assert state.event_id == fresh.head()[0]
        finally:
            fresh.close()
    assert_kills_landed(outcomes)


def test_objection_decisions_are_whole(base: tuple[SqlStore, str]) -> None:
    _, url = base
    span = reference_span("objections", url, "m1", "40")
    outcomes = []
    for trial, delay in enumerate(kill_delays(seed=4, span=span)):
        out = killed_run("objections", url, "m1", "40", delay=delay)
        outcomes.append(out)
        fresh = open_store(url)
        try:
            _intact(fresh)
            for case_id, outcome in _acks(out):
                assert fresh.objection(case_id).status == CaseStatus(outcome), f"trial {trial}: {case_id}"
            # No case is upheld without its deny, and no deny from a case whose decision did not stick.
            events = fresh.events("m1", "personalization")
            denied_cases = {e.case_id for e in events if e.case_id is not None}
            for case in fresh.objections(member_id="m1"):
                upheld = case.status == CaseStatus.UPHELD
                assert upheld == (case.case_id in denied_cases), f"trial {trial}: case {case.case_id} half-decided"
        finally:
            fresh.close()
    assert_kills_landed(outcomes)
