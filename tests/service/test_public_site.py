"""The demo's public pages carry their member's signals; robots.txt and tdmrep.json speak for the site.

`datadiligence` (the opt-out checker training pipelines use, written elsewhere)
fetches the pages from a real uvicorn on loopback with header rules only
(X-Robots-Tag and TDMRep: no Spawning API, no network beyond loopback).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datadiligence import HttpEvaluator
from datadiligence.rules import TDMRepHeader, XRobotsTagHeader
from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.service import create_app
from consentry.signals.asgi import ReservationHeaders
from consentry.signals.client import ServiceSignals, SignalsUnavailable
from consentry.store import SqlStore

from .conftest import make_config, sign_in
from .serving import serving

POSTS = [
    ("p-alice", "us-alice", "public"),
    ("p-dora", "de-dora", "public"),
    ("p-bob-private", "us-bob", "private"),
]


@pytest.fixture
def site(svc_store: SqlStore, tmp_path: Path) -> FastAPI:
    lake = tmp_path / "lake.jsonl"
    rows = [
        {"record_id": r, "member_id": m, "kind": "post", "visibility": v, "created_at": "2024-12-01T00:00:00Z"}
        | {"text": f"hello from {m}"}
        for r, m, v in POSTS
    ]
    lake.write_text("".join(json.dumps(row) + "\n" for row in rows) + "not json\n")
    return create_app(svc_store, make_config(public_lake=lake))


def _reservation(r: Any) -> dict[str, str]:
    names = ("content-usage", "tdm-reservation", "tdm-policy", "x-robots-tag")
    return {n: r.headers[n] for n in names if n in r.headers}


RESERVED = {
    "content-usage": "train-ai=n",
    "tdm-reservation": "1",
    "tdm-policy": "https://example.org/terms/2024-11-20",
    "x-robots-tag": "noai, noimageai",
}


def test_profile_and_post_pages_carry_their_members_signals(site: FastAPI) -> None:
    client = TestClient(site)
    for path, expected in [
        ("/in/us-alice", {}),
        ("/posts/p-alice", {}),
        ("/in/de-dora", RESERVED),  # excluded in Germany under these terms: always reserved
        ("/posts/p-dora", RESERVED),
    ]:
        r = client.get(path)
        assert r.status_code == 200, path
        assert _reservation(r) == expected, path
    assert "hello from de-dora" in client.get("/posts/p-dora").text
    head = client.head("/in/de-dora")  # a crawler may read the headers alone
    assert head.status_code == 200 and _reservation(head) == RESERVED and head.content == b""
    assert client.get("/posts/p-bob-private").status_code == 404  # only public records are pages
    assert client.get("/in/nobody").status_code == 404
    assert _reservation(client.get("/v1/health")) == {}  # not a member's page


def test_a_member_who_turns_the_setting_off_has_the_signals_from_that_moment_on(site: FastAPI) -> None:
    public = TestClient(site)
    assert _reservation(public.get("/in/us-alice")) == {}
    alice = TestClient(site)
    sign_in(alice, "us-alice")
    assert alice.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False}).status_code == 201
    assert _reservation(public.get("/in/us-alice")) == RESERVED
    assert _reservation(public.get("/posts/p-alice")) == RESERVED


def test_robots_txt_and_tdmrep_json_for_the_site(site: FastAPI) -> None:
    client = TestClient(site)
    robots = client.get("/robots.txt")
    assert robots.headers["content-type"].startswith("text/plain")
    lines = robots.text.splitlines()
    assert "User-Agent: *" in lines and "Allow: /in/" in lines and "Disallow: /settings/" in lines
    assert "Content-Usage: /static/ train-ai=n" in lines
    assert not any(line.startswith("Content-Usage: /in/") for line in lines)  # members' pages speak for themselves
    rules = client.get("/.well-known/tdmrep.json").json()
    assert rules == [
        {"location": "/static/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/terms/2024-11-20"}
    ]


def test_the_public_pages_exist_only_in_the_demo(svc_store: SqlStore) -> None:
    client = TestClient(create_app(svc_store, make_config(demo=False)))
    assert client.get("/in/de-dora").status_code == 404
    assert _reservation(client.get("/in/de-dora")) == {}


@pytest.fixture
def served(site: FastAPI) -> Iterator[str]:
    """The site on a real uvicorn, loopback only."""
    with serving(site) as base:
        yield base


def test_datadiligence_reports_disallowed_for_an_opted_out_members_pages(site: FastAPI, served: str) -> None:
    checker = HttpEvaluator()  # header rules only: X-Robots-Tag and TDMRep
    assert [type(rule) for rule in checker.rules] == [XRobotsTagHeader, TDMRepHeader]
    assert checker.is_allowed(url=f"{served}/in/us-alice")
    assert checker.is_allowed(url=f"{served}/posts/p-alice")
    assert not checker.is_allowed(url=f"{served}/in/de-dora")
    assert not checker.is_allowed(url=f"{served}/posts/p-dora")
    alice = TestClient(site)  # the same app: the toggle goes through the service that serves the pages
    sign_in(alice, "us-alice")
    assert alice.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False}).status_code == 201
    assert not checker.is_allowed(url=f"{served}/in/us-alice")
    assert not checker.is_allowed(url=f"{served}/posts/p-alice")
    for rule in checker.rules:  # each standard on its own says so
        assert not rule.is_allowed(url=f"{served}/posts/p-alice")


def test_service_signals_feeds_the_middleware_from_a_real_service(served: str) -> None:
    """A web tier asks the service (uvicorn on loopback) for the headers, sync and async; unreachable fails closed."""
    lookup = ServiceSignals(served)
    reserved = dict(lookup.headers("de-dora"))
    assert reserved["Content-Usage"] == "train-ai=n" and reserved["tdm-reservation"] == "1"
    assert lookup.headers("us-alice") == ()
    assert dict(asyncio.run(lookup.headers_async("de-dora"))) == reserved

    async def web_tier(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"page"})

    def owner(scope: dict[str, Any]) -> str:
        return str(scope["path"]).rsplit("/", 1)[-1]

    page = ReservationHeaders(web_tier, member_of=owner, signals=lookup.headers_async)
    assert TestClient(page).get("/u/de-dora").headers["x-robots-tag"] == "noai, noimageai"
    with pytest.raises(SignalsUnavailable):
        ServiceSignals("http://127.0.0.1:9", timeout_s=0.5).headers("de-dora")  # nothing listens on port 9
    gone = ReservationHeaders(web_tier, member_of=owner, signals=ServiceSignals("http://127.0.0.1:9").headers_async)
    assert TestClient(gone).get("/u/us-alice").headers["content-usage"] == "train-ai=n, ai-use=n"  # fail closed


def test_what_the_pages_say_is_read_back_as_a_build_reads_a_crawled_page(served: str) -> None:
    """Out meets in: `consentry signals check` on the served pages (headers, robots.txt, tdmrep.json)."""
    from consentry.signals.check import check_url

    def states(path: str) -> tuple[bool, dict[str, str]]:
        out = check_url(served + path, timeout=10).to_dict()
        return out["reserved"], {kind: s["state"] for kind, s in out["signals"].items()}

    reserved = {"aipref": "reserved", "tdmrep": "reserved", "robots": "reserved", "cawg": "nothing said"}
    assert states("/in/de-dora") == (True, reserved)
    assert states("/posts/p-dora") == (True, reserved)
    assert states("/in/us-alice") == (False, dict.fromkeys(reserved, "nothing said"))
