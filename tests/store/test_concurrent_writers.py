"""Concurrent writers on one member: the choice acknowledged last is the one in effect.

Every writer has its own store (its own engine and connections), as separate
processes would. Acknowledged order is event-id order: ids are handed out under
the ledger's write lock. `state()`, `snapshot()` and `decide_for` must all
answer with the event acknowledged last, and no two of the member's events may
be ordered differently by `(at, event_id)` than by event id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pyarrow.compute as pc

from consentry.decide import decide_for
from consentry.store import ConsentEvent, NewEvent, SqlStore, open_store
from consentry.timeutil import utcnow
from consentry.vocab import Choice, Source

PURPOSE = "genai_training"  # opt_out with a setting for m1 (US, adult): deny → OPTED_OUT, allow → ALLOWED
WRITERS = 64
PARALLEL = 16  # connections at once: PostgreSQL's are shared with other test runs


def _choice(i: int) -> Choice:
    # Irregular, so that no ordering by chance gives the right last answer.
    return Choice.DENY if (i * 7919) % 5 < 2 else Choice.ALLOW


def _assert_last_acknowledged_wins(store: SqlStore, acks: list[ConsentEvent]) -> None:
    acks = sorted(acks, key=lambda e: e.event_id)
    last = acks[-1]
    assert len({e.event_id for e in acks}) == len(acks)
    stored = store.events(member_id="m1", purpose=PURPOSE)
    inverted = [(a.event_id, b.event_id) for a, b in pairwise(stored) if b.at < a.at]
    assert inverted == [], f"{len(inverted)} events stamped before an event acknowledged earlier"
    assert store.verify().ok
    now = utcnow()
    assert store.state("m1", PURPOSE).event_id == last.event_id  # type: ignore[union-attr]
    assert store.state("m1", PURPOSE, now).event_id == last.event_id  # type: ignore[union-attr]
    snap = store.snapshot(PURPOSE, now)
    row = snap.filter(pc.equal(snap.column("member_id"), "m1")).to_pylist()[0]
    assert (row["at_event_id"], row["now_event_id"], row["now_choice"]) == (last.event_id, last.event_id, last.choice)
    decision = decide_for(store, "m1", PURPOSE, at=now)
    assert decision.event_id == last.event_id
    assert decision.allowed is (last.choice is Choice.ALLOW)


def test_parallel_writers_last_acknowledged_choice_wins(ready: SqlStore, store_url: str) -> None:
    def write(i: int) -> ConsentEvent:
        own = open_store(store_url)
        try:
            return own.record(NewEvent("m1", PURPOSE, _choice(i), None, Source.SETTINGS, actor=f"w{i}"))
        finally:
            own.close()

    with ThreadPoolExecutor(PARALLEL) as pool:
        acks = list(pool.map(write, range(WRITERS)))
    assert all(e.at >= e.recorded_at for e in acks)  # stamped when recorded (or raised past an earlier choice)
    _assert_last_acknowledged_wins(ready, acks)


def test_now_is_never_before_the_latest_choice(ready: SqlStore) -> None:
    # A choice already in effect a little ahead of the clock: "now" lands after it, not before.
    ahead = ready.record(
        NewEvent("m1", PURPOSE, Choice.DENY, utcnow().replace(microsecond=0) + timedelta(minutes=2), Source.ADMIN)
    )
    now = ready.record(NewEvent("m1", PURPOSE, Choice.ALLOW, None, Source.SETTINGS))
    assert now.at == ahead.at and now.event_id > ahead.event_id
    assert ready.state("m1", PURPOSE).event_id == now.event_id  # type: ignore[union-attr]


def test_backdated_choice_stays_in_its_place(ready: SqlStore) -> None:
    # An explicit --at is the audited exception: it applies at its time, recorded_at shows when it was written.
    current = ready.record(NewEvent("m1", PURPOSE, Choice.DENY, None, Source.SETTINGS))
    old = ready.record(NewEvent("m1", PURPOSE, Choice.ALLOW, current.at - timedelta(days=1), Source.IMPORT))
    assert old.at < old.recorded_at
    assert ready.state("m1", PURPOSE).event_id == current.event_id  # type: ignore[union-attr]
    assert ready.state("m1", PURPOSE, current.at - timedelta(minutes=1)).event_id == old.event_id  # type: ignore[union-attr]


_CLI_WORKER = textwrap.dedent(
    """
    import json, sys
    from typer.testing import CliRunner
    from consentry.cli import app
    runner = CliRunner()
    for arg in sys.argv[1:]:
        i = int(arg)
        choice = "deny" if (i * 7919) % 5 < 2 else "allow"
        r = runner.invoke(app, ["consent", "set", "--member", "m1", "--purpose", "genai_training", "--choice", choice])
        assert r.exit_code == 0, r.output
        print(json.dumps({"event_id": json.loads(r.stdout)["event_id"]}), flush=True)
    """
)


def test_parallel_consent_set_processes(ready: SqlStore, store_url: str, tmp_path: Path) -> None:
    # `consentry consent set` in 8 processes at once, 6 times each: the command itself must not stamp `at`.
    script = tmp_path / "worker.py"
    script.write_text(_CLI_WORKER)
    env = {**os.environ, "CONSENTRY_DB": store_url}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), *(str(i) for i in range(w, 48, 8))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    ids: list[int] = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        ids += [json.loads(line)["event_id"] for line in out.splitlines()]
    assert len(ids) == 48
    acks = [e for e in ready.events(member_id="m1", purpose=PURPOSE) if e.event_id in set(ids)]
    _assert_last_acknowledged_wins(ready, acks)
