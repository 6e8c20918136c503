"""Spark builds are deterministic: the same lake and ledger give byte-identical shards, in a fixed row order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import AS_OF, KEY, PURPOSE, Lake

from consentry.pipeline import build

pytestmark = pytest.mark.spark

#: manifest fields that name the build or its time
BUILD_FIELDS = {"created_at", "decided_at", "build_id", "dataset_id"}
#: fields that hold a build-naming value inside: the lineage run id, and the metadata files (they carry the build id)
NAMING_FIELDS = {"lineage", "metadata_files"}


def _spark(lake: Lake, sources: list[str], name: str, *, scrub: bool) -> Path:
    out = lake.root / name
    build(lake.store, PURPOSE, sources, out, engine="spark", key=KEY, as_of=AS_OF, scrub=scrub)
    return out


def _shards(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("part-*.parquet"))}


def _manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    kept = {k: v for k, v in data.items() if k not in BUILD_FIELDS | NAMING_FIELDS}
    kept["lineage"] = {k: v for k, v in data["lineage"].items() if k != "run_id"}
    kept["metadata_files"] = [e["path"] for e in data["metadata_files"]]
    return kept


def _record_ids(out: Path) -> list[str]:
    return [i for p in sorted(out.glob("part-*.parquet")) for i in pq.read_table(p).column("record_id").to_pylist()]


@pytest.mark.parametrize("scrub", [False, True])
def test_two_spark_builds_of_one_lake_write_identical_shards(spark: Any, spark_lake: Lake, scrub: bool) -> None:
    first = _spark(spark_lake, spark_lake.sources, "first", scrub=scrub)
    again = _spark(spark_lake, list(reversed(spark_lake.sources)), "again", scrub=scrub)  # --source order differs
    shards = _shards(first)
    assert len(shards) > 1  # several input splits, several shards: their order matters too
    assert shards == _shards(again)
    assert _manifest(first) == _manifest(again)  # same files, sha256 digests, counts and members digest


def test_spark_rows_come_out_in_scan_order_not_sorted(spark: Any, spark_lake: Lake) -> None:
    ids = _record_ids(_spark(spark_lake, spark_lake.sources, "out", scrub=False))
    assert ids != sorted(ids)  # no global sort any more
    # each source file's rows stay together and in the file's order
    for name in ("typed.parquet", "texttime.parquet"):
        in_file = pq.read_table(spark_lake.root / "lake" / name).column("record_id").to_pylist()
        kept = [i for i in in_file if i in ids]
        assert len(kept) > 3
        start = ids.index(kept[0])
        assert ids[start : start + len(kept)] == kept


def test_the_split_settings_a_build_pins_are_restored(spark: Any, spark_lake: Lake) -> None:
    from consentry.pipeline.engines.spark import FILE_CONF

    before = {key: spark.conf.get(key, None) for key in FILE_CONF}
    assert before["spark.sql.files.minPartitionNum"] is None  # Spark's default: one split per core
    _spark(spark_lake, spark_lake.sources, "out", scrub=False)
    assert {key: spark.conf.get(key, None) for key in FILE_CONF} == before
