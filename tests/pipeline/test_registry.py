"""The build registry and lineage: list, for-member, stale, rebuild — library and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from consentry.errors import NotFoundError
from consentry.pipeline import builds_for_member, get_build, list_builds, read_manifest
from consentry.pipeline.registry import BuildRecord, EarlyRegistration, build_members
from pipeline.lake import AS_OF, GENAI, KEY, Platform, lake_records, t, write_parquet
from pipeline.test_build import _build

CLI = [sys.executable, "-m", "consentry.cli"]


def _cli(p: Platform, *args: str) -> Any:
    """Run the real CLI in a fresh process (the way schedulers call it); return its JSON output."""
    env = {**os.environ, "CONSENTRY_DB": p.url, "CONSENTRY_PSEUDONYM_KEY": KEY.decode()}
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_builds_are_registered_with_their_members(any_platform: Platform) -> None:
    platform = any_platform
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    first = _build(platform, [src], out="one")
    second = _build(platform, [src], out="two")
    listed = list_builds(platform.store)
    assert [b.build_id for b in listed] == [first.build_id, second.build_id]  # type: ignore[attr-defined]
    record = get_build(platform.store, first.build_id)  # type: ignore[attr-defined]
    assert record.purpose == GENAI and record.as_of == AS_OF and record.members == 2
    assert record.manifest_sha256 == first.manifest_sha256  # type: ignore[attr-defined]
    assert record.counts["included"] == 4 and record.predecessor is None
    members = build_members(platform.store, first.build_id).to_pylist()  # type: ignore[attr-defined]
    assert members == [{"member_id": "ok_br", "records": 1}, {"member_id": "ok_us", "records": 3}]
    assert [b.build_id for b in builds_for_member(platform.store, "ok_us")] == [b.build_id for b in listed]
    assert builds_for_member(platform.store, "eu_fr") == []
    with pytest.raises(NotFoundError, match="builds list"):
        get_build(platform.store, "b-nope")


def test_cli_build_list_and_for_member(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    out = _cli(
        platform, "build", "--purpose", GENAI, "--source", str(src), "--out", str(platform.root / "o"),
        "--as-of", "2025-01-15T00:00:00Z", "--no-scrub",
    )  # fmt: skip
    assert out["counts"]["included"] == 4 and Path(out["manifest"]).is_file()
    listed = _cli(platform, "builds", "list")
    assert [b["build_id"] for b in listed] == [out["build_id"]]
    assert [b["build_id"] for b in _cli(platform, "builds", "for-member", "ok_us")] == [out["build_id"]]
    assert _cli(platform, "builds", "for-member", "eu_fr") == []


def test_cli_errors_are_one_clean_line(platform: Platform) -> None:
    env = {**os.environ, "CONSENTRY_DB": platform.store.url}
    args = ["build", "--purpose", GENAI, "--source", str(platform.root / "missing.parquet"), "--out", "x", "--no-scrub"]
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "missing.parquet" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_stale_builds_and_rebuild_after_withdrawals(any_platform: Platform) -> None:
    platform = any_platform
    from consentry.store.protocol import NewEvent
    from consentry.vocab import Choice, Source

    rows = [*lake_records(), {**lake_records()[0], "record_id": "r-ok-us-gone", "deleted_at": None}]
    src = write_parquet(platform.root / "lake" / "records.parquet", rows)
    first = _build(platform, [src], out="v1")
    assert first.counts["included"] == 5  # type: ignore[attr-defined]
    # after the build: ok_br opts out, ok_us deletes one record
    platform.store.record(NewEvent("ok_br", GENAI, Choice.DENY, t("2026-01-01"), Source.SETTINGS))
    rows[-1] = {**rows[-1], "deleted_at": "2026-01-02T00:00:00Z"}
    write_parquet(platform.root / "lake" / "records.parquet", rows)

    stale = _cli(platform, "builds", "stale")
    assert len(stale) == 1 and stale[0]["build_id"] == first.build_id  # type: ignore[attr-defined]
    assert stale[0]["causes"] == {
        "OPTED_OUT": {"members": 1, "records": 1},
        "RECORD_DELETED": {"members": 1, "records": 1},
    }
    assert stale[0]["stale_members"] == 1 and stale[0]["stale_records"] == 2

    again = _cli(platform, "builds", "rebuild", first.build_id, "--out", str(platform.root / "v2"))  # type: ignore[attr-defined]
    assert again["predecessor"] == first.build_id  # type: ignore[attr-defined]
    assert again["counts"]["included"] == 3
    manifest = read_manifest(platform.root / "v2")
    assert manifest["predecessor"] == first.build_id and manifest["as_of"] == "2025-01-15T00:00:00Z"  # type: ignore[attr-defined]
    assert [s["build_id"] for s in _cli(platform, "builds", "stale")] == [first.build_id]  # type: ignore[attr-defined]


def test_an_early_registration_is_invisible_until_complete_and_abandon_removes_it(any_platform: Platform) -> None:
    import pyarrow as pa

    from consentry.pipeline.keys import member_key

    p = any_platform
    ids = [f"m{i:06d}" for i in range(5000)]
    members = pa.table(
        {
            "member_id": ids,
            "member_key": [member_key(KEY, m) for m in ids],
            "records": pa.array([1 + i % 3 for i in range(len(ids))], pa.int64()),
        }
    )
    pending = BuildRecord("b-early", GENAI, AS_OF, t("2025-02-01"), str(p.root / "o"), "local", {}, None, 5000, None)
    kept = EarlyRegistration(p.store, pending, members)
    dropped = EarlyRegistration(p.store, BuildRecord(**{**pending.__dict__, "build_id": "b-dropped"}), members)
    assert kept.members_digest() == read_digest(members)
    dropped.abandon()
    kept.finish(BuildRecord(**{**pending.__dict__, "counts": {"included": 10}, "manifest_sha256": "ab" * 32}))
    assert list_builds(p.store) == [] and builds_for_member(p.store, "m000001") == []  # pending: never shown
    assert build_members(p.store, "b-dropped").num_rows == 0
    p.store.builds.mark_complete("b-early")
    (record,) = list_builds(p.store)
    assert record.counts == {"included": 10} and record.manifest_sha256 == "ab" * 32
    assert build_members(p.store, "b-early").column("records").to_pylist() == members.column("records").to_pylist()
    assert [b.build_id for b in builds_for_member(p.store, "m004999")] == ["b-early"]
    p.store.builds.update_pending(BuildRecord(**{**pending.__dict__, "counts": {}}))  # complete builds stay as they are
    assert get_build(p.store, "b-early").counts == {"included": 10}


def read_digest(members: Any) -> str:
    """The members digest recomputed from Python strings (the manifest's definition)."""
    import hashlib

    keys = sorted(members.column("member_key").to_pylist())
    return hashlib.sha256("".join(k + "\n" for k in keys).encode()).hexdigest()
