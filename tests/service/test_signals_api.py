"""GET /v1/signals/members/{member_id}: a member's reservation, public, cached, and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from consentry.service import create_app
from consentry.service.context import ServiceContext
from consentry.store import SqlStore

from .conftest import make_config
from .test_workers import MEMBER, N, _FactsReads

RESERVED_HEADERS = {
    "Content-Usage": "train-ai=n",
    "tdm-reservation": "1",
    "tdm-policy": "https://example.org/terms/2024-11-20",
    "X-Robots-Tag": "noai, noimageai",
}
RESERVED = {"aipref": ["train-ai"], "robots": ["noai", "noimageai"], "tdmrep": ["tdm"]}


def _signals(client: TestClient, member_id: str) -> dict[str, Any]:
    r = client.get(f"/v1/signals/members/{member_id}")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "public, max-age=1"
    body: dict[str, Any] = r.json()
    return body


def test_a_member_who_allows_has_no_signal_and_one_excluded_by_region_has_all(app: FastAPI) -> None:
    client = TestClient(app)  # no session: the endpoint is public
    assert _signals(client, "us-alice") == {"member_id": "us-alice", "reserved": {}, "headers": {}}
    assert _signals(client, "de-dora") == {"member_id": "de-dora", "reserved": RESERVED, "headers": RESERVED_HEADERS}


def test_an_unknown_id_reads_like_a_member_who_reserves_everything(app: FastAPI) -> None:
    client = TestClient(app)
    unknown = _signals(client, "nobody-at-all")
    reserved = _signals(client, "gb-gary")
    assert unknown.pop("member_id") == "nobody-at-all" and reserved.pop("member_id") == "gb-gary"
    assert unknown == reserved  # neither existence nor a reason is revealed


def test_turning_the_setting_off_reserves_from_that_moment_on(
    app: FastAPI, member_client: Callable[[str], TestClient]
) -> None:
    public = TestClient(app)
    assert _signals(public, "us-alice")["headers"] == {}  # now cached
    alice = member_client("us-alice")
    assert alice.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": False}).status_code == 201
    assert _signals(public, "us-alice")["headers"] == RESERVED_HEADERS
    assert alice.post("/v1/me/choices", json={"purpose": "genai_training", "enabled": True}).status_code == 201
    assert _signals(public, "us-alice")["headers"] == {}


def test_an_id_past_the_bound_is_refused(app: FastAPI) -> None:
    r = TestClient(app).get("/v1/signals/members/" + "m" * 256)
    assert r.status_code == 422


def test_the_schema_names_the_typed_response(app: FastAPI) -> None:
    schema = TestClient(app).get("/openapi.json").json()
    op = schema["paths"]["/v1/signals/members/{member_id}"]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/SignalsOut")
    assert set(schema["components"]["schemas"]["SignalsOut"]["properties"]) == {"member_id", "reserved", "headers"}


def test_concurrent_requests_for_one_members_signals_read_the_store_once(svc_store: SqlStore) -> None:
    app = create_app(svc_store, make_config())
    ctx: ServiceContext = app.state.ctx
    ctx.policy()

    async def requests(reads: _FactsReads) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            sent = [asyncio.create_task(client.get(f"/v1/signals/members/{MEMBER}")) for _ in range(N)]
            for _ in range(50_000):  # bounded: until the other N-1 wait for the first one's read
                if ctx.signal_readers_waiting(MEMBER) >= N - 1:
                    break
                await asyncio.sleep(0.001)
            reads.release.set()
            return list(await asyncio.gather(*sent))

    with _FactsReads(svc_store).counting() as reads:
        responses = asyncio.run(requests(reads))
    assert [r.status_code for r in responses] == [200] * N
    assert reads.count == 1
