"""Canaries on the Spark engine: planted as the local engine plants them (rebuilds share that code:
tests/pipeline/test_canaries.py)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import AS_OF, KEY, PURPOSE, Lake

from consentry.audit.canaries import FORMAT
from consentry.pipeline import build, read_manifest

pytestmark = pytest.mark.spark


def _texts(out: Path) -> dict[str, str | None]:
    table = pa.concat_tables(pq.read_table(out / f["path"]) for f in read_manifest(out)["files"])
    return dict(zip(table.column("record_id").to_pylist(), table.column("text").to_pylist(), strict=True))


def _strip(text: str | None) -> str | None:
    if text is None:
        return None
    kept = [line for line in text.split("\n") if FORMAT.parse(line) is None]
    return "\n".join(kept) if kept else None


def test_a_spark_build_plants_canaries_into_the_rows_it_streams_back(spark: object, spark_lake: Lake) -> None:
    lake = spark_lake
    plain = build(lake.store, PURPOSE, lake.sources, lake.root / "local", as_of=AS_OF, key=KEY, scrub=False)
    first = build(
        lake.store, PURPOSE, lake.sources, lake.root / "v1", engine="spark", as_of=AS_OF, key=KEY, scrub=False,
        canaries=2, canary_repeats=2,
    )  # fmt: skip
    planted = [c for c in lake.store.canaries.canaries_for_builds([first.build_id]) if c.planted]
    assert len(planted) == 2 and read_manifest(first.out_dir)["canaries"]["planted"] == 2
    rows = _texts(first.out_dir)
    assert {r: _strip(x) for r, x in rows.items()} == _texts(plain.out_dir)
    for c in planted:
        carrying = {r: (x or "").split("\n").count(c.text) for r, x in rows.items() if c.text in (x or "")}
        assert set(carrying) == set(c.record_ids) and sum(carrying.values()) == 2 == c.repeats
