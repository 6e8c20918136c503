"""The bounds of every value stored about members, consent events and objections: defined once.

SQLite stores any text of any length; PostgreSQL refuses a NUL byte, a lone
surrogate or a value longer than its column. So that both back ends accept and
refuse exactly the same inputs, every write is checked here first — by the file
readers (with the file and line), by the store (for `consent set`, the API and
every other caller) and by anything else that writes:

=====================  =========================================================
ids                    member id, actor, idempotency key: 1 to 255 characters;
                       purpose, case id, policy version: 1 to 64. Printable
                       characters only (`str.isprintable`: no control, format,
                       surrogate, private-use or unassigned characters, no
                       separator but the space).
free text              objection text, grounds, extension reasons: at most
                       5,000 characters; no NUL and no lone surrogate (line
                       breaks and tabs are fine).
instants               `at` of an event, `created_at`/`closed_at` of a member,
                       the times of an objection: from 1900-01-01T00:00:00Z to
                       now + 5 minutes (the clock skew allowed between hosts).
birth dates            from 1900-01-01 to today (UTC).
file rows              a members or consent-events row (JSONL line, CSV row,
                       Parquet row): at most `MAX_FIELDS` (256) fields, names
                       of at most 255 characters, text values of at most
                       `MAX_FIELD_CHARS` (5,000) characters — before any of
                       the checks above; a line or CSV row is at most 1 MiB
                       (`consentry.lines`).
=====================  =========================================================

A value outside its bounds is an `InputError` naming the field (and the
``file:line`` when there is one) and what to do; it never reaches the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from consentry.errors import InputError
from consentry.lines import MAX_FIELDS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from consentry.store.protocol import Member, NewEvent

__all__ = [
    "EARLIEST",
    "FUTURE_SKEW",
    "MAX_CODE",
    "MAX_FIELDS",
    "MAX_FIELD_CHARS",
    "MAX_ID",
    "MAX_TEXT",
    "check_birth_date",
    "check_code",
    "check_event",
    "check_events",
    "check_id",
    "check_instant",
    "check_member",
    "check_row",
    "check_text",
    "latest_allowed",
]

#: Member ids, actors, idempotency keys (the columns hold 255 characters).
MAX_ID = 255
#: Purposes, case ids, policy versions (the columns hold 64 characters).
MAX_CODE = 64
#: Objection text, grounds and extension reasons.
MAX_TEXT = 5000
#: Any text value of a members or consent-events file row (the stored ones have tighter bounds).
MAX_FIELD_CHARS = MAX_TEXT
#: No stored instant or birth date is earlier.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
#: How far ahead of this host's clock a stored instant may be (other hosts' clocks drift).
FUTURE_SKEW = timedelta(minutes=5)

_EARLIEST_DAY = EARLIEST.date()


def latest_allowed(now: datetime | None = None) -> datetime:
    """The latest instant a write may carry: now plus FUTURE_SKEW."""
    return (now or datetime.now(UTC)) + FUTURE_SKEW


def check_id(value: str, field: str, *, where: str | None = None, limit: int = MAX_ID) -> str:
    """`value` if it is a non-empty id of printable characters, at most `limit` long; else InputError."""
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__}", where=where, field=field)
    if not value:
        raise InputError("is empty; give a value", where=where, field=field)
    if len(value) > limit:
        raise InputError(f"is {len(value)} characters long; at most {limit} are allowed", where=where, field=field)
    if not value.isprintable():
        bad = next(ch for ch in value if not ch.isprintable())
        raise InputError(
            f"holds the unprintable character U+{ord(bad):04X}; ids may hold printable characters only",
            where=where,
            field=field,
        )
    return value


def check_code(value: str, field: str, *, where: str | None = None) -> str:
    """`check_id` with the shorter bound of purposes, case ids and policy versions."""
    return check_id(value, field, where=where, limit=MAX_CODE)


def check_text(value: str | None, field: str, *, where: str | None = None, limit: int = MAX_TEXT) -> str | None:
    """Free text (None passes): at most `limit` characters, no NUL, no lone surrogate; else InputError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__}", where=where, field=field)
    if len(value) > limit:
        raise InputError(f"is {len(value)} characters long; at most {limit} are allowed", where=where, field=field)
    if "\x00" in value:
        raise InputError("holds a NUL character; remove it", where=where, field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        message = "holds a lone surrogate, which is not text; fix the encoding"
        raise InputError(message, where=where, field=field) from None
    return value


def check_instant(t: datetime, field: str, *, where: str | None = None, latest: datetime | None = None) -> datetime:
    """`t` if it lies between EARLIEST and `latest` (default: now + FUTURE_SKEW); else InputError."""
    if t.tzinfo is None:
        raise InputError("has no time zone; write it as RFC 3339, e.g. 2025-01-01T00:00:00Z", where=where, field=field)
    limit = latest if latest is not None else latest_allowed()
    if t < EARLIEST:
        raise InputError(f"{_day(t)} is before {EARLIEST.date()}; check the date", where=where, field=field)
    if t > limit:
        raise InputError(
            f"{_day(t)} is in the future (later than now + {_minutes(FUTURE_SKEW)} minutes); check the date",
            where=where,
            field=field,
        )
    return t


def check_birth_date(d: date | None, *, where: str | None = None, today: date | None = None) -> date | None:
    """A birth date (None passes) from 1900-01-01 to today; else InputError (the date itself is never echoed)."""
    if d is None:
        return None
    if d < _EARLIEST_DAY or d > (today or datetime.now(UTC).date()):
        raise InputError(
            f"is outside {_EARLIEST_DAY} .. today; check the date (or leave it empty if unknown)",
            where=where,
            field="birth_date",
        )
    return d


def check_row(row: Mapping[str, object], *, where: str | None = None) -> None:
    """The shape of one file row: at most MAX_FIELDS fields, short names, text values of at most MAX_FIELD_CHARS."""
    if len(row) > MAX_FIELDS:
        raise InputError(f"has {len(row)} fields; at most {MAX_FIELDS} are allowed", where=where)
    for name, value in row.items():
        if not isinstance(name, str) or len(name) > MAX_ID or not name.isprintable():
            raise InputError(f"a field name is not 1 to {MAX_ID} printable characters; rename the field", where=where)
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            raise InputError(
                f"is {len(value)} characters long; a value may have at most {MAX_FIELD_CHARS}",
                where=where,
                field=name,
            )


def check_member(m: Member, *, where: str | None = None, latest: datetime | None = None) -> None:
    """Every bound of a member: id, times, birth date; InputError naming the first field outside."""
    check_id(m.member_id, "member_id", where=where)
    check_instant(m.created_at, "created_at", where=where, latest=latest)
    if m.closed_at is not None:
        check_instant(m.closed_at, "closed_at", where=where, latest=latest)
    check_birth_date(m.birth_date, where=where)


def check_event(e: NewEvent, *, where: str | None = None, latest: datetime | None = None) -> None:
    """Every bound of a consent event: ids, codes, `at` (None means "now" and passes)."""
    check_id(e.member_id, "member_id", where=where)
    check_code(e.purpose, "purpose", where=where)
    if e.actor is not None:
        check_id(e.actor, "actor", where=where)
    if e.idempotency_key is not None:
        check_id(e.idempotency_key, "idempotency_key", where=where)
    if e.policy_version is not None:
        check_code(e.policy_version, "policy_version", where=where)
    if e.case_id is not None:
        check_code(e.case_id, "case_id", where=where)
    if e.at is not None:
        check_instant(e.at, "at", where=where, latest=latest)


def check_events(events: Sequence[NewEvent], *, where: Sequence[str] | None = None) -> None:
    """`check_event` for each event of a batch, against one "now"; the error names `where[i]`
    (``file:line``) or the event's position in the batch.

    Events well inside every bound pass a quick test inline; only the others get the
    precise checks (millions of imported events cost well under a second).
    """
    latest = latest_allowed()
    lo, ids, codes = EARLIEST, MAX_ID, MAX_CODE
    for i, e in enumerate(events):
        mid, purpose, actor, key, at = e.member_id, e.purpose, e.actor, e.idempotency_key, e.at
        if (
            isinstance(mid, str)
            and 0 < len(mid) <= ids
            and mid.isprintable()
            and isinstance(purpose, str)
            and 0 < len(purpose) <= codes
            and purpose.isprintable()
            and (actor is None or (isinstance(actor, str) and 0 < len(actor) <= ids and actor.isprintable()))
            and (key is None or (isinstance(key, str) and 0 < len(key) <= ids and key.isprintable()))
            and (at is None or (at.tzinfo is not None and lo <= at <= latest))
            and e.policy_version is None
            and e.case_id is None
        ):
            continue
        place = where[i] if where is not None else (f"event {i + 1}" if len(events) > 1 else None)
        check_event(e, where=place, latest=latest)


def _day(t: datetime) -> str:
    return t.date().isoformat()


def _minutes(d: timedelta) -> int:
    return int(d.total_seconds() // 60)
