"""A scrubbed build counts records and detections per language in its manifest; the member's country is the hint."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.pipeline import build, read_manifest
from pipeline.lake import AS_OF, GENAI, KEY, Platform, record, write_parquet


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
