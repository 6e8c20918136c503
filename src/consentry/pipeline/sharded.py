"""A sharded build's write and seal (`build` with shards > 1; see `consentry.pipeline.shards`).

decide ─► shard of every allowed member ─► (partial rebuild: the shards whose decision changed)
  ─► the engine's rows (its own Parquet write when unscrubbed, else its stream) ─► split into shards,
     scrubbed after the split ─► carried shards hard-linked from the original, hashes checked
  ─► manifest with an entry per shard ─► registered pending with each member's shard
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from consentry.pipeline.build import (
    INLINE_SCRUB_ROWS,
    BuildResult,
    _counts,
    _final_members,
    _manifest,
    _record,
    _WriteProgress,
    output_schema,
)
from consentry.pipeline.engines import BuildPlan, Decided, Engine
from consentry.pipeline.lineage_run import LineageRun
from consentry.pipeline.manifest import MANIFEST_NAME, members_digest
from consentry.pipeline.metadata import write_metadata
from consentry.pipeline.progress import BuildStage
from consentry.pipeline.registry import BuildRecord
from consentry.pipeline.shards import (
    ASSIGNMENT,
    CarryOver,
    ShardOutput,
    language_block,
    shard_digests,
    shard_entries,
    source_hashes,
    with_shards,
    write_sharded,
)
from consentry.pipeline.writer import OutputDir, ShardFile
from consentry.store.protocol import Store
from consentry.vocab import ReasonCode

__all__ = ["ShardSplit", "seal_shards", "start_source_hashes", "write_shards"]


@dataclass(frozen=True)
class ShardSplit:
    """What a sharded build wrote: each written shard's output, and which shards (None: all of them)."""

    outputs: dict[int, ShardOutput]
    only: frozenset[int] | None
    #: each shard's members digest as decided (before the scrubber could drop a member's last record)
    digests: list[str]


def start_source_hashes(plan: BuildPlan) -> Future[list[dict[str, str]]] | None:
    """For a sharded build, the SHA-256 of every local source, hashed on threads beside the build."""
    if plan.shards == 1 or plan.sources.remote:
        return None
    if plan.carry is not None and plan.carry.sources_sha256 is not None:  # checked just before: not hashed again
        done: Future[list[dict[str, str]]] = Future()
        done.set_result(plan.carry.sources_sha256)
        return done
    pool = ThreadPoolExecutor(1, thread_name_prefix="consentry-source-hash")
    future = pool.submit(source_hashes, [f.path for f in plan.sources.files])
    pool.shutdown(wait=False)
    return future


def write_shards(
    plan: BuildPlan, eng: Engine, target: OutputDir, decided: Decided, written: _WriteProgress
) -> tuple[Decided, ShardSplit]:
    """Assign every member a shard, keep a partial rebuild to its affected shards, split the rows into shards."""
    members = with_shards(decided.members, plan.shards)
    decided = replace(decided, members=members)
    digests = shard_digests(members, plan.shards)
    only = plan.carry.affected(members, plan.shards, digests) if plan.carry is not None else None
    if plan.canaries is not None:
        plan.canaries.bind(members, only)
    total = decided.counts.get(ReasonCode.ALLOWED.value, 0)
    if only is not None:
        kept = members.filter(pc.is_in(members.column("shard"), pa.array(sorted(only), pa.int32())))
        eng.keep_members(kept.column("member_id"))
        total = int(pc.sum(kept.column("records")).as_py() or 0)
    written.total = total
    plan.report(BuildStage.WRITE, 0, total)
    staged = None
    if plan.scrub is None and plan.canaries is None:  # canaries are planted in Python: the engine's rows, streamed
        (target.work / "unsharded").mkdir()
        staged = eng.write_output(target.work / "unsharded", None)
    if staged is not None:  # the engine wrote the rows itself: split its files
        paths = [target.work / "unsharded" / f.path for f in staged]
        schema = output_schema(pq.read_schema(paths[0]))
        stream = (b for p in paths for b in pq.ParquetFile(p).iter_batches(plan.batch_rows))
        on_rows = None
    else:
        reader = eng.included()
        schema, stream, on_rows = output_schema(reader.schema), iter(reader), written.add
        if plan.scrub is not None and total < INLINE_SCRUB_ROWS:
            plan.scrub.workers = 1  # a process pool costs more than it saves on small builds
    outputs = write_sharded(
        stream, target.temp, schema, plan.shards, scrub=plan.scrub, plant=plan.canaries, only=only, on_rows=on_rows
    )
    if plan.carry is not None and only is not None:
        plan.carry.copy_into(target.temp, [s for s in range(plan.shards) if s not in only])
    return decided, ShardSplit(outputs, only, digests)


def seal_shards(
    store: Store,
    plan: BuildPlan,
    target: OutputDir,
    decided: Decided,
    split: ShardSplit,
    hashed: Future[list[dict[str, str]]] | None,
    run: LineageRun,
) -> tuple[BuildResult, BuildRecord]:
    """Write a sharded build's metadata and manifest (an entry per shard) and register it as pending, per shard."""
    lost: Counter[str] = Counter()
    for out in split.outputs.values():
        lost.update(out.dropped_members)
    members = _final_members(plan, decided, lost)
    carried = None
    if plan.carry is not None and split.only is not None:
        carried = {s: e for s, e in plan.carry.entries.items() if s not in split.only}
    digests = split.digests if members is decided.members else None  # nobody lost: the digests stand
    scrubbed = plan.scrub is not None
    entries = shard_entries(plan.shards, members, split.outputs, plan.build_id, carried, digests, scrubbed=scrubbed)
    files = _shard_files(entries, split.outputs, plan.carry)
    pii: Counter[str] = Counter()
    for entry in entries:
        pii.update(entry["pii"])
    counts = _counts(plan, decided, sum(int(e["scrub_failed"]) for e in entries))
    block = {
        "count": plan.shards,
        "assignment": ASSIGNMENT,
        "sources_sha256": hashed.result() if hashed is not None else None,
        "carried_from": plan.carry.build_id if carried is not None and plan.carry is not None else None,
        "entries": entries,
    }
    digest_of_members = members_digest(members.column("member_key"))
    manifest = _manifest(plan, counts, members, digest_of_members, files, pii=dict(sorted(pii.items())), shards=block)
    manifest = replace(manifest, languages=_languages(entries) if scrubbed else None)
    manifest = replace(manifest, lineage=run.report())
    manifest = replace(manifest, metadata_files=write_metadata(target.temp, manifest.data()))
    digest = manifest.write(target.temp)
    plan.report(BuildStage.COMMIT)
    record = _record(plan, target, counts, digest, members.num_rows)
    store.builds.register_pending(record, members.select(["member_id", "records", "shard"]))
    result = BuildResult(
        build_id=plan.build_id,
        out_dir=target.out,
        manifest_path=target.out / MANIFEST_NAME,
        manifest_sha256=digest,
        counts=counts,
        members=members.num_rows,
        files=files,
        pii=dict(sorted(pii.items())),
        predecessor=plan.predecessor,
        shards=plan.shards,
        rebuilt_shards=tuple(sorted(split.only)) if split.only is not None else None,
    )
    return result, record


def _shard_files(
    entries: list[dict[str, Any]], outputs: dict[int, ShardOutput], carry: CarryOver | None
) -> list[ShardFile]:
    """Every file of the build, shard by shard: written now, or carried over with the original's figures."""
    old = {str(f["path"]): f for f in carry.manifest["files"]} if carry is not None else {}
    files: list[ShardFile] = []
    for entry in entries:
        shard = int(entry["shard"])
        if shard in outputs:
            files += outputs[shard].files
        else:
            files += [
                ShardFile(p, int(old[p]["rows"]), int(old[p]["bytes"]), str(old[p]["sha256"])) for p in entry["files"]
            ]
    return files


def _carried_file(entry: Mapping[str, Any]) -> ShardFile:
    return ShardFile(str(entry["path"]), int(entry["rows"]), int(entry["bytes"]), str(entry["sha256"]))


def _languages(entries: list[dict[str, Any]]) -> dict[str, dict[str, int]] | None:
    """The build's records and findings per language: every shard's, carried ones included.

    None (no block) when a carried shard's entry predates per-shard languages:
    its counts are unknown, and a block of the rebuilt shards alone would understate them."""
    total: dict[str, Counter[str]] = {}
    for entry in entries:
        if "languages" not in entry:
            return None
        for code, tally in entry["languages"].items():
            total.setdefault(code, Counter()).update(tally)
    return language_block(total)
