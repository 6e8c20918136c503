"""Fixtures for the web service: a populated store, apps, signed-in clients, staff keys.

The service's clock is pinned to 2025-01-15 (version "2024-11-20" in effect:
generative-AI training is offered in the US and excluded in Germany), unless a
test asks otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.policy import Policy
from consentry.service import ServiceConfig, StaffRegistry, StaffRole, create_app
from consentry.store import SqlStore
from consentry.store.protocol import Member

CLOCK = datetime(2025, 1, 15, tzinfo=UTC)
MEMBERS = {
    "us-alice": "US",
    "us-bob": "US",
    "de-dora": "DE",
    "gb-gary": "GB",
}


def _members() -> list[Member]:
    created = datetime(2020, 1, 1, tzinfo=UTC)
    return [Member(m, c, date(1985, 6, 1), created) for m, c in MEMBERS.items()]


@pytest.fixture
def svc_store(sqlite_store: SqlStore, reference_policy: Policy) -> SqlStore:
    """A SQLite store with the reference policy published and four adult members."""
    sqlite_store.publish(reference_policy)
    sqlite_store.add_members(_members())
    return sqlite_store


@pytest.fixture
def any_svc_store(store: SqlStore, reference_policy: Policy) -> SqlStore:
    """The same, once on SQLite and once on PostgreSQL."""
    store.publish(reference_policy)
    store.add_members(_members())
    return store


def make_config(**overrides: object) -> ServiceConfig:
    """Test settings: demo sign-in on, cookies over plain HTTP, the pinned clock."""
    values: dict[str, object] = {
        "secret_key": "test-secret-key-0123456789",
        "demo": True,
        "cookie_secure": False,
        "clock_start": CLOCK,
    }
    values.update(overrides)
    return ServiceConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def app(svc_store: SqlStore) -> FastAPI:
    """The service over `svc_store`."""
    return create_app(svc_store, make_config())


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: TestClient, member_id: str) -> str:
    """Sign `client` in as a demo member; returns the session's CSRF token."""
    page = client.get("/demo/sign-in")
    m = CSRF.search(page.text)
    assert m, "demo sign-in page has no CSRF token"
    r = client.post("/demo/sign-in", data={"member_id": member_id, "csrf_token": m.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    token = client.get("/v1/session").json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return str(token)


@pytest.fixture
def member_client(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A factory of clients signed in as a given member (CSRF header preset)."""
    clients: list[TestClient] = []

    def make(member_id: str) -> TestClient:
        client = TestClient(app)
        sign_in(client, member_id)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def staff_key(svc_store: SqlStore) -> Callable[[StaffRole], dict[str, str]]:
    """A factory of `Authorization` headers for a new key of the given role."""

    def make(role: StaffRole) -> dict[str, str]:
        issued = StaffRegistry(svc_store).add_key(f"test {role.value}", role)
        return {"Authorization": f"Bearer {issued.secret}"}

    return make
