"""Appending events to the hash chain inside a write transaction.

The caller holds a write transaction (SQLite: BEGIN IMMEDIATE). Here the
ledger head is read — on PostgreSQL with ``FOR UPDATE``, which serialises
concurrent appenders — ids and hashes are computed in Python, rows are
inserted in one batch (PostgreSQL: COPY for large batches), and the head is
moved, all in the caller's transaction: either every event lands or none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from consentry.ledger.chain import event_hash
from consentry.ledger.protocol import ConsentEvent, NewEvent
from consentry.ledger.schema import consent_events, ledger_head, to_us, us_to_dt
from consentry.timeutil import utcnow
from consentry.vocab import Choice, Source

__all__ = ["EVENT_COLUMNS", "AppendResult", "append_events", "row_to_event"]

#: consent_events columns in canonical-hash order, then prev_hash and hash.
EVENT_COLUMNS = (
    "event_id",
    "member_id",
    "purpose",
    "choice",
    "at_us",
    "recorded_us",
    "source",
    "actor",
    "policy_version",
    "idempotency_key",
    "case_id",
    "prev_hash",
    "hash",
)
_KEY_CHUNK = 500
# Enum members hash and compare as their values: one lookup validates and converts.
_CHOICES = {c.value: c.value for c in Choice}
_SOURCES = {s.value: s.value for s in Source}
_COPY_THRESHOLD = 200


@dataclass(frozen=True)
class AppendResult:
    """What an append did: how many events are new, and every event asked for (if wanted)."""

    inserted: int
    events: list[ConsentEvent]


def row_to_event(row: Sequence[Any]) -> ConsentEvent:
    """A ConsentEvent from a row of EVENT_COLUMNS."""
    return ConsentEvent(
        event_id=int(row[0]),
        member_id=row[1],
        purpose=row[2],
        choice=Choice(row[3]),
        at=us_to_dt(row[4]),
        recorded_at=us_to_dt(row[5]),
        source=Source(row[6]),
        actor=row[7],
        policy_version=row[8],
        idempotency_key=row[9],
        case_id=row[10],
        prev_hash=row[11],
        hash=row[12],
    )


def append_events(
    conn: Connection,
    events: Sequence[NewEvent],
    *,
    want_events: bool,
    version_at: Callable[[int], str | None] = lambda _us: None,
) -> AppendResult:
    """Append `events` in order; a repeated idempotency key yields the earlier event instead.

    An event without a policy_version gets `version_at(at_us)`: the version in effect at its time.
    """
    head_q = select(ledger_head.c.events, ledger_head.c.last_event_id, ledger_head.c.hash).where(ledger_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        head_q = head_q.with_for_update()
    count, last_id, prev = conn.execute(head_q).one()
    existing = _existing_keys(conn, [e.idempotency_key for e in events if e.idempotency_key])
    recorded_us = to_us(utcnow())
    rows: list[tuple[Any, ...]] = []
    out: list[tuple[Any, ...]] = []
    for e in events:
        key = e.idempotency_key
        if key is not None and key in existing:
            out.append(existing[key])
            continue
        last_id += 1
        at_us = to_us(e.at)
        fields = (
            last_id,
            e.member_id,
            e.purpose,
            _CHOICES[e.choice],
            at_us,
            recorded_us,
            _SOURCES[e.source],
            e.actor,
            e.policy_version or version_at(at_us),
            key,
            e.case_id,
        )
        h = event_hash(prev, fields)
        row = (*fields, prev, h)
        prev = h
        rows.append(row)
        out.append(row)
        if key is not None:
            existing[key] = row
    if rows:
        _insert(conn, rows)
        conn.execute(
            update(ledger_head)
            .where(ledger_head.c.id == 1)
            .values(events=count + len(rows), last_event_id=last_id, hash=prev)
        )
    return AppendResult(len(rows), [row_to_event(r) for r in out] if want_events else [])


def _existing_keys(conn: Connection, keys: list[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    cols = [consent_events.c[name] for name in EVENT_COLUMNS]
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), _KEY_CHUNK):
        chunk = unique[i : i + _KEY_CHUNK]
        for row in conn.execute(select(*cols).where(consent_events.c.idempotency_key.in_(chunk))):
            found[row[9]] = tuple(row)
    return found


def _insert(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    if conn.dialect.name == "postgresql" and len(rows) >= _COPY_THRESHOLD:
        with dbapi.cursor() as cur, cur.copy(f"COPY consent_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO consent_events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join([mark] * len(EVENT_COLUMNS))})"
    cur = dbapi.cursor()
    try:
        cur.executemany(sql, rows)
    finally:
        cur.close()
