"""ReservationHeaders: the ASGI middleware (through HTTPX) and its WSGI twin (under wsgiref's real server)."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from starlette.testclient import TestClient

from consentry.signals import asgi, wsgi
from consentry.signals.headers import FAIL_CLOSED, Headers

RESERVED: Headers = (("Content-Usage", "train-ai=n"), ("tdm-reservation", "1"), ("X-Robots-Tag", "noai, noimageai"))
LOOKUPS = {"opted-out": RESERVED, "allows": ()}


def member_of_path(path: str) -> str | None:
    return path.removeprefix("/in/") if path.startswith("/in/") else None


def lookup(member_id: str) -> Headers:
    return LOOKUPS[member_id]  # an unknown member raises: the middleware must fail closed


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A page that sets its own (permissive) TDMRep header and a Content-Type."""
    headers = [(b"content-type", b"text/plain"), (b"tdm-reservation", b"0")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"page"})


@pytest.fixture
def asgi_client() -> Iterator[TestClient]:
    wrapped = asgi.ReservationHeaders(app, member_of=lambda s: member_of_path(s["path"]), signals=lookup)

    async def async_lookup(member_id: str) -> Headers:
        return lookup(member_id)

    wrapped_async = asgi.ReservationHeaders(app, member_of=lambda s: member_of_path(s["path"]), signals=async_lookup)
    sync_client, async_client = TestClient(wrapped), TestClient(wrapped_async)  # no lifespan: a bare ASGI app
    yield sync_client
    # the same answers with an async lookup
    assert async_client.get("/in/opted-out").headers["content-usage"] == "train-ai=n"
    assert "content-usage" not in async_client.get("/in/allows").headers


def _reservation(headers: Any) -> dict[str, list[str]]:
    names = ("content-usage", "tdm-reservation", "tdm-policy", "x-robots-tag")
    return {n: headers.get_list(n) if hasattr(headers, "get_list") else headers.get_all(n) or [] for n in names}


def test_asgi_a_reserved_members_page_carries_the_headers_replacing_the_apps(asgi_client: TestClient) -> None:
    r = asgi_client.get("/in/opted-out")
    assert r.text == "page" and r.headers["content-type"] == "text/plain"
    assert _reservation(r.headers) == {
        "content-usage": ["train-ai=n"],
        "tdm-reservation": ["1"],  # the app's tdm-reservation: 0 is replaced, not contradicted
        "tdm-policy": [],
        "x-robots-tag": ["noai, noimageai"],
    }


def test_asgi_other_pages_and_members_who_allow_are_left_alone(asgi_client: TestClient) -> None:
    for path in ("/in/allows", "/about"):
        r = asgi_client.get(path)
        assert _reservation(r.headers) == {
            "content-usage": [],
            "tdm-reservation": ["0"],
            "tdm-policy": [],
            "x-robots-tag": [],
        }


def test_asgi_a_failed_lookup_fails_closed(asgi_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    r = asgi_client.get("/in/ghost")
    assert [(n, r.headers[n]) for n, _ in FAIL_CLOSED] == list(FAIL_CLOSED)
    assert r.headers.get_list("tdm-reservation") == ["1"]
    assert "'ghost'" in caplog.text and "Traceback" not in caplog.text


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("tdm-reservation", "0")])
    return [b"page"]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def wsgi_base() -> Iterator[str]:
    wrapped = wsgi.ReservationHeaders(
        wsgi_app, member_of=lambda environ: member_of_path(environ["PATH_INFO"]), signals=lookup
    )
    server = make_server("127.0.0.1", 0, wrapped, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url) as r:
        assert r.read() == b"page"
        return r.headers


def test_wsgi_a_reserved_members_page_carries_the_headers(wsgi_base: str) -> None:
    h = _get(f"{wsgi_base}/in/opted-out")
    assert _reservation(h) == {
        "content-usage": ["train-ai=n"],
        "tdm-reservation": ["1"],
        "tdm-policy": [],
        "x-robots-tag": ["noai, noimageai"],
    }
    assert h["Content-Type"] == "text/plain"


def test_wsgi_other_pages_are_left_alone_and_a_failed_lookup_fails_closed(wsgi_base: str) -> None:
    for path in ("/in/allows", "/about"):
        assert _reservation(_get(wsgi_base + path))["content-usage"] == []
    h = _get(f"{wsgi_base}/in/ghost")
    assert [(n, h[n]) for n, _ in FAIL_CLOSED] == list(FAIL_CLOSED)
