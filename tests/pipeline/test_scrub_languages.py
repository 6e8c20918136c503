"""A scrubbed build counts records and detections per language in its manifest; the member's country is the hint."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.pipeline import build, read_manifest, rebuild
from consentry.pipeline.registry import shards_for_member
from consentry.store.protocol import Member, NewEvent
from consentry.vocab import Choice, Source
from pipeline.lake import AS_OF, GENAI, KEY, Platform, record, t, write_parquet


def test_the_manifest_counts_records_and_detections_per_language(platform: Platform) -> None:
    rows = [
        # ok_br lives in BR: its short text is read as pt-BR, its national number in BR's plan
        record("l-1", "ok_br", text="Oi! Me liga no (11) 91234-5678, meu CPF é 111.444.777-35."),
        record("l-2", "ok_br", text="valeu 👍"),
        record("l-3", "ok_us", text="Yesterday we went to the cinema with friends and had dinner afterwards."),
    ]
    src = write_parquet(platform.root / "lake.parquet", rows)
    build(platform.store, GENAI, [src], platform.root / "out", as_of=AS_OF, key=KEY)
    manifest = read_manifest(platform.root / "out")
    assert manifest["languages"] == {
        "pt-BR": {"records": 2, "detections": 2},
        "en": {"records": 1, "detections": 0},
    }
    assert manifest["pii"] == {"BR_CPF": 1, "PHONE": 1}
    table = pa.concat_tables(pq.read_table(p) for p in sorted((platform.root / "out").glob("part-*.parquet")))
    texts = " ".join(table.column("text").to_pylist())
    assert "91234-5678" not in texts and "111.444.777-35" not in texts and "<BR_CPF>" in texts
    # an unscrubbed build's manifest has no languages block (its other fields are as before)
    build(platform.store, GENAI, [src], platform.root / "plain", as_of=AS_OF, key=KEY, scrub=False)
    assert "languages" not in read_manifest(platform.root / "plain")


def test_a_partial_rebuild_counts_the_languages_of_the_shards_it_carries_too(platform: Platform) -> None:
    platform.store.add_members(Member(f"s{i}", "BR", date(1980, 1, 1), t("2024-01-01"), None) for i in range(12))
    texts = ["Oi! Me liga no (11) 91234-5678 amanhã.", "We met at the conference and talked for hours."]
    rows = [record(f"s{i}-{j}", f"s{i}", text=texts[(i + j) % 2]) for i in range(12) for j in range(2)]
    src = write_parquet(platform.root / "lake.parquet", rows)
    first = build(platform.store, GENAI, [src], platform.root / "v1", as_of=AS_OF, key=KEY, shards=4)
    v1 = read_manifest(first.out_dir)
    assert sum(e["languages"].get("pt-BR", {}).get("records", 0) for e in v1["shards"]["entries"]) == 12
    assert v1["languages"] == {"pt-BR": {"records": 12, "detections": 12}, "en": {"records": 12, "detections": 0}}

    ((_, shard),) = shards_for_member(platform.store, "s3")
    platform.store.record(NewEvent("s3", GENAI, Choice.DENY, t("2024-12-01"), Source.SETTINGS))
    second = rebuild(platform.store, first.build_id, platform.root / "v2", key=KEY, only_affected_shards=True)
    assert second.rebuilt_shards == (shard,)
    fresh = build(platform.store, GENAI, [src], platform.root / "fresh", as_of=AS_OF, key=KEY, shards=4)
    v2, whole = read_manifest(second.out_dir), read_manifest(fresh.out_dir)
    assert (
        v2["languages"]
        == whole["languages"]
        == {
            "pt-BR": {"records": 11, "detections": 11},
            "en": {"records": 11, "detections": 0},
        }
    )
    assert [e["languages"] for e in v2["shards"]["entries"]] == [e["languages"] for e in whole["shards"]["entries"]]
