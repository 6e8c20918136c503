"""The `local` engine: DuckDB, streaming in bounded memory over all cores.

Chosen by measurement (issue 3): on 10M records DuckDB matched Polars on time
and stayed at a fraction of its memory. The sources become one view `r` with
the records contract's columns and `_malformed`; the member verdicts are the
relation `m`; `consentry.rules` gives each record its
reason. Two passes over the sources:

1. an aggregate, started before the verdicts are known (`start`, beside the
   ledger snapshot): each member's records counted per class
   (`record_class_sql`: the first record-level condition that holds; the
   counts packed a few to a sum, `packed_counts_sql`), reading
   no texts when the files' statistics show them null-free, and not counting
   the signals classes when no source carries signals; joined to the
   verdicts (`class_reason_sql`), one row per member gives the counts per
   reason and the allowed records per member;
2. the allowed records in source order (files sorted by path, rows as
   stored), joined to the members that have any, filtered by the record-level
   rules alone (`record_allowed_sql`, which the Parquet scan can push down).
   An unscrubbed build is written by DuckDB's own Parquet writer straight into
   shards (the rows never enter Python); a scrubbed one streams to the scrub step.

No global sort: a global sort of the texts cost more than half of a 10M
build (and its memory). Each unit's rows are sorted back into stored order,
which costs about 5 % of the write: the hash join lets a few rows drift.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from consentry.errors import BuildError, InputError
from consentry.pipeline.engines import BuildPlan, Decided, split_causes, split_tally
from consentry.pipeline.engines.local_sql import (
    PACK_BITS,
    ident,
    packed_counts_sql,
    plan_units,
    quote_path,
    records_sql,
    register_signals,
    signals_possible,
    unit_sql,
    unpacked_counts_sql,
)
from consentry.pipeline.keys import keyed_members
from consentry.pipeline.steps import MEMBER_COLUMN
from consentry.pipeline.writer import TARGET_SHARD_BYTES, ShardFile, commit_shards, part_facts
from consentry.rules import (
    RECORD_CLASSES,
    SIGNAL_CLASSES,
    class_counts,
    class_tally_sql,
    record_allowed_sql,
    record_class_sql,
)

__all__ = ["LocalEngine", "quote_path", "records_sql"]

#: DuckDB's Parquet writer with every option fixed: the same rows give byte-identical shards
_COPY_OPTIONS = (
    "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, ROW_GROUP_SIZE {rows}, "
    "FILE_SIZE_BYTES {size}, FILENAME_PATTERN 'part-{{i}}'"
)


#: DuckDB memory one unit's write needs besides the members' hash table (reader and writer buffers, measured
#: ~260 MB at 10M records; a unit alone ran in 300 MB; its sort spills beyond), and that table's bytes per
#: allowed member (~110 measured)
_UNIT_BYTES = 320 << 20
_HASH_BYTES_PER_MEMBER = 128


class LocalEngine:
    """DuckDB over the sources; see the module docstring."""

    name = "local"

    def __init__(self, plan: BuildPlan):
        self.plan = plan
        self._threads = os.cpu_count() or 1
        self.con = duckdb.connect(config={"threads": self._threads})
        self._spill = plan.work_dir / "duckdb"
        self._spill.mkdir(parents=True, exist_ok=True)
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")  # stdout carries the JSON summary
        try:
            self.con.execute(f"SET memory_limit = '{plan.memory_limit}'")
        except duckdb.Error:
            raise InputError(
                f"{plan.memory_limit!r} is not a memory size; write it like 1GB or 512MB", field="memory_limit"
            ) from None
        self._memory_bytes = _memory_bytes(self.con)
        self.con.execute(f"SET temp_directory = {quote_path(self._spill)}")
        self.con.execute("SET preserve_insertion_order = false")
        register_signals(self.con, plan.sources)
        self._grouped: Future[object] | None = None
        self._keys: pa.Table | None = None  # the allowed members' ids and keys, once decided

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._grouped is not None and not self._grouped.done():
            self.con.interrupt()  # the build failed while counting: stop DuckDB before closing
            self._grouped.exception()
        self.con.close()

    def start(self) -> None:
        """Count each member's records per class (`record_class_sql`) on a DuckDB thread: no verdicts needed.

        It runs while the build reads the ledger snapshot; `decide` then joins
        one row per member, not every record, to the verdicts.
        """
        plan = self.plan
        record_class = record_class_sql(plan.policy, plan.purpose, at=plan.as_of, now=plan.now, records="r")
        try:
            self.con.execute(f"CREATE TEMP VIEW r AS {records_sql(plan.sources, plan.pass_through)}")
        except duckdb.Error as e:
            raise _engine_error(e) from None
        classes = f"SELECT member_id, {record_class} AS c FROM r"
        # sources without captured signals give no record a signals class: those are 0, not counted
        impossible = () if signals_possible(plan.sources) else SIGNAL_CLASSES
        pool = ThreadPoolExecutor(1, thread_name_prefix="consentry-count")
        self._grouped = pool.submit(self._count, classes, impossible)
        pool.shutdown(wait=False)

    def _count(self, classes: str, impossible: tuple[str, ...]) -> None:
        """Table `f`: each member's counts per class, packed (`packed_counts_sql`); view `fc` unpacks them.

        A member with 2^PACK_BITS records or more would not fit: then the
        classes are counted one aggregate each instead.
        """
        counted = [c for c in RECORD_CLASSES if c not in impossible]
        self.con.execute(f"CREATE TEMP TABLE f AS {packed_counts_sql(classes, counted)}")
        row = self.con.execute("SELECT coalesce(max(n), 0) FROM f").fetchone()
        if row is not None and row[0] < 1 << PACK_BITS:
            self.con.execute(f"CREATE TEMP VIEW fc AS {unpacked_counts_sql('f', counted)}")
            return
        counts = ", ".join(class_counts(impossible))
        self.con.execute(f"CREATE TEMP TABLE fc AS SELECT member_id, {counts} FROM ({classes}) GROUP BY member_id")

    def decide(self, members: pa.Table) -> Decided:
        """Counts per reason and the allowed members (see `Engine.decide`)."""
        if self._grouped is None:
            self.start()
        assert self._grouped is not None
        try:
            self._grouped.result()
            self.con.register("m", members)
            tally = self.con.sql(class_tally_sql("fc", "m")).to_arrow_table()
        except duckdb.Error as e:
            raise _engine_error(e) from None
        counts, allowed = split_tally(tally)
        keyed = keyed_members(self.plan.key, allowed)
        self._keys = keyed.select(["member_id", "member_key"])
        self.con.close()  # the counting is done: its memory goes back before the write
        return Decided(counts, keyed, split_causes(tally))

    def keep_members(self, member_ids: pa.Array | pa.ChunkedArray) -> None:
        """Write only these allowed members' records from now on (see `Engine.keep_members`)."""
        if self._keys is None:
            raise BuildError("the local engine keeps members only after deciding")
        self._keys = self._keys.filter(pc.is_in(self._keys.column("member_id"), value_set=_array(member_ids)))

    def _included_sql(self, source: str, *, with_member: bool) -> str:
        plan = self.plan
        # Every member in k passed the member-level checks (they have an allowed record), so a record of
        # theirs is allowed exactly when the record-level rules pass: a plain filter the scan can use.
        allowed = record_allowed_sql(plan.policy, plan.purpose, at=plan.as_of, now=plan.now, records="r")
        pt = "".join(f", r.{ident(c)}" for c in plan.pass_through)
        member = f", r.member_id AS {MEMBER_COLUMN}" if with_member else ""
        # A hash join's output drifts from the probe order even on one thread (a row whose hash chain is
        # longer comes out after the rest of its vector): the unit's rows are put back in stored order.
        return (
            f"SELECT r.record_id, m.member_key, r.kind, r.created_at, r.text{pt}{member} "
            f"FROM ({source}) AS r JOIN k AS m ON r.member_id = m.member_id WHERE {allowed} "
            "ORDER BY r._slice, r._row"
        )

    def _units(self, threads: int) -> list[tuple[str, str]]:
        """Each unit of the write, in order: its SQL, and its files for errors (an empty lake: its empty view)."""
        plan = self.plan
        units = [
            (unit_sql(u, plan.pass_through), ", ".join(dict.fromkeys(str(s.path) for s in u)))
            for u in plan_units(plan.sources, threads)
        ]
        empty = f"SELECT *, 0 AS _slice, 0 AS _row FROM ({records_sql(plan.sources, plan.pass_through)})"
        return units or [(empty, "the sources")]

    def _write_database(self) -> duckdb.DuckDBPyConnection:
        """The write's DuckDB: one thread per query (the units run side by side instead), the memory limit shared.

        The allowed members and their keys are copied into it once, as table
        `k`: every unit builds its hash table from DuckDB's own storage, not
        by scanning (and converting) the Arrow table again.
        """
        if self._keys is None:
            raise BuildError("the local engine writes only after deciding")
        db = duckdb.connect(config={"threads": 1})
        register_signals(db, self.plan.sources)
        db.execute(f"SET memory_limit = '{self._memory_bytes}B'")
        db.execute(f"SET temp_directory = {quote_path(self._spill)}")
        db.register("allowed_keys", self._keys)
        # One row of NULLs, which no record joins: DuckDB writes a column it knows to be null-free as a
        # REQUIRED Parquet column, and member_key has always been an optional one (the same bytes as before)
        db.execute(
            "CREATE TABLE k AS SELECT member_id, member_key FROM allowed_keys "
            "UNION ALL SELECT CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)"
        )
        db.unregister("allowed_keys")
        return db

    def _unit_cursor(self, db: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """A connection to the write's DuckDB that sees the allowed members as `k`.

        The join is planned as written: the records probe, the allowed
        members are the hash table. Left to its cost model, DuckDB may build
        the hash table from the records instead (it estimates a filtered scan
        small), which holds every text of the unit in memory (289 MB a unit
        at 10M records, against 72 MB for the members).
        """
        con = db.cursor()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = true")
        # IN lists as filters, not a join (cheaper here); the join order and sides as written
        con.execute("SET disabled_optimizers = 'in_clause,join_order,build_side_probe_side'")
        return con

    def included(self) -> pa.RecordBatchReader:
        """The allowed records in source order (files by path, rows as stored), unit after unit."""
        units = self._units(1)
        db = self._write_database()
        con = self._unit_cursor(db)
        sql, files = units[0]
        try:
            first = con.sql(self._included_sql(sql, with_member=True)).to_arrow_reader(self.plan.batch_rows)
        except duckdb.Error as e:
            con.close()
            db.close()
            raise _engine_error(e, files) from None
        return pa.RecordBatchReader.from_batches(first.schema, self._unit_batches((con, db), units, first))

    def _unit_batches(
        self,
        cons: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection],
        units: list[tuple[str, str]],
        first: pa.RecordBatchReader,
    ) -> Iterator[pa.RecordBatch]:
        con = cons[0]
        files = units[0][1]
        try:
            yield from first
            for sql, unit_files in units[1:]:
                files = unit_files  # named in the error if this unit fails
                yield from con.sql(self._included_sql(sql, with_member=True)).to_arrow_reader(self.plan.batch_rows)
        except duckdb.Error as e:
            raise _engine_error(e, files) from None
        finally:
            for c in cons:
                c.close()

    def write_output(self, directory: Path, scrub: object | None) -> list[ShardFile] | None:
        """Write the allowed records as OUT shards with DuckDB's Parquet writer, one unit per thread.

        Only for unscrubbed builds (None otherwise: the shared scrub step and
        shard writer take the rows from `included`). The rows never enter
        Python; each unit's rows keep the sources' order, row groups are
        `batch_rows` rows, and the units' files become shards in unit order.
        """
        if scrub is not None:
            return None
        units = self._units(self._threads)
        staging = self.plan.work_dir / "shards"
        staging.mkdir(parents=True, exist_ok=True)
        dirs = [staging / f"{n:05d}" for n in range(len(units))]
        facts = self._write_units(units, dirs)
        return commit_shards(dirs, directory, facts)

    def _workers(self, units: int) -> int:
        """How many units to write side by side: one a core, as many as the memory limit holds (at least one)."""
        assert self._keys is not None
        need = _UNIT_BYTES + _HASH_BYTES_PER_MEMBER * self._keys.num_rows
        return max(1, min(self._threads, units, int(self._memory_bytes // need)))

    def _write_units(self, units: list[tuple[str, str]], dirs: list[Path]) -> dict[Path, tuple[int, str]]:
        """COPY every unit into its directory, `threads` at a time, a thread each; the first error stops the rest.

        Each unit's files are counted and hashed by its thread as soon as its
        COPY has closed them (`part_facts`): beside the other units' writes.
        """
        workers = self._workers(len(units))
        options = _COPY_OPTIONS.format(rows=self.plan.batch_rows, size=TARGET_SHARD_BYTES)
        todo = iter(range(len(units)))
        lock = threading.Lock()
        failed = threading.Event()
        facts: dict[Path, tuple[int, str]] = {}
        db = self._write_database()
        cons = [self._unit_cursor(db) for _ in range(workers)]

        def run(con: duckdb.DuckDBPyConnection) -> None:
            while not failed.is_set():
                with lock:
                    n = next(todo, None)
                if n is None:
                    return
                sql, files = units[n]
                copy = f"COPY ({self._included_sql(sql, with_member=False)}) TO {quote_path(dirs[n])} ({options})"
                try:
                    row = con.execute(copy).fetchone()
                    facts.update(part_facts(dirs[n]))
                    if self.plan.on_rows is not None and row is not None:
                        self.plan.on_rows(int(row[0]))
                except duckdb.Error as e:
                    stop()
                    if isinstance(e, duckdb.InterruptException):
                        raise
                    raise _engine_error(e, files) from None
                except BaseException:
                    stop()
                    raise

        def stop() -> None:
            failed.set()
            for other in cons:
                other.interrupt()

        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="consentry-write") as pool:
                done = [pool.submit(run, con) for con in cons]
            errors = [f.exception() for f in done]
        finally:
            for con in [*cons, db]:
                con.close()
        # the first real error, not the interruptions it caused in the other units
        real = [e for e in errors if e is not None and not isinstance(e, duckdb.InterruptException)]
        for err in real or [e for e in errors if e is not None]:
            if isinstance(err, duckdb.Error):
                raise _engine_error(err) from None
            raise err
        return facts


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


_SIZE_UNITS = {"B": 1, "bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_SIZE_UNITS |= {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _memory_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's memory limit in bytes (DuckDB reports it as text such as '953.6 MiB')."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    number, _, unit = str(row[0] if row else "").partition(" ")
    try:
        return int(float(number) * _SIZE_UNITS[unit or "B"])
    except (ValueError, KeyError):
        return 1 << 30  # not in a form we know: DuckDB enforces its own limit; the units get 1 GiB between them


def _engine_error(e: duckdb.Error, files: str | None = None) -> BuildError:
    """DuckDB's first line (no rows or texts are in it), and where: the unit's files, or while counting."""
    text = str(e).splitlines()[0][:300]
    where = f"reading {files}" if files else "counting the sources"
    if isinstance(e, duckdb.OutOfMemoryException):
        hint = "give the build a larger memory_limit"
    else:
        hint = "is every file complete and readable?"
    return BuildError(f"the local engine stopped {where}: {text}; {hint}")
