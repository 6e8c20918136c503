"""What a well-formed record is, stated once for every reader of sources.

The records contract: the columns, their types, which are required, and what
makes a row MALFORMED. Three readers use this statement: the Python
normaliser of JSONL and CSV sources (`parse_field`, `is_absent`), the DuckDB
engine and the Spark engine (`typed_columns_sql`, `malformed_sql`, in their
dialects).

A row is malformed when a required column is missing, a string column holds
something that is not a string, record_id is empty, member_id, kind or
visibility is longer than `MAX_KEY_CHARS` (255) characters, an origin that is
given is neither ``member`` nor ``web``, created_at is
missing or does not parse, or a deleted_at that is given does not parse. Times are
RFC 3339 text with a zone (`Z` or an offset such as ``+02:00``), a bare date
``YYYY-MM-DD`` (midnight UTC), or a timestamp column with a time zone.

In those spellings the three readers agree (tests/rules/test_records.py).
Outside them they differ, as they always have: Python's ISO 8601 parser also
reads e.g. a lowercase ``z`` after a time, ``2024-W50-1``, a basic-format
``20241215T100000Z`` or an offset with seconds, which the SQL engines leave
unparsed (MALFORMED), while DuckDB reads ``T24:00:00`` as the next midnight;
and an empty string in a required string column is missing for the Python
normaliser, but only an empty record_id is malformed in Parquet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from consentry.errors import InputError
from consentry.timeutil import parse_instant

__all__ = [
    "BOUNDED_COLUMNS",
    "DATE_ONLY",
    "HAS_ZONE",
    "MAX_KEY_CHARS",
    "OPTIONAL_COLUMNS",
    "ORIGINS",
    "RECORD_COLUMNS",
    "REQUIRED_COLUMNS",
    "SIGNAL_SOURCE_COLUMNS",
    "STRING_COLUMNS",
    "TIME_COLUMNS",
    "Column",
    "Dialect",
    "is_absent",
    "malformed_sql",
    "parse_field",
    "time_text_sql",
    "typed_columns_sql",
    "utf8",
]

Dialect = Literal["duckdb", "spark"]


@dataclass(frozen=True)
class Column:
    """One column of the records contract."""

    name: str
    type: Literal["string", "time"]
    required: bool = True


#: The contract's columns, in the order every engine hands them on (staging files included).
RECORD_COLUMNS = (
    Column("record_id", "string"),
    Column("member_id", "string"),
    Column("kind", "string"),
    Column("visibility", "string"),
    Column("created_at", "time"),
    Column("deleted_at", "time", required=False),  # absent means "never deleted"
    Column("text", "string"),
    Column("origin", "string", required=False),  # absent means "member"; else member or web
)
#: What `origin` may say: a member's own content, or third-party content from the web (docs/signals.md).
ORIGINS = ("member", "web")
#: Columns a source may carry for the signals layer only: the content's address and the rights holders'
#: signals captured with it (a JSON object). They become the engine-computed verdict `_signals`.
SIGNAL_SOURCE_COLUMNS = ("url", "signals")
#: Columns every record must have.
REQUIRED_COLUMNS = tuple(c.name for c in RECORD_COLUMNS if c.required)
#: Columns a source may have.
OPTIONAL_COLUMNS = tuple(c.name for c in RECORD_COLUMNS if not c.required)
STRING_COLUMNS = tuple(c.name for c in RECORD_COLUMNS if c.type == "string")
TIME_COLUMNS = tuple(c.name for c in RECORD_COLUMNS if c.type == "time")

#: String columns a row may hold at most MAX_KEY_CHARS characters in (longer: MALFORMED). record_id and
#: text are bounded only by the line in JSONL and CSV: checking them would make counting read them.
BOUNDED_COLUMNS = ("member_id", "kind", "visibility")
#: The longest member id, kind or visibility a record may have (the store's member ids hold 255).
MAX_KEY_CHARS = 255

#: Time text the SQL engines read: a bare date, or anything ending in a zone (then cast). Written with
#: [0-9] rather than \d: Spark SQL string literals eat backslashes.
DATE_ONLY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
HAS_ZONE = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"

_TYPES: Mapping[Dialect, Mapping[str, str]] = {
    "duckdb": {"string": "VARCHAR", "time": "TIMESTAMPTZ"},
    "spark": {"string": "STRING", "time": "TIMESTAMP"},
}


# ------------------------------------------------------------------ Python (JSONL and CSV rows)


def is_absent(value: object) -> bool:
    """A value that counts as missing: null or empty (a required column missing makes the row malformed)."""
    return value is None or value == ""


def parse_field(column: str, value: object) -> object | None:
    """A present value of a contract column, typed; None when it makes the row malformed."""
    if column in TIME_COLUMNS:
        if not isinstance(value, str):
            return None
        try:
            return parse_instant(value, field=column)
        except InputError:
            return None
    if not isinstance(value, str) or (column in BOUNDED_COLUMNS and len(value) > MAX_KEY_CHARS):
        return None
    if column == "origin" and value not in ORIGINS:
        return None
    return value if utf8(value) else None


def utf8(text: str) -> bool:
    """False for text Parquet cannot hold (lone surrogates from JSON escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ------------------------------------------------------------------ SQL (Parquet read by an engine)


def _ref(column: str, dialect: Dialect) -> str:
    # The contract's names are plain identifiers; Spark's reads are quoted as the Spark engine quotes any name.
    return f"`{column}`" if dialect == "spark" else column


def time_text_sql(column: str, dialect: Dialect) -> str:
    """Parse an RFC 3339 string column: a timestamp, NULL when it has no zone or does not parse."""
    t = f"trim({_ref(column, dialect)})"
    if dialect == "spark":
        return (
            f"CASE WHEN {t} RLIKE '{DATE_ONLY}' THEN try_cast({t} AS TIMESTAMP) "
            f"WHEN {t} RLIKE '{HAS_ZONE}' THEN try_cast({t} AS TIMESTAMP) END"
        )
    return (
        f"CASE WHEN regexp_matches({t}, '{DATE_ONLY}') THEN TRY_CAST(TRY_CAST({t} AS DATE) AS TIMESTAMPTZ) "
        f"WHEN regexp_matches({t}, '{HAS_ZONE}') THEN TRY_CAST({t} AS TIMESTAMPTZ) END"
    )


def typed_columns_sql(kinds: Mapping[str, str], dialect: Dialect) -> list[str]:
    """SELECT items giving the contract's columns their types, from a source's columns.

    `kinds` maps a source column to "string", "timestamp" (with a time zone)
    or "text-time" (RFC 3339 text); a time column absent from it is NULL. A
    text time keeps its raw text as ``_<column>_raw`` for `malformed_sql`.
    """
    types = _TYPES[dialect]
    items = [
        f"CAST({_ref(c, dialect) if c in REQUIRED_COLUMNS or c in kinds else 'NULL'} AS {types['string']}) AS {c}"
        for c in STRING_COLUMNS
    ]
    for col in TIME_COLUMNS:
        kind = kinds.get(col)
        if kind is None:
            items.append(f"CAST(NULL AS {types['time']}) AS {col}")
        elif kind == "timestamp":
            items.append(f"CAST({_ref(col, dialect)} AS {types['time']}) AS {col}")
        else:  # RFC 3339 text
            items += [f"{_ref(col, dialect)} AS _{col}_raw", f"{time_text_sql(col, dialect)} AS {col}"]
    return items


def malformed_sql(kinds: Mapping[str, str], null_free: frozenset[str] = frozenset(), ids_nonempty: bool = False) -> str:
    """A boolean over the typed columns (`typed_columns_sql`): the row is MALFORMED.

    A null check on a `null_free` column (statistics show no null), and the
    empty-id check when `ids_nonempty`, are left out: counting then need not
    read the texts. The same text in both dialects.
    """
    bad = [f"{c} IS NULL" for c in STRING_COLUMNS if c in REQUIRED_COLUMNS and c not in null_free]
    if not ids_nonempty:
        bad.append("record_id = ''")
    bad += [f"length({c}) > {MAX_KEY_CHARS}" for c in BOUNDED_COLUMNS]
    if "origin" in kinds:  # only a source that has the column can hold a value that is neither
        bad.append(f"(origin IS NOT NULL AND origin NOT IN ({', '.join(repr(o) for o in ORIGINS)}))")
    for col in TIME_COLUMNS:
        text = kinds.get(col) not in (None, "timestamp")
        if col in REQUIRED_COLUMNS:  # missing, or text that does not parse
            if text or col not in null_free:
                bad.append(f"{col} IS NULL")
        elif text:  # given as text, and that text does not parse
            raw = f"_{col}_raw"
            bad.append(f"({raw} IS NOT NULL AND trim({raw}) <> '' AND {col} IS NULL)")
    return " OR ".join(bad) or "FALSE"
