"""Ledger benchmarks: appending events (events/s) and point-in-time snapshots.

    .venv/bin/python bench/ledger.py            # 1,000,000 events / members
    .venv/bin/python bench/ledger.py --quick    # 100,000, a smoke run

Targets: >= 50,000 events/s into SQLite; a snapshot of 1M members x 3
purposes in <= 3 s on SQLite. PostgreSQL is measured too when
CONSENTRY_TEST_PG_URL is set (a throwaway schema, dropped afterwards).
Reports the median of --repeat runs for snapshots.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from consentry.policy import load_policy
from consentry.store import Member, NewEvent, SqlStore, open_store
from consentry.vocab import Choice, Source

POLICY = Path(__file__).resolve().parent.parent / "examples" / "policies" / "social-network.yaml"
PURPOSES = ("genai_training", "personalization", "content_moderation")
START = datetime(2025, 1, 1, tzinfo=UTC)


def _members(n: int) -> Iterator[Member]:
    countries = ("US", "DE", "FR", "GB", "IN", "BR", None)
    for i in range(n):
        yield Member(f"m{i:08d}", countries[i % 7], None, START - timedelta(days=365))


def _events(n: int, members: int, seed: int = 7) -> list[NewEvent]:
    rng = random.Random(seed)
    return [
        NewEvent(
            f"m{rng.randrange(members):08d}",
            PURPOSES[i % 3],
            Choice.DENY if rng.random() < 0.5 else Choice.ALLOW,
            START + timedelta(seconds=i),
            Source.SETTINGS,
        )
        for i in range(n)
    ]


def run(store: SqlStore, label: str, n: int, repeat: int, snapshots: bool) -> None:
    """Fill `store` with n members and n events, then time appends and snapshots."""
    store.publish(load_policy(POLICY))
    t0 = time.perf_counter()
    store.add_members(_members(n))
    t_members = time.perf_counter() - t0
    events = _events(n, n)
    t0 = time.perf_counter()
    store.record_many(events)
    t_events = time.perf_counter() - t0
    print(f"[{label}] members: {n:,} in {t_members:.2f} s")
    print(f"[{label}] record_many: {n:,} events in {t_events:.2f} s = {n / t_events:,.0f} events/s")
    t0 = time.perf_counter()
    report = store.verify()
    print(f"[{label}] verify: {report.events:,} events in {time.perf_counter() - t0:.2f} s, ok={report.ok}")
    if not snapshots:
        return
    at = START + timedelta(seconds=n // 2)
    per_purpose: dict[str, list[float]] = {p: [] for p in PURPOSES}
    totals: list[float] = []
    for _ in range(repeat):
        total = 0.0
        for p in PURPOSES:
            t0 = time.perf_counter()
            snap = store.snapshot(p, at)
            dt = time.perf_counter() - t0
            assert snap.num_rows == n
            per_purpose[p].append(dt)
            total += dt
        totals.append(total)
    for p, times in per_purpose.items():
        print(f"[{label}] snapshot {p}: {n:,} members, median {statistics.median(times):.2f} s")
    runs = ", ".join(f"{x:.2f}" for x in totals)
    print(f"[{label}] snapshot x3 purposes: median {statistics.median(totals):.2f} s (runs: {runs})")


def members_reads(url: str, label: str) -> None:
    """Time reading every member in a new store object: whole, through the member image, and image + changes."""

    def read() -> float:
        fresh = open_store(url)  # nothing in memory yet, as in a new process
        t0 = time.perf_counter()
        fresh.members_table()
        dt = time.perf_counter() - t0
        fresh.close()
        return dt

    whole = read()
    store = open_store(url)
    t0 = time.perf_counter()
    store.refresh_member_image()
    written = time.perf_counter() - t0
    imaged = read()
    changed = [Member(m.member_id, "CA", m.birth_date, m.created_at) for m in _members(10_000)]
    store.add_members(changed)
    store.close()
    merged = read()
    print(
        f"[{label}] members read: whole {whole:.2f} s, through the image {imaged:.2f} s, "
        f"image + 10,000 changed {merged:.2f} s (image written in {written:.2f} s)"
    )


def main() -> None:
    """Parse options and run the SQLite (and, if configured, PostgreSQL) benchmarks."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 instead of 1,000,000")
    ap.add_argument("-n", type=int, default=None, help="members and events (default 1,000,000)")
    ap.add_argument("--repeat", type=int, default=3, help="snapshot runs to take the median of")
    args = ap.parse_args()
    n = args.n or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as d:
        store = open_store(f"sqlite:///{d}/bench.db")
        run(store, "sqlite", n, args.repeat, snapshots=True)
        store.close()
        members_reads(f"sqlite:///{d}/bench.db", "sqlite")
    pg = os.environ.get("CONSENTRY_TEST_PG_URL")
    if pg:
        schema = f"bench_{secrets.token_hex(4)}"
        admin = create_engine(pg, poolclass=NullPool)
        with admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(pg).update_query_dict({"options": f"-csearch_path={schema}"})
            store = open_store(url.render_as_string(hide_password=False))
            run(store, "postgresql", n, 1, snapshots=True)
            store.close()
            members_reads(url.render_as_string(hide_password=False), "postgresql")
        finally:
            with admin.begin() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
