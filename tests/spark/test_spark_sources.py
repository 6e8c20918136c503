"""Spark sources: Hadoop-compatible URIs (file:// for real), and builds that fail midway leave nothing behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import AS_OF, EXPECTED, KEY, PURPOSE, Lake

from consentry.errors import BuildError, InputError
from consentry.pipeline import build
from consentry.pipeline.registry import list_builds

pytestmark = pytest.mark.spark


def _rows(out: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(f) for f in sorted(out.glob("part-*.parquet"))).sort_by("record_id")


def _nothing_left(lake: Lake, out: Path) -> None:
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.consentry-*")), "staging or work directory left behind"
    assert list_builds(lake.store) == []


def test_file_uris_give_the_same_dataset_as_local_paths(spark: Any, spark_lake: Lake) -> None:
    lake_dir = spark_lake.root / "lake"
    uris = [(lake_dir / name).absolute().as_uri() for name in ("typed.parquet", "texttime.parquet")]
    assert all(u.startswith("file:///") for u in uris)
    text_sources = spark_lake.sources[1:]  # the JSONL and CSV, as local paths
    local, remote = spark_lake.root / "out-local", spark_lake.root / "out-uri"
    opts: dict[str, Any] = {"as_of": AS_OF, "scrub": False, "key": KEY}
    a = build(spark_lake.store, PURPOSE, spark_lake.sources, local, engine="local", **opts)
    b = build(spark_lake.store, PURPOSE, [*uris, *text_sources], remote, engine="spark", **opts)
    assert _rows(local).to_pylist() == _rows(remote).to_pylist()
    assert a.counts == b.counts
    assert {**{k: v for k, v in b.counts["excluded"].items() if v}, "ALLOWED": b.counts["included"]} == EXPECTED
    manifest_a, manifest_b = (_manifest(p) for p in (local, remote))
    assert manifest_a["members_digest"] == manifest_b["members_digest"]
    assert [s["path"] for s in manifest_b["sources"] if s["bytes"] is None] == uris  # listed as given
    registered = next(r for r in list_builds(spark_lake.store) if r.build_id == b.build_id)
    assert registered.sources[:2] == tuple(uris)  # URIs are registered as given, not made "absolute"


def _manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return data


def test_a_missing_uri_is_an_input_error_naming_it(spark: Any, spark_lake: Lake) -> None:
    uri = (spark_lake.root / "no-such-dir").absolute().as_uri()
    out = spark_lake.root / "out"
    with pytest.raises(InputError) as e:
        build(spark_lake.store, PURPOSE, [uri], out, as_of=AS_OF, engine="spark", scrub=False, key=KEY)
    assert uri in str(e.value)
    _nothing_left(spark_lake, out)


def test_a_uri_missing_a_required_column_names_it(spark: Any, spark_lake: Lake, tmp_path: Path) -> None:
    bad = tmp_path / "bad" / "no-text.parquet"
    bad.parent.mkdir()
    pq.write_table(pa.table({"record_id": ["x"], "member_id": ["ok_us"]}), bad)
    out = spark_lake.root / "out"
    with pytest.raises(InputError) as e:
        build(spark_lake.store, PURPOSE, [bad.parent.as_uri()], out, engine="spark", scrub=False, key=KEY)
    assert "kind" in str(e.value) and bad.parent.as_uri() in str(e.value)
    _nothing_left(spark_lake, out)


def _corrupt_pages(path: Path, rows: int) -> None:
    """A Parquet file whose footer (schema) reads fine but whose data pages are garbage."""
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "record_id": [f"bad-{i:06d}" for i in range(rows)],
            "member_id": ["ok_us"] * rows,
            "kind": ["post"] * rows,
            "visibility": ["public"] * rows,
            "created_at": pa.array([AS_OF] * rows, ts),
            "deleted_at": pa.array([None] * rows, ts),
            "text": [f"{i:06d} " + "lorem ipsum dolor sit amet " * 20 for i in range(rows)],
        }
    )
    pq.write_table(table, path, compression="zstd", use_dictionary=False)
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8
    for i in range(4, len(data) - footer - 64, 7):  # every 7th byte of the pages, never the footer
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    pq.read_schema(path)  # the driver's validation still passes


def test_a_build_that_fails_midway_leaves_no_out_and_no_build(spark: Any, spark_lake: Lake) -> None:
    bad = spark_lake.root / "lake" / "zz-corrupt.parquet"
    _corrupt_pages(bad, 2_000)
    out = spark_lake.root / "out"
    with pytest.raises(BuildError) as e:
        build(spark_lake.store, PURPOSE, spark_lake.sources, out, as_of=AS_OF, engine="spark", scrub=False, key=KEY)
    assert "Spark" in str(e.value) and "Traceback" not in str(e.value)
    _nothing_left(spark_lake, out)
    bad.unlink()  # the session is still usable: the same build without the bad file succeeds
    done = build(spark_lake.store, PURPOSE, spark_lake.sources, out, as_of=AS_OF, engine="spark", scrub=False, key=KEY)
    assert done.counts["included"] == EXPECTED["ALLOWED"]
    assert [b.build_id for b in list_builds(spark_lake.store)] == [done.build_id]
