"""Builds under kill -9 at 20 seeded points: no half-written dataset, nothing listed complete that is not,
no scrub worker left behind, and a rerun byte-identical to an uninterrupted build."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import psutil
import pytest

from consentry.pipeline import list_builds
from consentry.store import open_store

from .conftest import assert_kills_landed, kill_delays, killed_run, reference_span, write_lake

pytestmark = pytest.mark.faults


def _part_hashes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("part-*.parquet"))}


def _session_survivors(sid: int) -> list[int]:
    """Processes still alive in the killed build's session (its scrub workers, a resource tracker)."""
    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue
    return out


def _wait_gone(sid: int) -> list[int]:
    for _ in range(300):
        alive = _session_survivors(sid)
        if not alive:
            return []
        psutil.wait_procs([psutil.Process(p) for p in alive if psutil.pid_exists(p)], timeout=0.1)
    return _session_survivors(sid)


def test_killed_builds_leave_nothing_and_reruns_match(platform: str, tmp_path: Path) -> None:
    url = platform
    src = write_lake(tmp_path / "lake.parquet", 60_000)
    reference = tmp_path / "reference"
    span = reference_span("build", url, str(src), str(reference))
    expected = _part_hashes(reference)
    assert expected
    outcomes = []
    cut_short: list[Path] = []
    for trial, delay in enumerate(kill_delays(seed=6, span=span)):
        out = tmp_path / f"out-{trial:02d}"
        outcome = killed_run("build", url, str(src), str(out), delay=delay)
        outcomes.append(outcome)
        if outcome.killed:
            assert _wait_gone(outcome.pid) == [], f"trial {trial}: scrub workers outlived their build"
        store = open_store(url)
        try:
            assert store.verify().ok
            complete = {Path(b.out_dir).name for b in list_builds(store)}
        finally:
            store.close()
        if out.exists():
            manifest = json.loads((out / "manifest.json").read_text())
            assert out.name in complete, f"trial {trial}: an output whose build is not listed complete"
            assert {f["path"]: f["sha256"] for f in manifest["files"]} == expected
        else:
            assert out.name not in complete, f"trial {trial}: listed complete without its output"
            cut_short.append(out)
    assert_kills_landed(outcomes)
    # A rerun into the OUT of a killed build gives the uninterrupted build's bytes and clears the leftovers.
    for out in cut_short[:2]:
        reference_span("build", url, str(src), str(out))
        assert _part_hashes(out) == expected
    leftovers = [p.name for p in tmp_path.iterdir() if ".consentry-" in p.name]
    assert not [n for n in leftovers if any(n.startswith(f".{o.name}") for o in cut_short[:2])]
