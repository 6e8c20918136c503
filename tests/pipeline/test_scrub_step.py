"""The scrub step inside a build: on by default, PII counted in the manifest, never written unscrubbed."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.pipeline import build, read_manifest
from pipeline.lake import AS_OF, GENAI, KEY, Platform, record, write_parquet


def test_builds_scrub_by_default_and_count_findings(platform: Platform) -> None:
    rows = [
        record("s-1", "ok_us", text="Write to ada.lovelace@example.org or call +1 415 555 0132."),
        record("s-2", "ok_us", text="Nothing personal here."),
    ]
    src = write_parquet(platform.root / "lake.parquet", rows)
    build(platform.store, GENAI, [src], platform.root / "out", as_of=AS_OF, key=KEY)
    manifest = read_manifest(platform.root / "out")
    assert manifest["scrubber"]["enabled"] is True and manifest["scrubber"]["version"]
    assert sum(manifest["pii"].values()) >= 2
    table = pa.concat_tables(pq.read_table(p) for p in sorted((platform.root / "out").glob("part-*.parquet")))
    texts = " ".join(table.column("text").to_pylist())
    assert "ada.lovelace@example.org" not in texts and "555 0132" not in texts
    assert manifest["counts"]["included"] + manifest["counts"]["excluded"]["SCRUB_FAILED"] == 2
