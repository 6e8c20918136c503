"""Spark builds under kill -9 at 20 seeded points (the Spark group): no output without its complete
registration, no Python or JVM process left behind, and a rerun identical to an uninterrupted build.

Identical here means the same rows in the same order, counts and members digest: Spark's Parquet writer does
not give the same bytes from one process to the next (two builds in one process do), so file hashes are
compared only between the kill trials' complete outputs and the manifest that lists them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.pipeline import list_builds
from consentry.store import open_store

from .conftest import assert_kills_landed, kill_delays, killed_run, reference_span, write_lake
from .test_build_kills import _wait_gone

pytestmark = [pytest.mark.faults, pytest.mark.spark]


def _part_hashes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("part-*.parquet"))}


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_killed_spark_builds_leave_nothing_and_reruns_match(platform: str, tmp_path: Path) -> None:
    url = platform
    src = write_lake(tmp_path / "lake.parquet", 5_000)
    reference = tmp_path / "reference"
    span = reference_span("build", url, str(src), str(reference), "spark")
    expected = _part_hashes(reference)
    assert expected
    outcomes = []
    cut_short: list[Path] = []
    for trial, delay in enumerate(kill_delays(seed=7, span=span)):
        out = tmp_path / f"out-{trial:02d}"
        outcome = killed_run("build", url, str(src), str(out), "spark", delay=delay)
        outcomes.append(outcome)
        if outcome.killed:
            assert _wait_gone(outcome.pid) == [], f"trial {trial}: the JVM or a Python worker outlived its build"
        store = open_store(url)
        try:
            complete = {Path(b.out_dir).name for b in list_builds(store)}
        finally:
            store.close()
        if out.exists():
            manifest = json.loads((out / "manifest.json").read_text())
            assert out.name in complete, f"trial {trial}: an output whose build is not listed complete"
            assert {f["path"]: f["sha256"] for f in manifest["files"]} == _part_hashes(out)
            assert _rows(out).equals(_rows(reference))
        else:
            assert out.name not in complete, f"trial {trial}: listed complete without its output"
            cut_short.append(out)
    assert_kills_landed(outcomes)
    for out in cut_short[:1]:
        reference_span("build", url, str(src), str(out), "spark")
        assert _rows(out).equals(_rows(reference))
        assert _summary(out) == _summary(reference)


def _rows(out: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted(out.glob("part-*.parquet"))])


def _summary(out: Path) -> tuple[object, object]:
    manifest = json.loads((out / "manifest.json").read_text())
    return manifest["counts"], manifest["members_digest"]
