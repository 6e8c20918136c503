"""One build at a time per OUT, and a replacement of OUT (--force) that never loses the old dataset."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from consentry.errors import BuildError
from consentry.pipeline import list_builds, read_manifest
from consentry.pipeline.registry import reconcile
from pipeline.lake import KEY, Platform, lake_records, write_parquet
from pipeline.test_build import _build

# A build to OUT that waits at its write stage (holding OUT) until it is killed.
_HOLD = """
import sys, time
from consentry.store import open_store
from consentry.pipeline import build
from consentry.timeutil import parse_instant
url, src, out = sys.argv[1:4]

def progress(p):
    if str(p.stage) == "write":
        print("writing", flush=True)
        time.sleep(120)

build(open_store(url), "genai_training", [src], out, as_of=parse_instant("2025-01-15"), scrub=False,
      key=b"k", progress=progress)
"""

# A build replacing OUT (--force) that is killed between its two renames: OUT aside, then the new one in.
_KILLED_IN_SWAP = """
import os, signal, sys
from consentry.store import open_store
from consentry.pipeline import build
from consentry.timeutil import parse_instant
url, src, out = sys.argv[1:4]
rename = os.rename

def killed_before_the_second(src_path, dst_path):
    if os.path.abspath(dst_path) == os.path.abspath(out):
        os.kill(os.getpid(), signal.SIGKILL)
    rename(src_path, dst_path)

os.rename = killed_before_the_second
build(open_store(url), "genai_training", [src], out, as_of=parse_instant("2025-01-15"), scrub=False,
      key=sys.argv[4].encode(), force=True)
"""


def _aside(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if ".consentry" in p.name)


@contextmanager
def _holding(p: Platform, src: Path, out: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD, p.url, str(src), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing", child.stderr.read() if child.stderr else ""
        yield child
    finally:
        child.kill()
        child.wait(timeout=60)


def test_a_second_build_into_the_same_out_fails_while_the_first_runs(platform: Platform) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    out = platform.root / "out"
    with _holding(platform, src, out) as first:
        left_by_first = _aside(platform.root)
        with pytest.raises(BuildError, match="being written by another build") as refused:
            _build(platform, [src])
        assert str(out) in str(refused.value) and str(first.pid) in str(refused.value)
        env = {**os.environ, "CONSENTRY_DB": platform.url}
        args = ["build", "--purpose", "genai_training", "--source", str(src), "--out", str(out), "--no-scrub"]
        cli = subprocess.run([sys.executable, "-m", "consentry.cli", *args], env=env, capture_output=True, text=True)
        assert cli.returncode == 1 and "Traceback" not in cli.stderr
        assert len(cli.stderr.strip().splitlines()) == 1 and str(out) in cli.stderr
        assert _aside(platform.root) == left_by_first  # the first build's work is untouched
        assert any(name.endswith("-work") for name in left_by_first)
    # its owner is dead: the lock is free, and what the killed build left is cleared
    result = _build(platform, [src])
    assert read_manifest(out)["build_id"] == result.build_id  # type: ignore[attr-defined]
    assert _aside(platform.root) == []


@pytest.mark.parametrize("restore", [False, True], ids=["complete", "restore"])
def test_a_force_build_killed_between_its_renames_loses_nothing(platform: Platform, restore: bool) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    out = platform.root / "out"
    first = _build(platform, [src])
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_IN_SWAP, platform.url, str(src), str(out), KEY.decode()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert not out.exists()  # cut between the renames: the old OUT aside, the new one not yet in place
    (new_dir,) = [p for p in platform.root.iterdir() if ".consentry-b" in p.name and "-old-" not in p.name]
    if restore:  # as if the new directory had not survived: the old OUT must come back
        for f in new_dir.iterdir():
            f.unlink()
        new_dir.rmdir()
    reconcile(platform.store)
    listed = [b.build_id for b in list_builds(platform.store)]
    if restore:
        assert read_manifest(out)["build_id"] == first.build_id  # type: ignore[attr-defined]
        assert listed == [first.build_id]  # type: ignore[attr-defined]
    else:  # the swap is completed, and the new build registered
        replaced_by = read_manifest(out)["build_id"]
        assert replaced_by != first.build_id and listed == [first.build_id, replaced_by]  # type: ignore[attr-defined]
        assert read_manifest(out)["predecessor"] is None
    assert _aside(platform.root) == []
    again = _build(platform, [src], force=True)  # and the next build replaces it as usual
    assert read_manifest(out)["build_id"] == again.build_id  # type: ignore[attr-defined]


@pytest.mark.parametrize("failing", ["aside", "into place"])
def test_an_io_error_at_a_rename_is_one_clear_error_and_leaves_no_pending_build(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    src = write_parquet(platform.root / "lake.parquet", lake_records())
    out = platform.root / "out"
    first = _build(platform, [src])
    rename = os.rename

    def eio(src_path: str | Path, dst_path: str | Path) -> None:
        aside = "-old-" in Path(dst_path).name
        new = Path(src_path).name.startswith(".out.consentry-b")
        if (failing == "aside" and aside) or (failing == "into place" and new and Path(dst_path) == out):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        rename(src_path, dst_path)

    monkeypatch.setattr(os, "rename", eio)
    with pytest.raises(BuildError) as failed:
        _build(platform, [src], force=True)
    monkeypatch.undo()
    message = str(failed.value)
    assert str(out) in message and "Input/output error" in message and "\n" not in message
    assert read_manifest(out)["build_id"] == first.build_id  # type: ignore[attr-defined]
    assert platform.store.builds.pending() == []
    assert [b.build_id for b in list_builds(platform.store)] == [first.build_id]  # type: ignore[attr-defined]
    assert _aside(platform.root) == []
