"""Who the client is and which host is asked: forwarded headers only from configured proxies, trusted hosts,
no-store on session and staff responses, HSTS outside the demo."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.service import ServiceConfig, StaffRole, create_app
from consentry.store import SqlStore

from .conftest import make_config

StaffKey = Callable[[StaffRole], dict[str, str]]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _sign_in_attempts(client: TestClient, forwarded_for: list[str]) -> list[int]:
    """Staff sign-ins with a wrong key, each claiming another X-Forwarded-For; their statuses."""
    token = CSRF.search(client.get("/admin/sign-in").text)
    assert token
    form = {"api_key": "csk_wrong", "csrf_token": token.group(1)}
    return [
        client.post("/admin/sign-in", data=form, headers={"X-Forwarded-For": ip}).status_code for ip in forwarded_for
    ]


def test_rotating_forwarded_for_from_a_loopback_peer_does_not_escape_the_sign_in_limit(svc_store: SqlStore) -> None:
    app = create_app(svc_store, make_config(write_limit=2))
    with TestClient(app, client=("127.0.0.1", 40000)) as c:
        assert _sign_in_attempts(c, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [401, 401, 429]


def test_forwarded_for_is_believed_only_from_a_configured_proxy(svc_store: SqlStore) -> None:
    app = create_app(svc_store, make_config(write_limit=1, forwarded_allow_ips=("10.0.0.7",)))
    with TestClient(app, client=("10.0.0.7", 40000)) as proxy:
        assert _sign_in_attempts(proxy, ["203.0.113.1", "203.0.113.2", "203.0.113.1"]) == [401, 401, 429]
    with TestClient(app, client=("10.0.0.8", 40000)) as other:
        assert _sign_in_attempts(other, ["203.0.113.3", "203.0.113.4"]) == [401, 429]


def test_an_unknown_host_is_refused_and_never_echoed(app: FastAPI) -> None:
    with TestClient(app) as c:
        evil = c.get("/admin/", headers={"Host": "evil.example"}, follow_redirects=False)
        assert evil.status_code == 400 and "location" not in evil.headers
        ok = c.get("/admin/", headers={"Host": "localhost"}, follow_redirects=False)
        assert ok.status_code == 307 and ok.headers["location"] == "http://localhost/admin"


def test_trusted_hosts_setting_and_the_served_host() -> None:
    assert ServiceConfig().allowed_hosts == ["localhost", "127.0.0.1", "testserver"]
    env = {"CONSENTRY_TRUSTED_HOSTS": "consent.example.org, *.consent.example.org"}
    assert ServiceConfig.from_environ(env).allowed_hosts == ["consent.example.org", "*.consent.example.org"]
    assert ServiceConfig(served_host="10.1.2.3").allowed_hosts[-1] == "10.1.2.3"
    assert ServiceConfig(served_host="0.0.0.0").allowed_hosts == ["localhost", "127.0.0.1", "testserver"]
    proxies = ServiceConfig.from_environ({"CONSENTRY_FORWARDED_ALLOW_IPS": "10.0.0.7,10.1.0.0/16"})
    assert proxies.forwarded_allow_ips == ("10.0.0.7", "10.1.0.0/16") and ServiceConfig().forwarded_allow_ips == ()


def test_session_and_staff_responses_are_not_stored(
    member_client: Callable[[str], TestClient], app: FastAPI, staff_key: StaffKey
) -> None:
    member = member_client("us-alice")
    for path in ("/v1/session", "/v1/me/settings", "/settings/data-privacy"):
        assert member.get(path).headers["cache-control"] == "no-store", path
    with TestClient(app) as c:
        h = staff_key(StaffRole.VIEWER)
        for path in ("/v1/admin/objections", "/v1/admin/audit", "/admin/sign-in"):
            assert c.get(path, headers=h).headers["cache-control"] == "no-store", path
        assert "no-store" not in c.get("/v1/health").headers.get("cache-control", "")


def test_hsts_outside_demo_mode_only(svc_store: SqlStore) -> None:
    with TestClient(create_app(svc_store, make_config(demo=False))) as c:
        assert c.get("/v1/health").headers["strict-transport-security"].startswith("max-age=")
    with TestClient(create_app(svc_store, make_config(demo=True))) as c:
        assert "strict-transport-security" not in c.get("/v1/health").headers
