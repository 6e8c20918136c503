"""Concurrent writers on one store, on SQLite and PostgreSQL: all succeed or fail cleanly, nothing is half-written.

- Two member imports at once (and two event imports at once), started together:
  each lands whole or fails with a Consentry error; rows both files hold come
  whole from one of them; the chain verifies.
- 200 `consentry consent set` processes on one member, in waves of 25 released
  at once: each exits 0 having printed its event, or 1 with one line on stderr
  having written nothing; the chain verifies; the state, the snapshot and
  `decide` all answer with the last acknowledged choice (acknowledged order is
  event-id order: `at` is stamped inside the store's write lock).

The processes are forked from one that imported the command line once
(tests/faults/setters.py): 200 interpreter starts would cost ~0.7 CPU-seconds
each on top of the writes. tests/store/test_concurrent_writers.py covers 64
threads with their own stores and 8 interpreter processes.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pyarrow.compute as pc
import pytest

from consentry.decide import decide_for
from consentry.policy import Policy
from consentry.store import ConsentEvent, Member, SqlStore
from consentry.timeutil import utcnow
from consentry.vocab import Choice

from .conftest import Outcome, _finish, _go, _start
from .setters import choice

pytestmark = pytest.mark.faults

PURPOSE = "genai_training"
SETTERS = 200
WAVE = 25
ROWS = 3_000
SHARED = 1_000  # member ids both files hold


@pytest.fixture
def base(store: SqlStore, store_url: str, reference_policy: Policy) -> tuple[SqlStore, str]:
    from datetime import UTC, date, datetime

    store.publish(reference_policy)
    store.add_members([Member("m1", "US", date(1990, 1, 1), datetime(2020, 1, 1, tzinfo=UTC))])
    return store, store_url


def _members_file(path: Path, own: str, country: str) -> Path:
    ids = [f"shared-{i:05d}" for i in range(SHARED)] + [f"{own}-{i:05d}" for i in range(ROWS - SHARED)]
    rows = ({"member_id": m, "country": country, "birth_date": "", "created_at": "2021-01-01T00:00:00Z"} for m in ids)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _events_file(path: Path, day: int) -> Path:
    rows = (
        {"member_id": "m1", "purpose": PURPOSE, "choice": "deny" if i % 2 else "allow", "source": "import",
         "at": f"2024-03-{day:02d}T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"}
        for i in range(ROWS)
    )  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _together(op: str, url: str, files: list[Path]) -> list[Outcome]:
    """Start one child per file, release them together, and wait for both."""
    children = [_start(op, url, str(f)) for f in files]
    for child in children:
        _go(child)
    outcomes = [_finish(child, killed=False) for child in children]
    for child, out in zip(children, outcomes, strict=True):
        if child.proc.returncode != 0:  # a clean failure: a Consentry error, nothing else
            assert "consentry.errors." in out.stderr.strip().splitlines()[-1], out.stderr[-2000:]
    return outcomes


def test_two_member_imports_at_once(base: tuple[SqlStore, str], tmp_path: Path) -> None:
    store, url = base
    for trial in range(3):
        files = [_members_file(tmp_path / f"{p}{trial}.jsonl", f"{p}{trial}", c) for p, c in (("a", "US"), ("b", "DE"))]
        outcomes = _together("members", url, files)
        table = store.members_table().to_pylist()
        country = {r["member_id"]: r["country"] for r in table}
        for prefix, out in zip(("a", "b"), outcomes, strict=True):
            own = [m for m in country if m.startswith(f"{prefix}{trial}-")]
            assert len(own) == (ROWS - SHARED if out.done else 0), f"trial {trial}: {len(own)} of {prefix}'s rows"
        shared = {country[m] for m in country if m.startswith("shared-")}
        if any(o.done for o in outcomes):
            assert len(shared) == 1, f"trial {trial}: the shared rows mix both files: {shared}"
            assert sum(1 for m in country if m.startswith("shared-")) == SHARED
        assert store.verify().ok


def test_two_event_imports_at_once(base: tuple[SqlStore, str], tmp_path: Path) -> None:
    store, url = base
    outcomes = _together("events", url, [_events_file(tmp_path / f"e{d}.jsonl", d) for d in (1, 2)])
    events = store.events(member_id="m1", purpose=PURPOSE)
    assert len(events) == ROWS * sum(o.done for o in outcomes)
    report = store.verify()
    assert report.ok, report


def test_200_consent_set_processes_on_one_member(base: tuple[SqlStore, str], tmp_path: Path) -> None:
    store, url = base
    outdir = tmp_path / "setters"
    outdir.mkdir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("setters.py")), "m1", str(SETTERS), str(WAVE), str(outdir)],
        env={**_env(), "CONSENTRY_DB": url},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert run.returncode == 0, run.stderr[-2000:]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 120, f"{cpu:.0f} CPU-seconds for {SETTERS} processes"
    codes = {int(i): c for i, c in json.loads(run.stdout).items()}
    assert sorted(codes) == list(range(SETTERS))
    acked: dict[int, int] = {}  # event id -> process
    for i, code in codes.items():
        out, err = (outdir / f"{i}.out").read_text(), (outdir / f"{i}.err").read_text()
        if code == 0:
            acked[json.loads(out)["event_id"]] = i
        else:  # failed cleanly: one line, exit 1
            assert code == 1 and len(err.strip().splitlines()) == 1 and err.startswith("error: "), (code, err[-500:])
    stored = store.events(member_id="m1", purpose=PURPOSE)
    assert {e.event_id for e in stored} == set(acked), "an event without its acknowledgement, or the reverse"
    assert [e.actor for e in stored] == [f"setter-{acked[e.event_id]}" for e in stored]
    _assert_last_acknowledged_wins(store, stored, acked)
    print(f"{SETTERS} processes: {len(acked)} acknowledged, {cpu:.1f} CPU-seconds")  # shown with -s


def _env() -> dict[str, str]:
    return dict(os.environ)


def _assert_last_acknowledged_wins(store: SqlStore, stored: list[ConsentEvent], acked: dict[int, int]) -> None:
    """The chain verifies and every reader answers with the event acknowledged last (the highest id)."""
    last = max(stored, key=lambda e: e.event_id)
    assert last.choice is Choice(choice(acked[last.event_id]))
    inverted = [(a.event_id, b.event_id) for a, b in pairwise(stored) if b.at < a.at]
    assert inverted == [], f"{len(inverted)} events stamped before an event acknowledged earlier"
    report = store.verify()
    assert report.ok, report
    now = utcnow()
    assert store.state("m1", PURPOSE).event_id == last.event_id  # type: ignore[union-attr]
    snap = store.snapshot(PURPOSE, now)
    row = snap.filter(pc.equal(snap.column("member_id"), "m1")).to_pylist()[0]
    assert (row["now_event_id"], row["now_choice"]) == (last.event_id, last.choice)
    decision = decide_for(store, "m1", PURPOSE, at=now)
    assert decision.event_id == last.event_id
    assert decision.allowed is (last.choice is Choice.ALLOW)
