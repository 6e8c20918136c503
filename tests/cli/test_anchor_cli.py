"""CLI: ledger keygen, checkpoint, verify --checkpoints/--manifests, prove, receipts verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from consentry.cli import app

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "social-network.yaml"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    db = tmp_path / "store" / "c.db"
    monkeypatch.setenv("CONSENTRY_DB", f"sqlite:///{db}")
    monkeypatch.delenv("CONSENTRY_CHECKPOINT_KEY", raising=False)
    monkeypatch.delenv("CONSENTRY_CHECKPOINT_DIR", raising=False)
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args))

    invoke.db = db  # type: ignore[attr-defined]
    members = tmp_path / "members.jsonl"
    members.write_text(
        json.dumps(
            {"member_id": "m1", "country": "US", "birth_date": "1990-01-01", "created_at": "2020-01-01T00:00:00Z"}
        )
        + "\n"
    )
    assert invoke("policy", "publish", str(POLICY)).exit_code == 0
    assert invoke("members", "import", str(members)).exit_code == 0
    return invoke


def _set(run, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        choice = "deny" if i % 2 else "allow"
        r = run("consent", "set", "--member", "m1", "--purpose", "genai_training", "--choice", choice)
        assert r.exit_code == 0, r.output


def test_checkpoint_verify_prove_and_receipt(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "secret" / "cp.pem"
    key.parent.mkdir()
    r = run("ledger", "keygen", "--out", str(key))
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["key_id"]) == 16
    assert run("ledger", "keygen", "--out", str(key)).exit_code == 1  # never overwritten

    r = run("ledger", "checkpoint", "--dir", str(tmp_path / "cp"))
    assert r.exit_code == 1 and "CONSENTRY_CHECKPOINT_KEY_FILE" in r.stderr
    monkeypatch.setenv("CONSENTRY_CHECKPOINT_KEY_FILE", str(key))
    _set(run, 4)
    r = run("ledger", "checkpoint", "--dir", str(tmp_path / "cp"))
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["events"] == 4 and Path(made["file"]).is_file()

    r = run("ledger", "verify", "--checkpoints", str(tmp_path / "cp"))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"] is True

    r = run("ledger", "prove", "--event", "2", "--checkpoint", made["file"])
    assert r.exit_code == 0, r.output
    proof = tmp_path / "receipt.json"
    proof.write_text(r.stdout)
    r = run("receipts", "verify", str(proof), "--checkpoint", made["file"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"] is True

    tampered = json.loads(proof.read_text())
    tampered["event"]["fields"][3] = "allow" if tampered["event"]["fields"][3] == "deny" else "deny"
    proof.write_text(json.dumps(tampered))
    r = run("receipts", "verify", str(proof), "--checkpoint", made["file"])
    assert r.exit_code == 1 and "do not hash" in r.stderr

    # The tail goes, the head row is rewritten: plain verify is fooled, the checkpoint is not.
    engine = create_engine(f"sqlite:///{run.db}", poolclass=NullPool)
    with engine.begin() as c:
        c.execute(text("DELETE FROM consent_events WHERE event_id > 2"))
        (h,) = c.execute(text("SELECT hash FROM consent_events WHERE event_id = 2")).one()
        c.execute(text("UPDATE ledger_head SET events = 2, hash = :h WHERE id = 1"), {"h": h})
    engine.dispose()
    assert run("ledger", "verify").exit_code == 0
    r = run("ledger", "verify", "--checkpoints", str(tmp_path / "cp"))
    assert r.exit_code == 1
    assert made["file"] in r.stderr and "only 2" in r.stderr
    assert json.loads(r.stdout)["first_contradiction"]["source"] == made["file"]


def test_witness_command_gets_the_checkpoint(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "cp.pem"
    assert run("ledger", "keygen", "--out", str(key)).exit_code == 0
    monkeypatch.setenv("CONSENTRY_CHECKPOINT_KEY_FILE", str(key))
    _set(run, 2)
    seen = tmp_path / "witnessed.json"
    r = run("ledger", "checkpoint", "--witness", f"sh -c 'cat > {seen}'")
    assert r.exit_code == 0, r.output
    assert json.loads(seen.read_text())["checkpoint"]["events"] == 2
    r = run("ledger", "checkpoint", "--witness", "false")
    assert r.exit_code == 1 and "not witnessed" in r.stderr


def test_verify_with_manifests_names_a_bad_path(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("ledger", "verify", "--manifests", str(tmp_path / "nope"))
    assert r.exit_code == 1 and "nope" in r.stderr and "Traceback" not in r.output


def test_backup_restore_and_the_lost_tail(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "cp.pem"
    assert run("ledger", "keygen", "--out", str(key)).exit_code == 0
    monkeypatch.setenv("CONSENTRY_CHECKPOINT_KEY_FILE", str(key))
    _set(run, 3)
    backup = tmp_path / "backups" / "b.db"
    r = run("store", "backup", "--out", str(backup))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["events"] == 3
    assert run("store", "backup", "--out", str(backup)).exit_code == 1  # never overwritten
    _set(run, 2)
    r = run("ledger", "checkpoint", "--dir", str(tmp_path / "cp"))
    assert r.exit_code == 0
    checkpoint_file = json.loads(r.stdout)["file"]

    assert run("store", "restore", str(backup)).exit_code == 1  # needs --yes
    r = run("store", "restore", str(backup), "--yes")
    assert r.exit_code == 0, r.output
    assert json.loads(run("ledger", "head").stdout)["events"] == 3
    assert run("ledger", "verify").exit_code == 0
    r = run("ledger", "verify", "--checkpoints", str(tmp_path / "cp"))
    assert r.exit_code == 1
    assert checkpoint_file in r.stderr and "5 events but the ledger has only 3" in r.stderr

    not_a_store = tmp_path / "x.db"
    not_a_store.write_bytes(b"not sqlite at all" * 100)
    r = run("store", "restore", str(not_a_store), "--yes")
    assert r.exit_code == 1 and "not a Consentry SQLite store" in r.stderr


def test_backup_of_postgresql_points_at_pg_dump(run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONSENTRY_DB", "postgresql+psycopg://u:p@localhost:1/none")
    r = run("store", "backup", "--out", str(tmp_path / "b"))
    assert r.exit_code == 1 and "pg_dump" in r.stderr
