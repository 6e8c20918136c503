"""The scrub step inside a build: on by default, PII counted in the manifest, never written unscrubbed.

One build only: constructing the default scrubber is slow, so this one build
covers findings, plain text and a text the scrubber reports as failed.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.pipeline import build, builds_for_member, read_manifest
from consentry.pipeline.keys import member_key
from consentry.scrub import ScrubConfig
from pipeline.lake import AS_OF, GENAI, KEY, Platform, record, write_parquet

MARKER = "UNSCRUBBABLE-7f3a"


def test_builds_scrub_by_default_count_findings_and_drop_failed_texts(platform: Platform) -> None:
    # over the scrubber's size limit: `res.failed` is true for it (no mock: the real limit, plus one)
    oversize = MARKER + " mail grace.hopper@example.org " + "x" * ScrubConfig.default().max_text_chars
    rows = [
        record("s-1", "ok_us", text="Write to ada.lovelace@example.org or call +1 415 555 0132."),
        record("s-2", "ok_us", text="Nothing personal here."),
        record("s-3", "ok_br", text=oversize),  # ok_br's only record
    ]
    src = write_parquet(platform.root / "lake.parquet", rows)
    result = build(platform.store, GENAI, [src], platform.root / "out", as_of=AS_OF, key=KEY)
    manifest = read_manifest(platform.root / "out")
    assert manifest["scrubber"]["enabled"] is True and manifest["scrubber"]["version"]
    assert sum(manifest["pii"].values()) >= 2
    # the failed text: excluded, counted under SCRUB_FAILED, never written
    assert manifest["counts"]["excluded"]["SCRUB_FAILED"] == 1
    assert manifest["counts"]["included"] == 2 and manifest["counts"]["input"] == 3
    table = pa.concat_tables(pq.read_table(p) for p in sorted((platform.root / "out").glob("part-*.parquet")))
    assert sorted(table.column("record_id").to_pylist()) == ["s-1", "s-2"]
    texts = " ".join(table.column("text").to_pylist())
    assert "ada.lovelace@example.org" not in texts and "555 0132" not in texts
    assert MARKER not in texts and "grace.hopper" not in texts
    assert sum(f["rows"] for f in manifest["files"]) == 2
    # a member left with no record is not in the build's member set, nor in its lineage
    assert manifest["members"] == result.members == 1
    assert set(table.column("member_key").to_pylist()) == {member_key(KEY, "ok_us")}
    assert [b.build_id for b in builds_for_member(platform.store, "ok_us")] == [result.build_id]
    assert builds_for_member(platform.store, "ok_br") == []
