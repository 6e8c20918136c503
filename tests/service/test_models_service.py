"""Models in the service: the member's "my data" page and /v1/me/models, the staff obligations page and API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from consentry.pipeline import build, rebuild
from consentry.pipeline.models import register_model
from consentry.service import StaffRole, create_app
from consentry.store import SqlStore
from consentry.store.protocol import NewEvent
from consentry.vocab import Choice, Source

from .conftest import CLOCK, CSRF, make_config, sign_in


def _lake(tmp_path: Path) -> Path:
    lake = tmp_path / "lake.jsonl"
    rows = [
        {"record_id": f"r-{m}", "member_id": m, "kind": "post", "visibility": "public",
         "created_at": "2024-12-01T00:00:00Z", "text": "hello"}
        for m in ("us-alice", "us-bob")
    ]  # fmt: skip
    lake.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return lake


def test_member_and_staff_see_the_obligation_open_then_met(svc_store: SqlStore, tmp_path: Path) -> None:
    first = build(svc_store, "genai_training", [_lake(tmp_path)], tmp_path / "v1", as_of=CLOCK, scrub=False)
    register_model(svc_store, "ranker", "1", [first.build_id])
    svc_store.record(NewEvent("us-alice", "genai_training", Choice.DENY, None, Source.SETTINGS))
    app = create_app(svc_store, make_config(clock_start=None))  # real time: the deny is in the past
    from consentry.service import StaffRegistry

    viewer = {"Authorization": f"Bearer {StaffRegistry(svc_store).add_key('v', StaffRole.VIEWER).secret}"}
    reviewer = {"Authorization": f"Bearer {StaffRegistry(svc_store).add_key('r', StaffRole.REVIEWER).secret}"}
    with TestClient(app) as alice, TestClient(app) as bob, TestClient(app) as staff:
        sign_in(alice, "us-alice")
        sign_in(bob, "us-bob")
        (mine,) = alice.get("/v1/me/models").json()["models"]
        assert mine["name"] == "ranker" and mine["state"] == "open" and mine["cause"] == "OPTED_OUT"
        assert bob.get("/v1/me/models").json()["models"][0]["state"] == "in_use"
        page = alice.get("/settings/my-data").text
        assert 'data-state="open"' in page and "Will be retrained without it by" in page

        (ob,) = staff.get("/v1/admin/models/obligations", headers=viewer).json()["obligations"]
        assert ob["members"] == ["us-alice"] and ob["status"] == "open"
        assert staff.get("/v1/admin/models", headers=viewer).json()["models"][0]["name"] == "ranker"
        refused = staff.post(f"/v1/admin/models/obligations/{ob['obligation_id']}/waive", json={"grounds": "x"},
                             headers=viewer)  # fmt: skip
        assert refused.status_code == 403

        second = rebuild(svc_store, first.build_id, tmp_path / "v2")
        register_model(svc_store, "ranker", "2", [second.build_id])
        states = {m["version"]: m["state"] for m in alice.get("/v1/me/models").json()["models"]}
        assert states == {"1": "met"}  # version 2 never held her data
        assert "Retrained without your data on" in alice.get("/settings/my-data").text
        (ob,) = staff.get("/v1/admin/models/obligations", headers=viewer).json()["obligations"]
        assert ob["status"] == "met" and ob["met_by"] is not None
        again = staff.post(f"/v1/admin/models/obligations/{ob['obligation_id']}/waive", json={"grounds": "x"},
                           headers=reviewer)  # fmt: skip
        assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")


def test_console_lists_obligations_by_due_date_and_waives_with_grounds(
    svc_store: SqlStore, tmp_path: Path, staff_key: Callable[[StaffRole], dict[str, str]]
) -> None:
    first = build(svc_store, "genai_training", [_lake(tmp_path)], tmp_path / "v1", as_of=CLOCK, scrub=False)
    register_model(svc_store, "ranker", "1", [first.build_id])
    register_model(svc_store, "tagger", "1", [first.build_id])
    svc_store.record(NewEvent("us-bob", "genai_training", Choice.DENY, None, Source.SETTINGS))
    app = create_app(svc_store, make_config(clock_start=None))
    key = staff_key(StaffRole.REVIEWER)["Authorization"].removeprefix("Bearer ")
    with TestClient(app) as c:
        form = c.get("/admin/sign-in")
        token = CSRF.search(form.text)
        assert token
        c.post("/admin/sign-in", data={"api_key": key, "csrf_token": token.group(1)})
        page = c.get("/admin/obligations").text
        assert page.count('data-status="open"') == 2 and "tagger" in page
        ob = c.get("/v1/admin/models/obligations", params={"model": "tagger"}).json()["obligations"][0]
        token = CSRF.search(page)
        assert token
        form_data = {"grounds": "model retired", "csrf_token": token.group(1)}
        done = c.post(f"/admin/obligations/{ob['obligation_id']}/waive", data=form_data, follow_redirects=False)
        assert done.status_code == 303
        page = c.get("/admin/obligations").text
        assert page.count('data-status="open"') == 1 and "model retired" in page
    with TestClient(app) as bob:
        sign_in(bob, "us-bob")
        states = {m["name"]: m["state"] for m in bob.get("/v1/me/models").json()["models"]}
        assert states == {"ranker": "open", "tagger": "waived"}
