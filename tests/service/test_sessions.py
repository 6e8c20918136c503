"""Sign-in sessions live in the store: sign-out, "sign out everywhere" and key revocation end them at once,
for every worker; idle and absolute timeouts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.service import SESSION_COOKIE, ServiceConfig, StaffRegistry, StaffRole, create_app
from consentry.service.sessions import SessionBook, SessionKind
from consentry.store import SqlStore, open_store

from .conftest import make_config, sign_in

Client = Callable[[str], TestClient]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
T = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _reuse(app: FastAPI, client: TestClient) -> TestClient:
    """A second browser holding a copy of `client`'s session cookie."""
    return TestClient(app, cookies={SESSION_COOKIE: client.cookies[SESSION_COOKIE]})


def _console(app: FastAPI, secret: str) -> TestClient:
    client = TestClient(app)
    token = CSRF.search(client.get("/admin/sign-in").text)
    assert token
    r = client.post("/admin/sign-in", data={"api_key": secret, "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    return client


def test_a_member_cookie_reused_after_sign_out_is_refused(app: FastAPI) -> None:
    alice = TestClient(app)
    sign_in(alice, "us-alice")
    copy = _reuse(app, alice)
    assert copy.get("/v1/me/settings").status_code == 200
    assert alice.post("/sign-out", follow_redirects=False).status_code == 303
    assert copy.get("/v1/me/settings").status_code == 401
    assert copy.get("/settings/data-privacy", follow_redirects=False).headers["location"] == "/demo/sign-in"


def test_a_console_cookie_reused_after_sign_out_is_refused(app: FastAPI, svc_store: SqlStore) -> None:
    issued = StaffRegistry(svc_store).add_key("Rae", StaffRole.REVIEWER)
    console = _console(app, issued.secret)
    copy = _reuse(app, console)
    assert copy.get("/v1/admin/objections").status_code == 200
    token = CSRF.search(console.get("/admin/objections").text)
    assert token
    r = console.post("/admin/sign-out", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    assert copy.get("/v1/admin/objections").status_code == 401


def test_sign_out_everywhere_ends_every_session_of_the_member_only(app: FastAPI, member_client: Client) -> None:
    phone, laptop, bob = member_client("us-alice"), member_client("us-alice"), member_client("us-bob")
    token = CSRF.search(laptop.get("/settings/data-privacy").text)
    assert token
    r = laptop.post("/sign-out-everywhere", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    assert phone.get("/v1/me/settings").status_code == 401 and laptop.get("/v1/me/settings").status_code == 401
    assert bob.get("/v1/me/settings").status_code == 200


def test_staff_sign_out_everywhere_and_key_revocation(app: FastAPI, svc_store: SqlStore) -> None:
    registry = StaffRegistry(svc_store)
    rae, sam = registry.add_key("Rae", StaffRole.REVIEWER), registry.add_key("Sam", StaffRole.VIEWER)
    first, second, other = _console(app, rae.secret), _console(app, rae.secret), _console(app, sam.secret)
    token = CSRF.search(first.get("/admin/objections").text)
    assert token
    r = first.post("/admin/sign-out-everywhere", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    assert first.get("/v1/admin/objections").status_code == 401
    assert second.get("/v1/admin/objections").status_code == 401
    assert other.get("/v1/admin/objections").status_code == 200
    entry = next(e for e in registry.audit_entries(20) if e.action == "console.sign_out_everywhere")
    assert (entry.key_id, entry.detail) == (rae.key.key_id, {"sessions": 2})
    again = _console(app, rae.secret)
    registry.revoke(rae.key.key_id)
    assert again.get("/v1/admin/objections").status_code == 401


def test_two_workers_agree_at_once(svc_store: SqlStore, sqlite_url: str) -> None:
    """Two apps, each with its own store connection, as two worker processes would have."""
    other_store = open_store(sqlite_url)
    one, two = create_app(svc_store, make_config()), create_app(other_store, make_config())
    alice = TestClient(one)
    sign_in(alice, "us-alice")
    elsewhere = _reuse(two, alice)
    assert elsewhere.get("/v1/me/settings").status_code == 200
    alice.post("/sign-out")
    assert elsewhere.get("/v1/me/settings").status_code == 401
    other_store.close()


def test_idle_and_absolute_timeouts(svc_store: SqlStore) -> None:
    book = SessionBook(svc_store.sessions, idle_s=600, absolute_s=3600)
    idle = book.open(SessionKind.MEMBER, "us-alice", T)
    assert book.subject(idle, SessionKind.MEMBER, T + timedelta(seconds=599)) == "us-alice"
    assert book.subject(idle, SessionKind.STAFF, T + timedelta(seconds=600)) is None  # not a staff session
    assert book.subject(idle, SessionKind.MEMBER, T + timedelta(seconds=599 + 600)) is None
    assert book.subject(idle, SessionKind.MEMBER, T + timedelta(seconds=600)) is None  # ended, stays ended

    busy = book.open(SessionKind.MEMBER, "us-alice", T)
    for minute in range(5, 60, 5):  # a request every five minutes keeps it alive, but only for an hour
        assert book.subject(busy, SessionKind.MEMBER, T + timedelta(minutes=minute)) == "us-alice", minute
    assert book.subject(busy, SessionKind.MEMBER, T + timedelta(minutes=60)) is None
    assert (
        book.subject("not-a-token", SessionKind.MEMBER, T) is None and book.subject(None, SessionKind.MEMBER, T) is None
    )


def test_timeouts_are_settings() -> None:
    config = ServiceConfig.from_environ({"CONSENTRY_SESSION_IDLE_S": "900", "CONSENTRY_SESSION_MAX_AGE_S": "7200"})
    assert (config.session_idle_s, config.session_max_age_s) == (900, 7200)
    assert (ServiceConfig().session_idle_s, ServiceConfig().session_max_age_s) == (1800, 8 * 3600)
