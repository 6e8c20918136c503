"""`consentry serve --checkpoint-every`: signed checkpoints on a schedule, failures reported and retried."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from consentry.cli import app
from consentry.service.checkpoints import CheckpointSchedule
from consentry.store import NewEvent, SqlStore, anchors, open_store
from consentry.store import checkpoints as cps
from consentry.vocab import Choice, Source

from .conftest import CLOCK


@pytest.fixture
def key(tmp_path: Path) -> Any:
    path = tmp_path / "cp.pem"
    cps.generate_key(path)
    return cps.load_private_key({cps.KEY_FILE_ENV: str(path)})


def _run_until_two_reports(store: SqlStore, key: Any, directory: Path) -> tuple[CheckpointSchedule, list[str]]:
    """Run a schedule every 50 ms until it has reported twice; returns it (stopped) and its report lines."""
    lines: list[str] = []
    enough = threading.Event()

    def report(line: str) -> None:
        lines.append(line)
        if len(lines) >= 2:
            enough.set()

    url = store.url
    schedule = CheckpointSchedule(lambda: open_store(url), key, 0.05, directory, None, report)
    schedule.start()
    try:
        assert enough.wait(120), f"no two reports in time: {lines}"
    finally:
        schedule.stop()
    return schedule, lines


def test_checkpoints_are_taken_until_stopped(svc_store: SqlStore, key: Any, tmp_path: Path) -> None:
    svc_store.record(NewEvent("us-alice", "genai_training", Choice.DENY, CLOCK, Source.SETTINGS))
    schedule, lines = _run_until_two_reports(svc_store, key, tmp_path / "cp")
    taken = schedule.taken
    assert taken >= 2 and all(line.startswith("checkpoint: 1 events") for line in lines)
    found = cps.read_checkpoints(tmp_path / "cp")
    assert len(found) == taken
    assert anchors.verify_against(svc_store, cps.anchors_from_checkpoints(found, key.public_key())).ok


def test_a_failed_checkpoint_is_reported_and_retried(svc_store: SqlStore, key: Any, tmp_path: Path) -> None:
    svc_store.record(NewEvent("us-alice", "genai_training", Choice.DENY, CLOCK, Source.SETTINGS))
    with svc_store._engine.begin() as c:
        c.execute(text("UPDATE consent_events SET choice = 'allow' WHERE event_id = 1"))
    schedule, lines = _run_until_two_reports(svc_store, key, tmp_path / "cp")
    assert schedule.taken == 0 and all("checkpoint failed" in line and "event 1" in line for line in lines)
    assert not (tmp_path / "cp").exists() or not list((tmp_path / "cp").glob("checkpoint-*"))


def test_serve_checkpoint_every_needs_a_destination(svc_store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTRY_DB", svc_store.url)
    monkeypatch.delenv("CONSENTRY_CHECKPOINT_DIR", raising=False)
    monkeypatch.delenv("CONSENTRY_CHECKPOINT_WITNESS", raising=False)
    r = CliRunner().invoke(app, ["serve", "--checkpoint-every", "5"])
    assert r.exit_code == 1 and "CONSENTRY_CHECKPOINT_DIR" in r.stderr
