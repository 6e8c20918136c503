"""The member/staff flow through the API, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from consentry.service import StaffRegistry, StaffRole, create_app
from consentry.store import SqlStore

from .conftest import make_config, sign_in


def test_toggle_objection_decision_receipt(any_svc_store: SqlStore) -> None:
    app = create_app(any_svc_store, make_config())
    key = StaffRegistry(any_svc_store).add_key("flow", StaffRole.REVIEWER).secret
    staff = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as alice, TestClient(app) as bob, TestClient(app) as desk:
        sign_in(alice, "us-alice")
        sign_in(bob, "us-bob")
        off = alice.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False}).json()
        case = alice.post("/v1/me/objections", json={"purposes": ["personalization"]}).json()
        assert bob.get(f"/v1/me/objections/{case['case_id']}").status_code == 404
        assert bob.get(f"/v1/me/choices/{off['event_id']}/receipt").status_code == 404
        decided = desk.post(
            f"/v1/admin/objections/{case['case_id']}/decision", json={"outcome": "upheld"}, headers=staff
        )
        assert decided.json()["status"] == "upheld"
        purposes = {p["purpose"]: p for p in alice.get("/v1/me/settings").json()["purposes"]}
        assert purposes["genai_training"]["enabled"] is False
        assert purposes["personalization"]["changed_by"] == "objection"
        history = alice.get("/v1/me/choices").json()["choices"]
        assert [(e["purpose"], e["source"]) for e in history] == [
            ("personalization", "objection_form"),
            ("genai_training", "api"),
        ]
        receipt = alice.get(f"/v1/me/choices/{history[0]['event_id']}/receipt").json()
        assert receipt["event"]["evidence"]["case_id"] == case["case_id"]
        assert desk.get("/v1/admin/ledger/verify", headers=staff).json()["ok"] is True


def test_concurrent_toggles_by_one_member_lose_nothing(any_svc_store: SqlStore) -> None:
    app = create_app(any_svc_store, make_config(write_limit=10_000))
    with TestClient(app) as c:
        sign_in(c, "us-alice")
        headers = dict(c.headers)
        cookies = dict(c.cookies)

    def toggle(i: int) -> dict[str, object]:
        with TestClient(app, cookies=cookies) as client:
            r = client.post(
                "/v1/me/choices", json={"purpose": "genai_training", "enabled": i % 2 == 0}, headers=headers
            )
            assert r.status_code == 201, r.text
            return dict(r.json())

    with ThreadPoolExecutor(max_workers=8) as pool:
        acked = list(pool.map(toggle, range(40)))
    events = any_svc_store.events(member_id="us-alice")
    assert sorted(a["event_id"] for a in acked) == sorted(e.event_id for e in events)
    last = max(events, key=lambda e: (e.at, e.event_id))
    assert any_svc_store.state("us-alice", "genai_training").event_id == last.event_id  # type: ignore[union-attr]
    assert any_svc_store.verify().ok
