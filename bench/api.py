"""Web service benchmark: throughput and latency of settings reads and toggles, and toggle integrity.

Runs `consentry serve --workers N` (uvicorn worker processes) on loopback in a
child process, for N = 1, 2 and 4, and loads it with wrk (or a bounded async
HTTPX loop):

1. side by side in the same run, at C concurrent connections: the trivial
   endpoint `GET /v1/health`, `GET /v1/me/settings` rotating over many members,
   the same for ONE member (every connection reads the same cache key) and
   toggling (`POST /v1/me/choices`) — requests/s, p50, p99 and max latency;
   targets for the settings reads: p99 <= 4 x p50 and no request over 1 s;
2. 1,000 concurrent toggles by ONE member: every acknowledged toggle is one
   ledger event (none lost, none duplicated), the member's final state is the
   last acknowledged choice in ledger order, and the hash chain verifies.

    .venv/bin/python bench/api.py              # 200 connections, 6 s per endpoint, 3 rounds, 1/2/4 workers
    .venv/bin/python bench/api.py --quick      # smoke run

Members authenticate through the documented trusted-header mode (a gateway
signature), so the load loop needs no browser; writes carry the CSRF token.
The machine is shared: report medians of the rounds and ratios from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "social-network.yaml"
SECRET = "bench-gateway-secret-0123456789"
PURPOSE = "genai_training"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_store(db: Path, members: int) -> str:
    """A SQLite store with the reference policy and `members` US adults."""
    from consentry.policy import load_policy
    from consentry.store import open_store
    from consentry.store.protocol import Member

    url = f"sqlite:///{db}"
    store = open_store(url)
    store.publish(load_policy(POLICY))
    created = datetime(2020, 1, 1, tzinfo=UTC)
    store.add_members(Member(f"m{i:06d}", "US", date(1980, 1, 1), created) for i in range(members))
    store.close()
    return url


def start_server(url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """`consentry serve --workers N` in a child process, ready when /v1/health answers."""
    env = dict(os.environ)
    env.update(
        CONSENTRY_DB=url,
        CONSENTRY_TRUSTED_HEADER_SECRET=SECRET,
        CONSENTRY_SECRET_KEY="bench-session-secret-0123456789",
        CONSENTRY_COOKIE_SECURE="0",
        CONSENTRY_WRITE_LIMIT="100000000",
    )
    cmd = [sys.executable, "-m", "consentry.cli", "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def gateway_headers(member: str) -> dict[str, str]:
    from consentry.service.auth import sign_member_header

    return sign_member_header(SECRET, member)


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    max_ms: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def _session(client: httpx.AsyncClient, member: str) -> dict[str, str]:
    """Headers for one member: the gateway signature plus the session's CSRF token."""
    headers = gateway_headers(member)
    r = await client.get("/v1/session", headers=headers)
    r.raise_for_status()
    return {**headers, "X-CSRF-Token": r.json()["csrf_token"]}


async def load(base: str, name: str, concurrency: int, seconds: float, members: int) -> Result:
    """Closed-loop load: `concurrency` workers, each with its own member session, for `seconds`."""
    latencies: list[float] = []
    errors = 0
    ready = 0
    go = asyncio.Event()
    window: list[float] = []

    async def worker(i: int) -> None:
        nonlocal errors, ready
        member = f"m{i % members:06d}" if name != "settings_one" else "m000001"
        limits = httpx.Limits(max_connections=1, keepalive_expiry=1.0)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as c:
            headers = await _session(c, member)
            ready += 1
            if ready == concurrency:  # every session is set up: start the clock
                window.append(time.perf_counter())
                go.set()
            await go.wait()
            flip = False
            end = window[0] + seconds
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                if name == "trivial":
                    r = await c.get("/v1/health")
                elif name in ("settings", "settings_one"):
                    r = await c.get("/v1/me/settings", headers=headers)
                else:
                    flip = not flip
                    r = await c.post("/v1/me/choices", json={"purpose": PURPOSE, "enabled": flip}, headers=headers)
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 300:
                    errors += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - window[0]
    qs = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return Result(name, len(latencies), elapsed, qs[49] * 1000, qs[98] * 1000, errors, max(latencies) * 1000)


_WRK_SCRIPT = """
local sessions = {SESSIONS}
local n = #sessions
local i = 0
local flip = false
request = function()
  i = i % n + 1
  local s = sessions[i]
  local headers = {{}}
  for k, v in pairs(s) do headers[k] = v end
  if "{NAME}" == "toggle" then
    flip = not flip
    headers["Content-Type"] = "application/json"
    local on = '{{"purpose":"genai_training","enabled":true}}'
    local off = '{{"purpose":"genai_training","enabled":false}}'
    local body = flip and on or off
    return wrk.format("POST", "/v1/me/choices", headers, body)
  end
  return wrk.format("GET", "{PATH}", headers)
end
"""


def _lua(value: dict[str, str]) -> str:
    return "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in value.items()) + "}"


def _ms(text: str) -> float:
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
    for unit in ("us", "ms", "s", "m"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def load_wrk(base: str, name: str, concurrency: int, seconds: float, sessions: list[dict[str, str]]) -> Result:
    """The same load with wrk (C, two threads), rotating over many members' sessions."""
    paths = {"trivial": "/v1/health", "settings": "/v1/me/settings", "toggle": "/v1/me/choices"}
    path = paths.get(name, "/v1/me/settings")
    if name == "settings_one":  # every connection reads one member's settings: one cache key
        sessions = sessions[:1]
    lua = _WRK_SCRIPT.format(SESSIONS="{" + ", ".join(_lua(x) for x in sessions) + "}", NAME=name, PATH=path)
    return _run_wrk(base + path, name, concurrency, seconds, lua)


_WRK_PATHS_SCRIPT = """
local paths = {PATHS}
local n = #paths
local i = math.random(n) - 1
request = function()
  i = i % n + 1
  return wrk.format("GET", paths[i])
end
"""


def load_wrk_paths(base: str, name: str, concurrency: int, seconds: float, paths: list[str]) -> Result:
    """Unauthenticated GETs with wrk (two threads), each thread rotating over `paths` from a random start."""
    lua = _WRK_PATHS_SCRIPT.format(PATHS="{" + ", ".join(f'"{p}"' for p in paths) + "}")
    return _run_wrk(base + paths[0], name, concurrency, seconds, lua)


def _run_wrk(url: str, name: str, concurrency: int, seconds: float, lua: str) -> Result:
    import re

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    cmd = ["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--latency", "--timeout", "30s"]
    try:
        out = subprocess.run([*cmd, "-s", script.name, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    elapsed = _ms(re.search(r"requests in ([\d.]+\w+),", out).group(1)) / 1000  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    worst = _ms(re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in errs.groups()) if errs else 0)
    return Result(name, total, elapsed, p50, p99, errors, worst)


async def wrk_sessions(base: str, members: int) -> list[dict[str, str]]:
    """Gateway headers, session cookie and CSRF token for `members` members (m000001 …), for wrk."""
    out: list[dict[str, str]] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        for i in range(1, members + 1):
            c.cookies.clear()
            headers = await _session(c, f"m{i:06d}")
            cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
            out.append({**headers, "Cookie": cookie})
    return out


async def concurrent_toggles(base: str, url: str, n: int) -> dict[str, object]:
    """`n` toggles by one member at once; check the ledger against the acknowledgements."""
    from consentry.store import open_store

    member = "m000000"
    store = open_store(url)
    before = {e.event_id for e in store.events(member_id=member)}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as c:
        headers = await _session(c, member)
        bodies = [{"purpose": PURPOSE, "enabled": i % 2 == 0} for i in range(n)]
        responses = await asyncio.gather(
            *(c.post("/v1/me/choices", json=b, headers=headers) for b in bodies), return_exceptions=True
        )
    ok = [r for r in responses if isinstance(r, httpx.Response)]
    acked = [r.json() for r in ok if r.status_code == 201]
    events = [e for e in store.events(member_id=member) if e.event_id not in before]
    acked_ids = [a["event_id"] for a in acked]
    last = max(events, key=lambda e: (e.at, e.event_id)) if events else None
    state = store.state(member, PURPOSE)
    verify = store.verify()
    store.close()
    return {
        "sent": n,
        "acknowledged": len(acked),
        "transport_errors": len(responses) - len(ok),
        "refused": sum(1 for r in ok if r.status_code != 201),
        "new_events": len(events),
        "duplicate_acks": len(acked_ids) - len(set(acked_ids)),
        "lost": len(set(acked_ids) - {e.event_id for e in events}),
        "unacknowledged_events": len({e.event_id for e in events} - set(acked_ids)),
        "final_state_is_last_acknowledged": state is not None
        and last is not None
        and state.event_id == last.event_id
        and last.event_id in set(acked_ids),
        "ledger_ok": verify.ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--toggles", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts to compare, e.g. 1,2,4")
    parser.add_argument("--quick", action="store_true", help="50 connections, 2 s, 1 round, 200 toggles")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--tool",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator (default: wrk when installed: apt-get install wrk)",
    )
    a = parser.parse_args()
    if a.quick:
        a.concurrency, a.seconds, a.rounds, a.toggles = 50, 2.0, 1, 200
    counts = [int(w) for w in a.workers.split(",")]
    by_workers: dict[str, object] = {}
    for workers in counts:
        with tempfile.TemporaryDirectory() as tmp:
            rounds, integrity = run(a, Path(tmp), workers)
        by_workers[str(workers)] = summarise(rounds, integrity)
    summary = {
        "tool": a.tool,
        "members_rotated": min(a.members - 1, 1000) if a.tool == "wrk" else a.concurrency,
        "concurrency": a.concurrency,
        "seconds_per_endpoint": a.seconds,
        "rounds": a.rounds,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "workers": by_workers,
        "python": sys.version.split()[0],
    }
    print(json.dumps(summary, indent=2))
    if a.json:
        a.json.write_text(json.dumps(summary, indent=2) + "\n")


ENDPOINTS = ("trivial", "settings", "settings_one", "toggle")


def run(a: argparse.Namespace, tmp: Path, workers: int) -> tuple[dict[str, list[Result]], dict[str, object]]:
    """Serve a fresh store with `workers` processes, load each endpoint every round, then the concurrent toggles."""
    url = prepare_store(tmp / "bench.db", a.members)
    port = _free_port()
    proc = start_server(url, port, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        rounds: dict[str, list[Result]] = {name: [] for name in ENDPOINTS}
        sessions = asyncio.run(wrk_sessions(base, min(a.members - 1, 1000))) if a.tool == "wrk" else []
        for r in range(a.rounds):
            for name in rounds:
                if a.tool == "wrk":
                    res = load_wrk(base, name, a.concurrency, a.seconds, sessions)
                else:
                    res = asyncio.run(load(base, name, a.concurrency, a.seconds, a.members))
                rounds[name].append(res)
                print(
                    f"workers {workers} round {r + 1} {name:12s} {res.rps:8.0f} req/s  p50 {res.p50_ms:6.1f} ms  "
                    f"p99 {res.p99_ms:6.1f} ms  max {res.max_ms:7.1f} ms  errors {res.errors}",
                    flush=True,
                )
        integrity = asyncio.run(concurrent_toggles(base, url, a.toggles))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return rounds, integrity


def summarise(rounds: dict[str, list[Result]], integrity: dict[str, object]) -> dict[str, object]:
    """Medians over rounds, the side-by-side ratios, the latency targets, and the integrity check."""
    med = {
        name: {
            "rps": statistics.median(r.rps for r in rs),
            "p50_ms": statistics.median(r.p50_ms for r in rs),
            "p99_ms": statistics.median(r.p99_ms for r in rs),
            "max_ms": max(r.max_ms for r in rs),
            "errors": sum(r.errors for r in rs),
        }
        for name, rs in rounds.items()
    }
    ratios = [s.rps / t.rps for s, t in zip(rounds["settings"], rounds["trivial"], strict=True)]
    targets = {
        name: {
            "p99_over_p50": med[name]["p99_ms"] / med[name]["p50_ms"],
            "p99_at_most_4x_p50": med[name]["p99_ms"] <= 4 * med[name]["p50_ms"],
            "none_over_1s": med[name]["max_ms"] <= 1000.0,
        }
        for name in ("trivial", "settings", "settings_one")
    }
    return {
        "median": med,
        "settings_vs_trivial_rps_ratio": statistics.median(ratios),
        "latency_targets": targets,
        "concurrent_toggles_one_member": integrity,
    }


if __name__ == "__main__":
    main()
