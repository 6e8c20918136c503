"""The member JSON API through HTTPX: settings, choices, receipts, objections, data use, errors."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.service import create_app
from consentry.store import SqlStore
from consentry.vocab import Choice, Source

from .conftest import CSRF, make_config, sign_in

Client = Callable[[str], TestClient]

#: RFC 9457 members, and our stable code and the field at fault.
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "field"}


def _setting(client: TestClient, purpose: str) -> dict[str, object]:
    body = client.get("/v1/me/settings").json()
    return next(p for p in body["purposes"] if p["purpose"] == purpose)


def test_settings_off_and_on_through_the_api(member_client: Client, svc_store: SqlStore) -> None:
    c = member_client("us-alice")
    assert _setting(c, "genai_training")["enabled"] is True
    r = c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False})
    assert r.status_code == 201 and r.json()["choice"] == "deny" and r.json()["source"] == "api"
    assert _setting(c, "genai_training")["enabled"] is False
    assert c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": True}).status_code == 201
    assert _setting(c, "genai_training")["enabled"] is True
    events = svc_store.events(member_id="us-alice")
    assert [(e.choice, e.source) for e in events] == [(Choice.DENY, Source.API), (Choice.ALLOW, Source.API)]


def test_german_member_has_no_generative_ai_control(member_client: Client) -> None:
    c = member_client("de-dora")
    genai = _setting(c, "genai_training")
    assert genai["control"] == "not_in_region"
    r = c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False})
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert body == {
        "type": "urn:consentry:problem:invalid_input",
        "title": "Invalid input",
        "status": 422,
        "detail": body["detail"],
        "instance": "/v1/me/choices",
        "code": "invalid_input",
        "field": "purpose",
    }


def test_idempotency_key_returns_the_first_event(member_client: Client, svc_store: SqlStore) -> None:
    c = member_client("us-alice")
    body = {"purpose": "genai_training", "enabled": False}
    a = c.post("/v1/me/choices", json=body, headers={"Idempotency-Key": "k1"}).json()
    b = c.post("/v1/me/choices", json=body, headers={"Idempotency-Key": "k1"}).json()
    assert a["event_id"] == b["event_id"] and len(svc_store.events(member_id="us-alice")) == 1


def test_history_and_receipts(member_client: Client) -> None:
    c = member_client("us-alice")
    e = c.post("/v1/me/choices", json={"purpose": "ads_partners", "enabled": True}).json()
    assert [x["event_id"] for x in c.get("/v1/me/choices").json()["choices"]] == [e["event_id"]]
    iso = c.get(f"/v1/me/choices/{e['event_id']}/receipt")
    assert iso.status_code == 200 and iso.json()["event"]["@type"] == ["dpv:ConsentGiven", "dpv:ExpressedConsent"]
    assert iso.json()["created"].startswith("2025-01-15T")  # the service's clock, not the wall clock
    assert "attachment" in iso.headers["content-disposition"]
    kantara = c.get(f"/v1/me/choices/{e['event_id']}/receipt", params={"format": "kantara"}).json()
    assert kantara["version"] == "KI-CR-v1.1.0"
    bad = c.get(f"/v1/me/choices/{e['event_id']}/receipt", params={"format": "pdf"})
    assert bad.status_code == 422 and bad.json()["field"] == "format"


def test_objection_filed_listed_and_due(member_client: Client) -> None:
    c = member_client("us-alice")
    r = c.post("/v1/me/objections", json={"purposes": ["personalization"]})
    assert r.status_code == 201
    case = r.json()
    assert case["status"] == "received" and case["due_by"].startswith("2025-02-14") and case["text"] is None
    listed = c.get("/v1/me/objections").json()
    assert [x["case_id"] for x in listed["cases"]] == [case["case_id"]]
    assert listed["purposes"] == ["content_moderation", "personalization"]
    assert c.get(f"/v1/me/objections/{case['case_id']}").json()["case_id"] == case["case_id"]
    assert "decided_by" not in case


def test_data_use_is_empty_without_builds(member_client: Client) -> None:
    assert member_client("us-alice").get("/v1/me/data-use").json() == {"builds": []}


def test_unauthenticated_api_is_401_with_stable_body(app: FastAPI) -> None:
    with TestClient(app) as c:
        r = c.get("/v1/me/settings")
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
        assert set(r.json()) == PROBLEM_KEYS


def test_client_mistakes_are_4xx_with_stable_bodies(member_client: Client) -> None:
    c = member_client("us-alice")
    cases = [
        c.post("/v1/me/choices", json={"purpose": "genai_training"}),
        c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": "maybe"}),
        c.post("/v1/me/choices", content=b"{not json", headers={"content-type": "application/json"}),
        c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False, "extra": 1}),
        c.post("/v1/me/objections", json={"purposes": []}),
        c.get("/v1/me/objections/obj_doesnotexist"),
        c.get("/v1/me/choices/999999/receipt"),
        c.get("/v1/nothing-here"),
        c.delete("/v1/me/settings"),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)
        assert set(r.json()) == PROBLEM_KEYS
    assert cases[0].json()["field"] == "enabled"


def test_writes_need_the_csrf_token(member_client: Client, svc_store: SqlStore) -> None:
    c = member_client("us-alice")
    del c.headers["X-CSRF-Token"]
    r = c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = c.post(
        "/v1/me/choices", json={"purpose": "genai_training", "enabled": False}, headers={"X-CSRF-Token": "x" * 43}
    )
    assert r.status_code == 403
    assert svc_store.events() == []


def test_writes_are_rate_limited(svc_store: SqlStore) -> None:
    app = create_app(svc_store, make_config(write_limit=3, write_window_s=60.0))
    with TestClient(app) as c:
        sign_in(c, "us-alice")
        codes = [
            c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": i % 2 == 0}).status_code
            for i in range(5)
        ]
        assert codes == [201, 201, 201, 429, 429]
        r = c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": True})
        assert r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        assert c.get("/v1/me/settings").status_code == 200  # reads are not limited
    assert len(svc_store.events()) == 3


def test_a_choice_made_now_is_the_one_in_effect(svc_store: SqlStore) -> None:
    """On the real clock, the store stamps a choice under its lock: a writer whose clock ran ahead
    (or committed first) cannot leave an earlier-acknowledged choice in effect."""
    from datetime import timedelta

    from consentry.store import NewEvent
    from consentry.timeutil import utcnow

    app = create_app(svc_store, make_config(clock_start=None))
    with TestClient(app) as c:
        sign_in(c, "us-alice")
        ahead = utcnow() + timedelta(minutes=2)
        svc_store.record(NewEvent("us-alice", "genai_training", Choice.DENY, ahead, Source.SETTINGS))
        r = c.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": True})
        assert r.status_code == 201, r.text
        state = svc_store.state("us-alice", "genai_training")
        assert state is not None and state.event_id == r.json()["event_id"] and state.choice is Choice.ALLOW
        svc_store.record(
            NewEvent("us-alice", "genai_training", Choice.ALLOW, ahead + timedelta(seconds=1), Source.SETTINGS)
        )
        page = c.get("/settings/data-privacy")
        token = CSRF.search(page.text)
        assert token, "settings page has no CSRF token"
        r = c.post(
            "/settings/data-privacy/genai_training",
            data={"enabled": "off", "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        state = svc_store.state("us-alice", "genai_training")
        assert state is not None and state.choice is Choice.DENY and state.event_id == svc_store.head()[0]
