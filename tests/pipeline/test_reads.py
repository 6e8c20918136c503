"""Reading the builds registry writes nothing and opens no output file; reconciling and checking do, when asked."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from consentry.pipeline import builds_for_member, get_build, list_builds, stale_builds
from consentry.pipeline.registry import build_members, reconcile
from consentry.store.protocol import NewEvent
from consentry.vocab import Choice, Source
from pipeline.lake import KEY, Platform, lake_records, t, write_parquet
from pipeline.test_build import _build
from pipeline.watch import watch


def _killed_after_rename(p: Platform, built: object) -> str:
    """Register what a build killed between its rename and its completion leaves: a pending row matching OUT."""
    record = get_build(p.store, built.build_id)  # type: ignore[attr-defined]
    digest = hashlib.sha256((p.root / "out" / "manifest.json").read_bytes()).hexdigest()
    killed = replace(record, build_id="b-killed", manifest_sha256=digest)
    p.store.builds.register_pending(killed, build_members(p.store, record.build_id))
    return killed.build_id


def test_reads_write_nothing_and_open_no_output_file(any_platform: Platform) -> None:
    p = any_platform
    rows = [*lake_records(), {**lake_records()[0], "record_id": "r-gone", "deleted_at": None}]
    built = _build(p, [write_parquet(p.root / "lake" / "records.parquet", rows)])
    killed = _killed_after_rename(p, built)
    rows[-1] = {**rows[-1], "deleted_at": "2026-01-02T00:00:00Z"}  # deleted at the source after the build
    write_parquet(p.root / "lake" / "records.parquet", rows)
    p.store.record(NewEvent("ok_br", "genai_training", Choice.DENY, t("2026-01-01"), Source.SETTINGS))
    before = (p.store.builds.pending(), p.store.builds.complete())

    with watch(p.root / "out") as seen:
        for _ in range(3):
            listed = list_builds(p.store)
            assert builds_for_member(p.store, "ok_us") == listed
            get_build(p.store, built.build_id)  # type: ignore[attr-defined]
            stale = stale_builds(p.store, t("2026-02-01"))
    assert seen.writes == [] and seen.opened == []
    assert (p.store.builds.pending(), p.store.builds.complete()) == before
    assert [b.build_id for b in listed] == [built.build_id]  # type: ignore[attr-defined]
    (only,) = stale  # the opt-out is seen; deletions were never checked, and say so
    assert only.causes == {"OPTED_OUT": {"members": 1, "records": 1}}
    assert only.unchecked == ("RECORD_DELETED",) and only.deletions_checked_at is None

    with watch(p.root / "out") as asked:  # asked for: the pending row is completed, the lake re-read
        assert reconcile(p.store) == [killed]
        checked, _ = stale_builds(p.store, t("2026-02-01"), check_deletions=True, key=KEY)
    assert asked.writes and str(p.root / "out" / "manifest.json") in asked.opened
    assert {b.build_id for b in list_builds(p.store)} == {built.build_id, killed}  # type: ignore[attr-defined]
    assert checked.causes["RECORD_DELETED"] == {"members": 1, "records": 1}

    with watch(p.root / "out") as later:  # the check's result is shown later, with the time it was taken
        shown, _ = stale_builds(p.store, t("2026-03-01"))
    assert later.writes == [] and later.opened == []
    assert shown.causes["RECORD_DELETED"] == {"members": 1, "records": 1}
    assert shown.deletions_checked_at == t("2026-02-01") and shown.unchecked == ()
