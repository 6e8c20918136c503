"""Sign-in sessions as stored: open, read, touch, end one or all of a subject, purge; the 0008 migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from migrating import migrated
from sqlalchemy import inspect

from consentry.store import SqlStore, database, open_store
from consentry.store.protocol import SessionRecord

T = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _session(digest: str, subject: str, kind: str = "member", at: datetime = T) -> SessionRecord:
    return SessionRecord(digest, kind, subject, at, at)


def test_open_touch_end(store: SqlStore) -> None:
    store.sessions.open(_session("a" * 64, "us-alice"))
    assert store.sessions.get("a" * 64) == _session("a" * 64, "us-alice")
    assert store.sessions.get("b" * 64) is None
    store.sessions.touch("a" * 64, T + timedelta(minutes=5))
    assert store.sessions.get("a" * 64).seen_at == T + timedelta(minutes=5)  # type: ignore[union-attr]
    assert store.sessions.end("a" * 64, T + timedelta(minutes=6))
    assert not store.sessions.end("a" * 64, T + timedelta(minutes=7))  # the first end stands
    ended = store.sessions.get("a" * 64)
    assert ended is not None and ended.ended_at == T + timedelta(minutes=6)
    store.sessions.touch("a" * 64, T + timedelta(minutes=8))
    assert store.sessions.get("a" * 64).seen_at == T + timedelta(minutes=5)  # type: ignore[union-attr]


def test_end_all_of_one_subject_only(store: SqlStore) -> None:
    for digest, subject, kind in [
        ("1", "k1", "staff"),
        ("2", "k1", "staff"),
        ("3", "k2", "staff"),
        ("4", "k1", "member"),
    ]:
        store.sessions.open(_session(digest * 64, subject, kind))
    assert store.sessions.end_all("staff", "k1", T + timedelta(hours=1)) == 2
    assert store.sessions.end_all("staff", "k1", T + timedelta(hours=2)) == 0
    still = {d: store.sessions.get(d * 64) for d in "1234"}
    assert [d for d, s in still.items() if s is not None and s.ended_at is None] == ["3", "4"]


def test_purge_deletes_sessions_last_seen_before(store: SqlStore) -> None:
    store.sessions.open(_session("o" * 64, "us-alice", at=T - timedelta(days=2)))
    store.sessions.open(_session("n" * 64, "us-alice"))
    assert store.sessions.purge(T - timedelta(days=1)) == 1
    assert store.sessions.get("o" * 64) is None and store.sessions.get("n" * 64) is not None


def test_0008_adds_the_sessions_table_and_keeps_staff_keys(store_url: str) -> None:
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "heads"):
        pass
    with migrated(eng, "downgrade", "0003") as conn:
        assert "service_sessions" not in inspect(conn).get_table_names()
        assert "service_staff_keys" in inspect(conn).get_table_names()
    eng.dispose()
    store = open_store(store_url)
    store.sessions.open(_session("s" * 64, "us-alice"))
    assert store.sessions.get("s" * 64) is not None
    store.close()
