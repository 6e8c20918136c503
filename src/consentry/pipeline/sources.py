"""Reading record sources: resolve paths, validate columns, and normalise rows.

Every engine reads the same validated description of the inputs. What a
well-formed record is (its columns, their types, what is MALFORMED) is stated
in `consentry.rules.records`; this module applies it to files:

- a source is a Parquet file, a directory (searched recursively), or a glob;
  JSONL (``.jsonl``/``.ndjson``/``.json``) and CSV files are accepted as well;
- a required column that a file lacks, or a column of the wrong type, is an
  `InputError` naming the file and the column (what to fix, before any work);
- a row that cannot be read (missing id, unparseable time, text that is not a
  string, a line that is not JSON) is *malformed*: it is kept with
  ``_malformed = true`` so the build counts it under MALFORMED and never
  includes it.

JSONL and CSV are normalised row by row into staging Parquet files (bounded
memory, streamed in batches); Parquet is read in place. A JSONL line or CSV row
longer than 8 MiB (`consentry.lines.MAX_RECORD_LINE_BYTES`) is skipped without
being held in memory and counted MALFORMED, and so is a JSON object with more
than 256 fields; a CSV header with more than 256 columns is an `InputError`.
"""

from __future__ import annotations

import csv
import glob as globlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.errors import InputError
from consentry.lines import MAX_FIELDS, MAX_RECORD_LINE_BYTES, CsvLines, RowTooLong, bounded_lines
from consentry.rules.records import (
    OPTIONAL_COLUMNS,
    RECORD_COLUMNS,
    REQUIRED_COLUMNS,
    SIGNAL_SOURCE_COLUMNS,
    STRING_COLUMNS,
    TIME_COLUMNS,
    is_absent,
    parse_field,
    utf8,
)
from consentry.timeutil import ARROW_TS

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "SourceFile",
    "SourceFormat",
    "SourceSet",
    "has_scheme",
    "resolve_sources",
    "stage_text_sources",
]

_STAGE_BATCH = 32_768


class SourceFormat(StrEnum):
    """The file formats a build reads."""

    PARQUET = "parquet"
    JSONL = "jsonl"
    CSV = "csv"


_SUFFIXES = {
    ".parquet": SourceFormat.PARQUET,
    ".pq": SourceFormat.PARQUET,
    ".jsonl": SourceFormat.JSONL,
    ".ndjson": SourceFormat.JSONL,
    ".json": SourceFormat.JSONL,
    ".csv": SourceFormat.CSV,
}


@dataclass(frozen=True)
class SourceFile:
    """One input file, its format and (for Parquet) its validated schema."""

    path: Path
    format: SourceFormat
    size: int
    # Parquet: column name -> "string" | "timestamp" | "text-time" | "other"
    columns: tuple[tuple[str, str], ...] = ()
    #: Parquet: the columns whose statistics show no null in any row group (their null checks can go)
    null_free: frozenset[str] = frozenset()
    #: Parquet: rows in each row group (the local engine splits its work at row-group boundaries)
    row_groups: tuple[int, ...] = ()
    #: Parquet: the statistics show no empty record_id (every row group's minimum is a non-empty string)
    ids_nonempty: bool = False

    def column_kinds(self) -> dict[str, str]:
        """The file's columns and how the readers treat them."""
        return dict(self.columns)


@dataclass(frozen=True)
class SourceSet:
    """Every file a build reads, in a stable order, with the paths as given."""

    given: tuple[str, ...]
    files: tuple[SourceFile, ...]
    staged: tuple[Path, ...] = field(default=())
    #: Hadoop-compatible URIs (s3a://, hdfs://, file://, …) of Parquet, read by the Spark engine only
    remote: tuple[str, ...] = field(default=())

    def describe(self) -> list[dict[str, Any]]:
        """A JSON-able list of the input files (for the manifest); a remote URI is listed as given."""
        files = [{"path": str(f.path), "format": f.format.value, "bytes": f.size} for f in self.files]
        return files + [{"path": uri, "format": SourceFormat.PARQUET.value, "bytes": None} for uri in self.remote]

    def registered(self) -> tuple[str, ...]:
        """The sources as the registry keeps them: local paths made absolute, URIs as given."""
        return tuple(s if has_scheme(s) else os.path.abspath(s) for s in self.given)


def has_scheme(spec: str) -> bool:
    """True for a URI with a file-system scheme (``s3a://bucket/x``, ``file:///x``), False for a local path."""
    head, sep, _ = spec.partition("://")
    return bool(sep) and head.isalnum() and len(head) > 1


def _format_of(path: Path) -> SourceFormat | None:
    return _SUFFIXES.get(path.suffix.lower())


def _expand(spec: str) -> list[Path]:
    path = Path(spec)
    if any(ch in spec for ch in "*?["):
        return sorted(Path(p) for p in globlib.glob(spec, recursive=True) if Path(p).is_file())
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and _format_of(p) and not p.name.startswith("."))
    if path.is_file():
        return [path]
    raise InputError("no such file or directory; check the --source path", where=spec)


def resolve_sources(
    specs: Sequence[str | os.PathLike[str]], pass_through: Sequence[str] = (), *, remote: bool = False
) -> SourceSet:
    """Expand and validate the sources of a build.

    Raises InputError naming the file (and column) when a source is missing,
    has an unknown format, lacks a required column or has one of the wrong type.
    URIs with a scheme are kept unchecked in `remote` when `remote` is true (the
    Spark engine reads and validates them), and refused otherwise.
    """
    if not specs:
        raise InputError("a build needs at least one source; pass --source PATH", field="--source")
    files: list[SourceFile] = []
    uris: list[str] = []
    seen: set[Path] = set()
    for spec in specs:
        if has_scheme(str(spec)):
            if not remote:
                raise InputError(
                    "is a URI; only the Spark engine reads Hadoop-compatible paths: add --engine spark, "
                    "or give a local path",
                    where=str(spec),
                )
            uris.append(str(spec))
            continue
        matched = _expand(str(spec))
        if not matched:
            raise InputError("matches no Parquet, JSONL or CSV file; check the path or pattern", where=str(spec))
        for path in matched:
            fmt = _format_of(path)
            if fmt is None:
                raise InputError("unknown file type; use .parquet, .jsonl/.ndjson/.json or .csv", where=str(path))
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            size = path.stat().st_size
            if fmt is SourceFormat.PARQUET:
                columns, meta = _parquet_columns(path, pass_through)
                groups = tuple(meta.row_group(g).num_rows for g in range(meta.num_row_groups))
                files.append(SourceFile(path, fmt, size, columns, _null_free(meta), groups, _ids_nonempty(meta)))
            else:
                files.append(SourceFile(path, fmt, size))
    # One order whatever the order of --source options: the output rows follow it
    files.sort(key=lambda f: str(f.path.resolve()))
    return SourceSet(tuple(str(s) for s in specs), tuple(files), remote=tuple(uris))


def _type_kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz is not None else "naive-timestamp"
    return "other"


def _parquet_columns(path: Path, pass_through: Sequence[str]) -> tuple[tuple[tuple[str, str], ...], pq.FileMetaData]:
    """The file's validated columns (see `SourceFile.columns`) and its metadata."""
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except (OSError, pa.ArrowException) as e:
        problem = f"cannot read this Parquet file ({type(e).__name__}); is it complete?"
        raise InputError(problem, where=str(path)) from None
    kinds = {name: _type_kind(schema.field(name).type) for name in schema.names}
    for col in REQUIRED_COLUMNS:
        if col not in kinds:
            raise InputError(
                "required column is missing; the records contract needs " + ", ".join(REQUIRED_COLUMNS),
                where=str(path),
                field=col,
            )
    for col in (*STRING_COLUMNS, *SIGNAL_SOURCE_COLUMNS):
        if kinds.get(col, "string") != "string":
            hint = " holding a JSON object" if col == "signals" else ""
            raise InputError(
                f"has type {schema.field(col).type}; it must be a string column{hint}", where=str(path), field=col
            )
    for col in TIME_COLUMNS:
        kind = kinds.get(col)
        if kind is None:
            continue
        if kind == "string":
            kinds[col] = "text-time"
        elif kind == "naive-timestamp":
            raise InputError(
                "is a timestamp without a time zone; store UTC timestamps with tz='UTC' (or RFC 3339 strings)",
                where=str(path),
                field=col,
            )
        elif kind != "timestamp":
            raise InputError(
                f"has type {schema.field(col).type}; it must be a timestamp with time zone or an RFC 3339 string",
                where=str(path),
                field=col,
            )
    keep = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(SIGNAL_SOURCE_COLUMNS) | set(pass_through)
    return tuple((name, kind) for name, kind in kinds.items() if name in keep), meta


def _ids_nonempty(meta: pq.FileMetaData) -> bool:
    """True when every row group's statistics give record_id a minimum (a lower bound) that is not empty."""
    names = meta.schema.names
    if "record_id" not in names or meta.num_row_groups == 0:
        return False
    index = names.index("record_id")
    for g in range(meta.num_row_groups):
        column = meta.row_group(g).column(index)
        stats = column.statistics
        if column.path_in_schema != "record_id" or stats is None or not stats.has_min_max or stats.min in ("", b""):
            return False
    return True


def _null_free(meta: pq.FileMetaData) -> frozenset[str]:
    """Top-level columns with a null count of 0 in every row group's statistics (absent statistics prove nothing)."""
    free: set[str] | None = None
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        here = set()
        for c in range(group.num_columns):
            col = group.column(c)
            stats = col.statistics
            if "." not in col.path_in_schema and stats is not None and stats.has_null_count and stats.null_count == 0:
                here.add(col.path_in_schema)
        free = here if free is None else free & here
    return frozenset(free or ())


# --------------------------------------------------------------------------- staging


def staged_schema(pass_through: Sequence[str]) -> pa.Schema:
    """The normalised schema JSONL and CSV rows are staged into."""
    return pa.schema(
        [
            *[(c.name, pa.string() if c.type == "string" else ARROW_TS) for c in RECORD_COLUMNS],
            *[(c, pa.string()) for c in pass_through],
            ("_malformed", pa.bool_()),
            ("_signals", pa.string()),
        ]
    )


@dataclass
class _ColumnTally:
    present: int = 0
    valid: int = 0


class _Normaliser:
    """Turns raw row dicts into typed columns, flagging rows that cannot be read."""

    def __init__(self, pass_through: Sequence[str]):
        self.pass_through = tuple(pass_through)
        self.schema = staged_schema(pass_through)
        self.tally = {c: _ColumnTally() for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
        self.objects = 0

    def row(self, obj: object) -> dict[str, Any]:
        """One normalised row; a non-object (or unreadable line) is all-null and malformed."""
        if not isinstance(obj, dict):
            return {"_malformed": True}
        self.objects += 1
        out: dict[str, Any] = {}
        bad = False
        for col in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
            value = obj.get(col)
            if is_absent(value):
                bad = bad or col in REQUIRED_COLUMNS
                continue
            tally = self.tally[col]
            tally.present += 1
            parsed = parse_field(col, value)
            if parsed is None:
                bad = True
                continue
            tally.valid += 1
            out[col] = parsed
        for col in self.pass_through:
            value = obj.get(col)
            text = value if value is None or isinstance(value, str) else json.dumps(value)
            if text is not None and not utf8(text):
                bad, text = True, None
            out[col] = text
        out["_malformed"] = bad
        out["_signals"] = _verdict(obj.get("signals"), obj.get("url"))
        return out

    def check(self, where: str) -> None:
        """File-level errors: a required column absent everywhere, or never of the right type."""
        if self.objects == 0:
            return
        for col, tally in self.tally.items():
            if col in REQUIRED_COLUMNS and tally.present == 0:
                raise InputError(
                    "required column is missing from every row; the records contract needs "
                    + ", ".join(REQUIRED_COLUMNS),
                    where=where,
                    field=col,
                )
            if col in REQUIRED_COLUMNS and tally.present and tally.valid == 0:
                expected = "an RFC 3339 time with a zone" if col in TIME_COLUMNS else "a string"
                raise InputError(f"no row has {expected} here; fix the column's type", where=where, field=col)


def _verdict(signals: object, url: object) -> str | None:
    """The signals verdict of a JSONL/CSV row, computed while staging (a JSON object may be inline or text)."""
    if is_absent(signals):
        return None
    from consentry.signals.captured import verdict_of

    text = signals if isinstance(signals, str) else json.dumps(signals, sort_keys=True)
    return verdict_of(text, url if isinstance(url, str) else None)


def _jsonl_rows(path: Path) -> Iterator[object]:
    with path.open("rb") as f:
        for _, raw in bounded_lines(f, MAX_RECORD_LINE_BYTES):
            if raw is None:  # malformed: longer than the bound (never held in memory)
                yield None
                continue
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):  # malformed: too deep, huge int, bad bytes
                yield None
                continue
            yield None if isinstance(obj, dict) and len(obj) > MAX_FIELDS else obj


def _csv_rows(path: Path) -> Iterator[object]:
    with path.open("rb") as f:
        lines = CsvLines(f, MAX_RECORD_LINE_BYTES, errors="replace")
        reader = csv.reader(lines)
        header = _read_header(reader, path)
        if header is None:
            return
        width = len(header)
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except (csv.Error, RowTooLong):  # malformed: not CSV, or longer than a bound
                lines.skip_row()  # a quoted field past csv's own limit: resume after its row
                yield None
                continue
            if not values:
                continue
            yield dict(zip(header, values, strict=True)) if len(values) == width else None


def _read_header(reader: Iterator[list[str]], path: Path) -> list[str] | None:
    """The header line of a CSV source (None for an empty file); InputError when it cannot be read."""
    try:
        header = next(reader)
    except StopIteration:
        return None
    except (csv.Error, RowTooLong):
        raise InputError("the header line cannot be read as CSV (or is longer than 8 MiB)", where=f"{path}:1") from None
    if len(header) > MAX_FIELDS:
        raise InputError(f"the header has {len(header)} columns; at most {MAX_FIELDS} are allowed", where=f"{path}:1")
    return header


def _csv_header(path: Path) -> list[str]:
    with path.open("rb") as f:
        return _read_header(csv.reader(CsvLines(f, MAX_RECORD_LINE_BYTES, errors="replace")), path) or []


def stage_text_sources(sources: SourceSet, pass_through: Sequence[str], staging_dir: Path) -> SourceSet:
    """Normalise every JSONL/CSV source into a staging Parquet file; return the set with them listed."""
    staged: list[Path] = []
    for n, src in enumerate(f for f in sources.files if f.format is not SourceFormat.PARQUET):
        if src.format is SourceFormat.CSV:
            header = _csv_header(src.path)
            for col in REQUIRED_COLUMNS:
                if col not in header:
                    raise InputError(
                        "required column is missing from the header line",
                        where=f"{src.path}:1",
                        field=col,
                    )
            rows = _csv_rows(src.path)
        else:
            rows = _jsonl_rows(src.path)
        staging_dir.mkdir(parents=True, exist_ok=True)
        out = staging_dir / f"staged-{n:05d}.parquet"
        _stage(rows, _Normaliser(pass_through), out, str(src.path))
        staged.append(out)
    return SourceSet(sources.given, sources.files, tuple(staged), sources.remote)


def _stage(rows: Iterator[object], norm: _Normaliser, out: Path, where: str) -> None:
    writer = pq.ParquetWriter(out, norm.schema, compression="lz4")
    try:
        batch: list[dict[str, Any]] = []
        for obj in rows:
            batch.append(norm.row(obj))
            if len(batch) >= _STAGE_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=norm.schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=norm.schema))
    finally:
        writer.close()
    norm.check(where)
