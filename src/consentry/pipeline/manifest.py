"""The manifest: the proof of a build, written as OUT/manifest.json.

Field names follow the build output contract (docs/concepts.md); a few more are added
(build_id, predecessor, sources, members, scrubber, decided_at). The JSON is
written with sorted keys and a trailing newline so its SHA-256 is stable for
the same content.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentry.errors import BuildError
from consentry.pipeline.writer import ShardFile
from consentry.store.protocol import Store

__all__ = [
    "MANIFEST_NAME",
    "BuildManifest",
    "members_digest",
    "newest_checkpoint_for",
    "output_columns",
    "read_manifest",
]

MANIFEST_NAME = "manifest.json"


def members_digest(member_keys: Iterable[str] | pa.Array | pa.ChunkedArray) -> str:
    """SHA-256 over the sorted, distinct member keys, one per line (each followed by a newline).

    An Arrow array is deduplicated and sorted by DuckDB (byte order, which is
    code point order for UTF-8) and hashed straight from Arrow's buffer: the
    same digest as for the Python strings, without a Python string per key.
    """
    if not isinstance(member_keys, pa.Array | pa.ChunkedArray):
        return hashlib.sha256("".join(k + "\n" for k in sorted(set(member_keys))).encode()).hexdigest()
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("keys", pa.table({"k": member_keys}))
        ordered = con.sql("SELECT DISTINCT k FROM keys WHERE k IS NOT NULL ORDER BY k").to_arrow_table().column(0)
    finally:
        con.close()
    h = hashlib.sha256()
    for chunk in ordered.chunks:
        large = pa.large_string()
        lines = pc.binary_join_element_wise(chunk.cast(large), pa.scalar("", large), pa.scalar("\n", large))
        if len(lines):
            _, offsets_buffer, data = lines.buffers()
            offsets = pa.Array.from_buffers(pa.int64(), len(lines) + 1, [None, offsets_buffer], offset=lines.offset)
            h.update(memoryview(data)[offsets[0].as_py() : offsets[-1].as_py()])
    return h.hexdigest()


@dataclass(frozen=True)
class BuildManifest:
    """Everything needed to show what a build used, why, and what it wrote."""

    dataset_id: str
    build_id: str
    purpose: str
    as_of: str
    decided_at: str
    policy: Mapping[str, Any]
    terms_version: str | None
    ledger: Mapping[str, Any]
    counts: Mapping[str, Any]
    pii: Mapping[str, int]
    members: int
    members_digest: str
    files: list[Mapping[str, Any]]
    engine: str
    consentry_version: str
    created_at: str
    predecessor: str | None
    sources: Sequence[Mapping[str, Any]]
    scrubber: Mapping[str, Any] | None
    member_key: Mapping[str, str] = field(default_factory=lambda: {"algorithm": "HMAC-SHA256", "of": "member_id"})
    #: a sharded build's shards (count, assignment, source digests, an entry per shard); absent when unsharded
    shards: Mapping[str, Any] | None = None
    #: the build's OpenLineage run (id, job, transport) and how its START event was delivered
    lineage: Mapping[str, Any] | None = None
    #: files written beside the shards (croissant.json, README.md): path, bytes, sha256
    metadata_files: Sequence[Mapping[str, Any]] = field(default_factory=list)
    #: canaries planted (how many, and the salted SHA-256 commitment to them); absent without canaries
    canaries: Mapping[str, Any] | None = None
    #: a scrubbed build's records and detections per language code; absent when unscrubbed
    languages: Mapping[str, Mapping[str, int]] | None = None

    @staticmethod
    def file_entries(files: Iterable[ShardFile]) -> list[Mapping[str, Any]]:
        """Manifest entries for written shards."""
        return [{"path": f.path, "rows": f.rows, "bytes": f.bytes, "sha256": f.sha256} for f in files]

    def data(self) -> dict[str, Any]:
        """The manifest as JSON data."""
        return json.loads(json.dumps(asdict(self)))  # type: ignore[no-any-return]

    def to_json(self) -> bytes:
        """The manifest as canonical JSON bytes.

        Without `shards` when unsharded, `canaries` when none planted, `languages` when unscrubbed.
        """
        data = asdict(self)
        for optional in ("shards", "canaries", "languages"):
            if data[optional] is None:
                del data[optional]
        return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()

    def write(self, directory: Path) -> str:
        """Write manifest.json into `directory` (fsynced); return its SHA-256."""
        data = self.to_json()
        path = directory / MANIFEST_NAME
        with path.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return hashlib.sha256(data).hexdigest()


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a build directory as JSON data."""
    data: dict[str, Any] = json.loads((directory / MANIFEST_NAME).read_text())
    return data


def output_columns(directory: Path, manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The output's columns, (name, Arrow type), from the footer of the build's first shard."""
    import pyarrow.parquet as pq

    files = manifest["files"]
    if not files:
        return []
    schema = pq.read_schema(directory / files[0]["path"])
    return [(f.name, str(f.type)) for f in schema]


def newest_checkpoint_for(store: Store, environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The newest signed checkpoint in CONSENTRY_CHECKPOINT_DIR, for the manifest; a ledger that no longer
    holds it (truncated, rolled back, rewritten) stops the build: its decisions could miss withdrawals."""
    directory = (os.environ if environ is None else environ).get("CONSENTRY_CHECKPOINT_DIR")
    if not directory:
        return None
    from consentry.store.anchors import extends
    from consentry.store.checkpoints import newest_checkpoint

    newest = newest_checkpoint(Path(directory))
    if newest is None:
        return None
    problem = extends(store, newest)
    if problem:
        raise BuildError(f"{problem}; run `consentry ledger verify --checkpoints {directory}` before building")
    return {"file": Path(newest.source).name, "key_id": newest.key_id, **newest.checkpoint.body()}
