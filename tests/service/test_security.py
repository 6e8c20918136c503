"""Identity and security: cookies, trusted header, CSRF on forms, headers, staff keys and roles, audit."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.service import StaffRegistry, StaffRole, create_app
from consentry.service.auth import sign_member_header
from consentry.store import SqlStore
from consentry.timeutil import utcnow

from .conftest import CSRF, make_config, sign_in

StaffKey = Callable[[StaffRole], dict[str, str]]


def test_session_cookie_is_signed_http_only_samesite(app: FastAPI) -> None:
    with TestClient(app) as c:
        page = c.get("/demo/sign-in")
        token = CSRF.search(page.text)
        assert token
        r = c.post(
            "/demo/sign-in", data={"member_id": "us-alice", "csrf_token": token.group(1)}, follow_redirects=False
        )
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "consentry_session=" in cookie


def test_secure_flag_outside_demo(svc_store: SqlStore) -> None:
    secret = "gateway-secret-0123456789"
    app = create_app(svc_store, make_config(demo=False, cookie_secure=True, trusted_header_secret=secret))
    with TestClient(app, base_url="https://testserver") as c:
        r = c.get("/v1/me/settings", headers=sign_member_header(secret, "us-alice"))
        assert r.status_code == 200
        assert "secure" in r.headers["set-cookie"].lower()


def test_security_headers_on_pages_and_api(app: FastAPI) -> None:
    with TestClient(app) as c:
        for path in ("/demo/sign-in", "/v1/health", "/v1/me/settings", "/openapi.json"):
            h = c.get(path).headers
            assert "frame-ancestors 'none'" in h["content-security-policy"]
            assert h["x-content-type-options"] == "nosniff"
            assert h["x-frame-options"] == "DENY"


def test_forged_form_without_csrf_token_is_refused(
    member_client: Callable[[str], TestClient], svc_store: SqlStore
) -> None:
    c = member_client("us-alice")
    del c.headers["X-CSRF-Token"]
    r = c.post("/settings/data-privacy/genai_training", data={"enabled": "off"}, follow_redirects=False)
    assert r.status_code == 403 and "security token" in r.text
    r = c.post("/settings/objection", data={"purposes": "personalization"}, follow_redirects=False)
    assert r.status_code == 403
    assert svc_store.events() == [] and svc_store.objections() == []


def test_trusted_header_mode(svc_store: SqlStore) -> None:
    secret = "gateway-secret-0123456789"
    app = create_app(svc_store, make_config(demo=False, trusted_header_secret=secret))
    with TestClient(app) as c:
        ok = c.get("/v1/me/settings", headers=sign_member_header(secret, "us-alice"))
        assert ok.status_code == 200 and ok.json()["member_id"] == "us-alice"
        bad = sign_member_header(secret, "us-alice") | {"X-Consentry-Member": "us-bob"}
        assert c.get("/v1/me/settings", headers=bad).status_code == 401
        old = sign_member_header(secret, "us-alice", int(utcnow().timestamp()) - 3600)  # an hour-old header
        assert c.get("/v1/me/settings", headers=old).status_code == 401
        wrong_secret = sign_member_header("not-the-secret-000000", "us-alice")
        assert c.get("/v1/me/settings", headers=wrong_secret).status_code == 401


def test_demo_sign_in_only_in_demo_mode(svc_store: SqlStore) -> None:
    with TestClient(create_app(svc_store, make_config(demo=False))) as c:
        assert c.get("/demo/sign-in").status_code == 404
        assert c.post("/demo/sign-in", data={"member_id": "us-alice"}).status_code in (403, 404, 405)
        r = c.get("/settings/data-privacy", follow_redirects=False)
        assert r.status_code == 401 and "Sign in on the platform" in r.text


def test_demo_sign_in_needs_csrf_and_a_known_member(app: FastAPI) -> None:
    with TestClient(app) as c:
        assert c.post("/demo/sign-in", data={"member_id": "us-alice"}).status_code == 403
        token = CSRF.search(c.get("/demo/sign-in").text)
        assert token
        r = c.post("/demo/sign-in", data={"member_id": "nobody", "csrf_token": token.group(1)})
        assert r.status_code == 404


def test_staff_keys_are_stored_hashed(svc_store: SqlStore) -> None:
    issued = StaffRegistry(svc_store).add_key("Pat", StaffRole.REVIEWER)
    with svc_store._engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM service_staff_keys")).all()]
    dumped = repr(rows)
    assert issued.secret not in dumped and issued.secret.split("_")[-1] not in dumped
    actor = StaffRegistry(svc_store).authenticate(issued.secret)
    assert actor is not None and (actor.key_id, actor.account_id) == (issued.key.key_id, issued.key.account_id)
    assert StaffRegistry(svc_store).authenticate(issued.secret + "x") is None


def test_staff_api_needs_a_valid_key(app: FastAPI, svc_store: SqlStore, staff_key: StaffKey) -> None:
    with TestClient(app) as c:
        assert c.get("/v1/admin/objections").status_code == 401
        assert c.get("/v1/admin/objections", headers={"Authorization": "Bearer csk_nope"}).status_code == 401
        headers = staff_key(StaffRole.VIEWER)
        assert c.get("/v1/admin/objections", headers=headers).status_code == 200
        key_id = headers["Authorization"].split("_")[1]
        StaffRegistry(svc_store).revoke(key_id)
        assert c.get("/v1/admin/objections", headers=headers).status_code == 401


def test_roles(app: FastAPI, member_client: Callable[[str], TestClient], staff_key: StaffKey) -> None:
    case = member_client("us-alice").post("/v1/me/objections", json={"purposes": ["personalization"]}).json()
    decide = f"/v1/admin/objections/{case['case_id']}/decision"
    with TestClient(app) as c:
        viewer, publisher = staff_key(StaffRole.VIEWER), staff_key(StaffRole.PUBLISHER)
        for h in (viewer, publisher):
            r = c.post(decide, json={"outcome": "upheld"}, headers=h)
            assert r.status_code == 403 and r.json()["code"] == "forbidden"
        r = c.post(
            "/v1/admin/policy/versions", json={"policy_yaml": "policy: x"}, headers=staff_key(StaffRole.REVIEWER)
        )
        assert r.status_code == 403
        assert c.post(decide, json={"outcome": "upheld"}, headers=staff_key(StaffRole.REVIEWER)).status_code == 200


def test_members_cannot_use_the_staff_api(member_client: Callable[[str], TestClient]) -> None:
    c = member_client("us-alice")
    assert c.get("/v1/admin/objections").status_code == 401
    assert c.get("/admin/objections", follow_redirects=False).status_code == 303


def test_every_staff_action_is_audited(
    app: FastAPI, member_client: Callable[[str], TestClient], staff_key: StaffKey
) -> None:
    case = member_client("us-alice").post("/v1/me/objections", json={"purposes": ["personalization"]}).json()
    with TestClient(app) as c:
        h = staff_key(StaffRole.REVIEWER)
        c.get("/v1/admin/objections", headers=h)
        c.post(f"/v1/admin/objections/{case['case_id']}/decision", json={"outcome": "rejected"}, headers=h)
        c.post(
            f"/v1/admin/objections/{case['case_id']}/decision", json={"outcome": "rejected", "grounds": "g"}, headers=h
        )
        c.get("/v1/admin/decisions", params={"member_id": "us-alice", "purpose": "genai_training"}, headers=h)
        c.get("/v1/admin/ledger/verify", headers=h)
        entries = c.get("/v1/admin/audit", headers=h).json()["entries"]
    actions = [(e["action"], e["target"], e["outcome"]) for e in reversed(entries)]
    assert actions == [
        ("view:objections", None, "ok"),
        ("objection.decide", case["case_id"], "refused"),
        ("objection.decide", case["case_id"], "ok"),
        ("decision.replay", "us-alice", "ok"),
        ("ledger.verify", None, "ok"),
        ("view:audit", None, "ok"),
    ]
    assert all(e["role"] == "reviewer" for e in entries)


def test_refusals_for_lack_of_a_role_and_audit_reads_are_audited(
    app: FastAPI, member_client: Callable[[str], TestClient], staff_key: StaffKey, svc_store: SqlStore
) -> None:
    case = member_client("us-alice").post("/v1/me/objections", json={"purposes": ["personalization"]}).json()
    decide = f"/v1/admin/objections/{case['case_id']}/decision"
    with TestClient(app) as c:
        viewer, reviewer = staff_key(StaffRole.VIEWER), staff_key(StaffRole.REVIEWER)
        assert c.post(decide, json={"outcome": "upheld"}, headers=viewer).status_code == 403
        body = {"policy_yaml": "policy: x"}
        assert c.post("/v1/admin/policy/versions", json=body, headers=reviewer).status_code == 403
        assert c.get("/v1/admin/audit", params={"limit": 10}, headers=viewer).status_code == 200
    entries = list(reversed(StaffRegistry(svc_store).audit_entries(10)))
    assert [(e.role, e.action, e.target, e.outcome, e.detail) for e in entries] == [
        (
            "viewer",
            "POST /v1/admin/objections/{case_id}/decision",
            case["case_id"],
            "forbidden",
            {"needs": ["reviewer"]},
        ),
        ("reviewer", "POST /v1/admin/policy/versions", None, "forbidden", {"needs": ["publisher"]}),
        ("viewer", "view:audit", None, "ok", {"limit": 10}),
    ]
    assert svc_store.objection(case["case_id"]).status.value == "received"


def test_console_forms_need_csrf(app: FastAPI, member_client: Callable[[str], TestClient], svc_store: SqlStore) -> None:
    case = member_client("us-alice").post("/v1/me/objections", json={"purposes": ["personalization"]}).json()
    issued = StaffRegistry(svc_store).add_key("Rae", StaffRole.REVIEWER)
    with TestClient(app) as c:
        token = CSRF.search(c.get("/admin/sign-in").text)
        assert token
        assert c.post("/admin/sign-in", data={"api_key": issued.secret}).status_code == 403
        r = c.post(
            "/admin/sign-in", data={"api_key": issued.secret, "csrf_token": token.group(1)}, follow_redirects=False
        )
        assert r.status_code == 303
        forged = c.post(f"/admin/objections/{case['case_id']}/decision", data={"outcome": "upheld"})
        assert forged.status_code == 403
        assert svc_store.objection(case["case_id"]).status.value == "received"


def test_sign_in_helper_sets_token(app: FastAPI) -> None:
    with TestClient(app) as c:
        assert len(sign_in(c, "us-alice")) >= 20


def test_trusted_header_mode_needs_the_header_on_every_request(svc_store: SqlStore) -> None:
    secret = "gateway-secret-0123456789"
    app = create_app(svc_store, make_config(demo=False, trusted_header_secret=secret))
    with TestClient(app) as c:
        assert c.get("/v1/me/settings", headers=sign_member_header(secret, "us-alice")).status_code == 200
        assert c.cookies.get("consentry_session")
        assert c.get("/v1/me/settings").status_code == 401  # the cookie alone does not identify the member


def test_every_post_form_carries_a_csrf_token_and_pages_need_no_inline_code(
    app: FastAPI, member_client: Callable[[str], TestClient], svc_store: SqlStore
) -> None:
    import re

    member = member_client("us-alice")
    case = member.post("/v1/me/objections", json={"purposes": ["personalization"]}).json()["case_id"]
    member.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False})
    pages = [
        member.get(p).text
        for p in ("/settings/data-privacy", "/settings/objection", f"/settings/objection/{case}", "/settings/my-data")
    ]
    issued = StaffRegistry(svc_store).add_key("Rae", StaffRole.REVIEWER)
    with TestClient(app) as staff:
        token = CSRF.search(staff.get("/admin/sign-in").text)
        assert token
        staff.post("/admin/sign-in", data={"api_key": issued.secret, "csrf_token": token.group(1)})
        pages += [staff.get(f"/admin/{p}").text for p in ("objections", "policy", "builds", "replay", "ledger")]
        pages.append(staff.get("/admin/sign-in").text)
    forms = 0
    for html in pages:
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, flags=re.S):
            forms += 1
            assert 'name="csrf_token"' in form, form[:200]
        assert "<script" not in html and ' style="' not in html and "javascript:" not in html
    assert forms >= 8
