"""The `spark` engine: the same build on Apache Spark, for lakes larger than one machine.

Counting: while the driver reads the ledger snapshot and computes the member
verdicts (`decide_members`; only the driver reaches the ledger), Spark counts
each member's records per record class (`record_class_sql(dialect="spark")`,
plain Spark SQL, no Python UDFs), one row per member; the driver joins those
rows to the verdicts (`spark_tally`), as the local engine does. With remote
sources the verdicts are broadcast instead, every record's reason is
evaluated (`record_reason_sql`) and that decided relation is persisted, so the
lake is read once.

Writing: the allowed members' pseudonyms are computed on the driver (the key
never enters a Spark plan) and broadcast; the sources (or the persisted
relation) are filtered by the record-level rules, joined to them, scrubbed in
`mapInArrow` batches with the same scrubber as local builds, and written by
Spark. The driver then commits the shards, writes the manifest and registers
the build exactly as for the local engine.

The write is not sorted: scan, filter, broadcast hash join, (scrub,) write is
a narrow plan, so each input split becomes one shard with its rows in file
order, and the splits are fixed by the files and `FILE_CONF`: the same sources
and ledger give byte-identical shards. Only when a table is too large to
broadcast (a shuffle join, which loses that order) are the rows sorted by
record_id first. Shuffle partitions (counting) follow the input size unless
configured.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.errors import BuildError, InputError
from consentry.pipeline.engines import BuildPlan, Decided, split_causes, split_tally
from consentry.pipeline.engines.spark_io import quoted, records_frame
from consentry.pipeline.engines.spark_scrub import COUNTRY_COLUMN, ScrubInArrow, ScrubTally, empty_tally, fill_stats
from consentry.pipeline.engines.spark_tally import class_tally
from consentry.pipeline.keys import keyed_members
from consentry.pipeline.steps import MEMBER_COLUMN
from consentry.pipeline.writer import ShardFile, commit_files
from consentry.rules import (
    CLASS_COUNTS,
    VERDICT_COLUMNS,
    class_cause_sql,
    record_allowed_sql,
    record_class_sql,
    record_reason_sql,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["DEFAULT_MASTER", "SparkEngine", "SparkOptions", "parse_spark_conf", "spark_scope", "spark_session"]

DEFAULT_MASTER = "local[*]"
#: Session settings every build needs; user --spark-conf cannot override these.
REQUIRED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
#: Defaults for sessions this engine creates; --spark-conf overrides them.
DEFAULT_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": "128m",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "8192",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.hadoop.parquet.compression.codec.zstd.level": "3",
}
#: Extra defaults for local masters, where the driver JVM does the executors' work and holds the cache.
LOCAL_CONF = {"spark.driver.memory": "4g"}
#: The same Parquet options as the local engine's shards: zstd level 3, dictionary only for `kind`.
WRITE_OPTIONS = {
    "compression": "zstd",
    "parquet.compression.codec.zstd.level": "3",
    "parquet.enable.dictionary": "false",
    "parquet.enable.dictionary#kind": "true",
}
#: Input bytes per shuffle partition when spark.sql.shuffle.partitions is not configured.
PARTITION_INPUT_BYTES = 64 * 1024 * 1024
_SHUFFLE_PARTITIONS = "spark.sql.shuffle.partitions"
#: Input splits for every build (unless configured): Spark's own split sizes, and 8 splits for lakes under 1 GB
#: instead of one per core, so that the splits — the rows' order and the shards — are the same on any cluster.
FILE_CONF = {
    "spark.sql.files.maxPartitionBytes": str(128 * 1024 * 1024),
    "spark.sql.files.openCostInBytes": str(4 * 1024 * 1024),
    "spark.sql.files.minPartitionNum": "8",
}
_ALLOWED = "_reason = 'ALLOWED'"
_TIE_ORDER = ("record_id", "member_id", "created_at", "kind", "text")
#: What `record_reason_sql` reads from the members' verdicts (the rest stays on the driver).
_VERDICT_COLUMNS = tuple(VERDICT_COLUMNS)


@dataclass(frozen=True)
class SparkOptions:
    """Where and how to run: master URL, extra Spark configuration, staging URI, broadcast limit."""

    master: str = DEFAULT_MASTER
    conf: Mapping[str, str] = field(default_factory=dict)
    app_name: str = "consentry-build"
    #: member verdict tables smaller than this (in Arrow bytes) are broadcast to every executor
    broadcast_bytes: int = 512 * 1024 * 1024
    #: persist the decided relation between counting and writing; None: only when a source is a remote URI
    persist: bool | None = None


def parse_spark_conf(items: Sequence[str]) -> dict[str, str]:
    """`key=value` strings (from --spark-conf) as a mapping; InputError names a bad one."""
    conf: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{item!r} is not key=value (e.g. spark.executor.memory=4g)", field="--spark-conf")
        conf[key.strip()] = value.strip()
    return conf


def spark_session(options: SparkOptions) -> SparkSession:
    """A new (or the active) SparkSession with the engine's required settings."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BuildError("--engine spark needs PySpark: pip install 'consentry[spark]' (and Java 17)") from None
    builder = SparkSession.builder.master(options.master).appName(options.app_name)
    if options.master.startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers must import consentry like the driver
    local = LOCAL_CONF if options.master.startswith("local") else {}
    for key, value in {**DEFAULT_CONF, **local, **options.conf, **REQUIRED_CONF}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as e:  # the JVM failed to start: report it, without a traceback
        raise BuildError(f"Spark could not start ({type(e).__name__}: {str(e)[:200]}); is Java 17 installed?") from None


@contextmanager
def spark_scope(engine: str, master: str | None = None, conf: Sequence[str] = ()) -> Iterator[None]:
    """For the CLI: with `--engine spark`, a session from --spark-master/--spark-conf for the block.

    Builds inside the block use it (it is the active session); it is stopped
    afterwards. Other engines get no session, and Spark options are refused.
    """
    if engine != "spark":
        if master is not None or conf:
            raise InputError("Spark options need --engine spark", field="--spark-master" if master else "--spark-conf")
        yield
        return
    session = spark_session(SparkOptions(master=master or DEFAULT_MASTER, conf=parse_spark_conf(conf)))
    session.sparkContext.setLogLevel("WARN")
    try:
        yield
    finally:
        session.stop()


class SparkEngine:
    """Runs a `BuildPlan` on Spark; see the module docstring.

    Uses `session` if given, else the active session (as under spark-submit),
    else starts one from `options` and stops it on exit.
    """

    name = "spark"

    def __init__(self, plan: BuildPlan, options: SparkOptions | None = None, session: SparkSession | None = None):
        self.plan = plan
        self.options = options or SparkOptions()
        self._session = session
        self._owned = False
        self.staging = plan.work_dir / "spark"
        self._decided: DataFrame | None = None
        self._keys: DataFrame | None = None
        self._keyed: pa.Table | None = None
        self._restore: dict[str, str | None] = {}
        persist = self.options.persist
        self._persisted = persist if persist is not None else bool(plan.sources.remote)
        self._classes: Future[pa.Table] | None = None
        self._count_group = ""
        #: the driver-side tables too large to broadcast (joined by a shuffle, which loses the scan's order)
        self._shuffled: set[str] = set()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SparkEngine:
        if self._session is None:
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession()
            self._owned = active is None
            self._session = active if active is not None else spark_session(self.options)
        for key, value in REQUIRED_CONF.items():
            self._session.conf.set(key, value)
        self.staging.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._classes is not None and self._session is not None and not self._classes.done():
            self._session.sparkContext.cancelJobGroup(self._count_group)  # the build failed while counting
        if self._classes is not None:
            wait([self._classes])
        if self._decided is not None:
            self._decided.unpersist()
            self._decided = None
        if self._session is not None:
            for key, value in self._restore.items():
                if value is None:
                    self._session.conf.unset(key)
                else:
                    self._session.conf.set(key, value)
        if self._owned and self._session is not None:
            self._session.stop()
        self._session = None
        shutil.rmtree(self.staging, ignore_errors=True)

    @property
    def spark(self) -> SparkSession:
        """The session (only inside `with`)."""
        if self._session is None:
            raise BuildError("the Spark engine is used outside its `with` block")
        return self._session

    def _set_build_conf(self, records: DataFrame) -> None:
        """Settings for this build's jobs, unless configured; restored on exit.

        One shuffle partition per 64 MB of input (at least 2 per core), and the
        file-split settings pinned (`FILE_CONF`): the input splits, hence the
        rows' order and the shards, then do not depend on the number of cores.
        """
        spark = self.spark
        wanted = dict(FILE_CONF)
        size = _input_bytes(records, sum(f.size for f in self.plan.sources.files))
        wanted[_SHUFFLE_PARTITIONS] = str(
            max(2 * spark.sparkContext.defaultParallelism, -(-size // PARTITION_INPUT_BYTES))
        )
        configured = spark.sparkContext.getConf()
        for key, value in wanted.items():
            if configured.contains(key):
                continue
            if key not in self._restore:
                self._restore[key] = spark.conf.get(key, None)
            spark.conf.set(key, value)

    # ------------------------------------------------------------------ deciding

    def _small_frame(self, table: pa.Table, name: str) -> DataFrame:
        """A driver-side table written as Parquet next to the job and read back by Spark (broadcast if small)."""
        path = self.staging / name
        pq.write_table(table, path, compression="zstd")
        frame = self.spark.read.parquet(str(path.absolute()))
        if table.nbytes > self.options.broadcast_bytes:
            self._shuffled.add(name)
            return frame
        from pyspark.sql.functions import broadcast

        return broadcast(frame)

    def _decided_frame(self, members: pa.Table) -> DataFrame:
        """Every record's reason; text and pass-through columns only where ALLOWED."""
        plan = self.plan
        reason = record_reason_sql(
            plan.policy, plan.purpose, at=plan.as_of, now=plan.now, records="r", members="m", dialect="spark"
        )
        record_class = record_class_sql(
            plan.policy, plan.purpose, at=plan.as_of, now=plan.now, records="r", dialect="spark"
        )
        records = records_frame(self.spark, plan.sources, plan.pass_through).alias("r")
        self._set_build_conf(records)
        verdicts = self._small_frame(members.select(list(_VERDICT_COLUMNS)), "members.parquet").alias("m")
        joined = records.join(verdicts, records["member_id"] == verdicts["member_id"], "left")
        wide = [quoted(c) for c in ("text", *plan.pass_through)]
        reasoned = joined.selectExpr(
            "r.record_id", "r.member_id", "r.kind", "r.created_at", *(f"r.{c}" for c in wide), f"{reason} AS _reason",
            f"{record_class} AS _class",
        )  # fmt: skip
        kept = [f"CASE WHEN {_ALLOWED} THEN {c} END AS {c}" for c in wide]
        cause = f"{class_cause_sql('_reason', '_class')} AS _cause"
        return reasoned.selectExpr("record_id", "member_id", "kind", "created_at", *kept, "_reason", cause)

    def start(self) -> None:
        """Unless persisting, count each member's records per class on Spark, beside the ledger snapshot.

        `record_class_sql` needs no verdicts: Spark counts each member's records per class (one row per
        member) while the driver reads the snapshot, and `decide` joins those rows to the verdicts.
        """
        if self._persisted or self._classes is not None:
            return
        from pyspark.sql.functions import expr

        plan = self.plan
        records = records_frame(self.spark, plan.sources, plan.pass_through).alias("r")
        self._set_build_conf(records)
        record_class = record_class_sql(
            plan.policy, plan.purpose, at=plan.as_of, now=plan.now, records="r", dialect="spark"
        )
        grouped = (
            records.selectExpr("member_id", f"{record_class} AS c")
            .groupBy("member_id")
            .agg(*(expr(c) for c in CLASS_COUNTS))
        )
        spark, group = self.spark, f"consentry-count-{id(self)}"

        def count() -> pa.Table:
            spark.sparkContext.setJobGroup(group, "consentry build: records per member and class")
            return _collect(grouped)

        pool = ThreadPoolExecutor(1, thread_name_prefix="consentry-count")
        self._classes = pool.submit(count)
        self._count_group = group
        pool.shutdown(wait=False)

    def decide(self, members: pa.Table) -> Decided:
        """Counts per reason and the allowed members (see `Engine.decide`).

        Local files: the per-class counts from `start` joined to the verdicts on the driver; the write
        reads the sources again. With remote sources (or `SparkOptions.persist`) the decided relation
        (verdicts broadcast to Spark) is persisted instead: one read of the lake, the write reads the cache.
        The allowed members' pseudonyms are computed here, on the driver, as the local engine does.
        """
        if self._persisted:
            rows = self._reason_tally(members)
        else:
            self.start()
            assert self._classes is not None
            rows = class_tally(self._classes.result(), members.select(list(_VERDICT_COLUMNS)))
        counts, allowed = split_tally(rows)
        keyed = keyed_members(self.plan.key, allowed)
        self._keyed = keyed.select(["member_id", "member_key"])
        self._keys = self._small_frame(self._keyed, "member_keys.parquet")
        return Decided(counts, keyed, split_causes(rows))

    def keep_members(self, member_ids: pa.Array | pa.ChunkedArray) -> None:
        """Write only these allowed members' records from now on (see `Engine.keep_members`)."""
        if self._keyed is None:
            raise BuildError("the Spark engine keeps members only after deciding")
        import pyarrow.compute as pc

        ids = member_ids.combine_chunks() if isinstance(member_ids, pa.ChunkedArray) else member_ids
        self._keyed = self._keyed.filter(pc.is_in(self._keyed.column("member_id"), value_set=ids))
        self._shuffled.discard("kept_member_keys.parquet")
        self._keys = self._small_frame(self._keyed, "kept_member_keys.parquet")

    def _reason_tally(self, members: pa.Table) -> pa.Table:
        """reason, member_id (allowed only), count: from the persisted decided relation."""
        from pyspark import StorageLevel

        self._decided = self._decided_frame(members).persist(StorageLevel.MEMORY_AND_DISK)
        tally = (
            self._decided.selectExpr(
                "_reason AS reason", f"CASE WHEN {_ALLOWED} THEN member_id END AS member_id", "_cause AS cause"
            )
            .groupBy("reason", "member_id", "cause")
            .count()
        )
        return _collect(tally)

    def _included_frame(self, countries: pa.Table | None = None) -> DataFrame:
        """The allowed rows with their member keys, in a fixed order (see `write_output`); with `countries`
        (member_id, country), each row also carries its member's country as COUNTRY_COLUMN."""
        if self._keys is None or self._keyed is None:
            raise BuildError("the Spark engine was asked for rows before deciding")
        plan, pt = self.plan, [quoted(c) for c in self.plan.pass_through]
        keys_frame, extra = self._keys, []
        if countries is not None:
            with_country = self._keyed.join(
                countries.select(["member_id", "country"]), "member_id", join_type="left outer"
            )
            keys_frame = self._small_frame(with_country, "member_keys_countries.parquet")
            extra = [f"k.country AS {COUNTRY_COLUMN}"]
        if self._decided is not None:
            rows = self._decided.where(_ALLOWED)
        else:  # read the sources again: only the allowed members' records pass the inner join below
            allowed = record_allowed_sql(plan.policy, plan.purpose, at=plan.as_of, now=plan.now, dialect="spark")
            rows = records_frame(self.spark, plan.sources, plan.pass_through).alias("r").where(allowed)
        rows, keys = rows.alias("d"), keys_frame.alias("k")
        # a broadcast hash join streams the rows through in the scan's order
        out = rows.join(keys, rows["member_id"] == keys["member_id"], "inner").selectExpr(
            "d.record_id", "k.member_key", "d.kind", "d.created_at", "d.text", *(f"d.{c}" for c in pt),
            f"d.member_id AS {MEMBER_COLUMN}", *extra,
        )  # fmt: skip
        if not self._shuffled:
            return out
        from pyspark.sql.functions import expr  # a shuffle join loses the order: sort, ties by every column

        tie = [MEMBER_COLUMN if c == "member_id" else c for c in (*_TIE_ORDER, *pt)]
        return out.orderBy(*(expr(c).asc_nulls_last() for c in tie))

    # ------------------------------------------------------------------ output

    def included(self) -> pa.RecordBatchReader:
        """The allowed records in the write's order, streamed back to the driver (output columns + `_member_id`).

        Spark writes them to the staging directory; the driver reads the files
        in order. `write_output` is the faster path that never brings rows back.
        """
        target = self.staging / "included"
        _write(self._included_frame(), target)
        parts = _part_files(target)
        if not parts:
            raise BuildError("Spark wrote no output file; see the Spark driver log")
        rows = self.plan.batch_rows
        batches = (b for path in parts for b in pq.ParquetFile(path).iter_batches(rows))
        return pa.RecordBatchReader.from_batches(pq.read_schema(parts[0]), batches)

    def write_output(self, directory: Path, scrub: Any | None) -> list[ShardFile]:
        """Write the allowed rows (scrubbed when `scrub` is a ScrubStep) as OUT shards in `directory`.

        Spark writes one file per input split, rows in file order (see the module docstring); they are moved into
        `directory` as part-NNNNN.parquet and hashed. `scrub.stats` is filled
        exactly as the local scrub step fills it.
        """
        countries = scrub.countries if scrub is not None else None  # the local rules' region hints, as locally
        frame = self._included_frame(countries)
        tally = None
        if scrub is not None:
            from pyspark.sql.types import StructType

            dropped = {MEMBER_COLUMN, COUNTRY_COLUMN}
            out_schema = StructType([f for f in frame.schema.fields if f.name not in dropped])
            tally = self.spark.sparkContext.accumulator(empty_tally(), ScrubTally())  # type: ignore[arg-type]
            country = COUNTRY_COLUMN if countries is not None else None
            body = ScrubInArrow(scrub.config.model_dump_json(), scrub.key, tally, MEMBER_COLUMN, country)
            frame = frame.mapInArrow(body, out_schema)
        else:
            frame = frame.drop(MEMBER_COLUMN)
        target = self.staging / "out"
        _write(frame, target)
        parts = _part_files(target)
        if not parts:
            raise BuildError("Spark wrote no output file; see the Spark driver log")
        files = commit_files(parts, directory)
        if scrub is not None and tally is not None:
            fill_stats(scrub.stats, tally.value, sum(f.rows for f in files))
        return files


def _input_bytes(frame: DataFrame, fallback: int) -> int:
    """The bytes Spark's file index counts under `frame` (remote sources included), else `fallback`."""
    try:
        return int(frame._jdf.queryExecution().optimizedPlan().stats().sizeInBytes().longValue())
    except Exception:  # not a classic JVM-backed session (e.g. Spark Connect): the local files' sizes
        return fallback


def _collect(frame: DataFrame) -> pa.Table:
    try:
        table: pa.Table = frame.toArrow()
    except Exception as e:  # Spark's errors come from the JVM: keep the first line
        raise _spark_error(e) from None
    return table


def _write(frame: DataFrame, target: Path) -> None:
    try:
        frame.write.mode("overwrite").options(**WRITE_OPTIONS).parquet(str(target.absolute()))
    except Exception as e:
        raise _spark_error(e) from None


def _spark_error(e: Exception) -> BuildError:
    text = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
    return BuildError(f"the Spark engine could not run the build: {text}")


def _part_files(target: Path) -> list[Path]:
    """Spark's part files in partition order (their names start part-<partition>-)."""
    return sorted(p for p in target.iterdir() if p.name.startswith("part-") and p.name.endswith(".parquet"))
