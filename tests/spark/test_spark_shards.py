"""A sharded Spark build: the same shards as the local engine's, and a partial rebuild on Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import AS_OF, KEY, PURPOSE, Lake, t

from consentry.pipeline import build, read_manifest, rebuild
from consentry.pipeline.keys import member_key
from consentry.pipeline.registry import shards_for_member
from consentry.store.protocol import NewEvent
from consentry.vocab import Choice, Source

pytestmark = pytest.mark.spark

K = 3
#: what may differ between the engines' entries: which build wrote the files (their bytes follow each engine's order)
_WRITER = {"built_by", "files"}


def _shard(out: Path, entry: dict[str, Any]) -> list[dict[str, Any]]:
    table = pa.concat_tables(pq.read_table(out / f) for f in entry["files"])
    return table.sort_by("record_id").to_pylist()


def test_a_sharded_spark_build_matches_the_local_shards_and_rebuilds_only_the_affected_one(
    spark: Any, spark_lake: Lake
) -> None:
    lake = spark_lake
    local = build(lake.store, PURPOSE, lake.sources, lake.root / "local", as_of=AS_OF, key=KEY, shards=K)
    first = build(lake.store, PURPOSE, lake.sources, lake.root / "v1", engine="spark", as_of=AS_OF, key=KEY, shards=K)
    ml, ms = read_manifest(local.out_dir), read_manifest(first.out_dir)
    assert ms["counts"] == ml["counts"] and ms["pii"] == ml["pii"] and ms["members_digest"] == ml["members_digest"]
    for a, b in zip(ml["shards"]["entries"], ms["shards"]["entries"], strict=True):
        assert {k: v for k, v in a.items() if k not in _WRITER} == {k: v for k, v in b.items() if k not in _WRITER}
        assert _shard(local.out_dir, a) == _shard(first.out_dir, b)

    (found,) = [s for b, s in shards_for_member(lake.store, "ok_us") if b.build_id == first.build_id]
    lake.store.record(NewEvent("ok_us", PURPOSE, Choice.DENY, t("2025-01-01"), Source.SETTINGS))
    second = rebuild(lake.store, first.build_id, lake.root / "v2", key=KEY, only_affected_shards=True)
    assert second.rebuilt_shards == (found,)
    entries = read_manifest(second.out_dir)["shards"]["entries"]
    for before, after in zip(ms["shards"]["entries"], entries, strict=True):
        assert (after == before) is (before["shard"] != found)
    assert member_key(KEY, "ok_us") not in {r["member_key"] for r in _shard(second.out_dir, entries[found])}
    assert entries[found]["records"] < ms["shards"]["entries"][found]["records"]
