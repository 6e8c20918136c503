"""Builds end to end: every reason code, malformed rows, determinism, later withdrawals, readers."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.errors import BuildError, InputError
from consentry.pipeline import build, read_manifest
from consentry.pipeline.keys import member_key
from consentry.store import member_image
from consentry.vocab import ReasonCode
from pipeline.lake import (
    AS_OF,
    EXPECTED,
    GENAI,
    KEY,
    MEMBERS,
    Platform,
    lake_records,
    record,
    t,
    write_csv,
    write_jsonl,
    write_parquet,
)

MANIFEST_FIELDS = {
    "dataset_id",
    "purpose",
    "as_of",
    "policy",
    "terms_version",
    "ledger",
    "counts",
    "pii",
    "members_digest",
    "files",
    "engine",
    "consentry_version",
    "created_at",
    "build_id",
    "predecessor",
    "scrubber",
}


def _build(p: Platform, sources: list[Path], out: str = "out", **kw: object) -> object:
    kw.setdefault("as_of", AS_OF)
    kw.setdefault("scrub", False)
    kw.setdefault("key", KEY)
    return build(p.store, GENAI, sources, p.root / out, **kw)  # type: ignore[arg-type]


def _read(out: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted(out.glob("part-*.parquet"))])


def _excluded(manifest: dict[str, object]) -> dict[str, int]:
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    return {k: v for k, v in counts["excluded"].items() if v}


def test_every_reason_of_a_build_is_counted_once(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake" / "records.parquet", lake_records())
    result = _build(platform, [src])
    manifest = read_manifest(platform.root / "out")
    expected_excluded = {k: v for k, v in EXPECTED.items() if k != "ALLOWED"}
    assert _excluded(manifest) == expected_excluded
    assert manifest["counts"]["included"] == EXPECTED["ALLOWED"]
    assert manifest["counts"]["input"] == sum(EXPECTED.values())
    assert set(manifest) >= MANIFEST_FIELDS
    assert manifest["policy"]["version"] == "2024-11-20"
    assert manifest["ledger"]["events"] == platform.store.head()[0]
    assert manifest["members"] == 2
    assert result.members == 2  # type: ignore[attr-defined]
    table = _read(platform.root / "out")
    assert sorted(table.column("record_id").to_pylist()) == ["r-ok-br", "r-ok-us-0", "r-ok-us-1", "r-ok-us-2"]
    assert table.column_names == ["record_id", "member_key", "kind", "created_at", "text", "language"]
    assert set(table.column("member_key").to_pylist()) == {member_key(KEY, "ok_us"), member_key(KEY, "ok_br")}
    # member_key has always been an optional Parquet column, whatever DuckDB knows of its nulls (same bytes)
    assert table.schema.field("member_key").nullable


def test_counts_of_members_too_large_to_pack_are_counted_one_class_at_a_time(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counting pass packs a member's counts per class into shared sums while every member has fewer than
    2^PACK_BITS records; with one bit, any member with two records is too large, and the classes are counted
    one aggregate each: the same counts, members and rows."""
    from consentry.pipeline.engines import local, local_sql

    src = write_parquet(platform.root / "lake" / "records.parquet", lake_records())
    packed = _build(platform, [src], out="packed")
    monkeypatch.setattr(local_sql, "PACK_BITS", 1)
    monkeypatch.setattr(local, "PACK_BITS", 1)
    exact = _build(platform, [src], out="exact")
    assert exact.counts == packed.counts  # type: ignore[attr-defined]
    assert _excluded(read_manifest(platform.root / "exact")) == {k: v for k, v in EXPECTED.items() if k != "ALLOWED"}
    assert (
        read_manifest(platform.root / "exact")["members_digest"]
        == read_manifest(platform.root / "packed")["members_digest"]
    )
    assert _read(platform.root / "exact").equals(_read(platform.root / "packed"))


def test_output_never_holds_member_ids_or_the_key(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    _build(platform, [src])
    for f in (platform.root / "out").iterdir():
        data = f.read_bytes()
        assert b"ok_us" not in data and b"ok_br" not in data
        assert KEY not in data and KEY.hex().encode() not in data


def test_records_before_disclosure_and_in_the_notice_period(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    _build(platform, [src], out="v1", as_of=t("2024-08-01"))
    before = _excluded(read_manifest(platform.root / "v1"))
    assert before == {"CREATED_AFTER_AS_OF": len(lake_records())}
    assert read_manifest(platform.root / "v1")["counts"]["included"] == 0
    early = [record("r-early", "ok_us", created="2024-07-01T00:00:00Z")]
    src2 = write_parquet(platform.root / "early.parquet", early)
    _build(platform, [src2], out="v1b", as_of=t("2024-08-01"))
    assert _excluded(read_manifest(platform.root / "v1b")) == {"NOT_DISCLOSED": 1}
    eu = [record("r-eu", "eu_fr", created="2025-11-05T00:00:00Z")]
    src3 = write_parquet(platform.root / "eu.parquet", eu)
    _build(platform, [src3], out="v3", as_of=t("2025-11-10"))
    assert _excluded(read_manifest(platform.root / "v3")) == {"NOTICE_PERIOD": 1}


def test_opt_in_purpose_without_allow_is_not_opted_in(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", [record("r-profile", "ok_us", kind="profile")])
    build(platform.store, "ads_partners", [src], platform.root / "ads", as_of=AS_OF, scrub=False, key=KEY)
    assert _excluded(read_manifest(platform.root / "ads")) == {"NOT_OPTED_IN": 1}


def test_malformed_rows_are_counted_never_included(platform: Platform) -> None:
    good = [record("j-ok", "ok_us"), record("j-ok2", "ok_br")]
    bad = [
        record("j-bad-time", "ok_us", created="yesterday"),
        record("j-naive-time", "ok_us", created="2024-12-01T00:00:00"),
        record("j-bad-deleted", "ok_us", deleted="soon"),
        {**record("j-int-text", "ok_us"), "text": 42},
        {**record("", "ok_us")},
        {k: v for k, v in record("j-no-member", "ok_us").items() if k != "member_id"},
    ]
    raw = ["{not json", "[1, 2]", '{"record_id": "j-surrogate", "text": "\\ud800"}']
    src = write_jsonl(platform.root / "lake" / "a.jsonl", good + bad, raw)
    _build(platform, [src])
    manifest = read_manifest(platform.root / "out")
    assert _excluded(manifest) == {"MALFORMED": len(bad) + len(raw)}
    assert manifest["counts"]["included"] == 2


def test_csv_and_parquet_sources_agree(platform: Platform) -> None:
    rows = lake_records()
    a = write_parquet(platform.root / "p" / "lake.parquet", rows)
    b = write_csv(platform.root / "c" / "lake.csv", rows)
    c = write_jsonl(platform.root / "j" / "lake.jsonl", rows)
    _build(platform, [a], out="pq")
    _build(platform, [b], out="csv")
    _build(platform, [c], out="jsonl")
    digests = {
        name: [f["sha256"] for f in read_manifest(platform.root / name)["files"]] for name in ("pq", "csv", "jsonl")
    }
    assert digests["pq"] == digests["csv"] == digests["jsonl"]


def test_same_inputs_give_byte_identical_files(platform: Platform) -> None:
    rows = lake_records()
    half = len(rows) // 2
    write_parquet(platform.root / "lake" / "b.parquet", rows[:half])
    write_parquet(platform.root / "lake" / "a.parquet", rows[half:])
    _build(platform, [platform.root / "lake"], out="one")
    _build(platform, [str(platform.root / "lake" / "*.parquet")], out="two")
    one, two = read_manifest(platform.root / "one"), read_manifest(platform.root / "two")
    assert one["files"] == two["files"]
    assert one["members_digest"] == two["members_digest"]
    for f in one["files"]:
        data = (platform.root / "two" / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
    ids = _read(platform.root / "one").column("record_id").to_pylist()
    source_order = [r["record_id"] for r in rows[half:] + rows[:half]]  # a.parquet, then b.parquet
    assert ids == [i for i in source_order if i in set(ids)]


def test_a_withdrawal_effective_after_t_excludes_the_member_from_a_replay_of_t(platform: Platform) -> None:
    from consentry.store.protocol import NewEvent
    from consentry.vocab import Choice, Source

    platform.store.record(NewEvent("ok_br", GENAI, Choice.DENY, t("2025-12-01"), Source.SETTINGS))
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    _build(platform, [src])
    manifest = read_manifest(platform.root / "out")
    assert manifest["counts"]["excluded"]["OPTED_OUT"] == EXPECTED["OPTED_OUT"] + 1
    assert manifest["counts"]["included"] == EXPECTED["ALLOWED"] - 1
    assert member_key(KEY, "ok_br") not in _read(platform.root / "out").column("member_key").to_pylist()


def test_a_withdrawal_recorded_after_the_build_moment_wins_on_the_next_build(platform: Platform) -> None:
    from consentry.store.protocol import NewEvent
    from consentry.vocab import Choice, Source

    src = write_parquet(platform.root / "lake.parquet", lake_records())
    _build(platform, [src], out="before")
    # effective long after T, recorded now: replaying T must not bring the data back
    platform.store.record(NewEvent("ok_br", GENAI, Choice.DENY, t("2025-12-01"), Source.SETTINGS))
    _build(platform, [src], out="after")
    before, after = read_manifest(platform.root / "before"), read_manifest(platform.root / "after")
    assert after["counts"]["included"] == before["counts"]["included"] - 1
    assert after["counts"]["excluded"]["OPTED_OUT"] == before["counts"]["excluded"]["OPTED_OUT"] + 1
    assert after["members_digest"] != before["members_digest"]


def test_a_closure_after_a_build_is_read_through_the_member_image_it_left(any_platform: Platform) -> None:
    src = write_parquet(any_platform.root / "lake.parquet", lake_records())
    _build(any_platform, [src], out="before")
    with any_platform.store._engine.connect() as c:
        image = member_image.load_image(c)  # the first build found none and wrote it
        assert image is not None and image[1].num_rows == len(MEMBERS)
    any_platform.store.close_account("ok_br", t("2025-08-01"))
    _build(any_platform, [src], out="after")
    before, after = read_manifest(any_platform.root / "before"), read_manifest(any_platform.root / "after")
    moved = after["counts"]["excluded"]["ACCOUNT_CLOSED"] - before["counts"]["excluded"]["ACCOUNT_CLOSED"]
    assert moved > 0 and after["counts"]["included"] < before["counts"]["included"]
    assert member_key(KEY, "ok_br") in _read(any_platform.root / "before").column("member_key").to_pylist()
    assert member_key(KEY, "ok_br") not in _read(any_platform.root / "after").column("member_key").to_pylist()


def test_existing_out_is_refused_without_force(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    first = _build(platform, [src])
    with pytest.raises(BuildError, match="--force"):
        _build(platform, [src])
    second = _build(platform, [src], force=True)
    assert second.build_id != first.build_id  # type: ignore[attr-defined]
    assert read_manifest(platform.root / "out")["build_id"] == second.build_id  # type: ignore[attr-defined]
    assert [p.name for p in platform.root.iterdir() if ".consentry-" in p.name] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: {k: v for k, v in r.items() if k != "visibility"}, "visibility"),
        (lambda r: {**r, "text": 7}, "text"),
        (lambda r: {**r, "created_at": 7}, "created_at"),
    ],
)
def test_bad_parquet_schema_names_file_and_column(platform: Platform, change: object, field: str) -> None:
    rows = [change(r) for r in lake_records()]  # type: ignore[operator]
    path = platform.root / "bad.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    with pytest.raises(InputError) as err:
        _build(platform, [path])
    assert str(path) in str(err.value) and field in str(err.value)
    assert not (platform.root / "out").exists()


def test_missing_source_and_missing_jsonl_column(platform: Platform) -> None:
    with pytest.raises(InputError, match="no such file"):
        _build(platform, [platform.root / "nope.parquet"])
    rows = [{k: v for k, v in r.items() if k != "kind"} for r in lake_records()]
    path = write_jsonl(platform.root / "nokind.jsonl", rows)
    with pytest.raises(InputError) as err:
        _build(platform, [path])
    assert "nokind.jsonl" in str(err.value) and "kind" in str(err.value)
    assert not (platform.root / "out").exists()


def test_output_reads_with_pyarrow_duckdb_and_datasets(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    _build(platform, [src])
    files = sorted(str(p) for p in (platform.root / "out").glob("part-*.parquet"))
    n = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet({files!r})").fetchall()
    assert n == [(EXPECTED["ALLOWED"],)]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from datasets import load_dataset

    ds = load_dataset("parquet", data_files=files, split="train", cache_dir=str(platform.root / "hf"))
    assert ds.num_rows == EXPECTED["ALLOWED"]
    assert set(ds.column_names) >= {"record_id", "member_key", "text"}
    assert json.loads((platform.root / "out" / "manifest.json").read_text())["files"][0]["rows"] == 4


def test_unknown_purpose_and_future_as_of(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    with pytest.raises(InputError, match="unknown purpose"):
        build(platform.store, "nope", [src], platform.root / "o", scrub=False)
    with pytest.raises(InputError, match="future"):
        _build(platform, [src], as_of=t("2999-01-01"))


def test_nothing_included_still_writes_a_readable_empty_shard(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", [record("r-x", "eu_fr")])
    _build(platform, [src])
    table = _read(platform.root / "out")
    assert table.num_rows == 0 and "member_key" in table.column_names
    assert ReasonCode.REGION_EXCLUDED.value in _excluded(read_manifest(platform.root / "out"))


def test_members_digest_is_the_same_from_arrow_and_from_python_strings() -> None:
    from consentry.pipeline.manifest import members_digest

    keys = [member_key(KEY, f"m{i}") for i in range(3000)] + ["é", "Z", "a", ""]
    expected = hashlib.sha256("".join(k + "\n" for k in sorted(set(keys))).encode()).hexdigest()
    assert members_digest(keys + keys[:7]) == expected
    assert members_digest(pa.chunked_array([keys[:10], keys[10:] + keys[:7]])) == expected
    assert members_digest(pa.array([], pa.string())) == hashlib.sha256(b"").hexdigest()


def test_duplicate_record_ids_in_any_source_order_give_byte_identical_files(platform: Platform) -> None:
    first = [record(f"dup-{i}", "ok_us", text=f"first copy {i}") for i in range(50)]
    second = [record(f"dup-{i}", "ok_us", text=f"second copy {i}", language="fr") for i in range(50)]
    a = write_parquet(platform.root / "a.parquet", first)
    b = write_parquet(platform.root / "b.parquet", second)
    _build(platform, [a, b], out="ab")
    _build(platform, [b, a], out="ba")
    ab, ba = read_manifest(platform.root / "ab"), read_manifest(platform.root / "ba")
    assert ab["counts"]["included"] == 100
    assert [f["sha256"] for f in ab["files"]] == [f["sha256"] for f in ba["files"]]


def _lake_file(path: Path, rows: list[dict[str, object]], *, deleted: bool) -> Path:
    """Rows as Parquet in small row groups (so DuckDB reads each file in many batches on every thread)."""
    write_parquet(path, rows)
    table = pq.read_table(path)
    if not deleted:
        table = table.drop_columns(["deleted_at"])
    pq.write_table(table, path, row_group_size=500)
    return path


@pytest.mark.parametrize("unit_bytes", [None, 1], ids=["default-units", "a-unit-per-row-group"])
def test_rows_keep_the_sources_order_whatever_the_order_of_the_options(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, unit_bytes: int | None
) -> None:
    """The write is cut into units written side by side; the rows still come out in source order."""
    import random

    from consentry.pipeline.engines import local_sql

    if unit_bytes is not None:
        monkeypatch.setattr(local_sql, "MIN_UNIT_BYTES", unit_bytes)
        monkeypatch.setattr(local_sql, "_UNITS_PER_THREAD", 10**6)

    rng = random.Random(7)
    members = ["ok_us", "ok_br", "optout_us", "eu_fr"]
    unique_ids = iter(rng.sample(range(10**9), 12_000))
    files: list[tuple[str, list[dict[str, object]]]] = []
    for name in ("c.parquet", "a.parquet", "b.parquet", "d.parquet"):
        rows = []
        for _ in range(3_000):
            rid = f"r{next(unique_ids):09d}"
            rows.append(record(rid, rng.choice(members), kind=rng.choice(["post", "comment", "private_message"])))
        files.append((name, rows))
    paths = [
        _lake_file(platform.root / "lake" / name, rows, deleted=name in ("a.parquet", "c.parquet"))
        for name, rows in files
    ]
    write_jsonl(platform.root / "lake" / "e.jsonl", files[0][1][:400])
    _build(platform, [platform.root / "lake"], out="dir")
    _build(platform, [*reversed(paths), platform.root / "lake" / "e.jsonl"], out="listed")
    _build(platform, [platform.root / "lake"], out="scrubbed", scrub=True)
    by_name = dict(files)
    # Parquet in path order (a, b, c, d: runs with other columns are not regrouped), then JSONL/CSV
    source_order = [r["record_id"] for name in sorted(by_name) for r in by_name[name]]
    source_order += [r["record_id"] for r in files[0][1][:400]]
    for out in ("dir", "listed", "scrubbed"):
        ids = _read(platform.root / out).column("record_id").to_pylist()
        assert len(ids) > 3_000
        included = set(ids)
        assert ids == [i for i in source_order if i in included], out
    dir_files = read_manifest(platform.root / "dir")["files"]
    assert [f["sha256"] for f in dir_files] == [f["sha256"] for f in read_manifest(platform.root / "listed")["files"]]
    if unit_bytes is not None:
        assert len(dir_files) > 10  # many units, many shards: the parallel path was taken


@pytest.mark.parametrize("scrub", [False, True], ids=["unscrubbed", "scrubbed"])
def test_rows_keep_the_sources_order_when_the_allowed_members_outnumber_the_records_kept(
    platform: Platform, scrub: bool
) -> None:
    """Many members with a record or two each: the join must still probe with the records, in their order.

    Left to its cost model, DuckDB builds the hash table from a filtered scan
    it estimates small; the rows then come out in the members' order.
    """
    import random

    from consentry.store.protocol import Member

    rng = random.Random(11)
    ids = [f"w{n:05d}" for n in range(6_000)]
    platform.store.add_members(Member(m, "US", date(1980, 1, 1), t("2020-01-01")) for m in ids)
    rng.shuffle(ids)  # records in an order that is not the members' order
    rows = [record(f"r{n:05d}-{m}", m) for n, m in enumerate(ids + ids[:2_000])]
    rows.insert(100, record("r-dm", ids[0], kind="private_message"))  # a filter that keeps most rows
    write_parquet(platform.root / "lake" / "a.parquet", rows)
    _build(platform, [platform.root / "lake"], scrub=scrub)
    got = _read(platform.root / "out").column("record_id").to_pylist()
    assert got == [r["record_id"] for r in rows if r["record_id"] != "r-dm"]


def test_a_memory_limit_below_two_units_need_still_gives_the_same_bytes(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consentry.pipeline.engines import local_sql

    monkeypatch.setattr(local_sql, "MIN_UNIT_BYTES", 1)  # a unit per row group: many units
    monkeypatch.setattr(local_sql, "_UNITS_PER_THREAD", 10**6)
    rows = [record(f"r{n:05d}", ["ok_us", "ok_br"][n % 2]) for n in range(4_000)]
    _lake_file(platform.root / "lake" / "a.parquet", rows, deleted=False)
    _build(platform, [platform.root / "lake"], out="roomy")
    _build(platform, [platform.root / "lake"], out="tight", memory_limit="300MB")  # below two units' need
    roomy, tight = (read_manifest(platform.root / out)["files"] for out in ("roomy", "tight"))
    assert len(roomy) > 4 and [f["sha256"] for f in tight] == [f["sha256"] for f in roomy]


@pytest.mark.parametrize(
    ("limit", "message"),
    [("lots", "'lots' is not a memory size"), ("1MB", "larger memory_limit")],
)
def test_a_memory_limit_that_is_not_a_size_or_too_small_is_a_clear_error(
    platform: Platform, limit: str, message: str
) -> None:
    write_parquet(platform.root / "lake" / "a.parquet", lake_records())
    with pytest.raises((InputError, BuildError), match=message):
        _build(platform, [platform.root / "lake"], memory_limit=limit)
    assert not (platform.root / "out").exists()


def test_rows_keep_the_sources_order_when_members_collide_in_the_join_hash_table(platform: Platform) -> None:
    """Members whose hashes share DuckDB's salt and low bits: probing for one of each pair takes an extra step.

    DuckDB emits such a row after the rest of its vector (for ids read as
    plain, not dictionary-encoded, strings), so a plain join over this lake
    puts rows out of order; each unit is sorted back into stored order.
    """
    import random

    from consentry.store.protocol import Member

    colliding = duckdb.sql(
        "SELECT list(id ORDER BY id) FROM (SELECT 'c' || lpad(i::VARCHAR, 7, '0') AS id FROM range(400000) t(i)) "
        "GROUP BY hash(id) >> 48, hash(id) & 65535 HAVING count(*) >= 2 ORDER BY 1 LIMIT 12"
    ).fetchall()
    ids = [m for (pair,) in colliding for m in pair]
    platform.store.add_members(Member(m, "US", date(1980, 1, 1), t("2020-01-01")) for m in ids)
    rng = random.Random(3)
    rows = [record(f"r{n:05d}", rng.choice(ids)) for n in range(20_000)]
    lake = write_parquet(platform.root / "lake" / "a.parquet", rows)
    pq.write_table(pq.read_table(lake), lake, use_dictionary=False)  # ids as plain strings, as in large lakes

    con = duckdb.connect(config={"threads": 1})
    con.execute("SET disabled_optimizers = 'in_clause,join_order,build_side_probe_side'")
    con.register("k", pa.table({"member_id": sorted(ids)}))
    joined = con.sql(f"SELECT r.record_id FROM read_parquet('{lake}') r JOIN k USING (member_id)").fetchall()
    plain = [rid for (rid,) in joined]
    assert plain != [r["record_id"] for r in rows]  # the premise: DuckDB's join alone lets rows drift

    _build(platform, [platform.root / "lake"])
    assert _read(platform.root / "out").column("record_id").to_pylist() == [r["record_id"] for r in rows]
