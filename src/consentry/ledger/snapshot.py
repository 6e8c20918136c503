"""Point-in-time snapshots: each member's latest choice for a purpose as of T and as of now.

The members and the purpose's events are read as Arrow columns and the latest
event per member is found by a vectorised "last row of each group" pass over
events in (member_id, at, event_id) order, served by the covering index.

On SQLite, fetching a million rows one Python tuple at a time costs seconds,
so SQLite renders each result as one CSV text (`group_concat`, strings quoted
and their quotes doubled) that Arrow's CSV reader parses in C. (A second
SQLite library in the process, such as ADBC's, is not an option: two copies of
SQLite in one process break each other's locks and read stale WAL data.)
PostgreSQL rows are fetched through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from sqlalchemy import Connection

from consentry.ledger.protocol import SNAPSHOT_SCHEMA
from consentry.timeutil import ARROW_TS

__all__ = ["build_snapshot", "latest_per_member"]

# Sentinels for NULL keep every fetch path's columns non-null and one type.
_NO_INT = -(2**62)
_NO_DAY = -(2**30)

_MEMBERS_SQL = (
    f"SELECT member_id, COALESCE(country, '') AS country, COALESCE(birth_day, {_NO_DAY}) AS birth_day, "
    f"created_us, COALESCE(closed_us, {_NO_INT}) AS closed_us FROM members ORDER BY member_id"
)
_MEMBERS_COLS = [
    ("member_id", pa.string()),
    ("country", pa.string()),
    ("birth_day", pa.int32()),
    ("created_us", pa.int64()),
    ("closed_us", pa.int64()),
]
_EVENTS_SQL = (
    "SELECT member_id, at_us, event_id, choice, source FROM consent_events "
    "WHERE purpose = {p} AND at_us <= {t} ORDER BY member_id, at_us, event_id"
)
_EVENTS_COLS = [
    ("member_id", pa.string()),
    ("at_us", pa.int64()),
    ("event_id", pa.int64()),
    ("choice", pa.string()),
    ("source", pa.string()),
]
_CASES_SQL = (
    f"SELECT c.member_id, c.case_id, c.received_us, COALESCE(c.decided_us, {_NO_INT}) AS decided_us "
    "FROM objection_cases c JOIN objection_case_purposes p ON p.case_id = c.case_id "
    "WHERE p.purpose = {p} AND c.received_us <= {t} ORDER BY c.member_id, c.received_us, c.case_id"
)
_CASES_COLS = [
    ("member_id", pa.string()),
    ("case_id", pa.string()),
    ("received_us", pa.int64()),
    ("decided_us", pa.int64()),
]

# The ORDER BY of every query, as column names (members: member_id only).
_ORDER_KEYS = ("member_id", "at_us", "received_us", "event_id", "case_id")

Columns = list[tuple[str, pa.DataType]]
Fetch = Callable[[str, tuple[Any, ...], Columns], pa.Table]


def build_snapshot(c: Connection, purpose: str, at_us: int, now_us: int, *, fast: bool = True) -> pa.Table:
    """SNAPSHOT_SCHEMA for `purpose`: one row per member, ordered by member_id.

    `fast=False` fetches row by row on SQLite too (the reference the fast path is tested against).
    """
    upto = max(at_us, now_us)
    if c.dialect.name == "postgresql":
        c = c.execution_options(isolation_level="REPEATABLE READ")
    fetch = _csv_fetch(c) if fast and c.dialect.name == "sqlite" else _row_fetch(c)
    return _assemble(fetch, purpose, at_us, now_us, upto)


def _csv_fetch(c: Connection) -> Fetch:
    """SQLite: the whole result as one CSV text built by SQLite, parsed by Arrow."""

    def fetch(sql: str, params: tuple[Any, ...], columns: Columns) -> pa.Table:
        cells = []
        for name, ty in columns:
            if pa.types.is_string(ty):
                cells.append(f"""'"' || replace({name}, '"', '""') || '"'""")
            else:
                cells.append(f"{name}")
        row = " || ',' || ".join(cells)
        inner = sql.format(p="?", t="?")
        text = c.exec_driver_sql(f"SELECT group_concat({row}, char(10)) FROM ({inner})", params).scalar()
        if not text:
            return _empty(columns)
        table = pcsv.read_csv(
            pa.py_buffer(text.encode()),
            read_options=pcsv.ReadOptions(column_names=[n for n, _ in columns]),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict(columns), strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
        return _sorted(table)

    return fetch


def _sorted(table: pa.Table) -> pa.Table:
    # SQLite concatenates in the subquery's order; re-sort in the rare case it did not.
    ids = table.column("member_id").combine_chunks()
    n = len(ids)
    if n < 2 or pc.all(pc.less_equal(ids.slice(0, n - 1), ids.slice(1))).as_py():
        return table
    keys = [k for k in _ORDER_KEYS if k in table.column_names]
    return table.sort_by([(k, "ascending") for k in keys])


def _empty(columns: Columns) -> pa.Table:
    return pa.table([pa.array([], ty) for _, ty in columns], names=[n for n, _ in columns])


def _row_fetch(c: Connection) -> Fetch:
    mark = "?" if c.dialect.paramstyle == "qmark" else "%s"

    def fetch(sql: str, params: tuple[Any, ...], columns: Columns) -> pa.Table:
        rows = c.exec_driver_sql(sql.format(p=mark, t=mark), params).all()
        if not rows:
            return _empty(columns)
        cols = list(zip(*rows, strict=True))
        return pa.table(
            [pa.array(col, ty) for col, (_, ty) in zip(cols, columns, strict=True)], names=[n for n, _ in columns]
        )

    return fetch


def _null_if(col: pa.ChunkedArray | pa.Array, sentinel: Any) -> Any:
    return pc.if_else(pc.equal(col, sentinel), pa.scalar(None, col.type), col)


def latest_per_member(events: pa.Table) -> pa.Table:
    """The last row of each member's run in events sorted by (member_id, at, event_id)."""
    n = events.num_rows
    if n == 0:
        return events
    ids = events.column("member_id").combine_chunks()
    last = pc.not_equal(ids.slice(0, n - 1), ids.slice(1))
    return events.filter(pa.concat_arrays([last, pa.array([True])]))


def _align(member_ids: pa.Array, keys: pa.Array, values: list[Any]) -> list[Any]:
    idx = pc.index_in(member_ids, value_set=keys)
    return [v.take(idx) for v in values]


def _assemble(fetch: Fetch, purpose: str, at_us: int, now_us: int, upto: int) -> pa.Table:
    mem = fetch(_MEMBERS_SQL, (), _MEMBERS_COLS)
    ev = fetch(_EVENTS_SQL, (purpose, upto), _EVENTS_COLS)
    ids = mem.column("member_id").combine_chunks()
    cols: dict[str, Any] = {
        "member_id": ids,
        "country": _null_if(mem.column("country"), ""),
        "birth_date": _null_if(mem.column("birth_day"), _NO_DAY).cast(pa.date32()),
        "created_at": mem.column("created_us").cast(ARROW_TS),
        "closed_at": _null_if(mem.column("closed_us"), _NO_INT).cast(ARROW_TS),
    }
    for prefix, t in (("at", at_us), ("now", now_us)):
        latest = latest_per_member(ev.filter(pc.less_equal(ev.column("at_us"), t)) if t < upto else ev)
        choice, source, event_id = _align(
            ids,
            latest.column("member_id").combine_chunks(),
            [latest.column("choice"), latest.column("source"), latest.column("event_id")],
        )
        cols[f"{prefix}_choice"], cols[f"{prefix}_source"], cols[f"{prefix}_event_id"] = choice, source, event_id
    cases = fetch(_CASES_SQL, (purpose, upto), _CASES_COLS)
    for prefix, t in (("at", at_us), ("now", now_us)):
        open_ = pc.and_(
            pc.less_equal(cases.column("received_us"), t),
            pc.or_(pc.equal(cases.column("decided_us"), _NO_INT), pc.greater(cases.column("decided_us"), t)),
        )
        latest = latest_per_member(cases.filter(open_))
        (cols[f"{prefix}_case_id"],) = _align(
            ids, latest.column("member_id").combine_chunks(), [latest.column("case_id")]
        )
    return pa.table([cols[f.name] for f in SNAPSHOT_SCHEMA], schema=SNAPSHOT_SCHEMA)
