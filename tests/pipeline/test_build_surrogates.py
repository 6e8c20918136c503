"""Builds with `surrogates="build"`: the same person, the same surrogate in every record of a build;
another build, other surrogates; the default keeps today's output."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.errors import InputError
from consentry.pipeline import build, read_manifest, rebuild
from consentry.pipeline.steps import scrub_step
from consentry.store.protocol import Member, NewEvent
from consentry.vocab import Choice, Source
from pipeline.lake import AS_OF, GENAI, KEY, Platform, record, t, write_parquet

TEXTS = [
    ("p-1", "ok_us", "Thanks Anna Weber for the talk, mail anna.weber@example.com"),
    ("p-2", "ok_us", "Dr. Weber replied: call +1 415 555 0132"),
    ("p-3", "ok_br", "Lunch with Anna Weber, phone +1 415 555 0132"),
]


def _texts(out: Path) -> dict[str, str]:
    table = pa.concat_tables([pq.read_table(p) for p in sorted(out.glob("part-*.parquet"))])
    return dict(zip(table.column("record_id").to_pylist(), table.column("text").to_pylist(), strict=True))


def test_surrogates_are_consistent_within_a_build_and_differ_across_builds(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", [record(r, m, text=t) for r, m, t in TEXTS])
    for out in ("one", "two"):
        build(platform.store, GENAI, [src], platform.root / out, as_of=AS_OF, key=KEY, surrogates="build")
    one, two = _texts(platform.root / "one"), _texts(platform.root / "two")
    assert not any("Weber" in t or "415 555 0132" in t for t in [*one.values(), *two.values()])
    assert all("+1 " in one[r] for r in ("p-2", "p-3"))  # the country code stays, the rest is drawn
    name = one["p-1"].split()[1:3]  # "Thanks <given> <family> for ..."
    assert " ".join(name) in one["p-3"] and name[1] in one["p-2"]  # the same person across records and members
    phone = one["p-2"].rsplit("call ", 1)[1]
    assert one["p-3"].endswith(phone)
    assert one["p-1"] != two["p-1"] and one["p-2"] != two["p-2"]  # each build its own key
    m1, m2 = read_manifest(platform.root / "one"), read_manifest(platform.root / "two")
    assert m1["scrubber"]["config"]["operators"]["PERSON"] == "pseudonym"
    assert m1["scrubber"]["surrogate_salt"] != m2["scrubber"]["surrogate_salt"]
    assert KEY.hex() not in (platform.root / "one" / "manifest.json").read_text()


def test_the_default_keeps_store_surrogates_and_no_salt(platform: Platform) -> None:
    step = scrub_step(KEY, "store")
    assert step.salt is None and step.key == KEY and step.config.operator_for("PERSON") == "surrogate"
    with pytest.raises(InputError, match="--surrogates"):
        scrub_step(KEY, "random")


def test_a_partial_rebuild_keeps_the_original_salt_and_a_whole_rebuild_draws_a_new_one(platform: Platform) -> None:
    p = platform
    p.store.add_members(Member(f"m{i:03d}", "US", date(1980, 1, 1), t("2024-01-01"), None) for i in range(12))
    rows = [record(f"x{i}", f"m{i:03d}", text=f"Thanks Anna Weber, post {i}") for i in range(12)]
    src = write_parquet(p.root / "lake.parquet", rows)
    first = build(p.store, GENAI, [src], p.root / "v1", as_of=AS_OF, key=KEY, surrogates="build", shards=4)
    p.store.record(NewEvent("m005", GENAI, Choice.DENY, t("2024-12-01"), Source.SETTINGS))
    second = rebuild(p.store, first.build_id, p.root / "v2", key=KEY, only_affected_shards=True)
    whole = rebuild(p.store, first.build_id, p.root / "v3", key=KEY)
    m1, m2, m3 = (read_manifest(r.out_dir) for r in (first, second, whole))
    assert second.rebuilt_shards and m2["scrubber"]["surrogate_salt"] == m1["scrubber"]["surrogate_salt"]
    assert m3["scrubber"]["config"]["operators"]["PERSON"] == "pseudonym"
    assert m3["scrubber"]["surrogate_salt"] != m1["scrubber"]["surrogate_salt"]
    texts = [
        text
        for path in sorted(second.out_dir.rglob("*.parquet"))
        for text in pq.read_table(path).column("text").to_pylist()
    ]
    assert len(texts) == 11 and len({text.rsplit(",", 1)[0] for text in texts}) == 1  # one surrogate, every shard
