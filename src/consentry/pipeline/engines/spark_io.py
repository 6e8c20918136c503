"""Spark side of reading the sources and handing back written files.

`records_frame` turns a validated `SourceSet` into one DataFrame with the
records contract's columns, the pass-through columns, `_malformed` and the
signals verdict `_signals` (where a source carries captured signals, an Arrow
UDF runs the same parsing function as the local engine), by the
same statement of a well-formed record as the local engine
(`consentry.rules.records`, in Spark SQL): a row is malformed when record_id,
member_id, kind, visibility or text is missing, record_id is empty,
created_at is missing or does not parse, or a deleted_at given as text does
not parse. RFC 3339 text needs a zone; a bare date means midnight UTC.

Sources on Hadoop-compatible file systems (``s3a://``, ``hdfs://``, …) are
read by Spark directly and validated from the schema Spark reports
(`remote_sources_frame`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from consentry.errors import InputError
from consentry.pipeline.sources import SourceFile, SourceFormat, SourceSet, has_scheme
from consentry.rules.records import (
    RECORD_COLUMNS,
    REQUIRED_COLUMNS,
    SIGNAL_SOURCE_COLUMNS,
    STRING_COLUMNS,
    TIME_COLUMNS,
    malformed_sql,
    typed_columns_sql,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["has_scheme", "quoted", "records_frame", "remote_sources_frame"]

_CONTRACT = tuple(c.name for c in RECORD_COLUMNS)


def quoted(name: str) -> str:
    """A column name as a Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


_q = quoted


def _normalised(
    df: DataFrame,
    kinds: dict[str, str],
    pass_through: Sequence[str],
    null_free: frozenset[str] = frozenset(),
    ids_nonempty: bool = False,
) -> DataFrame:
    """The contract's columns, typed, plus pass-through columns and `_malformed`.

    Null checks on the `null_free` columns (and the empty-id check when `ids_nonempty`) are left out, as the
    local engine does when the files' statistics rule them out: counting then never reads the texts.
    """
    cols = typed_columns_sql(kinds, "spark")
    for col in pass_through:
        cols.append(f"CAST({_q(col)} AS STRING) AS {_q(col)}" if col in kinds else f"CAST(NULL AS STRING) AS {_q(col)}")
    signals = "signals" in kinds
    if signals:  # the raw signals and URL, for the verdict below (then dropped)
        url = f"CAST({_q('url')} AS STRING)" if "url" in kinds else "CAST(NULL AS STRING)"
        cols += [f"CAST({_q('signals')} AS STRING) AS _signals_raw", f"{url} AS _url_raw"]
    typed = df.selectExpr(*cols)
    if signals:
        from consentry.signals.captured import spark_verdict_column

        typed = typed.withColumn("_signals", spark_verdict_column("_signals_raw", "_url_raw"))
    keep = [*_CONTRACT, *(_q(c) for c in pass_through)]
    verdict = "_signals" if signals else "CAST(NULL AS STRING) AS _signals"
    malformed = f"coalesce({malformed_sql(kinds, null_free, ids_nonempty)}, TRUE) AS _malformed"
    return typed.selectExpr(*keep, malformed, verdict)


def _parquet_group(spark: SparkSession, files: list[SourceFile], pass_through: Sequence[str]) -> DataFrame:
    df = spark.read.parquet(*(str(f.path.absolute()) for f in files))
    null_free = frozenset.intersection(*(f.null_free for f in files))
    return _normalised(df, files[0].column_kinds(), pass_through, null_free, all(f.ids_nonempty for f in files))


def records_frame(spark: SparkSession, sources: SourceSet, pass_through: Sequence[str]) -> DataFrame:
    """One DataFrame over every source: validated local files, staged JSONL/CSV, and remote Parquet URIs."""
    parts: list[DataFrame] = []
    parquet = sorted((f for f in sources.files if f.format is SourceFormat.PARQUET), key=lambda f: f.columns)
    for _, group in groupby(parquet, key=lambda f: f.columns):
        parts.append(_parquet_group(spark, list(group), pass_through))
    if sources.staged:
        cols = [*_CONTRACT, *(_q(c) for c in pass_through)]
        staged = spark.read.parquet(*(str(Path(p).absolute()) for p in sources.staged))
        parts.append(staged.selectExpr(*cols, "_malformed", "_signals"))
    parts += [remote_sources_frame(spark, uri, pass_through) for uri in sources.remote]
    if not parts:
        raise InputError("no readable source files", field="--source")
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def _spark_kind(data_type: object) -> str:
    from pyspark.sql.types import StringType, TimestampNTZType, TimestampType

    if isinstance(data_type, StringType):
        return "string"
    if isinstance(data_type, TimestampType):
        return "timestamp"
    if isinstance(data_type, TimestampNTZType):
        return "naive-timestamp"
    return "other"


def remote_sources_frame(spark: SparkSession, uri: str, pass_through: Sequence[str]) -> DataFrame:
    """Parquet under a Hadoop-compatible URI, validated from Spark's schema (InputError names the URI).

    A file, a directory (searched recursively, as local directories are) or a glob.
    """
    try:
        df = spark.read.option("recursiveFileLookup", "true").parquet(uri)
    except Exception as e:  # Spark raises its own AnalysisException family for missing paths
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise InputError(f"Spark cannot read Parquet here ({first}); check the URI", where=uri) from None
    kinds = {f.name: _spark_kind(f.dataType) for f in df.schema.fields}
    for col in REQUIRED_COLUMNS:
        if col not in kinds:
            raise InputError(
                "required column is missing; the records contract needs " + ", ".join(REQUIRED_COLUMNS),
                where=uri,
                field=col,
            )
    for col in (*STRING_COLUMNS, *SIGNAL_SOURCE_COLUMNS):
        if kinds.get(col, "string") != "string":
            raise InputError("must be a string column", where=uri, field=col)
    for col in TIME_COLUMNS:
        kind = kinds.get(col)
        if kind == "string":
            kinds[col] = "text-time"
        elif kind is not None and kind != "timestamp":
            raise InputError("must be a timestamp with time zone (UTC) or an RFC 3339 string", where=uri, field=col)
    return _normalised(df, kinds, pass_through)
