"""Signals lookup benchmark: `GET /v1/signals/members/{id}` against the trivial `GET /v1/health`, same run.

Runs `consentry serve` (one worker, asyncio + httptools) over a SQLite store of
M US adults, 30 % of whom turned generative-AI training off, in a child
process, and loads it with wrk (C connections, two threads), side by side in
every round:

- `trivial` — `GET /v1/health`;
- `signals_one` — one member's signals (every request the same cache key: a
  popular profile);
- `signals_rotating` — rotating over 1,000 members (each member asked about
  every ~1,000 requests: at these rates mostly answered from the 1-second cache);
- `signals_cold` — rotating over every member of the store (M; by default
  20,000), so most answers are worked out from the store.

Before loading, it measures in its own process the CPU time (process_time) of
one answer worked out from the store and rendered (a cache miss) and of one
served from the member cache (a hit): figures the shared machine's load does not
move the way it moves latencies.

Reported: requests/s, p50, p99 and the worst latency per endpoint (medians over
rounds), and the ratios to `trivial` from the same round. A wrong answer (a
reserved member without `train-ai=n`, or the reverse) is counted as an error.

    .venv/bin/python bench/signals.py            # 100 connections, 5 s per endpoint, 3 rounds
    .venv/bin/python bench/signals.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from api import POLICY, Result, _free_port, load_wrk_paths, start_server

ENDPOINTS = ("trivial", "signals_one", "signals_rotating", "signals_cold")


def prepare_store(db: Path, members: int) -> tuple[str, set[str]]:
    """A SQLite store with the reference policy and `members` US adults; every third-or-so turned genAI off."""
    from consentry.policy import load_policy
    from consentry.store import open_store
    from consentry.store.protocol import Member, NewEvent
    from consentry.vocab import Choice, Source

    url = f"sqlite:///{db}"
    store = open_store(url)
    store.publish(load_policy(POLICY))
    created = datetime(2020, 1, 1, tzinfo=UTC)
    ids = [f"m{i:06d}" for i in range(members)]
    store.add_members(Member(m, "US", date(1980, 1, 1), created) for m in ids)
    off = {m for i, m in enumerate(ids) if i % 10 < 3}
    at = datetime(2025, 12, 1, tzinfo=UTC)
    store.record_many(NewEvent(m, "genai_training", Choice.DENY, at, Source.SETTINGS, actor=m) for m in sorted(off))
    store.close()
    return url, off


def cpu_per_lookup(url: str, members: int) -> dict[str, float]:
    """CPU time (process_time, µs) in this process: one answer worked out from the store and rendered (a miss)
    and one served from the member cache (a hit)."""
    from consentry.service.member_cache import MemberCache
    from consentry.service.public_signals import MemberSignals
    from consentry.signals.reservation import reservation_for
    from consentry.store import open_store

    store = open_store(url)
    policy = store.policy()
    now = datetime.now(UTC)
    ids = [f"m{i:06d}" for i in range(min(members, 5000))]
    cache: MemberCache[MemberSignals] = MemberCache(
        lambda m: MemberSignals.of(reservation_for(store, m, now, policy)), ttl_s=3600
    )
    t0 = time.process_time()
    for m in ids:
        cache.get(m)
    t1 = time.process_time()
    for _ in range(10):
        for m in ids:
            cache.get(m)
    t2 = time.process_time()
    store.close()
    return {"miss_us": (t1 - t0) / len(ids) * 1e6, "hit_us": (t2 - t1) / (10 * len(ids)) * 1e6}


def check_answers(base: str, off: set[str], sample: list[str]) -> int:
    """Wrong answers among `sample` (a reserved member must say train-ai=n, the others nothing)."""
    wrong = 0
    with httpx.Client(base_url=base, timeout=30) as c:
        for m in sample:
            body = c.get(f"/v1/signals/members/{m}").json()
            reserved = body["headers"].get("Content-Usage") == "train-ai=n"
            wrong += reserved is not (m in off)
    return wrong


def paths_for(name: str, members: int) -> list[str]:
    """The request paths an endpoint's wrk script rotates over."""
    if name == "trivial":
        return ["/v1/health"]
    if name == "signals_one":
        return ["/v1/signals/members/m000001"]
    count = 1000 if name == "signals_rotating" else members
    return [f"/v1/signals/members/m{i:06d}" for i in range(count)]


def run(a: argparse.Namespace, tmp: Path) -> tuple[dict[str, list[Result]], int, dict[str, float]]:
    """Serve a fresh store, load each endpoint every round, and check a sample of answers."""
    url, off = prepare_store(tmp / "bench.db", a.members)
    cpu = cpu_per_lookup(url, a.members)
    port = _free_port()
    proc = start_server(url, port, 1)
    base = f"http://127.0.0.1:{port}"
    try:
        wrong = check_answers(base, off, [f"m{i:06d}" for i in range(0, a.members, max(1, a.members // 500))])
        rounds: dict[str, list[Result]] = {name: [] for name in ENDPOINTS}
        for r in range(a.rounds):
            for name in ENDPOINTS:
                res = load_wrk_paths(base, name, a.concurrency, a.seconds, paths_for(name, a.members))
                rounds[name].append(res)
                print(
                    f"round {r + 1} {name:16s} {res.rps:8.0f} req/s  p50 {res.p50_ms:6.1f} ms  "
                    f"p99 {res.p99_ms:6.1f} ms  max {res.max_ms:7.1f} ms  errors {res.errors}",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return rounds, wrong, cpu


def summarise(rounds: dict[str, list[Result]]) -> dict[str, object]:
    """Medians over rounds, and each endpoint against `trivial` from the same round (median of the ratios)."""
    out: dict[str, object] = {}
    for name, rs in rounds.items():
        out[name] = {
            "rps": round(statistics.median(r.rps for r in rs)),
            "p50_ms": statistics.median(r.p50_ms for r in rs),
            "p99_ms": statistics.median(r.p99_ms for r in rs),
            "max_ms": max(r.max_ms for r in rs),
            "errors": sum(r.errors for r in rs),
            "rps_vs_trivial": round(
                statistics.median(r.rps / t.rps for r, t in zip(rs, rounds["trivial"], strict=True)), 2
            ),
            "p99_vs_trivial": round(
                statistics.median(r.p99_ms / t.p99_ms for r, t in zip(rs, rounds["trivial"], strict=True)), 2
            ),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="20 connections, 1 s, 1 round, 2,000 members")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    a = parser.parse_args()
    if a.quick:
        a.concurrency, a.seconds, a.rounds, a.members = 20, 1.0, 1, 2000
    with tempfile.TemporaryDirectory() as tmp:
        rounds, wrong, cpu = run(a, Path(tmp))
    summary = {
        "tool": "wrk",
        "members": a.members,
        "reserved_share": 0.3,
        "concurrency": a.concurrency,
        "seconds_per_endpoint": a.seconds,
        "rounds": a.rounds,
        "workers": 1,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "wrong_answers_in_sample": wrong,
        "cpu_per_answer_us": {k: round(v, 1) for k, v in cpu.items()},
        "endpoints": summarise(rounds),
        "python": sys.version.split()[0],
    }
    print(json.dumps(summary, indent=2))
    if a.json:
        a.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
