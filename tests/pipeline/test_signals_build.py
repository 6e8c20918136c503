"""Builds over web content with rights holders' signals (local engine): reserved records excluded, counted per kind.

The same records as Parquet (the signals parsed by a DuckDB function) and as
JSONL (parsed while staging) give the same counts and the same shards; a
signed C2PA asset the record points at is read with c2pa-python; nothing
malformed crashes a build. Spark: tests/spark/test_spark_signals.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from signals.assets import signed_png, signer
from signals.captured import AS_OF, expected, web_records

from consentry.errors import InputError
from consentry.pipeline import build, read_manifest
from pipeline.lake import GENAI, KEY, Platform, write_jsonl


def write_web_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Records with origin, url and signals as Parquet (created_at as RFC 3339 text)."""
    names = list(rows[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({n: pa.array([r[n] for r in rows], pa.string()) for n in names}), path)
    return path


def _build(p: Platform, source: Path, out: str) -> dict[str, Any]:
    build(p.store, GENAI, [source], p.root / out, as_of=AS_OF, scrub=False, key=KEY)
    return read_manifest(p.root / out)


def _ids(directory: Path) -> list[str]:
    table = pa.concat_tables(pq.read_table(f) for f in sorted(directory.glob("part-*.parquet")))
    return sorted(table.column("record_id").to_pylist())


def test_reserved_web_records_are_excluded_and_counted_per_signal_kind(platform: Platform, tmp_path: Path) -> None:
    image = signed_png(
        tmp_path / "media" / "photo.png", {"cawg.ai_generative_training": {"use": "notAllowed"}}, signer()
    )
    media = {"media": ({"media": str(image)}, "https://photos.example/17.png", "cawg")}
    rows = web_records(media)
    want, causes = expected({"cawg": 1})
    for fmt, source in (
        ("parquet", write_web_parquet(tmp_path / "lake" / "web.parquet", rows)),
        ("jsonl", write_jsonl(tmp_path / "jsonl" / "web.jsonl", rows)),
    ):
        manifest = _build(platform, source, f"out-{fmt}")
        counts = manifest["counts"]
        assert {k: v for k, v in counts["excluded"].items() if v} == {
            "RESERVED_BY_RIGHTS_HOLDER": want["RESERVED_BY_RIGHTS_HOLDER"]
        }
        assert counts["included"] == want["ALLOWED"]
        assert counts["reserved_by_signal"] == causes, fmt
    assert _ids(platform.root / "out-parquet") == _ids(platform.root / "out-jsonl")
    assert _ids(platform.root / "out-parquet") == sorted(
        ["m-post", "w-allowing", "w-elsewhere", "w-silent", "w-uncaptured"]
    )


def test_web_content_before_the_policy_takes_it_is_category_excluded(platform: Platform, tmp_path: Path) -> None:
    rows = [{**r, "created_at": "2024-06-01T00:00:00Z"} for r in web_records()]
    source = write_web_parquet(tmp_path / "lake" / "web.parquet", rows)
    build(platform.store, GENAI, [source], platform.root / "out", as_of=AS_OF.replace(year=2025, month=1), key=KEY)
    counts = read_manifest(platform.root / "out")["counts"]
    web = len(rows) - 1
    assert counts["excluded"]["CATEGORY_EXCLUDED"] == web and counts["included"] == 1
    assert counts["reserved_by_signal"] == dict.fromkeys(["aipref", "tdmrep", "robots", "cawg", "unreadable"], 0)


def test_an_origin_other_than_member_or_web_is_malformed(platform: Platform, tmp_path: Path) -> None:
    rows = web_records()[:2]
    rows[0] = {**rows[0], "origin": "crawl"}
    manifest = _build(platform, write_jsonl(tmp_path / "lake" / "web.jsonl", rows), "out")
    assert manifest["counts"]["excluded"]["MALFORMED"] == 1


def test_a_signals_column_that_is_not_text_is_refused_naming_file_and_column(
    platform: Platform, tmp_path: Path
) -> None:
    rows = web_records()[:1]
    table = pa.table({**{k: pa.array([rows[0][k]], pa.string()) for k in rows[0] if k != "signals"}, "signals": [1]})
    path = tmp_path / "lake" / "web.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    with pytest.raises(InputError, match=r"signals.*string column holding a JSON object"):
        _build(platform, path, "out")
    assert not (platform.root / "out").exists()


def test_signals_inline_in_jsonl_are_read_as_objects(platform: Platform, tmp_path: Path) -> None:
    rows = [{**r, "signals": json.loads(r["signals"])} for r in web_records()[:1]]  # the aipref case, as an object
    manifest = _build(platform, write_jsonl(tmp_path / "lake" / "web.jsonl", rows), "out")
    assert manifest["counts"]["reserved_by_signal"]["aipref"] == 1


def test_deletions_are_found_again_in_a_lake_with_signals(platform: Platform, tmp_path: Path) -> None:
    from consentry.pipeline import get_build, list_builds
    from consentry.pipeline.staleness import deleted_records

    rows = web_records()
    source = write_web_parquet(tmp_path / "lake" / "web.parquet", rows)
    build(platform.store, GENAI, [source], platform.root / "out", as_of=AS_OF, scrub=False, key=KEY)
    (registered,) = list_builds(platform.store)
    record = get_build(platform.store, registered.build_id)
    write_web_parquet(
        source, [{**r, "deleted_at": "2025-12-02T00:00:00Z"} if r["record_id"] == "m-post" else r for r in rows]
    )
    found = deleted_records(platform.store, record, AS_OF.replace(month=12, day=3), key=KEY)
    assert found == {"members": 1, "records": 1}
