"""How the local engine cuts its sources into units: every row once, in order, at row-group boundaries."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.errors import BuildError
from consentry.pipeline import build, list_builds
from consentry.pipeline.engines import local_sql
from consentry.pipeline.engines.local_sql import plan_units, records_sql, unit_sql
from consentry.pipeline.sources import resolve_sources, stage_text_sources
from pipeline.lake import AS_OF, GENAI, KEY, Platform, record, write_jsonl, write_parquet


def _lake(root: Path) -> list[Path]:
    paths = []
    for name, rows, group in (("b.parquet", 2_500, 300), ("a.parquet", 1_000, 1_000), ("c.parquet", 700, 100)):
        path = write_parquet(root / name, [record(f"{name[0]}-{i:05d}", "ok_us") for i in range(rows)])
        pq.write_table(pq.read_table(path), path, row_group_size=group)
        paths.append(path)
    write_jsonl(root / "d.jsonl", [record(f"d-{i:05d}", "ok_us") for i in range(50)])
    return paths


def _ids(sql: str) -> list[str]:
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute("SET TimeZone = 'UTC'")
        return [r for (r,) in con.execute(f"SELECT record_id FROM ({sql})").fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("min_bytes", [1, 20_000, 10**9])
def test_units_hold_every_row_once_in_source_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_bytes: int
) -> None:
    monkeypatch.setattr(local_sql, "MIN_UNIT_BYTES", min_bytes)
    monkeypatch.setattr(local_sql, "_UNITS_PER_THREAD", 10**6)  # the target is then MIN_UNIT_BYTES
    _lake(tmp_path / "lake")
    sources = stage_text_sources(resolve_sources([tmp_path / "lake"]), (), tmp_path / "staged")
    units = plan_units(sources, threads=2)
    expected = [f"a-{i:05d}" for i in range(1_000)] + [f"b-{i:05d}" for i in range(2_500)]
    expected += [f"c-{i:05d}" for i in range(700)] + [f"d-{i:05d}" for i in range(50)]
    got = [rid for unit in units for rid in _ids(unit_sql(unit, ()))]
    assert got == expected
    assert sorted(_ids(records_sql(sources, ()))) == sorted(expected)
    if min_bytes == 10**9:
        assert len(units) == 1
    if min_bytes == 1:  # every unit closes at its first row group: a unit per row group
        assert len(units) == 1 + 9 + 7 + 1


def test_slices_start_and_stop_at_row_group_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_sql, "MIN_UNIT_BYTES", 1)
    monkeypatch.setattr(local_sql, "_UNITS_PER_THREAD", 10**6)
    paths = _lake(tmp_path / "lake")
    sources = resolve_sources(paths)
    bounds: dict[str, set[int]] = {}
    for f in sources.files:
        marks, row = {0}, 0
        for n in f.row_groups:
            row += n
            marks.add(row)
        bounds[f.path.name] = marks
    for unit in plan_units(sources, threads=2):
        for piece in unit:
            assert piece.first in bounds[piece.path.name] and piece.stop in bounds[piece.path.name]
            assert piece.stop > piece.first


def test_statistics_that_prove_no_nulls_and_no_empty_ids_are_used(tmp_path: Path) -> None:
    clean = write_parquet(tmp_path / "clean.parquet", [record(f"r{i}", "ok_us") for i in range(10)])
    holes = write_parquet(tmp_path / "holes.parquet", [record("", "ok_us"), record("r1", "ok_us")])
    table = pq.read_table(holes)
    table = table.set_column(table.schema.get_field_index("text"), "text", pa.array(["a text", None], pa.string()))
    pq.write_table(table, holes)
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(clean), bare, write_statistics=False)
    by_name = {f.path.name: f for f in resolve_sources([clean, holes, bare]).files}
    assert {"record_id", "text", "kind"} <= by_name["clean.parquet"].null_free
    assert by_name["clean.parquet"].ids_nonempty
    assert "text" not in by_name["holes.parquet"].null_free and not by_name["holes.parquet"].ids_nonempty
    assert by_name["bare.parquet"].null_free == frozenset() and not by_name["bare.parquet"].ids_nonempty
    # whatever the statistics say, the rows that need it are still malformed
    con = duckdb.connect()
    sql = records_sql(resolve_sources([holes]), ())
    assert [m for (m,) in con.execute(f"SELECT _malformed FROM ({sql})").fetchall()] == [True, True]


@pytest.mark.parametrize(
    ("column", "where"),
    [("text", "reading {broken}"), ("member_id", "counting the sources")],
    ids=["texts-fail-the-write", "ids-fail-the-count"],
)
def test_a_source_that_fails_mid_build_stops_it_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: Platform, column: str, where: str
) -> None:
    """Texts that cannot be decoded (the counting pass never reads them) fail one unit of the parallel
    write, which names its files; member ids that cannot be decoded fail the count."""
    monkeypatch.setattr(local_sql, "MIN_UNIT_BYTES", 1)
    monkeypatch.setattr(local_sql, "_UNITS_PER_THREAD", 10**6)
    lake = tmp_path / "lake"
    for name in ("a", "b", "c"):
        rows = [record(f"{name}-{i:05d}", "ok_us", text=f"text {i} " * 20) for i in range(2_000)]
        path = write_parquet(lake / f"{name}.parquet", rows)
        pq.write_table(pq.read_table(path), path, row_group_size=500, compression="zstd")
    broken = lake / "b.parquet"
    meta = pq.read_metadata(broken)
    chunk = meta.row_group(2).column(meta.schema.names.index(column))
    data = bytearray(broken.read_bytes())
    start = chunk.data_page_offset + 16
    data[start : start + 128] = bytes(range(128))  # garbage inside the compressed page, footer intact
    broken.write_bytes(bytes(data))
    with pytest.raises(BuildError) as caught:
        build(platform.store, GENAI, [lake], platform.root / "out", as_of=AS_OF, scrub=False, key=KEY)
    assert str(caught.value).startswith(f"the local engine stopped {where.format(broken=broken)}: "), caught.value
    assert not (platform.root / "out").exists()
    assert [p.name for p in platform.root.iterdir() if p.name.startswith(".out")] == []
    assert list_builds(platform.store) == []


def test_an_unscrubbed_write_reports_its_rows_unit_by_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: Platform
) -> None:
    from consentry.pipeline.build import BuildProgress, BuildStage

    monkeypatch.setattr(local_sql, "MIN_UNIT_BYTES", 1)
    monkeypatch.setattr(local_sql, "_UNITS_PER_THREAD", 10**6)
    _lake(tmp_path / "lake")
    seen: list[BuildProgress] = []
    result = build(
        platform.store, GENAI, [tmp_path / "lake"], platform.root / "out", as_of=AS_OF, scrub=False, key=KEY,
        progress=seen.append,
    )  # fmt: skip
    writes = [(p.done, p.total) for p in seen if p.stage is BuildStage.WRITE]
    included = result.counts["included"]
    assert included == 4_250
    assert len(writes) > 10  # one report per unit, not just "started" and "done"
    done = [d for d, _ in writes]
    assert done == sorted(done) and done[-1] == included
    assert {total for _, total in writes} == {included}
