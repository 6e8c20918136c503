"""Cohort-sharded builds: every member's records in one of K shards, each its own set of Parquet files.

A member's shard is a keyed hash of the member: the first 64 bits of its
`member_key` (HMAC-SHA256 of the member id under the build's pseudonym key),
read as a big-endian integer, modulo K. Without the key, a member id says
nothing about its shard. Shard i is the directory ``shard=<i, 5 digits>/`` in
OUT, holding ``part-NNNNN.parquet`` files (at least one, empty for a shard
without records), rows in the build's order.

The rows of each shard are cut into row groups of `group_rows(K)` rows by
that shard's own sequence alone, so a shard's bytes depend only on its rows:
rebuilding one shard gives the bytes a whole build would have given it.
Scrubbing runs after the split, batch by batch, so each shard keeps its own
PII and SCRUB_FAILED counts (a rebuild that carries shards over adds them up).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from consentry.errors import BuildError, InputError
from consentry.pipeline.steps import Project, ScrubStep, Step
from consentry.pipeline.writer import PartFiles, ShardFile, file_sha256
from consentry.vocab import ReasonCode

__all__ = [
    "ASSIGNMENT",
    "MAX_SHARDS",
    "ShardOutput",
    "check_shards",
    "group_rows",
    "language_block",
    "shard_dir",
    "shard_entries",
    "shard_of",
    "source_hashes",
    "write_sharded",
]

MAX_SHARDS = 4096
#: How a member's shard is computed, as the manifest states it
ASSIGNMENT = "first 64 bits of member_key (HMAC-SHA256 of member_id under the build key), big-endian, modulo count"
_KEY_HEX = 64
_PREFIX_HEX = 16
_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
_WEIGHTS = np.array([16**i for i in range(_PREFIX_HEX - 1, -1, -1)], dtype=np.uint64)


def check_shards(k: int) -> int:
    """`k` if it is a shard count a build accepts (1 to 4096), else InputError."""
    if not 1 <= k <= MAX_SHARDS:
        raise InputError(f"must be between 1 and {MAX_SHARDS} (got {k})", field="--shards")
    return k


def shard_dir(shard: int) -> str:
    """The directory of shard `shard` in a build's output."""
    return f"shard={shard:05d}"


def group_rows(k: int, base: int = 65_536) -> int:
    """Rows per row group in each shard: the build's row group shared out over K shards, at least 128.

    Bounds what the split holds back (at most K × this many rows) whatever the order of the members.
    """
    return max(128, base // k)


def shard_of(member_keys: pa.Array | pa.ChunkedArray, k: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The shard of every member key (64 lowercase hex digits): its first 64 bits, big-endian, modulo `k`."""
    arr = member_keys.combine_chunks() if isinstance(member_keys, pa.ChunkedArray) else member_keys
    arr = arr.cast(pa.string())
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.null_count:
        raise BuildError("a member key is missing; cannot assign a shard")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=n + 1, offset=arr.offset * 4)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    if not np.all(np.diff(offsets) == _KEY_HEX):
        raise BuildError("a member key is not 64 hex digits; cannot assign a shard")
    nibbles = _HEX[data[offsets[:-1, None] + np.arange(_PREFIX_HEX)]]
    if np.any(nibbles == 255):
        raise BuildError("a member key is not lowercase hex; cannot assign a shard")
    value = (nibbles.astype(np.uint64) * _WEIGHTS).sum(axis=1, dtype=np.uint64)
    shards: np.ndarray[Any, np.dtype[np.int64]] = (value % np.uint64(k)).astype(np.int64)
    return shards


@dataclass
class ShardOutput:
    """What the split wrote for one shard: its files, PII found, rows the scrubber dropped (and whose)."""

    files: list[ShardFile] = field(default_factory=list)
    pii: Counter[str] = field(default_factory=Counter)
    scrub_failed: int = 0
    dropped_members: Counter[str] = field(default_factory=Counter)
    #: per language code: {"records": n, "detections": m} the scrubber wrote in this shard
    languages: dict[str, Counter[str]] = field(default_factory=dict)


def _regroup(
    batches: Iterator[pa.RecordBatch], k: int, rows: int, only: frozenset[int] | None, tags: deque[int]
) -> Iterator[pa.RecordBatch]:
    """Each shard's rows in their order, cut every `rows` rows of that shard; the shard of each batch in `tags`."""
    held: dict[int, list[pa.RecordBatch]] = {}
    count: Counter[int] = Counter()
    for batch in batches:
        if batch.num_rows == 0:
            continue
        shards = shard_of(batch.column("member_key"), k)
        order = np.argsort(shards, kind="stable")
        ordered = shards[order]
        cuts = [0, *(np.flatnonzero(np.diff(ordered)) + 1).tolist(), len(ordered)]
        taken = batch.take(pa.array(order))
        for start, stop in itertools.pairwise(cuts):
            shard = int(ordered[start])
            if only is not None and shard not in only:
                continue
            held.setdefault(shard, []).append(taken.slice(start, stop - start))
            count[shard] += stop - start
            while count[shard] >= rows:
                table = pa.Table.from_batches(held[shard])
                tags.append(shard)
                yield _one(table.slice(0, rows))
                rest = table.slice(rows)
                held[shard], count[shard] = rest.to_batches(), rest.num_rows
    for shard in sorted(held):
        if count[shard]:
            tags.append(shard)
            yield _one(pa.Table.from_batches(held[shard]))


def _one(table: pa.Table) -> pa.RecordBatch:
    combined = table.combine_chunks()
    return combined.to_batches(max_chunksize=max(combined.num_rows, 1))[0]


def write_sharded(
    batches: Iterator[pa.RecordBatch],
    directory: Path,
    schema: pa.Schema,
    k: int,
    *,
    scrub: ScrubStep | None = None,
    plant: Step | None = None,
    only: frozenset[int] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> dict[int, ShardOutput]:
    """Split the build's rows (output columns, plus `_member_id` when scrubbing) into shard directories.

    Writes every shard, or those in `only`, each with at least one file; the
    rows are scrubbed by `scrub` after the split, then go through `plant` (canaries;
    one batch out for each in). Returns what each shard got.
    """
    shards = sorted(only) if only is not None else list(range(k))
    tags: deque[int] = deque()
    stream = _regroup(batches, k, group_rows(k), only, tags)
    if scrub is not None:
        stream = scrub.run(stream)
    if plant is not None:
        stream = plant.run(stream)
    project = Project(schema)
    outputs = {s: ShardOutput() for s in shards}
    parts: dict[int, PartFiles] = {}
    seen: Counter[str] = Counter()
    failed, lost = 0, Counter[str]()
    read: dict[str, Counter[str]] = {}
    for batch in stream:
        shard = tags.popleft()
        out = outputs[shard]
        if scrub is not None:  # what the scrubber found in this batch, by difference
            out.pii.update(scrub.stats.entities - seen)
            seen = Counter(scrub.stats.entities)
            now_failed = scrub.stats.dropped[ReasonCode.SCRUB_FAILED]
            out.scrub_failed += now_failed - failed
            out.dropped_members.update(scrub.stats.dropped_members - lost)
            failed, lost = now_failed, Counter(scrub.stats.dropped_members)
            for lang, tally in scrub.stats.languages.items():
                out.languages.setdefault(lang, Counter()).update(tally - read.get(lang, Counter()))
            read = {lang: Counter(tally) for lang, tally in scrub.stats.languages.items()}
        writer = parts.get(shard)
        if writer is None:
            path = directory / shard_dir(shard)
            path.mkdir(parents=True, exist_ok=True)
            writer = parts[shard] = PartFiles(path, schema, prefix=f"{shard_dir(shard)}/")
        projected = next(project.run(iter([batch])))
        writer.write(projected)
        if on_rows is not None:
            on_rows(projected.num_rows)
    for shard in shards:
        writer = parts.get(shard)
        if writer is None:  # no row in this shard: one empty file, as an empty build has
            (directory / shard_dir(shard)).mkdir(parents=True, exist_ok=True)
            writer = PartFiles(directory / shard_dir(shard), schema, prefix=f"{shard_dir(shard)}/")
        outputs[shard].files = writer.close()
    return outputs


def shard_digests(members: pa.Table, k: int) -> list[str]:
    """The members digest of each shard (`members` has member_key and shard), as `members_digest` gives it.

    The keys are sorted by (shard, key) once by DuckDB (bytewise, on all
    cores, as for `members_digest`) and each shard's lines hashed straight from the buffer.
    """
    import duckdb

    digests = [hashlib.sha256() for _ in range(k)]
    if members.num_rows:
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            con.register("t", members.select(["shard", "member_key"]))
            table = con.sql("SELECT shard, member_key FROM t ORDER BY shard, member_key").to_arrow_table()
        finally:
            con.close()
        large = pa.large_string()
        keys = table.column("member_key").combine_chunks().cast(large)
        lines = pc.binary_join_element_wise(keys, pa.scalar("", large), pa.scalar("\n", large))
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64, count=len(lines) + 1, offset=lines.offset * 8)
        data = memoryview(lines.buffers()[2])
        shards = table.column("shard").to_numpy()
        bounds = np.searchsorted(shards, np.arange(k + 1))
        for shard in range(k):
            start, stop = int(offsets[bounds[shard]]), int(offsets[bounds[shard + 1]])
            digests[shard].update(data[start:stop])
    return [h.hexdigest() for h in digests]


def with_shards(members: pa.Table, k: int) -> pa.Table:
    """`members` (with member_key) plus each member's shard (int32)."""
    return members.append_column("shard", pa.array(shard_of(members.column("member_key"), k), pa.int32()))


def shard_entries(
    k: int,
    members: pa.Table,
    outputs: Mapping[int, ShardOutput],
    built_by: str,
    carried: Mapping[int, Mapping[str, Any]] | None = None,
    digests: list[str] | None = None,
    *,
    scrubbed: bool = False,
) -> list[dict[str, Any]]:
    """The manifest's entry for every shard: members, records, members digest, files, PII, scrub failures,
    and when `scrubbed` the records and findings per language.

    `members` is the build's final member set with member_key and shard;
    shards in `carried` keep the entry of the build they come from;
    `digests`, when given, are `members`' shard digests, already computed.
    """
    digests = digests if digests is not None else shard_digests(members, k)
    counts = pc.value_counts(members.column("shard")).to_pylist() if members.num_rows else []
    per_shard = {int(c["values"]): int(c["counts"]) for c in counts}
    entries = []
    for shard in range(k):
        if carried and shard in carried:
            entries.append(dict(carried[shard]))
            continue
        out = outputs[shard]
        entries.append(
            {
                "shard": shard,
                "path": shard_dir(shard),
                "members": per_shard.get(shard, 0),
                "records": sum(f.rows for f in out.files),
                "members_digest": digests[shard],
                "files": [f.path for f in out.files],
                "pii": dict(sorted(out.pii.items())),
                "scrub_failed": out.scrub_failed,
                "built_by": built_by,
            }
            | ({"languages": language_block(out.languages)} if scrubbed else {})
        )
    return entries


def language_block(tallies: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """`{code: {"records": n, "detections": m}}` in the manifest's order of language codes."""
    from consentry.scrub.local_rules import count_order

    return {
        code: {"records": int(tallies[code].get("records", 0)), "detections": int(tallies[code].get("detections", 0))}
        for code in count_order(tallies)
    }


def source_hashes(paths: Sequence[Path]) -> list[dict[str, str]]:
    """The SHA-256 of every source file (hashed side by side): what a partial rebuild checks the sources against."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="consentry-source-hash") as pool:
        digests = list(pool.map(file_sha256, paths))
    return [{"path": str(p.absolute()), "sha256": d} for p, d in zip(paths, digests, strict=True)]


@dataclass(frozen=True)
class CarryOver:
    """A partial rebuild's original: its output, manifest and member set (member_id, records, shard)."""

    build_id: str
    out_dir: Path
    manifest: Mapping[str, Any]
    members: pa.Table
    #: the sources' SHA-256, as checked against the original's just before the rebuild (not hashed twice)
    sources_sha256: list[dict[str, str]] | None = None

    @property
    def entries(self) -> dict[int, Mapping[str, Any]]:
        """The original manifest's entry of each shard."""
        return {int(e["shard"]): e for e in self.manifest["shards"]["entries"]}

    def affected(self, members: pa.Table, k: int, digests: list[str]) -> frozenset[int]:
        """The shards whose members or records differ between the original and `members` (decided now).

        `members` has member_id, member_key, records and shard. A shard is kept
        only when it holds exactly the same members, with the same number of
        records each and the same keys (its members digest, `digests` being
        `shard_digests(members, k)`), as the original.
        """
        entries = self.entries
        changed = _changed_shards(self.members, members)
        return frozenset(s for s in range(k) if s in changed or digests[s] != entries[s]["members_digest"])

    def copy_into(self, directory: Path, shards: Sequence[int]) -> None:
        """Hard-link (or copy) the files of `shards` into `directory`, each checked against its recorded SHA-256."""
        digests = {str(f["path"]): str(f["sha256"]) for f in self.manifest["files"]}
        entries = self.entries
        for shard in shards:
            (directory / shard_dir(shard)).mkdir(parents=True, exist_ok=True)
            for rel in entries[shard]["files"]:
                source, target = self.out_dir / rel, directory / rel
                try:
                    os.link(source, target)
                except OSError:
                    try:
                        shutil.copyfile(source, target)
                    except OSError as e:
                        raise BuildError(f"cannot carry {source} over: {e.strerror or e}; rebuild it whole") from None
                if file_sha256(target) != digests.get(rel):
                    raise BuildError(
                        f"{source} no longer has the SHA-256 build {self.build_id} recorded; rebuild it whole"
                    )


def _changed_shards(then: pa.Table, now: pa.Table) -> set[int]:
    """The shards (on either side) of members present on one side only, or with other records or another shard."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("o", then.select(["member_id", "records", "shard"]))
        con.register("n", now.select(["member_id", "records", "shard"]))
        rows = con.execute(
            """SELECT o.shard, n.shard FROM o FULL JOIN n ON o.member_id = n.member_id
            WHERE o.shard IS DISTINCT FROM n.shard OR o.records IS DISTINCT FROM n.records"""
        ).fetchall()
    finally:
        con.close()
    return {int(s) for row in rows for s in row if s is not None}
