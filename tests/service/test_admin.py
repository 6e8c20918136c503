"""The staff console and API: queue, decide/extend, policy timeline, builds chart, replay, ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.pipeline import build
from consentry.service import StaffRole, member_actions, staff_actions
from consentry.store import SqlStore

from .conftest import CLOCK

StaffKey = Callable[[StaffRole], dict[str, str]]


def _file(store: SqlStore, member: str, purpose: str, days_ago: int) -> str:
    return member_actions.file_objection(store, member, [purpose], CLOCK - timedelta(days=days_ago)).case_id


def test_queue_sorted_by_due_date_with_overdue_marked(app: FastAPI, svc_store: SqlStore, staff_key: StaffKey) -> None:
    recent = _file(svc_store, "us-alice", "personalization", 1)
    old = _file(svc_store, "us-bob", "personalization", 40)
    middle = _file(svc_store, "de-dora", "content_moderation", 20)
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        cases = c.get("/v1/admin/objections", headers=h).json()["cases"]
        assert [x["case_id"] for x in cases] == [old, middle, recent]
        assert [x["overdue"] for x in cases] == [True, False, False]
        assert [x["extendable"] for x in cases] == [False, True, True]
        page = c.get("/admin/objections", headers=h).text
        assert page.index(old) < page.index(middle) < page.index(recent)
        assert "overdue" in page and "reviewer role needed" in page


def test_decide_and_extend_rules(app: FastAPI, svc_store: SqlStore, staff_key: StaffKey) -> None:
    case = _file(svc_store, "us-alice", "personalization", 1)
    with TestClient(app) as c:
        h = staff_key(StaffRole.REVIEWER)
        base = f"/v1/admin/objections/{case}"
        r = c.post(f"{base}/decision", json={"outcome": "rejected"}, headers=h)
        assert r.status_code == 409 and r.json()["code"] == "workflow_refused"
        assert c.post(f"{base}/decision", json={"outcome": "received"}, headers=h).status_code == 422
        ext = c.post(f"{base}/extension", json={"reasons": "complex case", "days": 30}, headers=h)
        assert ext.status_code == 200 and ext.json()["extended_at"] is not None
        again = c.post(f"{base}/extension", json={"reasons": "more", "days": 30}, headers=h)
        assert again.status_code == 409
        r = c.post(f"{base}/decision", json={"outcome": "rejected", "grounds": "compelling grounds"}, headers=h)
        assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["grounds"] == "compelling grounds"
        assert c.post(f"{base}/decision", json={"outcome": "upheld"}, headers=h).status_code == 409
        assert (
            c.post("/v1/admin/objections/obj_nope/decision", json={"outcome": "upheld"}, headers=h).status_code == 404
        )


def test_policy_timeline_shows_region_changes(svc_store: SqlStore) -> None:
    entries = staff_actions.policy_timeline(svc_store.policy(), CLOCK)
    assert [e.version for e in entries] == ["2024-06-01", "2024-11-20", "2025-11-03"]
    assert [e.in_effect for e in entries] == [False, True, False]
    assert entries[1].added == ("genai_training",)
    changes = {(c.purpose, c.before, c.after): c.countries for c in entries[2].region_changes}
    moved = changes[("genai_training", "excluded", "opt_out")]
    assert {"DE", "FR", "NO", "CH", "GB"} <= set(moved)
    assert entries[2].short_notice and not entries[1].short_notice


def test_policy_page_and_api(app: FastAPI, staff_key: StaffKey) -> None:
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        body = c.get("/v1/admin/policy/versions", headers=h).json()
        assert body["policy"] == "social-network" and len(body["versions"]) == 3
        page = c.get("/admin/policy", headers=h).text
        assert "excluded → <strong>opt_out</strong>" in page and "in effect" in page


def test_publish_needs_publisher_and_refuses_changing_a_version(
    app: FastAPI, staff_key: StaffKey, reference_policy_path: Path
) -> None:
    text = reference_policy_path.read_text()
    with TestClient(app) as c:
        h = staff_key(StaffRole.PUBLISHER)
        r = c.post("/v1/admin/policy/versions", json={"policy_yaml": text}, headers=h)
        assert r.status_code == 201 and {v["status"] for v in r.json()["versions"]} == {"unchanged"}
        changed = text.replace("notice_days: 60", "notice_days: 61")
        r = c.post("/v1/admin/policy/versions", json={"policy_yaml": changed}, headers=h)
        assert r.status_code == 409 and r.json()["code"] == "conflict"
        r = c.post("/v1/admin/policy/versions", json={"policy_yaml": "policy: [oops"}, headers=h)
        assert r.status_code == 422


def test_replay_gives_decision_and_evidence(app: FastAPI, svc_store: SqlStore, staff_key: StaffKey) -> None:
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, CLOCK)
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        q = {"member_id": "us-alice", "purpose": "genai_training", "at": "2025-02-01T00:00:00Z", "kind": "post"}
        d = c.get("/v1/admin/decisions", params=q | {"visibility": "public"}, headers=h).json()
        assert (d["allowed"], d["reason"], d["event_id"]) == (False, "OPTED_OUT", event.event_id)
        d = c.get("/v1/admin/decisions", params=q | {"at": "2024-12-01T00:00:00Z"}, headers=h).json()
        assert d["reason"] == "NOTICE_PERIOD" or d["allowed"]
        d = c.get("/v1/admin/decisions", params=q | {"member_id": "de-dora"}, headers=h).json()
        assert d["reason"] == "REGION_EXCLUDED" and d["policy_version"] == "2024-11-20"
        bad = c.get("/v1/admin/decisions", params=q | {"at": "yesterday"}, headers=h)
        assert bad.status_code == 422 and bad.json()["field"] == "at"
        page = c.get("/admin/replay", params=q, headers=h).text
        assert "OPTED_OUT" in page


def test_ledger_page_reports_verification(app: FastAPI, svc_store: SqlStore, staff_key: StaffKey) -> None:
    member_actions.set_choice(svc_store, "us-alice", "genai_training", False, CLOCK)
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        assert c.get("/v1/admin/ledger/verify", headers=h).json()["ok"] is True
        assert "Intact: 1 events" in c.get("/admin/ledger", headers=h).text


def _lake(root: Path) -> Path:
    rows = [
        {
            "record_id": f"r{i}",
            "member_id": m,
            "kind": "post",
            "visibility": "public",
            "created_at": "2024-12-01T00:00:00Z",
            "text": f"post number {i}",
        }
        for i, m in enumerate(["us-alice", "us-bob", "us-bob", "de-dora", "gb-gary"])
    ]
    path = root / "lake.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_builds_chart_and_member_data_use(
    app: FastAPI, svc_store: SqlStore, staff_key: StaffKey, member_client: Callable[[str], TestClient], tmp_path: Path
) -> None:
    result = build(svc_store, "genai_training", [_lake(tmp_path)], tmp_path / "out", as_of=CLOCK, scrub=False)
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        [b] = c.get("/v1/admin/builds", headers=h).json()["builds"]
        assert b["build_id"] == result.build_id and b["included"] == 3 and b["stale"] is None
        assert b["excluded"] == {"REGION_EXCLUDED": 2}
        page = c.get("/admin/builds", headers=h).text
        assert "<svg" in page and "REGION_EXCLUDED" in page and result.build_id in page
        assert c.get(f"/v1/admin/builds/{result.build_id}", headers=h).json()["build_id"] == result.build_id
        assert c.get("/v1/admin/builds/nope", headers=h).status_code == 404
    bob = member_client("us-bob")
    assert [x["build_id"] for x in bob.get("/v1/me/data-use").json()["builds"]] == [result.build_id]
    assert result.build_id in bob.get("/settings/my-data").text
    assert member_client("de-dora").get("/v1/me/data-use").json() == {"builds": []}


def test_build_goes_stale_when_a_member_opts_out(
    app: FastAPI, svc_store: SqlStore, staff_key: StaffKey, member_client: Callable[[str], TestClient], tmp_path: Path
) -> None:
    build(svc_store, "genai_training", [_lake(tmp_path)], tmp_path / "out", as_of=CLOCK, scrub=False)
    bob = member_client("us-bob")
    assert bob.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False}).status_code == 201
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        [b] = c.get("/v1/admin/builds", headers=h).json()["builds"]
        assert b["stale"] is not None and b["stale"]["causes"]["OPTED_OUT"]["members"] == 1
        assert 'class="stale"' in c.get("/admin/builds", headers=h).text
