"""What several worker processes must agree on: one store read per cache miss, one rate limit.

Concurrent misses of one member's settings share one read of the store (counted,
never timed); rate limits live in the store, so two apps with their own store
objects — as two worker processes have — count one limit, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from migrating import migrated
from sqlalchemy import event, inspect

from consentry.policy import Policy
from consentry.service import create_app
from consentry.service.auth import sign_member_header
from consentry.service.context import ServiceContext
from consentry.store import SqlStore, database, open_store

from .conftest import CSRF, make_config

SECRET = "gateway-secret-for-tests"
MEMBER = "us-alice"
N = 12


class _FactsReads:
    """Counts reads of one member's row on a SQLite store; the first waits until `release` is set."""

    def __init__(self, store: SqlStore) -> None:
        self.count = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._store = store
        self._connections: list[sqlite3.Connection] = []

    def _trace(self, sql: str) -> None:
        if sql.startswith("SELECT member_id, country, birth_day") and MEMBER in sql:
            with self._lock:
                self.count += 1
            self.release.wait(60)  # hold the read until every other request waits for it

    def _checkout(self, dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.set_trace_callback(self._trace)
        self._connections.append(dbapi_connection)

    @contextmanager
    def counting(self) -> Iterator[_FactsReads]:
        event.listen(self._store._engine, "checkout", self._checkout)
        try:
            yield self
        finally:
            self.release.set()
            event.remove(self._store._engine, "checkout", self._checkout)
            for conn in self._connections:
                conn.set_trace_callback(None)


def _wait_for_readers(ctx: ServiceContext, n: int) -> None:
    for _ in range(50_000):  # a bounded number of looks, not a time budget
        if ctx.view_readers_waiting(MEMBER) >= n:
            return
        threading.Event().wait(0.001)


def test_concurrent_requests_for_one_members_settings_read_the_store_once(svc_store: SqlStore) -> None:
    app = create_app(svc_store, make_config(trusted_header_secret=SECRET))
    ctx: ServiceContext = app.state.ctx
    headers = sign_member_header(SECRET, MEMBER)

    async def requests(reads: _FactsReads) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            sent = [asyncio.create_task(client.get("/v1/me/settings", headers=headers)) for _ in range(N)]
            for _ in range(50_000):  # bounded: until the other N-1 wait for the first one's read
                if ctx.view_readers_waiting(MEMBER) >= N - 1:
                    break
                await asyncio.sleep(0.001)
            reads.release.set()
            return list(await asyncio.gather(*sent))

    with _FactsReads(svc_store).counting() as reads:
        responses = asyncio.run(requests(reads))
    assert [r.status_code for r in responses] == [200] * N
    assert len({r.text for r in responses}) == 1
    assert reads.count == 1


def test_threads_reading_one_members_settings_share_one_read(svc_store: SqlStore) -> None:
    ctx: ServiceContext = create_app(svc_store, make_config()).state.ctx
    ctx.policy()
    with _FactsReads(svc_store).counting() as reads:
        threads = [threading.Thread(target=ctx.settings, args=(MEMBER,)) for _ in range(N)]
        for t in threads:
            t.start()
        _wait_for_readers(ctx, N - 1)
        reads.release.set()
        for t in threads:
            t.join()
    assert reads.count == 1
    assert ctx.cached_settings(MEMBER) is not None


def test_a_read_that_starts_after_a_write_does_not_share_the_read_before_it(svc_store: SqlStore) -> None:
    ctx: ServiceContext = create_app(svc_store, make_config()).state.ctx
    ctx.policy()
    with _FactsReads(svc_store).counting() as reads:
        before = threading.Thread(target=ctx.settings, args=(MEMBER,))
        before.start()
        for _ in range(50_000):  # bounded: until the first read is under way
            if reads.count == 1:
                break
            threading.Event().wait(0.001)
        ctx.member_changed(MEMBER)  # a write lands while the first read is in flight
        after = threading.Thread(target=ctx.settings, args=(MEMBER,))
        after.start()
        for _ in range(50_000):
            if reads.count == 2:
                break
            threading.Event().wait(0.001)
        reads.release.set()
        before.join()
        after.join()
    assert reads.count == 2
    assert ctx.view_readers_waiting(MEMBER) == 0


def test_a_failed_read_reaches_every_waiter_and_the_next_read_starts_afresh(svc_store: SqlStore) -> None:
    ctx: ServiceContext = create_app(svc_store, make_config()).state.ctx
    errors: list[BaseException] = []

    def read(member: str) -> None:
        try:
            ctx.settings(member)
        except Exception as e:  # the store's NotFoundError for an unknown member
            errors.append(e)

    threads = [threading.Thread(target=read, args=("nobody",)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 4
    assert ctx.view_readers_waiting("nobody") == 0


def _sign_in_statuses(client: TestClient, attempts: int) -> list[int]:
    token = CSRF.search(client.get("/admin/sign-in").text)
    assert token
    form = {"api_key": "csk_wrong", "csrf_token": token.group(1)}
    return [client.post("/admin/sign-in", data=form).status_code for _ in range(attempts)]


def test_two_apps_with_their_own_stores_share_the_sign_in_limit(store_url: str, reference_policy: Policy) -> None:
    stores = [open_store(store_url), open_store(store_url)]
    stores[0].publish(reference_policy)
    config = make_config(write_limit=3, write_window_s=3600.0)
    clients = [TestClient(create_app(s, config)) for s in stores]
    try:
        statuses = [_sign_in_statuses(clients[i % 2], 1)[0] for i in range(6)]
    finally:
        for c in clients:
            c.close()
        for s in stores:
            s.close()
    assert statuses == [401, 401, 401, 429, 429, 429]


def test_rate_limits_refill_evenly_and_refused_hits_are_not_counted(store: SqlStore) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    limits = store.rate_limits
    assert [limits.hit("k", t0, 3, 60.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.hit("k", t0, 3, 60.0) == 20.0
    assert limits.hit("k", t0 + timedelta(seconds=5), 3, 60.0) == 15.0
    assert limits.hit("k", t0 + timedelta(seconds=20), 3, 60.0) == 0.0  # one slot back after 60 s / 3
    assert limits.hit("k", t0 + timedelta(seconds=20), 3, 60.0) > 0
    assert limits.hit("other", t0, 3, 60.0) == 0.0
    assert limits.purge(t0 + timedelta(hours=1)) == 2


def test_concurrent_hits_through_two_store_objects_take_each_slot_once(store_url: str) -> None:
    stores = [open_store(store_url), open_store(store_url)]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    results: list[float] = []
    lock = threading.Lock()

    def hit(store: SqlStore) -> None:
        for _ in range(5):
            wait = store.rate_limits.hit("ip:198.51.100.1", at, 7, 3600.0)
            with lock:
                results.append(wait)

    threads = [threading.Thread(target=hit, args=(stores[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert len(results) == 20 and results.count(0.0) == 7


def test_0009_adds_the_rate_limits_table_and_a_downgrade_removes_it(store_url: str) -> None:
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "heads") as conn:
        assert "service_rate_limits" in inspect(conn).get_table_names()
    with migrated(eng, "downgrade", "0008") as conn:
        assert "service_rate_limits" not in inspect(conn).get_table_names()
        assert "service_sessions" in inspect(conn).get_table_names()
    eng.dispose()
    store = open_store(store_url)
    assert store.rate_limits.hit("ip:192.0.2.1", datetime(2026, 1, 1, tzinfo=UTC), 1, 60.0) == 0.0
    store.close()
