"""Fuzzing the importers at the shape bounds: rows just within and just past each bound, JSONL and CSV.

A row within every bound imports; a row one past any bound is refused with a
one-line InputError naming ``file:line``, and nothing is written — never a
traceback, never a partial import. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.bounds import MAX_FIELD_CHARS, MAX_FIELDS, MAX_ID
from consentry.errors import InputError
from consentry.lines import MAX_LINE_BYTES
from consentry.policy import Policy
from consentry.store import SqlStore

MEMBER = {"member_id": "", "country": "US", "birth_date": "1990-01-01", "created_at": "2020-01-01T00:00:00Z"}
EVENT = {"member_id": "m1", "purpose": "genai_training", "choice": "deny", "at": "", "source": "import"}
BOUNDS = ["fields", "value", "name", "line"]
_ids = itertools.count()

shape = st.tuples(
    st.sampled_from(BOUNDS),
    st.integers(-2, 2),  # how far past the bound (> 0: past it)
    st.sampled_from(["a", "é", "€", "😀"]),  # 1 to 4 bytes in UTF-8
    st.sampled_from(["jsonl", "csv"]),
    st.integers(0, 2),  # good rows before the one at the bound
)


def _row(base: dict[str, str], bound: str, delta: int, ch: str) -> dict[str, str]:
    row = dict(base)
    if bound == "fields":
        row.update({f"x{i}": "0" for i in range(MAX_FIELDS - len(base) + delta)})
    elif bound == "value":
        row["note"] = ch * (MAX_FIELD_CHARS + delta)
    elif bound == "name":
        row[ch * (MAX_ID + delta)] = "1"
    return row


def _fill_line(row: dict[str, str], render: callable, size: int) -> dict[str, str]:  # type: ignore[valid-type]
    """`row` with padding fields (each within its bound) so that its rendered line is exactly `size` bytes."""
    pads = {f"p{i:03d}": "x" * 4_350 for i in range(240)}
    full = {**row, **pads, "q": ""}
    missing = size - len(render(full))
    return {**full, "q": "x" * missing}


def _jsonl(rows: list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _csv_line(row: dict[str, str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row.values())
    return buf.getvalue()


def _file(kind: str, rows: list[dict[str, str]], bad: dict[str, str]) -> str:
    if kind == "jsonl":
        return _jsonl([*rows, bad])
    header = {k: k for k in bad}
    return "".join(_csv_line(r) for r in [header, *({k: r.get(k, "") for k in bad} for r in rows), bad])


def _case(base: dict[str, str], case: tuple[str, int, str, str, int]) -> tuple[str, str, bool, int]:
    """(file text, format, whether it must import, line of the row at the bound)."""
    bound, delta, ch, kind, before = case
    good = [_fresh(base) for _ in range(before)]
    bad = _row(_fresh(base), bound, delta, ch)
    if bound == "line":
        render = (lambda r: json.dumps(r, ensure_ascii=False) + "\n") if kind == "jsonl" else _csv_line
        bad = _fill_line(bad, render, MAX_LINE_BYTES + delta)
    line = before + 1 + (kind == "csv")
    if bound in ("fields", "name") and kind == "csv" and delta > 0:
        line = 1  # the header is where a column too many, or a name too long, is
    return _file(kind, good, bad), kind, delta <= 0, line


def _fresh(base: dict[str, str]) -> dict[str, str]:
    n = next(_ids)
    if "country" in base:
        return {**base, "member_id": f"fz{n}"}
    return {**base, "at": f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z", "actor": f"fz{n}"}


def _check(store: SqlStore, path: Path, text: str, must_import: bool, line: int, members: bool) -> None:
    path.write_text(text, encoding="utf-8")
    before = (store.head(), store.members_table().num_rows)
    try:
        n = store.import_members(path) if members else store.import_events(path)
    except InputError as e:
        message = str(e)
        assert not must_import, message
        assert message.startswith(f"{path}:{line}: "), message
        assert "\n" not in message and len(message) < 300, message
        assert (store.head(), store.members_table().num_rows) == before
    else:
        assert must_import, f"imported {n} rows past a bound"
        rows = text.count("\n") - path.suffix.endswith("csv")
        assert n == rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=shape)
def test_members_import_near_every_bound(store: SqlStore, case: tuple[str, int, str, str, int]) -> None:
    text, kind, must_import, line = _case(MEMBER, case)
    with tempfile.TemporaryDirectory() as d:
        _check(store, Path(d) / f"members.{kind}", text, must_import, line, members=True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=shape.filter(lambda c: c[3] == "jsonl"))
def test_events_import_near_every_bound(
    store: SqlStore, reference_policy: Policy, case: tuple[str, int, str, str, int]
) -> None:
    from datetime import UTC, date, datetime

    from consentry.store import Member

    if not store.published_versions():
        store.publish(reference_policy)
        store.add_members([Member("m1", "US", date(1990, 1, 1), datetime(2020, 1, 1, tzinfo=UTC))])
    text, _, must_import, line = _case(EVENT, case)
    with tempfile.TemporaryDirectory() as d:
        _check(store, Path(d) / "events.jsonl", text, must_import, line, members=False)
    assert store.verify().ok
