"""A build killed with `kill -9` while scrubbing leaves no process behind: its workers die with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.lake import Platform, lake_records, write_parquet

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

#: A real build whose scrub step runs on a process pool, held still once the pool has scrubbed a batch.
_BUILD = textwrap.dedent(
    """
    import importlib, sys, time
    from datetime import UTC, datetime
    from consentry.store import open_store

    b = importlib.import_module("consentry.pipeline.build")  # the module (the package exports the function)

    b.INLINE_SCRUB_ROWS = 0  # a process pool even for a few rows,
    b.ROW_GROUP_ROWS = 1  # and rows handed on one by one, so the pool is still open when one is written

    def progress(p):
        if p.stage == "write" and p.done:
            print("scrubbing", flush=True)
            time.sleep(600)

    store = open_store(sys.argv[1])
    as_of = datetime(2025, 1, 15, tzinfo=UTC)
    b.build(store, "genai_training", [sys.argv[2]], sys.argv[3], as_of=as_of, key=b"k", progress=progress)
    """
)


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid` (zombies count as gone)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            parents.setdefault(int(ppid), []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def test_scrub_workers_die_with_a_killed_build(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    proc = subprocess.Popen(
        [sys.executable, "-c", _BUILD, platform.url, str(src), str(platform.root / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "scrubbing", proc.stderr.read() if proc.stderr else ""
        workers = _children(proc.pid)
        assert workers, "the build runs its scrub step on worker processes"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    for _ in range(600):  # up to ~60 s, counted in attempts: the workers are killed as their parent goes
        if not _alive(workers):
            break
        time.sleep(0.1)
    left = _alive(workers)
    for pid in left:  # leave nothing running, even when failing
        os.kill(pid, signal.SIGKILL)
    assert left == set(), "worker processes outlived their build"
