"""`build(..., engine="spark")` gives the same dataset as the local engine."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import AS_OF, BEFORE_DISCLOSURE, EXPECTED, KEY, PURPOSE, Lake
from pipeline.olschema import consent_facet, validate_event

from consentry.pipeline import build
from consentry.pipeline.lineage_run import LineageConfig
from consentry.pipeline.registry import builds_for_member, list_builds
from consentry.scrub import EntityType

pytestmark = pytest.mark.spark

#: manifest fields allowed to differ between engines: which engine, when, the file layout, the lineage run
#: and the metadata files (they name the build and its files)
ENGINE_FIELDS = {"engine", "created_at", "decided_at", "files", "build_id", "dataset_id", "lineage", "metadata_files"}


def _rows(out: Path) -> pa.Table:
    files = sorted(out.glob("part-*.parquet"))
    assert files, f"no shards in {out}"
    return pa.concat_tables(pq.read_table(f) for f in files).sort_by("record_id")


def _manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return data


def _both(lake: Lake, **kw: Any) -> tuple[Path, Path]:
    local, spark = lake.root / "out-local", lake.root / "out-spark"
    build(lake.store, PURPOSE, lake.sources, local, engine="local", key=KEY, **kw)
    build(lake.store, PURPOSE, lake.sources, spark, engine="spark", key=KEY, **kw)
    return local, spark


def _assert_equivalent(local: Path, spark: Path) -> dict[str, Any]:
    a, b = _rows(local), _rows(spark)
    assert a.column_names == b.column_names
    assert a.schema.field("created_at").type == b.schema.field("created_at").type
    assert a.to_pylist() == b.to_pylist()
    ml, ms = _manifest(local), _manifest(spark)
    assert ms["engine"] == "spark" and ml["engine"] == "local"
    assert {k: v for k, v in ml.items() if k not in ENGINE_FIELDS} == {
        k: v for k, v in ms.items() if k not in ENGINE_FIELDS
    }
    for entry in ms["files"]:  # Spark's shards are committed, named and hashed like local ones
        data = (spark / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert pq.ParquetFile(spark / entry["path"]).metadata.num_rows == entry["rows"]
    listed = [*(e["path"] for e in ms["files"]), *(e["path"] for e in ms["metadata_files"]), "manifest.json"]
    assert sorted(p.name for p in spark.iterdir()) == sorted(listed)
    return ms


def test_spark_build_equals_local_build_on_every_reason(spark: Any, spark_lake: Lake) -> None:
    local, out = _both(spark_lake, as_of=AS_OF, scrub=False)
    manifest = _assert_equivalent(local, out)
    excluded = {k: v for k, v in manifest["counts"]["excluded"].items() if v}
    assert {**excluded, "ALLOWED": manifest["counts"]["included"]} == EXPECTED
    rows = _rows(out)
    assert "member_id" not in rows.column_names and "_member_id" not in rows.column_names
    assert rows.column_names == ["record_id", "member_key", "kind", "created_at", "text", "language"]
    # the spellings of RFC 3339 text times are read as locally; the unreadable ones are MALFORMED
    ids = set(rows.column("record_id").to_pylist())
    assert {"s-date-only", "s-offset", "s-space-z", "s-fraction", "s-empty-deleted"} <= ids
    assert not {"s-no-zone", "s-garbage", "s-bad-deleted", "p-ca-silent", "p-closed_later"} & ids
    # registered like any build, with its engine
    spark_builds = [b for b in list_builds(spark_lake.store) if b.engine == "spark"]
    assert len(spark_builds) == 1
    assert spark_builds[0].build_id in {b.build_id for b in builds_for_member(spark_lake.store, "ok_us")}
    assert not builds_for_member(spark_lake.store, "opted_out")
    assert not list(spark_lake.root.glob(".out-spark.consentry-*"))  # no staging left behind


def test_scrubbed_spark_build_equals_local_build(spark: Any, spark_lake: Lake) -> None:
    events = spark_lake.root / "lineage.jsonl"
    local, out = _both(spark_lake, as_of=AS_OF, scrub=True, lineage=LineageConfig.parse(f"file:{events}"))
    manifest = _assert_equivalent(local, out)  # same scrubbed texts, PII counts, members digest
    # OpenLineage: both builds' START and COMPLETE validate; the Spark build's facet is its manifest's
    sent = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["eventType"] for e in sent] == ["START", "COMPLETE", "START", "COMPLETE"]
    for event in sent:
        validate_event(event)
    facet = consent_facet(sent[3])
    assert sent[3]["run"]["runId"] == manifest["lineage"]["run_id"]
    assert sent[3]["run"]["facets"]["processing_engine"]["name"] == "consentry (spark engine)"
    assert facet["counts"] == manifest["counts"] and facet["membersDigest"] == manifest["members_digest"]
    text = sent[3]["outputs"][0]["facets"]["columnLineage"]["fields"]["text"]
    assert text["transformationType"] == "MASKED"
    counts = manifest["counts"]
    assert counts["excluded"]["SCRUB_FAILED"] == 1
    assert counts["included"] == EXPECTED["ALLOWED"] - 1
    # every entity type the lake carries; of the national identifiers with local rules, its one text
    # names a BSN and a CPF, read by their local rules (so none is left to the generic NATIONAL_ID)
    not_in_lake = {"NATIONAL_ID", "DE_TAX_ID", "FR_NIR", "ES_DNI", "ES_NIE", "BR_CNPJ", "IT_FISCAL_CODE"}
    not_in_lake |= {"IN_AADHAAR", "IN_PAN"}
    assert set(manifest["pii"]) == {e.value for e in EntityType} - not_in_lake
    assert manifest["scrubber"]["enabled"] is True
    texts = " ".join(_rows(out).column("text").to_pylist())
    for secret in ("ada.lovelace@example.com", "4111 1111 1111 1111", "123-45-6789", "DE89 3704", "192.168.10.20"):
        assert secret not in texts
    assert "p-unscrubbable" not in set(_rows(out).column("record_id").to_pylist())


def test_spark_build_before_disclosure_includes_nothing(spark: Any, spark_lake: Lake) -> None:
    local, out = _both(spark_lake, as_of=BEFORE_DISCLOSURE, scrub=False)
    manifest = _assert_equivalent(local, out)
    counts = manifest["counts"]
    assert counts["included"] == 0
    assert counts["excluded"]["NOT_DISCLOSED"] == 2
    assert [f["rows"] for f in manifest["files"]] == [0]  # one empty, readable shard, as locally
    assert manifest["members"] == 0
