"""`consentry staff …` through the CLI runner, and `consentry serve --demo` as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from consentry.cli import app
from consentry.service import StaffRegistry
from consentry.store import SqlStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(svc_store: SqlStore) -> dict[str, str]:
    return {"CONSENTRY_DB": str(svc_store._engine.url)}


def test_add_list_revoke_keys(env: dict[str, str], svc_store: SqlStore) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["staff", "add-key", "--role", "reviewer", "--name", "Pat"], env=env)
    assert added.exit_code == 0, added.output
    body = json.loads(added.stdout)
    assert body["role"] == "reviewer" and body["api_key"].startswith("csk_")
    assert StaffRegistry(svc_store).authenticate(body["api_key"]) is not None
    listed = json.loads(runner.invoke(app, ["staff", "list-keys"], env=env).stdout)
    assert [k["key_id"] for k in listed] == [body["key_id"]] and "api_key" not in listed[0]
    assert body["api_key"] not in runner.invoke(app, ["staff", "list-keys"], env=env).stdout
    revoked = runner.invoke(app, ["staff", "revoke", body["key_id"]], env=env)
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked_at"] is not None
    assert StaffRegistry(svc_store).authenticate(body["api_key"]) is None


def test_bad_role_and_unknown_key_are_clean_errors(env: dict[str, str]) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["staff", "add-key", "--role", "admin", "--name", "x"], env=env)
    assert bad.exit_code == 1 and "viewer, reviewer or publisher" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(app, ["staff", "revoke", "nope"], env=env)
    assert missing.exit_code == 1 and "no staff key 'nope'" in missing.output


@contextmanager
def _serving(args: list[str], env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """`consentry serve ARGS` as a real process on a free port: yields its URL and pid, then its stdout/stderr."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = shutil.which("consentry", path=str(Path(sys.executable).parent))
    assert exe
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), *args],
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: dict[str, str] = {"pid": str(proc.pid)}
    try:
        for attempt in range(1500):  # counted attempts, not a wall-clock budget: a busy machine starts it late
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and attempt < 1499, "serve did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", output
    finally:
        proc.send_signal(signal.SIGINT)
        output["out"], output["err"] = proc.communicate(timeout=20)


def test_serve_demo_runs_and_prints_where_to_go(env: dict[str, str]) -> None:
    with _serving(["--demo", "--as-of", "2025-01-15T00:00:00Z"], env) as (base, output):
        r = httpx.get(f"{base}/demo/sign-in", timeout=5)
        assert r.status_code == 200 and "us-alice" in r.text
    out, err = output["out"], output["err"]
    assert "/demo/sign-in" in out and "/admin/sign-in" in out and "reviewer key:  csk_" in out
    assert "Traceback" not in err


def test_serve_trusts_no_forwarded_header_from_loopback_and_refuses_unknown_hosts(env: dict[str, str]) -> None:
    """Rotating X-Forwarded-For from 127.0.0.1 must not reset the per-address sign-in limit."""
    with _serving(["--demo"], {**env, "CONSENTRY_WRITE_LIMIT": "2"}) as (base, _), httpx.Client(base_url=base) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/admin/sign-in").text)
        assert token
        form = {"api_key": "csk_wrong", "csrf_token": token.group(1)}
        statuses = [
            c.post("/admin/sign-in", data=form, headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(3)
        ]
        assert statuses == [401, 401, 429]
        evil = c.get("/admin/", headers={"Host": "evil.example"})
        assert evil.status_code == 400 and "evil.example" not in evil.headers.get("location", "")


def _worker_of(server: psutil.Process, client_port: int) -> int | None:
    """The pid of the worker process holding the connection from `client_port`."""
    for worker in server.children():
        for conn in worker.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == client_port and conn.status == psutil.CONN_ESTABLISHED:
                return int(worker.pid)
    return None


def test_serve_with_two_workers_answers_from_both_and_they_share_the_sign_in_limit(env: dict[str, str]) -> None:
    """Each attempt on a new connection; whichever worker takes it, the per-address limit is one limit."""
    limit = {"CONSENTRY_WRITE_LIMIT": "3", "CONSENTRY_WRITE_WINDOW_S": "3600"}
    with _serving(["--demo", "--workers", "2"], {**env, **limit}) as (base, output):
        server = psutil.Process(int(output["pid"]))
        statuses: list[int] = []
        workers: list[int | None] = []
        for _ in range(40):  # bounded: until both workers have answered attempts
            with httpx.Client(base_url=base, timeout=10) as c:
                page = c.get("/admin/sign-in")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                assert page.status_code == 200 and token
                client_port = page.extensions["network_stream"].get_extra_info("client_addr")[1]
                workers.append(_worker_of(server, client_port))
                form = {"api_key": "csk_wrong", "csrf_token": token.group(1)}
                statuses.append(c.post("/admin/sign-in", data=form).status_code)
            if len(statuses) >= 6 and len(set(workers) - {None}) == 2:
                break
    assert len(set(workers) - {None}) == 2, "one worker took every connection"
    assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}
    assert "Traceback" not in output["err"]
