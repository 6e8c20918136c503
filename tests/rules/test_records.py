"""The records statement: the Python normaliser and the engines' SQL read the same rows the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.pipeline.sources import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, _Normaliser, staged_schema
from consentry.rules.records import (
    BOUNDED_COLUMNS,
    MAX_KEY_CHARS,
    RECORD_COLUMNS,
    malformed_sql,
    parse_field,
    time_text_sql,
    typed_columns_sql,
)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    db = duckdb.connect(config={"threads": 1})
    db.execute("SET TimeZone = 'UTC'")
    yield db
    db.close()


def test_the_sources_and_the_staging_files_follow_the_statement() -> None:
    assert REQUIRED_COLUMNS == ("record_id", "member_id", "kind", "visibility", "created_at", "text")
    assert OPTIONAL_COLUMNS == ("deleted_at", "origin")
    assert staged_schema(()).names == [*(c.name for c in RECORD_COLUMNS), "_malformed", "_signals"]


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    """An instant in one of the spellings the statement names: a bare date, or date, time and a zone."""
    moment = draw(st.datetimes(datetime(1971, 1, 1), datetime(2099, 12, 31)))
    date = moment.strftime("%Y-%m-%d")
    if draw(st.booleans()):
        return date
    sep = draw(st.sampled_from(["T", " "]))
    fraction = draw(st.sampled_from(["", ".1", ".123", ".123456"]))
    hours, minutes = draw(st.integers(0, 14)), draw(st.sampled_from([0, 30, 45]))
    sign = draw(st.sampled_from(["+", "-"]))
    zone = draw(st.sampled_from(["Z", f"{sign}{hours:02d}:{minutes:02d}", f"{sign}{hours:02d}{minutes:02d}"]))
    return f"{date}{sep}{moment.strftime('%H:%M:%S')}{fraction}{zone}"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(rfc3339(), st.text(max_size=12)), min_size=1, max_size=40))
def test_time_text_parses_alike_in_python_and_duckdb(con: duckdb.DuckDBPyConnection, texts: list[str]) -> None:
    table = pa.table({"n": range(len(texts)), "t": pa.array(texts, pa.string())})
    con.register("times", table)
    try:
        rows = con.execute(f"SELECT {time_text_sql('t', 'duckdb')} FROM times ORDER BY n").fetchall()
    finally:
        con.unregister("times")
    for text, (sql,) in zip(texts, rows, strict=True):
        python = parse_field("created_at", text)
        if python is not None or sql is not None:  # text that is not a time is unreadable in both
            assert sql == python, text


def _normalised_bad(row: dict[str, Any]) -> bool:
    """The Python normaliser's verdict on one JSONL or CSV row."""
    return bool(_Normaliser(()).row(row)["_malformed"])


GOOD = {
    "record_id": "r1",
    "member_id": "m1",
    "kind": "post",
    "visibility": "public",
    "created_at": "2025-01-01T00:00:00Z",
    "deleted_at": None,
    "text": "hello",
    "origin": None,
}
ROWS = [
    (GOOD, False),
    ({**GOOD, "deleted_at": ""}, False),
    ({**GOOD, "deleted_at": "2025-02-01"}, False),
    ({**GOOD, "record_id": None}, True),
    ({**GOOD, "record_id": ""}, True),
    ({**GOOD, "member_id": None}, True),
    ({**GOOD, "text": None}, True),
    ({**GOOD, "created_at": None}, True),
    ({**GOOD, "created_at": "2025-01-01T00:00:00"}, True),  # no zone
    ({**GOOD, "created_at": "yesterday"}, True),
    ({**GOOD, "deleted_at": "not a time"}, True),
    *[({**GOOD, col: "é" * MAX_KEY_CHARS}, False) for col in BOUNDED_COLUMNS],  # characters, not bytes
    *[({**GOOD, col: "x" * (MAX_KEY_CHARS + 1)}, True) for col in BOUNDED_COLUMNS],
    ({**GOOD, "origin": "member"}, False),
    ({**GOOD, "origin": "web"}, False),
    ({**GOOD, "origin": "crawl"}, True),  # neither member nor web
]


@pytest.mark.parametrize(("row", "bad"), ROWS)
def test_python_and_sql_agree_on_what_is_malformed(
    con: duckdb.DuckDBPyConnection, row: dict[str, Any], bad: bool
) -> None:
    kinds = {c.name: "text-time" if c.type == "time" else "string" for c in RECORD_COLUMNS}
    table = pa.table({c.name: pa.array([row[c.name]], pa.string()) for c in RECORD_COLUMNS})
    con.register("src", table)
    try:
        typed = ", ".join(typed_columns_sql(kinds, "duckdb"))
        [(sql_bad,)] = con.execute(f"SELECT {malformed_sql(kinds)} FROM (SELECT {typed} FROM src)").fetchall()
    finally:
        con.unregister("src")
    assert (bool(sql_bad), _normalised_bad(row)) == (bad, bad)
