"""A full disk during a build or an import: one clean error line, nothing partial left, the store intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from consentry.pipeline import list_builds
from consentry.policy import Policy
from consentry.store import open_store

from .conftest import write_lake

pytestmark = pytest.mark.faults


def test_a_full_disk_during_a_build_is_a_clean_error(platform: str, tmp_path: Path, small_tmpfs: Path) -> None:
    src = write_lake(tmp_path / "lake.parquet", 20_000, noise=400)
    out = small_tmpfs / "genai"
    env = {**os.environ, "CONSENTRY_DB": platform, "CONSENTRY_PSEUDONYM_KEY": "k" * 32}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "consentry.cli", "build", "--purpose", "genai_training"),
            *("--source", str(src), "--out", str(out), "--as-of", "2025-12-01T00:00:00Z", "--no-scrub"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "space" in lines[0].lower() or "full" in lines[0].lower(), lines[0]
    assert list(small_tmpfs.iterdir()) == [], "a full disk left part of a build behind"
    store = open_store(platform)
    try:
        assert store.verify().ok
        assert list_builds(store) == []
    finally:
        store.close()


def test_a_full_disk_during_an_import_leaves_the_store_as_it_was(
    tmp_path: Path, small_tmpfs: Path, reference_policy: Policy
) -> None:
    url = f"sqlite:///{small_tmpfs / 'consentry.db'}"
    store = open_store(url)
    store.publish(reference_policy)
    store.close()
    members = tmp_path / "members.jsonl"
    with members.open("w") as f:
        for i in range(60_000):
            f.write(
                json.dumps(
                    {
                        "member_id": f"member-with-a-long-identifier-{i:08d}",
                        "country": "US",
                        "birth_date": "1990-01-01",
                        "created_at": "2021-01-01T00:00:00Z",
                    }
                )
                + "\n"
            )
    env = {**os.environ, "CONSENTRY_DB": url}
    done = subprocess.run(
        [sys.executable, "-m", "consentry.cli", "members", "import", str(members)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-500:]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr[-2000:]
    store = open_store(url)
    try:
        assert store.members_table().num_rows == 0
        assert store.verify().ok
    finally:
        store.close()
