"""Writing the output: Parquet shards with fixed options, and the atomic output directory.

Shards are ``part-NNNNN.parquet``, zstd level 3, a new shard once the current
one passes `target_bytes`. Every option is fixed and row groups come from a
`Rechunk` step, so the same rows give byte-identical files. The SHA-256 of each
file is computed while it is written (no second read) and every file is
fsynced before the directory is renamed into place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import queue
import re
import shutil
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from consentry.errors import BuildError

__all__ = [
    "OutputDir",
    "OutputLock",
    "PartFiles",
    "ShardFile",
    "ShardWriter",
    "commit_files",
    "commit_shards",
    "file_sha256",
    "part_facts",
    "recover_output",
]

TARGET_SHARD_BYTES = 128 * 1024 * 1024
_MANIFEST = "manifest.json"  # consentry.pipeline.manifest.MANIFEST_NAME (which imports this module)
_WRITER_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": ["kind"],
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
}


@dataclass(frozen=True)
class ShardFile:
    """One written shard: its name in OUT, rows, size and SHA-256."""

    path: str
    rows: int
    bytes: int
    sha256: str


class _HashingFile:
    """A binary file that hashes what is written through it."""

    def __init__(self, path: Path):
        self._f: IO[bytes] = path.open("wb")
        self._h = hashlib.sha256()
        self._pos = 0
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._h.update(view)
        self._f.write(view)
        self._pos += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        self._f.flush()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()
            self.closed = True

    def hexdigest(self) -> str:
        return self._h.hexdigest()


class PartFiles:
    """Size-bounded Parquet files ``part-NNNNN.parquet`` in `directory`, written on the caller's thread.

    Each batch becomes one row group; a new file starts once the current one
    passes `target_bytes`. `prefix` goes before each file's name in the
    returned `ShardFile` paths (a sharded build's ``shard=00007/``).
    """

    def __init__(self, directory: Path, schema: pa.Schema, *, target_bytes: int = TARGET_SHARD_BYTES, prefix: str = ""):
        self.directory = directory
        self.schema = schema
        self.target_bytes = target_bytes
        self.prefix = prefix
        self.files: list[ShardFile] = []
        self.rows = 0
        self._current: tuple[pq.ParquetWriter, _HashingFile, str, int] | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        """Write one batch as one row group (nothing for an empty batch)."""
        if batch.num_rows == 0:
            return
        if self._current is None:
            self._open()
        assert self._current is not None
        writer, sink, name, rows = self._current
        writer.write_batch(batch, row_group_size=batch.num_rows)
        self._current = (writer, sink, name, rows + batch.num_rows)
        self.rows += batch.num_rows
        if sink.tell() >= self.target_bytes:
            self._finish()

    def close(self) -> list[ShardFile]:
        """Finish the last file (an empty one if nothing was written) and return the files."""
        if self._current is None and not self.files:
            self._open()
        self._finish()
        return self.files

    def _open(self) -> None:
        name = f"part-{len(self.files):05d}.parquet"
        sink = _HashingFile(self.directory / name)
        writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), self.schema, **_WRITER_OPTIONS)
        self._current = (writer, sink, name, 0)

    def _finish(self) -> None:
        if self._current is None:
            return
        writer, sink, name, rows = self._current
        writer.close()
        sink.close()
        self.files.append(ShardFile(self.prefix + name, rows, sink.tell(), sink.hexdigest()))
        self._current = None


class ShardWriter:
    """Write batches into size-bounded Parquet shards in `directory`, on a background thread.

    The caller's thread keeps producing (engine, scrubbing) while this one
    encodes and compresses (`PartFiles`); the queue is short so memory stays bounded.
    """

    def __init__(self, directory: Path, schema: pa.Schema, *, target_bytes: int = TARGET_SHARD_BYTES):
        self.directory = directory
        self.schema = schema
        self._parts = PartFiles(directory, schema, target_bytes=target_bytes)
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=3)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="consentry-shard-writer", daemon=True)
        self._thread.start()

    @property
    def files(self) -> list[ShardFile]:
        """The files finished so far."""
        return self._parts.files

    @property
    def rows(self) -> int:
        """Rows written so far."""
        return self._parts.rows

    def write(self, batch: pa.RecordBatch) -> None:
        """Queue one batch (blocks while the writer is behind)."""
        if self._error is not None:
            raise BuildError(f"writing the output failed: {self._error}") from self._error
        self._queue.put(batch)

    def write_all(self, batches: Iterable[pa.RecordBatch]) -> None:
        """Queue every batch."""
        for batch in batches:
            self.write(batch)

    def close(self) -> list[ShardFile]:
        """Finish the last shard (an empty one if nothing was written) and return the shards."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise BuildError(f"writing the output failed: {self._error}") from self._error
        return self.files

    def _drain(self) -> None:
        try:
            while (batch := self._queue.get()) is not None:
                self._parts.write(batch)
            self._parts.close()
        except BaseException as e:  # handed to the producing thread
            self._error = e
            while self._queue.get() is not None:  # unblock the producer until it closes
                pass


_ENGINE_PART = re.compile(r"^part-(\d+)\.parquet$")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _engine_parts(stage: Path) -> list[Path]:
    """An engine's ``part-<n>.parquet`` files in `stage`, in the order of n (none if it is not a directory)."""
    if not stage.is_dir():
        return []
    numbered = ((int(m.group(1)), p) for p in stage.iterdir() if (m := _ENGINE_PART.match(p.name)))
    return [p for _, p in sorted(numbered)]


def part_facts(stage: Path) -> dict[Path, tuple[int, str]]:
    """Rows (from the footer) and SHA-256 of each engine part file in `stage`, once the engine has closed them.

    An engine that writes its directories one after another hands these to
    `commit_shards`, so each file is hashed while it is still in the page
    cache and beside the rest of the write, not read again after it.
    """
    return {p: (pq.ParquetFile(p).metadata.num_rows, file_sha256(p)) for p in _engine_parts(stage)}


def commit_shards(
    staging: Sequence[Path], directory: Path, facts: Mapping[Path, tuple[int, str]] | None = None
) -> list[ShardFile]:
    """Move an engine's ``part-<n>.parquet`` files from the `staging` directories into `directory` as shards.

    The directories in the order given, the files of each in the order of n
    (see `commit_files`; `facts` as there). An engine that wrote no file at all is an error.
    """
    found = [p for stage in staging for p in _engine_parts(stage)]
    if not found:
        raise BuildError(f"the engine wrote no output file into {', '.join(str(s) for s in staging)}")
    return commit_files(found, directory, facts)


def commit_files(
    found: Sequence[Path], directory: Path, facts: Mapping[Path, tuple[int, str]] | None = None
) -> list[ShardFile]:
    """Move Parquet files, in the order given, into `directory` as ``part-NNNNN.parquet`` shards.

    They are hashed (in parallel; hashlib releases the GIL) and counted from
    their footers, unless `facts` already holds a file's rows and SHA-256
    (`part_facts`, taken once the engine closed it). Files without rows are
    dropped, unless no file has any: an empty build has one empty shard.
    """
    known = facts or {}
    rows = [known[p][0] if p in known else pq.ParquetFile(p).metadata.num_rows for p in found]
    kept = [(p, n) for p, n in zip(found, rows, strict=True) if n] or [(found[0], 0)]
    moved: list[tuple[str, Path, int, str | None]] = []
    for k, (path, n) in enumerate(kept):
        name = f"part-{k:05d}.parquet"
        os.replace(path, directory / name)
        moved.append((name, directory / name, n, known[path][1] if path in known else None))
    todo = [p for _, p, _, digest in moved if digest is None]
    with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1))) as pool:
        hashed = dict(zip(todo, pool.map(file_sha256, todo), strict=True))
    return [ShardFile(name, n, path.stat().st_size, digest or hashed[path]) for name, path, n, digest in moved]


def _fsync_tree(directory: Path) -> None:
    """fsync every file in `directory` and in its subdirectories (a sharded build's), then the directories."""
    for path in directory.iterdir():
        if path.is_dir():
            _fsync_tree(path)
        elif path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(directory)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class OutputLock:
    """An exclusive lock on an output path, held by one build at a time.

    `fcntl.flock` on ``.OUT.consentry.lock`` beside OUT, holding the owner's
    pid. The kernel releases it when its owner dies, however it dies, so a lock
    left by a killed build is taken over by the next one; the file itself is
    removed by the owner as it lets go.
    """

    def __init__(self, out: Path):
        self.path = out.parent / f".{out.name}.consentry.lock"
        self.out = out
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False if another live process holds it."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file its last owner removed while we opened it
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                return True
            os.close(fd)

    def owner(self) -> str:
        """The pid written by the lock's holder ("?" if unreadable)."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        """Remove the lock file and let go of the lock."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def recover_output(out: Path) -> None:
    """Finish what a build killed while replacing `out` left (see `OutputDir`); nothing if a build holds `out`."""
    out = out.absolute()
    lock = OutputLock(out)
    if not out.parent.is_dir() or not lock.acquire():
        return
    try:
        _recover_swap(out)
    finally:
        lock.release()


def _recover_swap(out: Path) -> None:
    """With the lock held: put OUT back in place after a replacement was cut short between its two renames.

    ``.OUT.consentry-old-<id>`` is the previous OUT, moved aside by build <id>.
    If OUT is missing, the swap was interrupted: it is completed when build
    <id>'s directory is there, whole (it was fsynced and holds its manifest
    before the first rename), and undone otherwise. If OUT is there, the swap
    finished and the old directory is removed.
    """
    prefix = f".{out.name}.consentry-old-"
    for old in sorted(out.parent.glob(f"{prefix}*")):
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
            continue
        new = out.parent / f".{out.name}.consentry-{old.name[len(prefix) :]}"
        if (new / _MANIFEST).is_file():
            os.rename(new, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(old, out)
        _fsync_dir(out.parent)


class OutputDir:
    """The build's output directory, written aside and renamed into place last.

    ``OUT`` is refused if it exists, unless `force`. One build at a time writes
    to an OUT: it holds `OutputLock`, and a second one fails at once. The work
    happens in a sibling ``.OUT.consentry-<build_id>`` directory that a failed
    build removes and a killed build leaves behind (the next build to the same
    OUT clears it). Replacing OUT takes two renames (OUT aside to
    ``.OUT.consentry-old-<build_id>``, then the new directory to OUT); a build
    killed between them leaves that for the next build to the same OUT (or the
    next reconciliation) to complete, so the old dataset is never lost.
    """

    def __init__(self, out: Path, build_id: str, *, force: bool = False):
        self.out = out.absolute()
        self.force = force
        self.build_id = build_id
        self.temp = self.out.parent / f".{self.out.name}.consentry-{build_id}"
        #: scratch space (staged sources, engine spill files); never part of OUT
        self.work = self.out.parent / f".{self.out.name}.consentry-{build_id}-work"
        self._lock = OutputLock(self.out)

    def __enter__(self) -> OutputDir:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if not self._lock.acquire():
            raise BuildError(
                f"{self.out} is being written by another build (process {self._lock.owner()}); "
                "wait for it to finish or choose another --out"
            )
        try:
            _recover_swap(self.out)
            if self.out.exists() and not self.force:
                raise BuildError(f"{self.out} already exists; choose another --out or pass --force to replace it")
            if self.out.exists() and not self.out.is_dir():
                raise BuildError(f"{self.out} exists and is not a directory; choose another --out")
            for stale in self.out.parent.glob(f".{self.out.name}.consentry-*"):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed build (the lock says none runs)
            self.temp.mkdir()
            self.work.mkdir()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            for path in (self.temp, self.work):
                if path.exists():
                    shutil.rmtree(path, ignore_errors=True)
        finally:
            self._lock.release()

    def commit(self) -> None:
        """fsync everything, then rename the temporary directory to OUT (replacing it with force).

        Raises BuildError, with OUT as it was, if the new directory cannot be put in place.
        """
        shutil.rmtree(self.work, ignore_errors=True)
        try:
            _fsync_tree(self.temp)
            old = self._move_aside()
        except OSError as e:
            raise BuildError(f"cannot put the build in place at {self.out}: {e.strerror or e}") from None
        try:
            os.rename(self.temp, self.out)
        except OSError as e:
            if old is not None:
                with contextlib.suppress(OSError):  # else it stays aside, for the next build to put back
                    os.rename(old, self.out)  # the previous OUT goes back
            raise BuildError(f"cannot put the build in place at {self.out}: {e.strerror or e}") from None
        with contextlib.suppress(OSError):  # in place; only the rename's durability is left to the file system
            _fsync_dir(self.out.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _move_aside(self) -> Path | None:
        """Rename an existing OUT aside (with force); its new name, or None if there was none."""
        if not self.out.exists():
            return None
        if not self.force:
            raise BuildError(f"{self.out} appeared during the build; nothing was replaced")
        old = self.out.parent / f".{self.out.name}.consentry-old-{self.build_id}"
        os.rename(self.out, old)
        return old
