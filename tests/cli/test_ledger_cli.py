"""CLI: policy, members, consent, objection and ledger commands through Typer's runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from consentry.cli import app

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "social-network.yaml"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    db = tmp_path / "store" / "c.db"
    monkeypatch.setenv("CONSENTRY_DB", f"sqlite:///{db}")
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args))

    invoke.db = db  # type: ignore[attr-defined]
    return invoke


def _members(tmp_path: Path) -> Path:
    p = tmp_path / "members.jsonl"
    rows = [
        {"member_id": "m1", "country": "US", "birth_date": "1990-01-01", "created_at": "2020-01-01T00:00:00Z"},
        {"member_id": "m2", "country": "DE", "birth_date": "", "created_at": "2020-01-01T00:00:00Z"},
    ]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def test_policy_validate_publish_versions(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("policy", "validate", str(POLICY))
    assert r.exit_code == 0, r.output
    assert "warning" in r.stderr and "notice_days" in r.stderr
    assert json.loads(r.stdout)["valid"] is True
    r = run("policy", "publish", str(POLICY))
    assert r.exit_code == 0 and [p["status"] for p in json.loads(r.stdout)["published"]] == ["stored"] * 3
    r = run("policy", "publish", str(POLICY))
    assert [p["status"] for p in json.loads(r.stdout)["published"]] == ["unchanged"] * 3
    r = run("policy", "versions")
    assert [v["version"] for v in json.loads(r.stdout)] == ["2024-06-01", "2024-11-20", "2025-11-03"]


def test_policy_validate_errors_give_file_line_field(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(POLICY.parent / "lia", tmp_path / "lia")
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.read_text().replace("[EEA, CH, GB]", "[EEA, CH, XX]"))
    r = run("policy", "validate", str(bad))
    assert r.exit_code == 1
    assert f"{bad}:" in r.stderr and "XX" in r.stderr and "Traceback" not in r.output
    r = run("policy", "validate", str(tmp_path / "missing.yaml"))
    assert r.exit_code == 1 and "no such file" in r.stderr


def test_policy_publish_conflict(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("policy", "publish", str(POLICY))
    shutil.copytree(POLICY.parent / "lia", tmp_path / "lia")
    changed = tmp_path / "changed.yaml"
    changed.write_text(POLICY.read_text().replace("notice_days: 60", "notice_days: 61"))
    r = run("policy", "publish", str(changed))
    assert r.exit_code == 1 and "new version id" in r.stderr


def test_members_and_consent_flow(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("policy", "publish", str(POLICY)).exit_code == 0
    r = run("members", "import", str(_members(tmp_path)))
    assert r.exit_code == 0 and json.loads(r.stdout)["imported"] == 2
    r = run(
        "consent",
        "set",
        "--member",
        "m1",
        "--purpose",
        "genai_training",
        "--choice",
        "deny",
        "--at",
        "2025-01-01T00:00:00Z",
        "--source",
        "settings",
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["event_id"] == 1
    r = run("consent", "gpc", "--member", "m1", "--at", "2025-02-01T00:00:00Z")
    assert [e["purpose"] for e in json.loads(r.stdout)] == ["ads_partners"]
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {
                "member_id": "m2",
                "purpose": "personalization",
                "choice": "deny",
                "at": "2025-01-01T00:00:00Z",
                "source": "import",
            }
        )
        + "\n"
    )
    r = run("consent", "import", str(events))
    assert r.exit_code == 0 and json.loads(r.stdout)["imported"] == 1
    r = run("consent", "history", "--member", "m1")
    assert [e["event_id"] for e in json.loads(r.stdout)] == [1, 2]
    r = run("ledger", "verify")
    assert r.exit_code == 0 and json.loads(r.stdout)["events"] == 3


def test_bad_input_names_line_and_writes_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("policy", "publish", str(POLICY))
    p = _members(tmp_path)
    p.write_text(
        p.read_text()
        + json.dumps({"member_id": "m3", "country": "Narnia", "birth_date": "", "created_at": "2020-01-01T00:00:00Z"})
        + "\n"
    )
    r = run("members", "import", str(p))
    assert r.exit_code == 1
    assert f"{p}:3" in r.stderr and "country" in r.stderr and "Traceback" not in r.output
    r = run("members", "import", str(tmp_path / "nope.csv"))
    assert r.exit_code == 1 and "no such file" in r.stderr
    r = run("ledger", "head")
    assert json.loads(r.stdout)["events"] == 0
    r = run("members", "show", "m1")
    assert r.exit_code == 1 and "no member" in r.stderr


def test_usage_errors_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    assert run("consent", "set", "--member", "m1").exit_code == 2
    assert run("consent", "set", "--member", "m1", "--purpose", "p", "--choice", "perhaps").exit_code == 2
    assert run("objection", "decide", "obj_x", "--outcome", "maybe").exit_code == 2


def test_objection_flow(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("policy", "publish", str(POLICY))
    run("members", "import", str(_members(tmp_path)))
    r = run(
        "objection",
        "file",
        "--member",
        "m1",
        "--purpose",
        "personalization",
        "--purpose",
        "content_moderation",
        "--at",
        "2025-03-01T00:00:00Z",
    )
    assert r.exit_code == 0, r.output
    filed = json.loads(r.stdout)
    assert filed["case_id"].startswith("obj_") and filed["due_by"] == "2025-03-31T00:00:00Z"
    case = filed["case_id"]
    r = run("objection", "list", "--overdue", "--at", "2025-04-01T00:00:00Z")
    assert [c["case_id"] for c in json.loads(r.stdout)] == [case]
    r = run("objection", "extend", case, "--reasons", "complex", "--days", "30", "--at", "2025-03-05T00:00:00Z")
    assert r.exit_code == 0 and json.loads(r.stdout)["due_by"] == "2025-04-30T00:00:00Z"
    r = run("objection", "decide", case, "--outcome", "rejected", "--at", "2025-03-10T00:00:00Z")
    assert r.exit_code == 1 and "grounds" in r.stderr
    r = run("objection", "decide", case, "--outcome", "upheld", "--at", "2025-03-10T00:00:00Z")
    assert r.exit_code == 0 and json.loads(r.stdout)["status"] == "upheld"
    r = run("consent", "history", "--member", "m1")
    assert {e["source"] for e in json.loads(r.stdout)} == {"objection_form"}
    r = run("objection", "decide", case, "--outcome", "upheld")
    assert r.exit_code == 1 and "final" in r.stderr


def test_ledger_verify_reports_tampering(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("policy", "publish", str(POLICY))
    run("members", "import", str(_members(tmp_path)))
    for day in ("01", "02", "03"):
        run(
            "consent",
            "set",
            "--member",
            "m1",
            "--purpose",
            "genai_training",
            "--choice",
            "deny",
            "--at",
            f"2025-01-{day}T00:00:00Z",
        )
    engine = create_engine(f"sqlite:///{run.db}")
    with engine.begin() as c:
        c.execute(text("UPDATE consent_events SET choice = 'allow' WHERE event_id = 2"))
    engine.dispose()
    r = run("ledger", "verify")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["first_bad_event"] == 2
    assert "event 2" in r.stderr
