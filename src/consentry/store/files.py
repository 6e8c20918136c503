"""Reading the members and consent-events files (the file contracts of docs/concepts.md), with line-numbered errors.

Parsing is separate from storing: these functions return validated records or
raise `InputError` naming ``file:line``, the field, and what to do. Messages
never echo personal data (birth dates); ids and codes are fine.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from consentry import bounds
from consentry.errors import InputError
from consentry.jsonl import read_jsonl, too_long
from consentry.lines import MAX_LINE_BYTES, CsvLines, NotUtf8, RowTooLong
from consentry.policy.countries import is_country
from consentry.store.protocol import Member, NewEvent
from consentry.timeutil import parse_instant
from consentry.vocab import Choice, Source

__all__ = ["MEMBER_COLUMNS", "MemberFormat", "read_events", "read_members"]

#: Required columns of a members file (`closed_at` is optional).
MEMBER_COLUMNS = ("member_id", "country", "birth_date", "created_at")
_EVENT_FIELDS = ("member_id", "purpose", "choice", "at")

E = TypeVar("E", bound=StrEnum)


class MemberFormat(StrEnum):
    """File formats a members file may have, by extension."""

    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"

    @classmethod
    def of(cls, path: Path) -> MemberFormat:
        """The format of `path` from its extension (InputError when unsupported)."""
        ext = path.suffix.lower().lstrip(".")
        if ext in ("jsonl", "ndjson", "json"):
            return cls.JSONL
        if ext in ("csv", "parquet"):
            return cls(ext)
        raise InputError("unsupported file type; use .jsonl, .csv or .parquet", where=str(path))


def read_members(path: Path) -> list[Member]:
    """Every member in a JSONL, CSV or Parquet members file; InputError on the first bad row."""
    _check_file(path)
    fmt = MemberFormat.of(path)
    rows = {MemberFormat.JSONL: _jsonl_rows, MemberFormat.CSV: _csv_rows, MemberFormat.PARQUET: _parquet_rows}
    seen: dict[str, str] = {}
    out: list[Member] = []
    latest = bounds.latest_allowed()
    for where, row in rows[fmt](path):
        bounds.check_row(row, where=where)
        m = _member(row, where)
        bounds.check_member(m, where=where, latest=latest)
        if m.member_id in seen:
            raise InputError(
                f"duplicate member_id {m.member_id!r} (first at {seen[m.member_id]}); list each member once",
                where=where,
                field="member_id",
            )
        seen[m.member_id] = where
        out.append(m)
    return out


def read_events(path: Path) -> list[tuple[str, NewEvent]]:
    """Every event of a consent-events JSONL file with its ``file:line``; InputError on the first bad line.

    Lines without an `idempotency_key` get one derived from their content, so
    importing the same file twice records each event once.
    """
    _check_file(path)
    out: list[tuple[str, NewEvent]] = []
    for where, row in _jsonl_rows(path):
        bounds.check_row(row, where=where)
        out.append((where, _event(row, where)))
    bounds.check_events([e for _, e in out], where=[w for w, _ in out])
    return out


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("no such file; check the path", where=str(path))
    if not path.is_file():
        raise InputError("is not a file; give the path of a file", where=str(path))


def _jsonl_rows(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield from read_jsonl(path)


def _csv_rows(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Rows of a CSV members file, each row read within MAX_LINE_BYTES (a byte-order mark is dropped)."""
    with path.open("rb") as fh:
        lines = CsvLines(fh, MAX_LINE_BYTES)
        reader = csv.reader(lines)
        try:
            header = next(reader, [])
            bounds.check_row(dict.fromkeys(header), where=f"{path}:1")  # as many columns, and names, as a row may have
            for col in MEMBER_COLUMNS:
                if col not in header:
                    raise InputError(
                        f"missing column; the header needs {', '.join(MEMBER_COLUMNS)}",
                        where=f"{path}:1",
                        field=col,
                    )
            for values in reader:
                where = f"{path}:{lines.row_start}"
                if not values:
                    continue
                if len(values) > len(header):
                    raise InputError(
                        f"has {len(values)} values but the header {len(header)} columns; quote values with commas",
                        where=where,
                    )
                cells = values + [""] * (len(header) - len(values))  # short rows: the rest are empty
                yield where, {k: (v if v != "" else None) for k, v in zip(header, cells, strict=True)}
        except RowTooLong as e:
            raise InputError(too_long(MAX_LINE_BYTES), where=f"{path}:{e.line}") from None
        except NotUtf8 as e:
            raise InputError("is not UTF-8 text; save it as UTF-8", where=f"{path}:{e.line}") from None
        except csv.Error as e:
            raise InputError(f"not valid CSV ({e})", where=f"{path}:{lines.row_start}") from None


def _parquet_rows(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError):
        raise InputError("is not a readable Parquet file", where=str(path)) from None
    names = pf.schema_arrow.names
    bounds.check_row(dict.fromkeys(names), where=str(path))  # as many columns, and names, as a row may have
    for col in MEMBER_COLUMNS:
        if col not in names:
            raise InputError(f"missing column; the file needs {', '.join(MEMBER_COLUMNS)}", where=str(path), field=col)
    n = 0
    for batch in pf.iter_batches(batch_size=65_536):
        for row in batch.to_pylist():
            n += 1
            yield f"{path}:row {n}", row


def _text(row: Mapping[str, Any], field: str, where: str, *, required: bool) -> str | None:
    if field not in row:
        raise InputError("missing field; add it" + ("" if required else " (it may be empty)"), where=where, field=field)
    v = row[field]
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise InputError("is empty; give a value", where=where, field=field)
        return None
    if not isinstance(v, str):
        raise InputError(f"expected text, got {type(v).__name__}", where=where, field=field)
    return v.strip()


def _member(row: Mapping[str, Any], where: str) -> Member:
    member_id = _text(row, "member_id", where, required=True)
    assert member_id is not None
    country = _text(row, "country", where, required=False)
    if country is not None:
        if not is_country(country.upper()):
            raise InputError(
                f"{country[:8]!r} is not an ISO 3166-1 alpha-2 country code; use e.g. DE, US, NO "
                "(or leave it empty if unknown)",
                where=where,
                field="country",
            )
        country = country.upper()
    created_at = _instant(row, "created_at", where, required=True)
    assert created_at is not None
    closed_at = _instant(row, "closed_at", where, required=False) if "closed_at" in row else None
    if closed_at is not None and closed_at < created_at:
        raise InputError("comes before created_at; check the dates", where=where, field="closed_at")
    return Member(member_id, country, _birth_date(row, where), created_at, closed_at)


def _birth_date(row: Mapping[str, Any], where: str) -> date | None:
    if "birth_date" not in row:
        raise InputError("missing field; add it (it may be empty)", where=where, field="birth_date")
    v = row["birth_date"]
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        if isinstance(v, str) and len(v.strip()) == 10:
            return date.fromisoformat(v.strip())
    except ValueError:
        pass
    # The value itself is personal data: say what is expected, never echo it.
    raise InputError("is not a date; write YYYY-MM-DD or leave it empty", where=where, field="birth_date")


def _instant(row: Mapping[str, Any], field: str, where: str, *, required: bool) -> datetime | None:
    if field not in row:
        if required:
            raise InputError("missing field; add it", where=where, field=field)
        return None
    v = row[field]
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise InputError("is empty; give an RFC 3339 time such as 2025-01-01T00:00:00Z", where=where, field=field)
        return None
    if isinstance(v, datetime) and v.tzinfo is None:
        raise InputError("has no time zone; store UTC timestamps", where=where, field=field)
    if not isinstance(v, str | datetime | date):
        raise InputError(f"expected an RFC 3339 time, got {type(v).__name__}", where=where, field=field)
    return parse_instant(v, field=field, where=where)


def _event(row: Mapping[str, Any], where: str) -> NewEvent:
    for field in _EVENT_FIELDS:
        if field not in row:
            raise InputError("missing field; add it", where=where, field=field)
    member_id = _text(row, "member_id", where, required=True)
    purpose = _text(row, "purpose", where, required=True)
    assert member_id is not None and purpose is not None
    choice = _enum(Choice, row.get("choice"), "choice", where)
    source = Source.IMPORT if row.get("source") in (None, "") else _enum(Source, row["source"], "source", where)
    at = _instant(row, "at", where, required=True)
    assert at is not None
    actor = _text(row, "actor", where, required=False) if "actor" in row else None
    key = _text(row, "idempotency_key", where, required=False) if "idempotency_key" in row else None
    if key is None:
        digest = hashlib.sha256(json.dumps([member_id, purpose, choice, at.isoformat(), source]).encode())
        key = f"import:{digest.hexdigest()[:40]}"
    return NewEvent(member_id, purpose, choice, at, source, actor=actor, idempotency_key=key)


def _enum(cls: type[E], value: Any, field: str, where: str) -> E:
    try:
        return cls(value)
    except ValueError:
        allowed = "|".join(m.value for m in cls)
        raise InputError(f"{str(value)[:20]!r} is not one of {allowed}", where=where, field=field) from None
