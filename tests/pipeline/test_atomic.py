"""A build killed (SIGKILL) at any stage leaves no OUT and no registered build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from consentry.pipeline import list_builds, read_manifest
from pipeline.lake import Platform, lake_records, write_parquet
from pipeline.test_build import _build

# Runs a build that announces each stage on stdout, then waits to be killed at the chosen one.
_CHILD = """
import sys, time
from consentry.store import open_store
from consentry.pipeline import build
from consentry.timeutil import parse_instant
url, src, out, stop = sys.argv[1:5]

def progress(p):
    if str(p.stage) == stop:
        print("at", stop, flush=True)
        time.sleep(60)

build(open_store(url), "genai_training", [src], out, as_of=parse_instant("2025-01-15"), scrub=False,
      key=b"k", progress=progress)
print("finished", flush=True)
"""


@pytest.mark.parametrize("stage", ["read", "decide", "write", "commit"])
def test_sigkill_during_a_build_leaves_nothing(platform: Platform, stage: str) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    out = platform.root / "out"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, platform.store.url, str(src), str(out), stage],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == f"at {stage}", child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    time.sleep(0.05)
    assert child.returncode == -signal.SIGKILL
    assert not out.exists()
    assert list_builds(platform.store) == []
    # the next build to the same OUT works and clears what the killed one left aside
    result = _build(platform, [src])
    assert read_manifest(out)["build_id"] == result.build_id  # type: ignore[attr-defined]
    assert [p.name for p in Path(platform.root).iterdir() if ".consentry-" in p.name] == []
