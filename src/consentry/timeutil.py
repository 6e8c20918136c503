"""Instants: parsing RFC 3339 text, normalising to UTC, and Arrow's timestamp type."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from consentry.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

    #: The Arrow type of every instant Consentry stores or exchanges (made on first use:
    #: importing this module does not import pyarrow).
    ARROW_TS: pa.TimestampType

__all__ = ["ARROW_TS", "iso", "parse_instant", "utc", "utcnow"]


def __getattr__(name: str) -> Any:
    """`ARROW_TS`, made (and pyarrow imported) on first use."""
    if name == "ARROW_TS":
        import pyarrow as pa

        ts = globals()[name] = pa.timestamp("us", tz="UTC")
        return ts
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def utcnow() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


def utc(t: datetime) -> datetime:
    """`t` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if t.tzinfo is None:
        raise InputError("time has no time zone; write it as RFC 3339, e.g. 2025-01-01T00:00:00Z")
    return t.astimezone(UTC)


def parse_instant(text: str | datetime | date, *, field: str = "at", where: str | None = None) -> datetime:
    """Parse an RFC 3339 instant (a bare YYYY-MM-DD means midnight UTC).

    Raises InputError naming `field` (and `where`, e.g. ``file.jsonl:3``) when
    the text is not a valid instant with a time zone.
    """
    if isinstance(text, datetime):
        if text.tzinfo is None:
            raise InputError("needs a time zone, e.g. 2025-01-01T00:00:00Z", where=where, field=field)
        try:
            return text.astimezone(UTC)
        except OverflowError:
            raise InputError("is out of range; check the date", where=where, field=field) from None
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day, tzinfo=UTC)
    if not isinstance(text, str) or not text.strip():
        raise InputError("expected an RFC 3339 time such as 2025-01-01T00:00:00Z", where=where, field=field)
    s = text.strip()
    try:
        if len(s) == 10:
            d = date.fromisoformat(s)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        t = datetime.fromisoformat(s.replace("z", "Z"))
    except ValueError:
        raise InputError(
            f"{s[:40]!r} is not an RFC 3339 time; write e.g. 2025-01-01T00:00:00Z", where=where, field=field
        ) from None
    if t.tzinfo is None:
        raise InputError(f"{s[:40]!r} has no time zone; add Z or an offset such as +02:00", where=where, field=field)
    try:
        return t.astimezone(UTC)
    except OverflowError:
        raise InputError(f"{s[:40]!r} is out of range; check the date", where=where, field=field) from None


def iso(t: datetime | None) -> str | None:
    """RFC 3339 text in UTC with a trailing Z, or None."""
    if t is None:
        return None
    return utc(t).isoformat().replace("+00:00", "Z")
