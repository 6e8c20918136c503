"""Point-in-time snapshots: each member's latest choice for a purpose as of T and as of now.

The members, the purpose's events and its objection cases are read as Arrow
tables; each member's latest event (and latest open case) at a moment is found
by vectorised passes over events in (member_id, at, event_id) order, which the
covering index serves, and joined to the members with one hash lookup.

Fetching a million rows one Python tuple at a time costs seconds, so results
travel as CSV text parsed by Arrow in C: on SQLite the query renders each row
with `printf` and `group_concat` joins them, at most SQLITE_CHUNK_ROWS rows a
text, under SQLite's 1 GB string limit (a second SQLite library in the
process, such as ADBC's, is not an option: two copies of SQLite in one process
break each other's locks and read stale WAL data); on PostgreSQL it is
`COPY (query) TO STDOUT (FORMAT csv)`. In both, NULL is an unquoted empty
field and strings that may hold anything are quoted.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from sqlalchemy import Connection

from consentry.store.members import MEMBERS_SCHEMA, sorted_by_member_id
from consentry.store.protocol import SNAPSHOT_SCHEMA
from consentry.timeutil import ARROW_TS

__all__ = ["SQLITE_CHUNK_ROWS", "build_snapshot", "build_snapshots", "fetch_members", "latest_per_member"]

#: (name, type, quoted): quoted columns are non-null strings that may hold any text;
#: unquoted ones are numbers or plain codes, NULL rendered as an empty field.
Columns = list[tuple[str, pa.DataType, bool]]

_MEMBERS_SQL = "SELECT member_id, country, birth_day, created_us, closed_us FROM members"
_CHANGED_MEMBERS_SQL = _MEMBERS_SQL + " WHERE changed_gen > {p}"
_MEMBERS_COLS: Columns = [
    ("member_id", pa.string(), True),
    ("country", pa.string(), False),
    ("birth_day", pa.int32(), False),
    ("created_us", pa.int64(), False),
    ("closed_us", pa.int64(), False),
]
_EVENTS_SQL = (
    "SELECT member_id, at_us, event_id, choice, source FROM consent_events "
    "WHERE purpose = {p} AND at_us <= {t} ORDER BY member_id, at_us, event_id"
)
_EVENTS_COLS: Columns = [
    ("member_id", pa.string(), True),
    ("at_us", pa.int64(), False),
    ("event_id", pa.int64(), False),
    ("choice", pa.string(), True),
    ("source", pa.string(), True),
]
_CASES_SQL = (
    "SELECT c.member_id, c.case_id, c.received_us, c.decided_us "
    "FROM objection_cases c JOIN objection_case_purposes p ON p.case_id = c.case_id "
    "WHERE p.purpose = {p} AND c.received_us <= {t} ORDER BY c.member_id, c.received_us, c.case_id"
)
_CASES_COLS: Columns = [
    ("member_id", pa.string(), True),
    ("case_id", pa.string(), True),
    ("received_us", pa.int64(), False),
    ("decided_us", pa.int64(), False),
]


def fetch_members(c: Connection, *, changed_after: int | None = None, fast: bool = True) -> pa.Table:
    """Every member as MEMBERS_SCHEMA, ordered by member_id (bytewise, on every database).

    `changed_after`: only the members changed in a later generation (see member_image).
    """
    if changed_after is None:
        raw = _fetch(c, _MEMBERS_SQL, (), _MEMBERS_COLS, fast=fast)
    else:
        raw = _fetch(c, _CHANGED_MEMBERS_SQL, (changed_after,), _MEMBERS_COLS, fast=fast)
    raw = sorted_by_member_id(raw)
    return pa.table(
        [
            raw.column("member_id").combine_chunks(),
            raw.column("country"),
            raw.column("birth_day").cast(pa.date32()),
            raw.column("created_us").cast(ARROW_TS),
            raw.column("closed_us").cast(ARROW_TS),
        ],
        schema=MEMBERS_SCHEMA,
    )


def build_snapshot(
    c: Connection, purpose: str, at_us: int, now_us: int, members: pa.Table, *, fast: bool = True
) -> pa.Table:
    """SNAPSHOT_SCHEMA for `purpose` over `members` (MEMBERS_SCHEMA, read in the same transaction).

    `fast=False` fetches row by row (the reference the CSV paths are tested against).
    """
    return build_snapshots(c, purpose, [at_us], now_us, members, fast=fast)[0]


def build_snapshots(
    c: Connection, purpose: str, ats_us: list[int], now_us: int, members: pa.Table, *, fast: bool = True
) -> list[pa.Table]:
    """`build_snapshot` at each of `ats_us`, fetching the purpose's events and cases once for all of them.

    The fetch reaches the latest moment asked; each snapshot keeps only the rows up to its own,
    so each is the snapshot `build_snapshot` gives for its moment alone.
    """
    upto = max([*ats_us, now_us])
    # Events in (member, at, id) order: any collation keeps a member's rows together.
    ev = _fetch(c, _EVENTS_SQL, (purpose, upto), _EVENTS_COLS, fast=fast)
    cases = _fetch(c, _CASES_SQL, (purpose, upto), _CASES_COLS, fast=fast)
    ids = members.column("member_id").combine_chunks()
    runs = _Runs(ev.column("member_id"), ids)
    case_runs = _Runs(cases.column("member_id"), ids)
    decided = cases.column("decided_us")

    def columns(prefix: str, t: int) -> dict[str, Any]:
        pick = runs.latest(pc.less_equal(ev.column("at_us"), t))
        cols = {f"{prefix}_{name}": ev.column(name).take(pick) for name in ("choice", "source", "event_id")}
        open_ = pc.and_(
            pc.less_equal(cases.column("received_us"), t),
            pc.or_kleene(pc.is_null(decided), pc.greater(decided, t)),
        )
        cols[f"{prefix}_case_id"] = cases.column("case_id").take(case_runs.latest(open_))
        return cols

    now = columns("now", now_us)
    out = []
    for at_us in ats_us:
        cols: dict[str, Any] = {name: members.column(name) for name in MEMBERS_SCHEMA.names}
        cols |= columns("at", at_us) | now
        out.append(pa.table([cols[f.name] for f in SNAPSHOT_SCHEMA], schema=SNAPSHOT_SCHEMA))
    return out


class _Runs:
    """Rows sorted by member_id (then time), as one run per member, joined to the members once.

    `latest(mask)` gives, for every member, the row index of the last row of
    their run that `mask` keeps, or null: the "latest as of T" of the run.
    """

    def __init__(self, row_members: pa.ChunkedArray, members: pa.Array) -> None:
        ids = row_members.combine_chunks()
        n = len(ids)
        self._n = n
        self._members = len(members)
        if n == 0:
            return
        change = pc.not_equal(ids.slice(0, n - 1), ids.slice(1))
        self._first = pc.indices_nonzero(pa.concat_arrays([pa.array([True]), change])).cast(pa.int64())
        self._last = pc.indices_nonzero(pa.concat_arrays([change, pa.array([True])])).cast(pa.int64())
        # One hash join per fetch: which run (if any) belongs to each member.
        self._run_of_member = pc.index_in(members, value_set=ids.take(self._last))
        self._rows = pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), 1)

    def latest(self, mask: Any) -> pa.Array:
        """Per member: the index of the last row of their run with `mask` true, else null."""
        if self._n == 0:
            return pa.nulls(self._members, pa.int64())
        kept = pc.cumulative_max(pc.if_else(mask, self._rows, -1))
        best = kept.take(self._last)
        best = pc.if_else(pc.greater_equal(best, self._first), best, pa.scalar(None, pa.int64()))
        return best.take(self._run_of_member)


def latest_per_member(events: pa.Table) -> pa.Table:
    """The last row of each member's run in events sorted by (member_id, at, event_id)."""
    n = events.num_rows
    if n == 0:
        return events
    ids = events.column("member_id").combine_chunks()
    last = pc.not_equal(ids.slice(0, n - 1), ids.slice(1))
    return events.filter(pa.concat_arrays([last, pa.array([True])]))


# ---------------------------------------------------------------------------- fetching


def _fetch(c: Connection, sql: str, params: tuple[Any, ...], columns: Columns, *, fast: bool) -> pa.Table:
    dialect = c.dialect.name
    if fast and dialect == "sqlite":
        return _sqlite_csv(c, sql, params, columns)
    if fast and dialect == "postgresql":
        return _pg_copy(c, sql, params, columns)
    return _rows(c, sql, params, columns)


#: Rows per CSV text on SQLite: a string may not pass 1 GB (SQLITE_MAX_LENGTH), and a member's row is ~60 bytes
SQLITE_CHUNK_ROWS = 2_000_000


def _sqlite_csv(c: Connection, sql: str, params: tuple[Any, ...], columns: Columns) -> pa.Table:
    """SQLite: the result as CSV text built by SQLite (`printf`'s %w doubles quotes).

    One text while the result has at most SQLITE_CHUNK_ROWS rows; beyond, one
    text per LIMIT/OFFSET slice (in the caller's one transaction), so `sql`
    must then order its rows totally (the members query is ordered by rowid).
    """
    fmt = ",".join('"%w"' if quoted else "%s" for _, _, quoted in columns)
    names = ", ".join(name for name, _, _ in columns)
    inner = sql.format(p="?", t="?")
    rows = c.exec_driver_sql(f"SELECT count(*) FROM ({inner})", params).scalar() or 0
    if rows <= SQLITE_CHUNK_ROWS:
        return _parse(_sqlite_text(c, f"SELECT {names} FROM ({inner})", fmt, names, params), columns)
    ordered = inner if " ORDER BY " in inner else f"{inner} ORDER BY rowid"
    chunk = SQLITE_CHUNK_ROWS
    slices = (f"SELECT * FROM ({ordered}) LIMIT {chunk} OFFSET {n}" for n in range(0, rows, chunk))
    tables = [_parse(_sqlite_text(c, query, fmt, names, params), columns) for query in slices]
    return pa.concat_tables(tables).combine_chunks()


def _sqlite_text(c: Connection, query: str, fmt: str, names: str, params: tuple[Any, ...]) -> bytes:
    text = c.exec_driver_sql(f"SELECT group_concat(printf('{fmt}', {names}), char(10)) FROM ({query})", params).scalar()
    return text.encode() if text else b""


def _pg_copy(c: Connection, sql: str, params: tuple[Any, ...], columns: Columns) -> pa.Table:
    """PostgreSQL: COPY the query's result out as CSV, in the connection's transaction."""
    dbapi = c.connection.driver_connection
    assert dbapi is not None
    inner = sql.format(p="%s", t="%s")
    chunks: list[bytes] = []
    with dbapi.cursor() as cur, cur.copy(f"COPY ({inner}) TO STDOUT (FORMAT csv)", params) as cp:
        for block in cp:
            chunks.append(bytes(block))
    return _parse(b"".join(chunks), columns)


def _parse(data: bytes, columns: Columns) -> pa.Table:
    if not data:
        return _empty(columns)
    table = pcsv.read_csv(
        pa.py_buffer(data),
        read_options=pcsv.ReadOptions(column_names=[n for n, _, _ in columns]),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={n: ty for n, ty, _ in columns},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.combine_chunks()


def _rows(c: Connection, sql: str, params: tuple[Any, ...], columns: Columns) -> pa.Table:
    mark = "?" if c.dialect.paramstyle == "qmark" else "%s"
    rows = c.exec_driver_sql(sql.format(p=mark, t=mark), params).all()
    if not rows:
        return _empty(columns)
    cols = list(zip(*rows, strict=True))
    return pa.table(
        [pa.array(col, ty) for col, (_, ty, _) in zip(cols, columns, strict=True)],
        names=[n for n, _, _ in columns],
    )


def _empty(columns: Columns) -> pa.Table:
    return pa.table([pa.array([], ty) for _, ty, _ in columns], names=[n for n, _, _ in columns])
