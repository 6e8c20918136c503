"""The fault suite's tools: a child process to kill at a seeded random point, and a small tmpfs.

`killed_run` starts tests/faults/child.py, waits until it is ready (imports
done, store open), tells it to go, sleeps a seeded random delay, and sends
SIGKILL. The delays are spread over the length of an uninterrupted run of the
same operation (`reference_span`: the CPU time the child reports it took), so the kills land
while it writes. The lines the child printed before it died are its
acknowledged writes. No assertion depends on how long anything took.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentry.policy import Policy
from consentry.store import Member, SqlStore

CHILD = Path(__file__).with_name("child.py")
TRIALS = 20


@dataclass
class Outcome:
    """What a child said before it exited or was killed."""

    lines: list[str]
    killed: bool
    stderr: str
    pid: int  # also its session id: every process it started, unless one left the session

    @property
    def done(self) -> bool:
        """Did the operation finish (and say so) before the kill?"""
        return any(line.startswith("done ") for line in self.lines)


@dataclass
class _Child:
    proc: subprocess.Popen[str]
    out: Path
    err: Path

    def outcome(self, killed: bool) -> Outcome:
        # Read from files, not pipes: a pipe stays open while any process the child started still lives.
        text = self.out.read_text()
        return Outcome(text.splitlines(), killed, self.err.read_text(), self.proc.pid)


def _start(op: str, url: str, *args: str) -> _Child:
    fd, name = tempfile.mkstemp(prefix="fault-child-")
    os.close(fd)
    out, err = Path(name), Path(name + ".err")
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), op, url, *args],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    for _ in range(6000):  # up to ~10 minutes on a very busy machine
        if out.read_text().startswith("ready\n"):
            return _Child(proc, out, err)
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise AssertionError(f"child did not start: {err.read_text()[-2000:]}")


def _finish(child: _Child, killed: bool) -> Outcome:
    child.proc.wait(timeout=600)
    try:
        return child.outcome(killed)
    finally:
        child.out.unlink(missing_ok=True)
        child.err.unlink(missing_ok=True)


def _go(child: _Child) -> None:
    assert child.proc.stdin is not None
    child.proc.stdin.write("go\n")
    child.proc.stdin.close()


def reference_span(op: str, url: str, *args: str) -> float:
    """Run the operation uninterrupted; the CPU seconds it took, by the child's own count (to place kill points)."""
    child = _start(op, url, *args)
    _go(child)
    outcome = _finish(child, killed=False)
    assert child.proc.returncode == 0, outcome.stderr[-2000:]
    (seconds,) = [float(line.split()[1]) for line in outcome.lines if line.startswith("done ")]
    return seconds


def killed_run(op: str, url: str, *args: str, delay: float) -> Outcome:
    """Run the operation and SIGKILL it `delay` seconds after it starts (unless it finished first)."""
    child = _start(op, url, *args)
    _go(child)
    try:
        child.proc.wait(timeout=delay)  # finished before its kill point
        killed = False
    except subprocess.TimeoutExpired:
        os.kill(child.proc.pid, signal.SIGKILL)
        killed = True
    return _finish(child, killed)


def kill_delays(seed: int, span: float, n: int = TRIALS) -> list[float]:
    """n seeded delays over the operation's length (a little past it: it may still be committing)."""
    rng = random.Random(seed)
    return [rng.uniform(0.0, span * 1.1) for _ in range(n)]


def assert_kills_landed(outcomes: list[Outcome]) -> None:
    """The trials are worth something only if most kills caught the operation before it finished."""
    cut = sum(1 for o in outcomes if o.killed and not o.done)
    assert cut >= len(outcomes) // 2, f"only {cut} of {len(outcomes)} kills landed mid-operation"


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (root only, as CI runs): a real full disk, unmounted afterwards."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.fail("the disk-full tests mount a tmpfs and need root (CI runs as root)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


MEMBERS = 300


def write_lake(path: Path, rows: int, *, seed: int = 5, noise: int = 0) -> Path:
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
