"""`consentry signals check` against a local HTTP server started here, and on files."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consentry.cli import app
from signals.assets import signed_png, signer

SITE = {
    "/robots.txt": (200, "User-Agent: *\nAllow: /\nContent-Usage: / train-ai=n\nContent-Usage: /open/ train-ai=y\n"),
    "/.well-known/tdmrep.json": (200, json.dumps([{"location": "/premium/*", "tdm-reservation": 1}])),
}


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = SITE.get(self.path, (200, "<p>page</p>"))
        data = body.encode()
        self.send_response(status)
        if self.path.startswith("/open/"):
            self.send_header("Content-Usage", "train-ai=y")
        if self.path.startswith("/tagged/"):
            self.send_header("X-Robots-Tag", "noai")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _check(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["signals", "check", *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_url_is_checked_with_its_headers_tdmrep_file_and_robots_txt(site: str) -> None:
    open_page = _check(f"{site}/open/a", "--timeout", "5")
    assert open_page["verdict"] == "y---" and not open_page["reserved"]
    assert open_page["fetched"] == {"page": "200", "/.well-known/tdmrep.json": "200", "/robots.txt": "200"}
    premium = _check(f"{site}/premium/b")
    assert premium["reserved_by"] == "aipref" and premium["signals"]["tdmrep"]["state"] == "reserved"
    tagged = _check(f"{site}/tagged/c")
    assert tagged["signals"]["robots"]["read"] == ["header x-robots-tag: noai: reserved"]


def test_files_a_captured_signals_object_and_a_signed_asset(tmp_path: Path) -> None:
    captured = tmp_path / "signals.json"
    captured.write_text(json.dumps({"tdmrep": [{"location": "/premium/*", "tdm-reservation": 1}]}))
    assert _check(str(captured), "--url", "https://x.example/premium/1")["reserved_by"] == "tdmrep"
    assert _check(str(captured))["reserved_by"] == "unreadable"  # rules, but no URL to match them
    image = signed_png(tmp_path / "p.png", {"cawg.ai_training": {"use": "constrained"}}, signer())
    assert _check(str(image))["reserved_by"] == "cawg"


def test_bad_targets_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["signals", "check", str(tmp_path / "nope.json")])
    assert missing.exit_code != 0 and "no such file" in missing.output
    unreachable = runner.invoke(app, ["signals", "check", "http://127.0.0.1:9/x", "--timeout", "1"])
    assert unreachable.exit_code != 0 and "cannot be fetched" in unreachable.output
    assert "Traceback" not in missing.output + unreachable.output
