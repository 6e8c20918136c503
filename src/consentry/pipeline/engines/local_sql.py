"""The local engine's SQL over the sources, and how its write is cut into units.

`records_sql` is one SELECT over every source with the records contract's
columns, the pass-through columns, `_malformed` and the signals verdict
`_signals` (`signals_sql`). For the write, the sources
are cut at row-group boundaries into *units* of a few tens of megabytes, in
source order (Parquet files by path, then staged JSONL/CSV files by path, rows
as stored); `unit_sql` reads one unit, with each row's place (`_slice`,
`_row`) so that the write can sort the unit back into stored order after its
join (a hash join lets rows drift). Units run side by side on all cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from consentry.errors import InputError
from consentry.pipeline.sources import SourceFile, SourceFormat, SourceSet
from consentry.rules import RECORD_CLASSES
from consentry.rules.records import RECORD_COLUMNS, malformed_sql, typed_columns_sql

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "PACK_BITS",
    "Slice",
    "has_signals",
    "packed_counts_sql",
    "plan_units",
    "quote_path",
    "records_sql",
    "register_signals",
    "signals_possible",
    "signals_sql",
    "unit_sql",
    "unpacked_counts_sql",
]

#: Smallest and largest unit, in bytes of source Parquet; a lake is cut into about 4 units per thread
MIN_UNIT_BYTES = 32 * 1024 * 1024
MAX_UNIT_BYTES = 256 * 1024 * 1024
_UNITS_PER_THREAD = 4

_CONTRACT = ", ".join(c.name for c in RECORD_COLUMNS)

#: Bits of one class count in a packed sum: three to a BIGINT, exact while a member has fewer than 2^21 records
PACK_BITS = 21
_PER_SUM = 63 // PACK_BITS


def quote_path(path: Path) -> str:
    """A path as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _rows_filter(rows: tuple[int, int] | None) -> tuple[str, str]:
    """The read_parquet option and WHERE clause keeping rows [first, stop) of a file (row groups pruned)."""
    if rows is None:
        return "", ""
    return ", file_row_number = true", f" WHERE file_row_number >= {rows[0]} AND file_row_number < {rows[1]}"


def _parquet_group_sql(
    files: Sequence[SourceFile], pass_through: tuple[str, ...], rows: tuple[int, int] | None = None
) -> str:
    kinds = files[0].column_kinds()
    # A null check the files' statistics rule out is dropped: then counting never reads the texts
    null_free = frozenset.intersection(*(f.null_free for f in files))
    paths = ", ".join(quote_path(f.path) for f in files)
    inner = typed_columns_sql(kinds, "duckdb")
    bad = malformed_sql(kinds, null_free, all(f.ids_nonempty for f in files))
    for col in pass_through:
        inner.append(f"{ident(col)}" if col in kinds else f"CAST(NULL AS VARCHAR) AS {ident(col)}")
    inner.append(f"{signals_sql(kinds)} AS _signals")
    row = ""
    if rows is not None:  # a unit's slice: each row's place in its file
        inner.append("file_row_number AS _row")
        row = ", _row"
    select = ", ".join(inner)
    option, where = _rows_filter(rows)
    return (
        f"SELECT {_CONTRACT}{''.join(', ' + ident(c) for c in pass_through)}, ({bad}) AS _malformed, _signals{row} "
        f"FROM (SELECT {select} FROM read_parquet([{paths}], binary_as_string = false{option}){where})"
    )


def _staged_sql(paths: Sequence[Path], pass_through: tuple[str, ...], rows: tuple[int, int] | None = None) -> str:
    cols = [*(c.name for c in RECORD_COLUMNS), *(ident(c) for c in pass_through), "_malformed", "_signals"]
    if rows is not None:
        cols.append("file_row_number AS _row")
    option, where = _rows_filter(rows)
    listed = ", ".join(quote_path(p) for p in paths)
    return f"SELECT {', '.join(cols)} FROM read_parquet([{listed}]{option}){where}"


def signals_sql(kinds: dict[str, str]) -> str:
    """The signals verdict of a Parquet source's rows: NULL without a `signals` column, else the DuckDB function.

    The function (`consentry.signals.captured.DUCKDB_FUNCTION`, registered by the engine) parses the
    captured signals in Python, the same function the Spark engine and the JSONL/CSV staging use.
    """
    if "signals" not in kinds:
        return "CAST(NULL AS VARCHAR)"
    from consentry.signals.captured import DUCKDB_FUNCTION

    url = ident("url") if "url" in kinds else "CAST(NULL AS VARCHAR)"
    return f"{DUCKDB_FUNCTION}({ident('signals')}, {url})"


def has_signals(sources: SourceSet) -> bool:
    """Some Parquet source carries captured signals (the engine then registers the parsing function)."""
    return any("signals" in f.column_kinds() for f in sources.files if f.format is SourceFormat.PARQUET)


def signals_possible(sources: SourceSet) -> bool:
    """Some record may carry a signals verdict: a Parquet source has signals, or a staged file has a non-null one.

    Staged files say so in their Parquet statistics; a file without them counts as possible.
    """
    if has_signals(sources):
        return True
    for path in sources.staged:
        meta = pq.read_metadata(path)
        column = meta.schema.names.index("_signals")
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            stats = group.column(column).statistics
            if stats is None or not stats.has_null_count or stats.null_count != group.num_rows:
                return True
    return False


def register_signals(con: duckdb.DuckDBPyConnection, sources: SourceSet) -> None:
    """Where a Parquet source carries captured signals, give `con` the function `signals_sql` calls."""
    if has_signals(sources):
        from consentry.signals.captured import register_duckdb

        register_duckdb(con)


def records_sql(sources: SourceSet, pass_through: tuple[str, ...]) -> str:
    """One SELECT over every source with the contract's columns, pass-through columns and `_malformed`."""
    parts: list[str] = []
    parquet = [f for f in sources.files if f.format is SourceFormat.PARQUET]  # in path order
    for _, group in groupby(parquet, key=lambda f: f.columns):  # runs of files with the same columns
        parts.append(_parquet_group_sql(list(group), pass_through))
    if sources.staged:
        parts.append(_staged_sql(sources.staged, pass_through))
    if not parts:
        raise InputError("no readable source files", field="--source")
    return "\nUNION ALL\n".join(parts)


@dataclass(frozen=True)
class Slice:
    """Rows [first, stop) of one file: a source Parquet file, or a staged one when `source` is None."""

    path: Path
    first: int
    stop: int
    source: SourceFile | None = None


def _groups(sources: SourceSet) -> list[tuple[Path, SourceFile | None, int, list[int]]]:
    """(path, source, bytes, rows per row group) of every file, in source order."""
    files: list[tuple[Path, SourceFile | None, int, list[int]]] = [
        (f.path, f, f.size, list(f.row_groups)) for f in sources.files if f.format is SourceFormat.PARQUET
    ]
    for path in sources.staged:
        meta = pq.read_metadata(path)
        rows = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        files.append((path, None, path.stat().st_size, rows))
    return files


def plan_units(sources: SourceSet, threads: int) -> list[list[Slice]]:
    """Cut the sources, in order, into units at row-group boundaries (see the module docstring)."""
    files = _groups(sources)
    total = sum(size for _, _, size, _ in files)
    target = min(MAX_UNIT_BYTES, max(MIN_UNIT_BYTES, total // max(1, threads * _UNITS_PER_THREAD)))
    units: list[list[Slice]] = []
    unit: list[Slice] = []
    held = 0
    for path, source, size, groups in files:
        rows_total = sum(groups) or 1
        first = row = 0
        for n in groups:
            row += n
            held += size * n // rows_total
            if held >= target:
                unit.append(Slice(path, first, row, source))
                units.append(unit)
                unit, held, first = [], 0, row
        if row > first:
            unit.append(Slice(path, first, row, source))
            if held >= target // 2:  # a unit that ends with its file is cheaper to read than one that spans files
                units.append(unit)
                unit, held = [], 0
    if unit:
        units.append(unit)
    return units


def unit_sql(unit: Sequence[Slice], pass_through: tuple[str, ...]) -> str:
    """One unit's rows, slice after slice: the columns of `records_sql`, and where each row is.

    `_slice` (the slice's index in the unit) and `_row` (the row's number in
    its file) order the rows as stored: `ORDER BY _slice, _row`.
    """
    parts = [
        _parquet_group_sql([s.source], pass_through, (s.first, s.stop))
        if s.source is not None
        else _staged_sql([s.path], pass_through, (s.first, s.stop))
        for s in unit
    ]
    return "\nUNION ALL\n".join(f"SELECT *, {n} AS _slice FROM ({part})" for n, part in enumerate(parts))


def packed_counts_sql(classes: str, counted: Sequence[str]) -> str:
    """Per member of `classes` (rows of member_id, class `c`): its records `n`, and its counts per class of `counted`.

    The counts are packed PACK_BITS bits apiece into a few sums (`p0`,
    `p1`, …): one aggregate per three classes, not one per class. A count
    cannot carry into the next while the member's records `n` are below
    2^PACK_BITS; `unpacked_counts_sql` reads them back.
    """
    sums = ["count(*) AS n"]
    for k in range(0, len(counted), _PER_SUM):
        whens = " ".join(f"WHEN '{c}' THEN {1 << (PACK_BITS * j)}" for j, c in enumerate(counted[k : k + _PER_SUM]))
        sums.append(f"sum(CASE c {whens} ELSE 0 END)::BIGINT AS p{k // _PER_SUM}")
    return f"SELECT member_id, {', '.join(sums)} FROM ({classes}) GROUP BY member_id"


def unpacked_counts_sql(table: str, counted: Sequence[str]) -> str:
    """member_id and a count per RECORD_CLASSES entry, from `packed_counts_sql`'s rows (0: not counted)."""
    mask = (1 << PACK_BITS) - 1
    columns = []
    for c in RECORD_CLASSES:
        if c in counted:
            i = list(counted).index(c)
            columns.append(f"((p{i // _PER_SUM} >> {PACK_BITS * (i % _PER_SUM)}) & {mask}) AS {c}")
        else:
            columns.append(f"0::BIGINT AS {c}")
    return f"(SELECT member_id, {', '.join(columns)} FROM {table})"
