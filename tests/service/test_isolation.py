"""A member can never read or change another member's data: one test per member route.

Bob acts; Alice's data must stay invisible and untouched. A last test fails
when a member route is added without an isolation test here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from consentry.service import member_actions
from consentry.store import SqlStore

from .conftest import CLOCK

Client = Callable[[str], TestClient]


@pytest.fixture
def alice(svc_store: SqlStore) -> dict[str, str]:
    """Alice has a choice and an objection case on record."""
    event = member_actions.set_choice(svc_store, "us-alice", "genai_training", False, CLOCK)
    case = member_actions.file_objection(svc_store, "us-alice", ["personalization"], CLOCK, "private words")
    return {"event": str(event.event_id), "case": case.case_id}


def _alice_untouched(store: SqlStore, alice: dict[str, str]) -> None:
    events = store.events(member_id="us-alice")
    assert [str(e.event_id) for e in events] == [alice["event"]]
    assert [c.case_id for c in store.objections(member_id="us-alice")] == [alice["case"]]


TESTED: set[tuple[str, str]] = set()


def covers(method: str, path: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark the route a test proves isolated."""
    TESTED.add((method, path))
    return lambda fn: fn


@covers("GET", "/v1/session")
@covers("GET", "/v1/me/settings")
def test_settings_are_the_signed_in_members(member_client: Client, alice: dict[str, str]) -> None:
    bob = member_client("us-bob")
    assert bob.get("/v1/session").json()["member_id"] == "us-bob"
    body = bob.get("/v1/me/settings").json()
    assert body["member_id"] == "us-bob"
    assert all(p["changed_by"] == "default" for p in body["purposes"])


@covers("GET", "/settings/data-privacy")
def test_settings_page_is_the_signed_in_members(member_client: Client, alice: dict[str, str]) -> None:
    text = member_client("us-bob").get("/settings/data-privacy").text
    assert "us-bob" in text and "us-alice" not in text


@covers("POST", "/v1/me/choices")
@covers("POST", "/settings/data-privacy/{purpose}")
def test_choices_only_change_the_signed_in_member(
    member_client: Client, alice: dict[str, str], svc_store: SqlStore
) -> None:
    bob = member_client("us-bob")
    # Extra identity fields are refused, not obeyed.
    r = bob.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": True, "member_id": "us-alice"})
    assert r.status_code == 422
    assert bob.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": True}).status_code == 201
    token = bob.headers["X-CSRF-Token"]
    page = bob.post(
        "/settings/data-privacy/genai_training",
        data={"enabled": "on", "csrf_token": token, "member_id": "us-alice"},
        follow_redirects=False,
    )
    assert page.status_code == 303
    _alice_untouched(svc_store, alice)
    assert len(svc_store.events(member_id="us-bob")) == 2


@covers("GET", "/v1/me/choices")
@covers("GET", "/settings/my-data")
def test_history_is_the_signed_in_members(member_client: Client, alice: dict[str, str]) -> None:
    bob = member_client("us-bob")
    assert bob.get("/v1/me/choices").json() == {"choices": []}
    page = bob.get("/settings/my-data").text
    assert alice["case"] not in page and f'data-event="{alice["event"]}"' not in page


@covers("GET", "/v1/me/choices/{event_id}/receipt")
def test_receipt_of_another_members_choice_is_404(member_client: Client, alice: dict[str, str]) -> None:
    r = member_client("us-bob").get(f"/v1/me/choices/{alice['event']}/receipt")
    assert r.status_code == 404 and "us-alice" not in r.text


@covers("GET", "/v1/me/choices/{event_id}/signed-receipt")
def test_signed_receipt_of_another_members_choice_is_404(member_client: Client, alice: dict[str, str]) -> None:
    r = member_client("us-bob").get(f"/v1/me/choices/{alice['event']}/signed-receipt")
    assert r.status_code == 404 and "us-alice" not in r.text


@covers("GET", "/v1/me/objections")
@covers("GET", "/settings/objection")
def test_objection_lists_are_the_signed_in_members(member_client: Client, alice: dict[str, str]) -> None:
    bob = member_client("us-bob")
    assert bob.get("/v1/me/objections").json()["cases"] == []
    assert alice["case"] not in bob.get("/settings/objection").text


@covers("GET", "/v1/me/objections/{case_id}")
@covers("GET", "/settings/objection/{case_id}")
def test_another_members_case_is_404(member_client: Client, alice: dict[str, str]) -> None:
    bob = member_client("us-bob")
    api = bob.get(f"/v1/me/objections/{alice['case']}")
    page = bob.get(f"/settings/objection/{alice['case']}")
    assert api.status_code == 404 and page.status_code == 404
    assert "private words" not in api.text + page.text


@covers("POST", "/v1/me/objections")
@covers("POST", "/settings/objection")
def test_objections_are_filed_for_the_signed_in_member(
    member_client: Client, alice: dict[str, str], svc_store: SqlStore
) -> None:
    bob = member_client("us-bob")
    r = bob.post("/v1/me/objections", json={"purposes": ["personalization"], "member_id": "us-alice"})
    assert r.status_code == 422
    assert bob.post("/v1/me/objections", json={"purposes": ["personalization"]}).status_code == 201
    form = {"purposes": "content_moderation", "csrf_token": bob.headers["X-CSRF-Token"], "member_id": "us-alice"}
    assert bob.post("/settings/objection", data=form, follow_redirects=False).status_code == 303
    _alice_untouched(svc_store, alice)
    assert len(svc_store.objections(member_id="us-bob")) == 2


@covers("GET", "/v1/me/data-use")
def test_data_use_is_the_signed_in_members(member_client: Client, alice: dict[str, str]) -> None:
    assert member_client("us-bob").get("/v1/me/data-use").json() == {"builds": []}


@covers("POST", "/sign-out")
def test_sign_out_ends_only_this_session(member_client: Client) -> None:
    alice_c, bob = member_client("us-alice"), member_client("us-bob")
    assert bob.post("/sign-out", follow_redirects=False).status_code == 303
    assert bob.get("/v1/me/settings").status_code == 401
    assert alice_c.get("/v1/me/settings").json()["member_id"] == "us-alice"


def test_a_forged_session_cookie_is_ignored(app: FastAPI, member_client: Client) -> None:
    bob = member_client("us-bob")
    cookie = bob.cookies.get("consentry_session")
    assert cookie
    _payload, _, sig = cookie.partition(".")
    forged = base64.b64encode(b'{"member": "us-alice"}').decode() + "." + sig
    with TestClient(app, cookies={"consentry_session": forged}) as evil:
        assert evil.get("/v1/me/settings").status_code == 401


def test_every_member_route_has_an_isolation_test(app: FastAPI) -> None:
    member_routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        and (route.path.startswith(("/v1/me", "/settings", "/v1/session")) or route.path == "/sign-out")
        for method in route.methods
    }
    assert member_routes - TESTED == set()
