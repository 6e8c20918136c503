"""A full disk during a build or an import: one clean error line, nothing partial left, the store intact."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.pipeline import list_builds
from consentry.policy import Policy
from consentry.store import Member, SqlStore, open_store

pytestmark = pytest.mark.faults

MEMBERS = 300


def _lake(path: Path, rows: int, *, seed: int = 5, noise: int = 0) -> Path:
    """Public posts with personal data in them (so the scrubber has work), `noise` random hex chars each."""
    rng = random.Random(seed)
    texts = [
        f"post {i}: write to person{i}@example.com or call +1 415 555 {i % 10_000:04d} "
        + "".join(rng.choice("0123456789abcdef") for _ in range(noise))
        for i in range(rows)
    ]
    table = pa.table(
        {
            "record_id": [f"r{i:07d}" for i in range(rows)],
            "member_id": [f"m{i % MEMBERS:04d}" for i in range(rows)],
            "kind": ["post"] * rows,
            "visibility": ["public"] * rows,
            "created_at": ["2025-06-01T00:00:00Z"] * rows,
            "text": texts,
        }
    )
    pq.write_table(table, path)
    return path


@pytest.fixture
def platform(store: SqlStore, store_url: str, reference_policy: Policy) -> str:
    store.publish(reference_policy)
    store.add_members(
        Member(f"m{i:04d}", "US", date(1980, 1, 1), datetime(2020, 1, 1, tzinfo=UTC)) for i in range(MEMBERS)
    )
    return store_url


def test_a_full_disk_during_a_build_is_a_clean_error(platform: str, tmp_path: Path, small_tmpfs: Path) -> None:
    src = _lake(tmp_path / "lake.parquet", 20_000, noise=400)
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
