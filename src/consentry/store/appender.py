"""Appending events to the hash chain inside a write transaction.

The caller holds a write transaction (SQLite: BEGIN IMMEDIATE). Here the
ledger head is read — on PostgreSQL with ``FOR UPDATE``, which serialises
concurrent appenders — ids and hashes are computed in Python, rows are
inserted in one batch (PostgreSQL: COPY for large batches), and the head is
moved, all in the caller's transaction: either every event lands or none.

An event without `at` ("now") is stamped here, after the lock is held, at the
larger of the recording time and its member's latest `at` for the purpose: the
order of acknowledgement (event ids) is then the order decisions use, `(at,
event_id)`, whatever the clocks of concurrent writers did. An explicit `at` is
kept as given — a backdated choice is an exception the caller asked for, and
its `recorded_at` shows it.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.schema import CreateIndex

from consentry import bounds
from consentry.errors import InputError
from consentry.store.chain import canonical_json
from consentry.store.protocol import ConsentEvent, NewEvent
from consentry.store.schema import EPOCH, consent_events, ledger_head, to_us, us_to_dt
from consentry.timeutil import utcnow
from consentry.vocab import Choice, Source

if TYPE_CHECKING:
    from consentry.policy import Policy

__all__ = ["EVENT_COLUMNS", "AppendResult", "append_events", "check_events", "row_to_event", "unknown_purpose"]

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
_ONE_US = timedelta(microseconds=1)
#: Below every stored time: the "latest at" of a pair with no events.
_NO_TIME = -(2**62)
#: Below this many new events the snapshot index is kept up row by row, whatever the ledger's size.
_REBUILD_MIN = 50_000
_SNAPSHOT_INDEX = next(ix for ix in consent_events.indexes if ix.name == "ix_consent_events_purpose_member_at")


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


def check_events(events: Sequence[NewEvent], policy: Policy | None) -> Callable[[int], str | None]:
    """Check bounds (consentry.bounds), purposes (published ones only), choices, sources and times;
    InputError on the first bad one.

    Returns the lookup of the policy version in effect at a time (microseconds).
    """
    bounds.check_events(events)
    known = frozenset(policy.purposes()) if policy else frozenset()
    for e in events:
        if e.purpose not in known:
            raise InputError(unknown_purpose(e.purpose, known), field="purpose")
        if e.at is not None and e.at.tzinfo is None:
            raise InputError("time has no time zone; write it as RFC 3339, e.g. 2025-01-01T00:00:00Z", field="at")
        if e.choice not in _CHOICES or e.source not in _SOURCES:
            raise InputError(f"choice must be allow|deny and source one of {', '.join(_SOURCES)}")
    if policy is None:
        return lambda _us: None
    starts = [to_us(v.effective_at) for v in policy.versions]
    ids = [v.version for v in policy.versions]

    def version_at(at_us: int) -> str | None:
        i = bisect.bisect_right(starts, at_us)
        return ids[i - 1] if i else None

    return version_at


def unknown_purpose(purpose: str, known: frozenset[str]) -> str:
    """The message for an event naming a purpose no published version discloses."""
    if not known:
        return f"unknown purpose {purpose!r}: no policy is published; run `consentry policy publish FILE` first"
    return f"unknown purpose {purpose!r}; published versions disclose {', '.join(sorted(known))}"


def append_events(
    conn: Connection,
    events: Sequence[NewEvent],
    *,
    want_events: bool,
    version_at: Callable[[int], str | None] = lambda _us: None,
    check_members: bool = False,
) -> AppendResult:
    """Append `events` in order; a repeated idempotency key yields the earlier event instead.

    An event without a policy_version gets `version_at(at_us)`: the version in effect at its time.
    `check_members`: the caller turned foreign-key checks off; InputError (the caller's transaction
    then rolls back) if a new event names a member who is not stored.
    """
    head_q = select(ledger_head.c.events, ledger_head.c.last_event_id, ledger_head.c.hash).where(ledger_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        head_q = head_q.with_for_update()
    count, last_id, prev = conn.execute(head_q).one()
    existing = _existing_keys(conn, [e.idempotency_key for e in events if e.idempotency_key])
    # Under the lock: the stamp of events without `at`, never before their pair's latest event.
    recorded_us = to_us(utcnow())
    latest = _latest_at(conn, [e for e in events if e.at is None and e.idempotency_key not in existing])
    rows, out, last_id, prev = _chain_rows(events, existing, int(last_id), str(prev), recorded_us, version_at, latest)
    if rows:
        rebuild = len(rows) >= max(_REBUILD_MIN, int(count))
        _insert(conn, rows, rebuild_index=rebuild)
        if check_members:
            purposes = sorted({r[2] for r in rows}) if rebuild else []
            _check_members(conn, after_id=int(rows[0][0]) - 1, purposes=purposes)
        conn.execute(
            update(ledger_head)
            .where(ledger_head.c.id == 1)
            .values(events=count + len(rows), last_event_id=last_id, hash=prev)
        )
    return AppendResult(len(rows), [row_to_event(r) for r in out] if want_events else [])


def _chain_rows(
    events: Sequence[NewEvent],
    existing: dict[str, tuple[Any, ...]],
    last_id: int,
    prev: str,
    recorded_us: int,
    version_at: Callable[[int], str | None],
    latest: dict[tuple[str, str], int],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int, str]:
    """Rows (fields, prev_hash, hash) for the new events, and every event's row in the given order.

    The hot loop of a bulk append: names are bound locally, the canonical JSON
    encoder is reused, and times (checked aware by `check_events`) are converted inline.
    An event without `at` gets `recorded_us`, raised to its (member, purpose)'s latest
    `at` in `latest` (which the batch's own events keep up to date).
    """
    sha256, encode, choices, sources = hashlib.sha256, canonical_json, _CHOICES, _SOURCES
    epoch, one_us = EPOCH, _ONE_US
    stamping = bool(latest)
    rows: list[tuple[Any, ...]] = []
    out: list[tuple[Any, ...]] = []
    for e in events:
        key = e.idempotency_key
        if key is not None and key in existing:
            out.append(existing[key])
            continue
        last_id += 1
        if e.at is None:
            pair = (e.member_id, e.purpose)
            at_us = max(recorded_us, latest[pair])
            latest[pair] = at_us
        else:
            at_us = (e.at - epoch) // one_us
            if stamping and (e.member_id, e.purpose) in latest:
                latest[e.member_id, e.purpose] = max(latest[e.member_id, e.purpose], at_us)
        version = e.policy_version or version_at(at_us)
        fields = (
            last_id,
            e.member_id,
            e.purpose,
            choices[e.choice],
            at_us,
            recorded_us,
            sources[e.source],
            e.actor,
            version,
            key,
            e.case_id,
        )
        h = sha256(f"{prev}\n{encode(fields)}".encode()).hexdigest()
        row = (*fields, prev, h)
        prev = h
        rows.append(row)
        out.append(row)
        if key is not None:
            existing[key] = row
    return rows, out, last_id, prev


def _latest_at(conn: Connection, events: Sequence[NewEvent]) -> dict[tuple[str, str], int]:
    """For each (member, purpose) of `events`: the latest `at` stored (the epoch's start if none).

    One index seek per pair; appends stamping "now" name one member, a handful of purposes.
    """
    out: dict[tuple[str, str], int] = {}
    c = consent_events.c
    for pair in dict.fromkeys((e.member_id, e.purpose) for e in events):
        q = select(func.max(c.at_us)).where(c.purpose == pair[1], c.member_id == pair[0])
        found = conn.execute(q).scalar()
        out[pair] = int(found) if found is not None else _NO_TIME
    return out


def _check_members(conn: Connection, *, after_id: int, purposes: list[str]) -> None:
    """InputError naming a member of an event after `after_id` who is not stored (SQLite).

    With the new events' `purposes` given (they are at least half the ledger), the
    snapshot index is walked purpose by purpose in member order, so the members
    lookups go front to back; without, the new rows are read in id order.
    """
    where = f"purpose IN ({', '.join(['?'] * len(purposes))}) AND " if purposes else ""
    row = conn.exec_driver_sql(
        f"SELECT member_id FROM consent_events WHERE {where}event_id > ? "
        "AND NOT EXISTS (SELECT 1 FROM members m WHERE m.member_id = consent_events.member_id) LIMIT 1",
        (*purposes, after_id),
    ).first()
    if row is not None:
        raise InputError(f"an event names member {row[0]!r}, who is not in the store; import the members first")


def _existing_keys(conn: Connection, keys: list[str]) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    cols = [consent_events.c[name] for name in EVENT_COLUMNS]
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), _KEY_CHUNK):
        chunk = unique[i : i + _KEY_CHUNK]
        for row in conn.execute(select(*cols).where(consent_events.c.idempotency_key.in_(chunk))):
            found[row[9]] = tuple(row)
    return found


def _insert(conn: Connection, rows: list[tuple[Any, ...]], *, rebuild_index: bool) -> None:
    """Insert prepared rows through the driver: COPY on PostgreSQL, one prepared executemany on SQLite.

    On SQLite a batch at least as large as the ledger already was is cheaper to
    index afterwards, in one sorted pass, than row by row at random places; the
    index is dropped and rebuilt inside the caller's transaction, so readers
    (WAL snapshots) never see the ledger without it.
    """
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    if conn.dialect.name == "postgresql" and len(rows) >= _COPY_THRESHOLD:
        with dbapi.cursor() as cur, cur.copy(f"COPY consent_events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        return
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO consent_events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join([mark] * len(EVENT_COLUMNS))})"
    cur = dbapi.cursor()
    try:
        if sqlite and rebuild_index:
            cur.execute(f"DROP INDEX IF EXISTS {_SNAPSHOT_INDEX.name}")
        cur.executemany(sql, rows)
        if sqlite and rebuild_index:
            cur.execute(str(CreateIndex(_SNAPSHOT_INDEX).compile(dialect=conn.dialect)))
    finally:
        cur.close()
