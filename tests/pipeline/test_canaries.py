"""Canaries planted by `build(..., canaries=N)`: where they go, what the manifest says, and rebuilds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from consentry.audit.canaries import FORMAT, commitment
from consentry.cli import app
from consentry.errors import InputError
from consentry.pipeline import build, read_manifest, rebuild
from consentry.store.canaries import CanaryRecord
from consentry.store.protocol import Member, NewEvent
from consentry.timeutil import utcnow
from consentry.vocab import Choice, Source
from pipeline.lake import AS_OF, GENAI, KEY, Platform, lake_records, record, t, write_parquet

K = 4


def _lake(p: Platform, members: int = 30) -> Path:
    p.store.add_members(Member(f"m{i:03d}", "US", date(1980, 1, 1), t("2024-01-01"), None) for i in range(members))
    rows = lake_records() + [record(f"x{i}-{j}", f"m{i:03d}") for i in range(members) for j in range(i % 3 + 1)]
    return write_parquet(p.root / "lake" / "records.parquet", rows)


def _build(p: Platform, src: Path, out: str, **kw: Any) -> Any:
    return build(p.store, GENAI, [src], p.root / out, as_of=AS_OF, key=KEY, **kw)


def _rows(out: Path) -> dict[str, str]:
    """record_id -> text over every file of a build."""
    files = read_manifest(out)["files"]
    table = pa.concat_tables([pq.read_table(out / f["path"]) for f in files])
    return dict(zip(table.column("record_id").to_pylist(), table.column("text").to_pylist(), strict=True))


def _planted(p: Platform, build_id: str) -> list[CanaryRecord]:
    return [c for c in p.store.canaries.canaries_for_builds([build_id]) if c.planted]


def _owners(src: Path) -> dict[str, str]:
    """record_id -> member_id in the lake."""
    table = pq.read_table(src, columns=["record_id", "member_id"])
    return dict(zip(table.column("record_id").to_pylist(), table.column("member_id").to_pylist(), strict=True))


def _strip(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if FORMAT.parse(line) is None)


def test_a_build_plants_n_canaries_r_times_into_one_members_records_and_keeps_them_secret(platform: Platform) -> None:
    p = platform
    src = _lake(p)
    plain = _build(p, src, "plain", scrub=False)
    done = _build(p, src, "canaries", scrub=False, canaries=5, canary_repeats=3)
    manifest, before = read_manifest(done.out_dir), read_manifest(plain.out_dir)
    stored = p.store.canaries.canaries_for_builds([done.build_id])
    planted = [c for c in stored if c.planted]
    assert len(planted) == 5 and len([c for c in stored if not c.planted]) == 5
    assert len({c.member_id for c in planted}) == 5 and len({c.text for c in stored}) == 10
    canary_set = p.store.canaries.canary_set(done.build_id)
    assert canary_set is not None and canary_set.planted == 5
    assert manifest["canaries"] == {"planted": 5, "commitment": commitment([c.text for c in planted], canary_set.salt)}
    assert done.to_dict()["canaries"] == manifest["canaries"]
    # the rest of the proof is as without canaries: counts, members, their digest, the records
    for field in ("counts", "members", "members_digest", "pii"):
        assert manifest[field] == before[field], field
    rows, plain_rows = _rows(done.out_dir), _rows(plain.out_dir)
    assert rows.keys() == plain_rows.keys()
    assert {r: _strip(x) for r, x in rows.items()} == plain_rows
    for c in planted:
        assert c.repeats == 3 and c.shard == 0 and c.record_ids
        assert {_owners(src)[r] for r in c.record_ids} == {c.member_id}
        copies = {r: x.split("\n").count(c.text) for r, x in rows.items() if c.text in x}
        assert set(copies) == set(c.record_ids) and sum(copies.values()) == 3
    controls = [c for c in stored if not c.planted]
    assert not any(c.text in x for c in controls for x in rows.values())
    assert all(c.member_id is None and c.repeats == 0 and not c.record_ids for c in controls)
    # secret: no canary text anywhere in the output but the records' text
    for path in done.out_dir.rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            assert "verification code" not in path.read_text(encoding="utf-8", errors="replace"), path
    # a build without canaries has no `canaries` in its manifest, nothing in the store
    assert "canaries" not in before and "canaries" not in plain.to_dict()
    assert p.store.canaries.canary_set(plain.build_id) is None


def test_without_canaries_a_build_is_byte_for_byte_what_it_was(platform: Platform) -> None:
    p = platform
    src = _lake(p)
    one = _build(p, src, "one", scrub=False, shards=K)
    two = _build(p, src, "two", scrub=False, shards=K)
    planted = _build(p, src, "planted", scrub=False, shards=K, canaries=2, canary_repeats=2)
    raw_one, raw_two = (o.out_dir / "manifest.json" for o in (one, two))
    names = (one.build_id, two.build_id)
    naming = ("lineage", "metadata_files", "build_id", "dataset_id", "created_at", "decided_at")
    assert json.loads(raw_one.read_text().replace(*names)) | {k: None for k in naming} == json.loads(
        raw_two.read_text()
    ) | {k: None for k in naming}
    assert [f["sha256"] for f in read_manifest(one.out_dir)["files"]] == [
        f["sha256"] for f in read_manifest(two.out_dir)["files"]
    ]
    # planting changes only the shards whose members carry a canary, byte for byte
    with_canaries = {c.shard for c in _planted(p, planted.build_id)}
    entries = read_manifest(planted.out_dir)["shards"]["entries"]
    plain_entries = read_manifest(one.out_dir)["shards"]["entries"]
    files_of = {f["path"]: f["sha256"] for f in read_manifest(one.out_dir)["files"]}
    planted_files = {f["path"]: f["sha256"] for f in read_manifest(planted.out_dir)["files"]}
    for new, old in zip(entries, plain_entries, strict=True):
        same = [planted_files[f] == files_of[f] for f in new["files"]]
        assert all(same) if new["shard"] not in with_canaries else not all(same), new["shard"]
        assert new["members_digest"] == old["members_digest"] and new["records"] == old["records"]


def test_canaries_survive_the_scrubber_and_are_not_counted_as_pii(platform: Platform) -> None:
    p = platform
    src = _lake(p, members=6)  # texts without personal data: the scrubber finds nothing
    done = _build(p, src, "scrubbed", canaries=2, canary_repeats=2)
    rows = _rows(done.out_dir)
    for c in _planted(p, done.build_id):
        assert sum(x.split("\n").count(c.text) for x in rows.values()) == 2
    assert not any(read_manifest(done.out_dir)["pii"].values())


def test_a_rebuild_drops_a_withdrawn_members_canaries_and_plants_the_others_again(platform: Platform) -> None:
    p = platform
    src = _lake(p)
    first = _build(p, src, "v1", scrub=False, canaries=4, canary_repeats=2, now=utcnow())
    before = _planted(p, first.build_id)
    gone = before[0]
    assert gone.member_id is not None
    p.store.record(NewEvent(gone.member_id, GENAI, Choice.DENY, None, Source.SETTINGS))
    second = rebuild(p.store, first.build_id, p.root / "v2", key=KEY)
    after = _planted(p, second.build_id)
    assert [(c.canary_id, c.text, c.member_id, c.repeats) for c in after] == [
        (c.canary_id, c.text, c.member_id, c.repeats) for c in before[1:]
    ]
    rows = _rows(second.out_dir)
    assert not any(gone.text in x for x in rows.values())
    assert all(sum(x.split("\n").count(c.text) for x in rows.values()) == 2 for c in after)
    controls = [c for c in p.store.canaries.canaries_for_builds([second.build_id]) if not c.planted]
    assert len(controls) == 3
    assert read_manifest(second.out_dir)["canaries"]["planted"] == 3
    assert read_manifest(second.out_dir)["canaries"]["commitment"] != read_manifest(first.out_dir)["canaries"]
    with pytest.raises(InputError, match="plants the canaries of build"):
        build(p.store, GENAI, [src], p.root / "v3", as_of=AS_OF, key=KEY, predecessor=first.build_id, canaries=2)


def test_a_partial_rebuild_keeps_canaries_in_carried_shards_and_drops_the_withdrawn(platform: Platform) -> None:
    p = platform
    src = _lake(p)
    first = _build(p, src, "v1", scrub=False, shards=K, canaries=6, now=utcnow())
    before = {c.canary_id: c for c in _planted(p, first.build_id)}
    gone = next(iter(before.values()))
    assert gone.member_id is not None
    p.store.record(NewEvent(gone.member_id, GENAI, Choice.DENY, None, Source.SETTINGS))
    second = rebuild(p.store, first.build_id, p.root / "v2", key=KEY, only_affected_shards=True)
    assert second.rebuilt_shards == (gone.shard,)
    after = {c.canary_id: c for c in _planted(p, second.build_id)}
    assert set(after) == set(before) - {gone.canary_id}
    for cid, c in after.items():
        assert (c.text, c.member_id, c.shard, c.record_ids) == (
            before[cid].text,
            before[cid].member_id,
            before[cid].shard,
            before[cid].record_ids,
        )
    rows = _rows(second.out_dir)
    assert not any(gone.text in x for x in rows.values())
    assert all(any(c.text in x for x in rows.values()) for c in after.values())


def test_canaries_refused_before_anything_is_written(platform: Platform) -> None:
    p = platform
    src = _lake(p, members=2)
    for kw, match in (
        ({"canaries": -1}, "--canaries: must be 0"),
        ({"canaries": 1, "canary_repeats": 0}, "--canary-repeats: must be 1"),
        ({"canaries": 50}, "50 canaries need as many members"),
    ):
        with pytest.raises(InputError, match=match):
            _build(p, src, "out", scrub=False, **kw)
        assert not (p.root / "out").exists()
    assert p.store.builds.complete() == [] and p.store.builds.pending() == []


def test_the_cli_plants_canaries_and_prints_only_their_number_and_commitment(platform: Platform) -> None:
    p = platform
    src = _lake(p, members=4)
    args = ["build", "--purpose", GENAI, "--source", str(src), "--as-of", "2025-01-15T00:00:00Z", "--no-scrub"]
    env = {"CONSENTRY_DB": p.url, "CONSENTRY_PSEUDONYM_KEY": "k" * 32}
    done = CliRunner().invoke(
        app, [*args, "--out", str(p.root / "o"), "--canaries", "2", "--canary-repeats", "4"], env=env
    )
    assert done.exit_code == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["canaries"]["planted"] == 2 and len(summary["canaries"]["commitment"]) == 64
    assert "verification" not in done.stdout + done.stderr
    bad = CliRunner().invoke(app, [*args, "--out", str(p.root / "x"), "--canaries", "9"], env=env)
    assert bad.exit_code != 0 and "Traceback" not in bad.stderr
    assert (
        bad.stderr.strip() == "error: --canaries: 9 canaries need as many members with allowed records; the build has 6"
    )
