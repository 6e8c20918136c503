"""Cohort-sharded builds: layout, manifest, keyed assignment, lineage per shard, partial rebuilds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from migrating import migrated
from sqlalchemy import inspect

from consentry.errors import BuildError, InputError, NotFoundError
from consentry.pipeline import build, read_manifest, rebuild, stale_builds
from consentry.pipeline.keys import member_key
from consentry.pipeline.manifest import members_digest
from consentry.pipeline.models import register_model
from consentry.pipeline.registry import build_members, shards_for_member
from consentry.pipeline.retrain import affected_shards, retrain_plan
from consentry.pipeline.shards import shard_of
from consentry.store import database
from consentry.store.protocol import Member, NewEvent
from consentry.timeutil import utcnow
from consentry.vocab import Choice, Source
from pipeline.lake import AS_OF, GENAI, KEY, Platform, lake_records, record, t, write_parquet

CLI = [sys.executable, "-m", "consentry.cli"]
K = 4


def _lake(p: Platform, members: int = 40) -> Path:
    """The lake of every reason, plus `members` adult US members with 1 to 3 records each."""
    p.store.add_members(Member(f"m{i:03d}", "US", date(1980, 1, 1), t("2024-01-01"), None) for i in range(members))
    rows = lake_records() + [record(f"x{i}-{j}", f"m{i:03d}") for i in range(members) for j in range(i % 3 + 1)]
    return write_parquet(p.root / "lake" / "records.parquet", rows)


def _build(p: Platform, src: Path, out: str, **kw: Any) -> Any:
    return build(p.store, GENAI, [src], p.root / out, as_of=AS_OF, key=KEY, **kw)


def _rows(out: Path, rel: str) -> pa.Table:
    return pq.read_table(out / rel)


def test_a_sharded_build_splits_members_by_keyed_hash_and_lists_every_shard(platform: Platform) -> None:
    src = _lake(platform)
    whole = _build(platform, src, "whole", scrub=False)
    sharded = _build(platform, src, "sharded", scrub=False, shards=K)
    again = _build(platform, src, "again", scrub=False, shards=K)
    one, many = read_manifest(whole.out_dir), read_manifest(sharded.out_dir)
    assert "shards" not in one and all(f["path"].startswith("part-") for f in one["files"])
    assert many["counts"] == one["counts"] and many["members_digest"] == one["members_digest"]
    assert [f["sha256"] for f in read_manifest(again.out_dir)["files"]] == [f["sha256"] for f in many["files"]]
    block = many["shards"]
    assert block["count"] == K and len(block["entries"]) == K and block["sources_sha256"][0]["path"] == str(src)
    all_rows = pq.read_table(whole.out_dir / one["files"][0]["path"]).column("record_id").to_pylist()
    seen: list[str] = []
    for entry in block["entries"]:
        table = pa.concat_tables([_rows(sharded.out_dir, f) for f in entry["files"]])
        keys = table.column("member_key")
        assert set(shard_of(keys, K).tolist()) <= {entry["shard"]}
        assert entry["records"] == table.num_rows and entry["members"] == len(set(keys.to_pylist()))
        assert entry["members_digest"] == members_digest(keys.to_pylist())
        assert all(f.startswith(f"shard={entry['shard']:05d}/") for f in entry["files"])
        ids = table.column("record_id").to_pylist()
        assert ids == [r for r in all_rows if r in set(ids)]  # each shard keeps the build's row order
        seen += ids
    assert sorted(seen) == sorted(all_rows)
    assert sum(e["records"] for e in block["entries"]) == many["counts"]["included"]
    # the shard is keyed: the same members under another key fall elsewhere
    ids = [f"m{i:03d}" for i in range(40)]
    mine = shard_of(pa.array([member_key(KEY, m) for m in ids]), K).tolist()
    other = shard_of(pa.array([member_key(b"another-key", m) for m in ids]), K).tolist()
    assert mine != other and len(set(mine)) == K


def test_scrubbing_after_the_split_keeps_each_shards_pii(platform: Platform) -> None:
    platform.store.add_members(Member(f"m{i}", "US", date(1980, 1, 1), t("2024-01-01"), None) for i in range(8))
    rows = [record(f"x{i}", f"m{i}", text=f"write to m{i}.person@example.com today") for i in range(8)]
    src = write_parquet(platform.root / "lake" / "records.parquet", rows)
    done = _build(platform, src, "out", shards=3)
    manifest = read_manifest(done.out_dir)
    found = [e["pii"].get("EMAIL", 0) for e in manifest["shards"]["entries"]]
    assert manifest["pii"]["EMAIL"] == sum(found) == 8
    assert found == [e["records"] for e in manifest["shards"]["entries"]]  # one address per record, per shard
    texts = pq.read_table(done.out_dir / manifest["files"][0]["path"]).column("text").to_pylist()
    assert texts and not any("example.com" in x for x in texts)


@pytest.mark.parametrize("count", ["0", "4097"])
def test_a_shard_count_out_of_range_is_one_line_and_writes_nothing(platform: Platform, count: str) -> None:
    src = _lake(platform, members=3)
    env = {**os.environ, "CONSENTRY_DB": platform.url, "CONSENTRY_PSEUDONYM_KEY": KEY.decode()}
    args = ["build", "--purpose", GENAI, "--source", str(src), "--out", str(platform.root / "o"), "--shards", count]
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "--shards" in done.stderr and "4096" in done.stderr
    assert not (platform.root / "o").exists() and platform.store.builds.complete() == []


def test_lineage_and_a_partial_rebuild_work_shard_by_shard(any_platform: Platform) -> None:
    p = any_platform
    src = _lake(p)
    first = _build(p, src, "v1", scrub=False, shards=K)
    (target,) = shards_for_member(p.store, "m005")
    assert target[0].build_id == first.build_id and target[0].shards == K
    shard = target[1]
    p.store.record(NewEvent("m005", GENAI, Choice.DENY, t("2024-12-01"), Source.SETTINGS))

    (stale,) = stale_builds(p.store)
    assert stale.to_dict()["stale_shards"] == [{"shard": shard, "members": 1, "records": 3}]
    second = rebuild(p.store, first.build_id, p.root / "v2", key=KEY, only_affected_shards=True)
    assert second.rebuilt_shards == (shard,) and second.predecessor == first.build_id
    fresh = _build(p, src, "fresh", scrub=False, shards=K)  # the same build, written whole, under the same ledger
    old, new, whole = (read_manifest(r.out_dir) for r in (first, second, fresh))
    assert new["files"] == whole["files"] and new["counts"] == whole["counts"] and new["pii"] == whole["pii"]
    assert new["members_digest"] == whole["members_digest"] and new["shards"]["carried_from"] == first.build_id
    for before, after in zip(old["shards"]["entries"], new["shards"]["entries"], strict=True):
        if before["shard"] == shard:
            assert after["built_by"] == second.build_id and after["members"] == before["members"] - 1
            continue
        assert after == before  # carried over: the original's entry, hashes and all
        for rel in after["files"]:
            assert os.path.samefile(first.out_dir / rel, second.out_dir / rel) or (
                (first.out_dir / rel).read_bytes() == (second.out_dir / rel).read_bytes()
            )
    members = build_members(p.store, second.build_id)
    assert "m005" not in members.column("member_id").to_pylist() and members.column_names[-1] == "shard"
    assert [b.build_id for b, _ in shards_for_member(p.store, "m005")] == [first.build_id]


def test_a_partial_rebuild_is_refused_when_it_cannot_vouch_for_the_shards_it_keeps(platform: Platform) -> None:
    src = _lake(platform, members=6)
    unsharded = _build(platform, src, "flat", scrub=False)
    with pytest.raises(InputError, match="not sharded"):
        rebuild(platform.store, unsharded.build_id, platform.root / "x", key=KEY, only_affected_shards=True)
    first = _build(platform, src, "v1", scrub=False, shards=3)
    table = pq.read_table(src)
    pq.write_table(table.slice(1), src)  # one record fewer: the lake changed
    with pytest.raises(BuildError, match=r"changed since build .*SHA-256"):
        rebuild(platform.store, first.build_id, platform.root / "x", key=KEY, only_affected_shards=True)
    pq.write_table(table, src)
    manifest = first.out_dir / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"count": 3', '"count": 3 '))
    with pytest.raises(BuildError, match=r"not build .*replaced"):
        rebuild(platform.store, first.build_id, platform.root / "x", key=KEY, only_affected_shards=True)
    manifest.unlink()
    with pytest.raises(BuildError, match="missing"):
        rebuild(platform.store, first.build_id, platform.root / "x", key=KEY, only_affected_shards=True)
    assert not (platform.root / "x").exists() and len(platform.store.builds.complete()) == 2


def test_0013_adds_the_shard_count_and_a_downgrade_removes_it(store_url: str) -> None:
    eng = database.create_store_engine(store_url)
    with migrated(eng, "upgrade", "heads") as conn:
        assert "shards" in {c["name"] for c in inspect(conn).get_columns("builds")}
    with migrated(eng, "downgrade", "0010") as conn:
        assert "shards" not in {c["name"] for c in inspect(conn).get_columns("builds")}
    with migrated(eng, "upgrade", "heads") as conn:
        assert "shards" in {c["name"] for c in inspect(conn).get_columns("builds")}
    eng.dispose()


def test_affected_shards_name_the_shards_holding_members_and_their_share(platform: Platform) -> None:
    src = _lake(platform)
    done = _build(platform, src, "out", scrub=False, shards=K)
    entries = read_manifest(done.out_dir)["shards"]["entries"]
    (m5,) = shards_for_member(platform.store, "m005")
    (m7,) = shards_for_member(platform.store, "m007")
    plan = affected_shards(platform.store, done.build_id, ["m005", "m007", "m005", "not-in-it"])
    wanted = sorted({m5[1], m7[1]})
    assert [s["shard"] for s in plan.affected] == wanted
    assert [s["records"] for s in plan.affected] == [entries[s]["records"] for s in wanted]
    assert sum(s["affected_members"] for s in plan.affected) == 2
    assert plan.share == pytest.approx(sum(entries[s]["records"] for s in wanted) / plan.records)
    assert affected_shards(platform.store, done.build_id, []).to_dict()["share"] == 0


def test_retrain_plan_names_the_shards_with_open_obligations_until_a_partial_rebuild_meets_them(
    platform: Platform,
) -> None:
    p = platform
    src = _lake(p)
    first = _build(p, src, "v1", scrub=False, shards=K, now=utcnow())
    register_model(p.store, "ranker", "1", [first.build_id])
    for member in ("m005", "m007"):
        p.store.record(NewEvent(member, GENAI, Choice.DENY, None, Source.SETTINGS))
    shards = sorted({s for m in ("m005", "m007") for _, s in shards_for_member(p.store, m)})
    env = {**os.environ, "CONSENTRY_DB": p.url, "CONSENTRY_PSEUDONYM_KEY": KEY.decode()}
    done = subprocess.run(
        [*CLI, "models", "retrain-plan", "--model", "ranker"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    (plan,) = json.loads(done.stdout)
    assert (plan["name"], plan["version"], plan["build_id"]) == ("ranker", "1", first.build_id)
    assert [s["shard"] for s in plan["affected_shards"]] == shards
    assert plan["share"] == pytest.approx(plan["records_to_retrain"] / plan["records"]) and plan["share"] < 1
    # Retrained only on the rebuilt shards of a partial rebuild: the obligations are met, nothing is left to plan
    second = rebuild(p.store, first.build_id, p.root / "v2", key=KEY, only_affected_shards=True)
    assert second.rebuilt_shards == tuple(shards)
    register_model(p.store, "ranker", "2", [second.build_id])
    assert retrain_plan(p.store, "ranker") == []
    with pytest.raises(NotFoundError):
        retrain_plan(p.store, "no-such-model")
