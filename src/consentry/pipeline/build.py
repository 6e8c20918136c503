"""`build()`: one purpose, as of T, from record sources to a registered, provable dataset.

    resolve + validate sources ─► engine: record-level flags ┐
                                  ledger snapshot ─► decide_members ┴► reason per record
      ─► counts per reason ─► allowed records (source order) ─► scrub ─► Parquet shards ─► manifest
      ─► register (pending) ─► rename OUT into place ─► registered (complete)

An unscrubbed build's member set is final once decided: it is registered
(pending, no manifest digest yet) and digested on threads while the engine
writes the shards, and only completed with its figures after the manifest.

Decisions are taken as of `as_of` with everything recorded up to the moment
the build starts (`decided_at`): later withdrawals, objections, closures and
deletions always win.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

import consentry
from consentry.decide import decide_members
from consentry.errors import InputError
from consentry.pipeline.engines import DEFAULT_MEMORY_LIMIT, BuildPlan, Decided, Engine, open_engine
from consentry.pipeline.keys import resolve_key
from consentry.pipeline.manifest import MANIFEST_NAME, BuildManifest, members_digest
from consentry.pipeline.registry import BuildRecord, EarlyRegistration, mark_complete, register_pending
from consentry.pipeline.sources import resolve_sources, stage_text_sources
from consentry.pipeline.steps import MEMBER_COLUMN, Project, Rechunk, ScrubStep, Step, chain
from consentry.pipeline.writer import OutputDir, ShardFile, ShardWriter
from consentry.policy import Policy
from consentry.store.protocol import Store
from consentry.timeutil import ARROW_TS, iso, utc, utcnow
from consentry.vocab import ReasonCode

__all__ = ["BuildProgress", "BuildResult", "BuildStage", "build"]

ROW_GROUP_ROWS = 65_536
INLINE_SCRUB_ROWS = 50_000


class BuildStage(StrEnum):
    """The stages a build reports progress for."""

    READ = "read"
    DECIDE = "decide"
    WRITE = "write"
    COMMIT = "commit"


@dataclass(frozen=True)
class BuildProgress:
    """A progress report: the stage, and rows done out of a total (0 when unknown)."""

    stage: BuildStage
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class BuildResult:
    """What a build produced."""

    build_id: str
    out_dir: Path
    manifest_path: Path
    manifest_sha256: str
    counts: dict[str, Any]
    members: int
    files: list[ShardFile]
    pii: dict[str, int]
    predecessor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        return {
            "build_id": self.build_id,
            "out": str(self.out_dir),
            "manifest": str(self.manifest_path),
            "manifest_sha256": self.manifest_sha256,
            "counts": self.counts,
            "members": self.members,
            "files": len(self.files),
            "pii": self.pii,
            "predecessor": self.predecessor,
        }


@dataclass
class _Context:
    store: Store
    policy: Policy
    purpose: str
    as_of: datetime
    now: datetime
    engine: str
    scrub: ScrubStep | None
    key: bytes
    build_id: str
    predecessor: str | None
    progress: Callable[[BuildProgress], None]
    pass_through: tuple[str, ...] = ()
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    steps: list[Step] = field(default_factory=list)


def _new_build_id(now: datetime) -> str:
    return f"b{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def build(
    store: Store,
    purpose: str,
    sources: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    as_of: datetime | None = None,
    engine: str = "local",
    scrub: bool = True,
    force: bool = False,
    key: bytes | None = None,
    progress: Callable[[BuildProgress], None] | None = None,
    predecessor: str | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> BuildResult:
    """Build the training dataset for `purpose` as of `as_of` (default: now) into `out`.

    Raises InputError for bad sources or arguments (naming file and column),
    BuildError when OUT exists without `force` or the build cannot complete.
    Nothing is left at `out` and nothing is registered unless it succeeds.
    """
    now = utcnow()
    when = utc(as_of) if as_of is not None else now
    if when > now:
        raise InputError("is in the future; a build can only use what is known now", field="--as-of")
    policy = store.policy()
    if purpose not in policy.purposes():
        known = ", ".join(policy.purposes()) or "none"
        raise InputError(f"unknown purpose {purpose!r}; the policy has: {known}", field="--purpose")
    version = policy.version_at(when)
    rule = version.purpose(purpose) if version else None
    ctx = _Context(
        store=store,
        policy=policy,
        purpose=purpose,
        as_of=when,
        now=now,
        engine=engine,
        scrub=ScrubStep(resolve_key(store, key)) if scrub else None,
        key=resolve_key(store, key),
        build_id=_new_build_id(now),
        predecessor=predecessor,
        progress=progress or (lambda _: None),
        pass_through=tuple(rule.pass_through) if rule else (),
        memory_limit=memory_limit,
    )
    source_set = resolve_sources(sources, ctx.pass_through, remote=engine == "spark")  # URIs: Spark reads them
    with OutputDir(Path(out), ctx.build_id, force=force) as target:
        return _run(ctx, source_set, target)


def _run(ctx: _Context, source_set: Any, target: OutputDir) -> BuildResult:
    ctx.progress(BuildProgress(BuildStage.READ))
    staged = stage_text_sources(source_set, ctx.pass_through, target.work / "staged")
    head_events, head_hash = ctx.store.head()
    written = _WriteProgress(ctx.progress)
    plan = BuildPlan(
        purpose=ctx.purpose,
        policy=ctx.policy,
        as_of=ctx.as_of,
        now=ctx.now,
        sources=staged,
        pass_through=ctx.pass_through,
        key=ctx.key,
        work_dir=target.work,
        batch_rows=ROW_GROUP_ROWS,
        memory_limit=ctx.memory_limit,
        on_rows=written.add,
    )
    early: EarlyRegistration | None = None
    try:
        with open_engine(ctx.engine, plan) as eng:
            ctx.progress(BuildProgress(BuildStage.DECIDE))
            eng.start()  # the engine's record-level work runs beside the ledger snapshot
            verdicts = _verdicts(ctx)
            decided = eng.decide(verdicts)
            del verdicts  # the engine holds what it needs: a 10^6-member table less while writing
            pa.default_memory_pool().release_unused()
            if ctx.scrub is None:  # the member set is final: register and digest it beside the write
                pending = _record(ctx, target, staged, {}, None, decided.members.num_rows)
                early = EarlyRegistration(ctx.store, pending, decided.members)
            allowed = written.total = decided.counts.get(ReasonCode.ALLOWED.value, 0)
            files = _engine_write(ctx, eng, target.temp, allowed)
            if files is None:
                files = _write(ctx, eng.included(), target.temp, allowed)
        result, record = _seal(ctx, target, staged, decided, files, early, (head_events, head_hash))
    except BaseException:
        if early is not None:
            early.abandon()  # nothing is in place yet: leave no pending row behind
        raise
    target.commit()
    mark_complete(ctx.store, record.build_id)
    return result


def _seal(
    ctx: _Context,
    target: OutputDir,
    staged: Any,
    decided: Decided,
    files: list[ShardFile],
    early: EarlyRegistration | None,
    head: tuple[int, str],
) -> tuple[BuildResult, BuildRecord]:
    """Write the manifest and register the build as pending with its final figures."""
    members = _final_members(ctx, decided)
    counts = _counts(ctx, decided)
    digest_of_members = early.members_digest() if early else members_digest(members.column("member_key"))
    manifest = _manifest(ctx, staged, counts, members, digest_of_members, files, *head)
    digest = manifest.write(target.temp)
    ctx.progress(BuildProgress(BuildStage.COMMIT))
    record = _record(ctx, target, staged, counts, digest, members.num_rows)
    if early is not None:
        early.finish(record)
    else:
        register_pending(ctx.store, record, members.select(["member_id", "records"]))
    result = BuildResult(
        build_id=ctx.build_id,
        out_dir=target.out,
        manifest_path=target.out / MANIFEST_NAME,
        manifest_sha256=digest,
        counts=counts,
        members=members.num_rows,
        files=files,
        pii=_pii(ctx),
        predecessor=ctx.predecessor,
    )
    return result, record


def _record(
    ctx: _Context, target: OutputDir, staged: Any, counts: dict[str, Any], digest: str | None, members: int
) -> BuildRecord:
    """The registry's row for this build (counts and digest final only once the manifest is written)."""
    return BuildRecord(
        build_id=ctx.build_id,
        purpose=ctx.purpose,
        as_of=ctx.as_of,
        created_at=utcnow(),
        out_dir=str(target.out),
        engine=ctx.engine,
        counts=counts,
        manifest_sha256=digest,
        members=members,
        predecessor=ctx.predecessor,
        decided_at=ctx.now,
        scrub=ctx.scrub is not None,
        sources=staged.registered(),
    )


def _verdicts(ctx: _Context) -> pa.Table:
    """Every member's verdict for the purpose, as of T, decided now (the snapshot is dropped on return)."""
    snapshot = ctx.store.snapshot(ctx.purpose, ctx.as_of, ctx.now)
    ctx.store.maintain_member_image()  # the next build reads the members from it
    return decide_members(ctx.policy, ctx.purpose, snapshot, at=ctx.as_of, now=ctx.now)


def output_schema(included: pa.Schema) -> pa.Schema:
    """The output columns: the contract's, then pass-through, with fixed types."""
    fixed = {"record_id": pa.string(), "member_key": pa.string(), "kind": pa.string(), "created_at": ARROW_TS}
    fields = []
    for f in included:
        if f.name == MEMBER_COLUMN:
            continue
        t = fixed.get(f.name, f.type)
        if f.name == "text" or pa.types.is_null(t) or pa.types.is_string_view(t) or pa.types.is_large_string(t):
            t = pa.string()
        fields.append(pa.field(f.name, t))
    return pa.schema(fields)


class _WriteProgress:
    """Rows an engine reports written, piece by piece and from any thread, as WRITE progress."""

    def __init__(self, report: Callable[[BuildProgress], None]):
        self.report = report
        self.total = 0
        self._done = 0
        self._lock = threading.Lock()

    def add(self, rows: int) -> None:
        with self._lock:
            self._done += rows
            self.report(BuildProgress(BuildStage.WRITE, self._done, self.total))


def _engine_write(ctx: _Context, eng: Engine, directory: Path, allowed: int) -> list[ShardFile] | None:
    """Let the engine write OUT itself (the rows never enter Python); None if it leaves that to `_write`."""
    ctx.progress(BuildProgress(BuildStage.WRITE, 0, allowed))
    files = eng.write_output(directory, ctx.scrub)
    if files is not None:
        ctx.progress(BuildProgress(BuildStage.WRITE, allowed, allowed))
    return files


def _write(ctx: _Context, reader: pa.RecordBatchReader, directory: Path, allowed: int) -> list[ShardFile]:
    schema = output_schema(reader.schema)
    if ctx.scrub is not None and allowed < INLINE_SCRUB_ROWS:
        ctx.scrub.workers = 1  # a process pool costs more than it saves on small builds
    steps: list[Step] = [ctx.scrub] if ctx.scrub is not None else []
    steps += [Project(schema), Rechunk(ROW_GROUP_ROWS)]
    ctx.steps = steps
    writer = ShardWriter(directory, schema)
    done = 0
    try:
        for batch in chain(iter(reader), steps):
            writer.write(batch)
            done += batch.num_rows
            ctx.progress(BuildProgress(BuildStage.WRITE, done, allowed))
    finally:
        files = writer.close()
    return files


def _final_members(ctx: _Context, decided: Decided) -> pa.Table:
    """Allowed members, less records the scrub step dropped (members left with none go)."""
    members = decided.members
    lost: Counter[str] = ctx.scrub.stats.dropped_members if ctx.scrub is not None else Counter()
    if not lost:
        return members
    ids = members.column("member_id").to_pylist()
    records = [n - lost.get(m, 0) for m, n in zip(ids, members.column("records").to_pylist(), strict=True)]
    adjusted = members.set_column(2, "records", pa.array(records, pa.int64()))
    return adjusted.filter(pc.greater(adjusted.column("records"), 0))


def _counts(ctx: _Context, decided: Decided) -> dict[str, Any]:
    scrub_failed = ctx.scrub.stats.dropped[ReasonCode.SCRUB_FAILED] if ctx.scrub is not None else 0
    excluded = {
        r.value: decided.counts.get(r.value, 0)
        for r in ReasonCode
        if r not in (ReasonCode.ALLOWED, ReasonCode.SCRUB_FAILED)
    }
    excluded[ReasonCode.SCRUB_FAILED.value] = scrub_failed
    allowed = decided.counts.get(ReasonCode.ALLOWED.value, 0)
    return {
        "input": sum(decided.counts.values()),
        "included": allowed - scrub_failed,
        "excluded": {k: v for k, v in sorted(excluded.items(), key=lambda kv: ReasonCode(kv[0]).rank)},
    }


def _pii(ctx: _Context) -> dict[str, int]:
    if ctx.scrub is None:
        return {}
    return dict(sorted(ctx.scrub.stats.entities.items()))


def _manifest(
    ctx: _Context,
    staged: Any,
    counts: dict[str, Any],
    members: pa.Table,
    digest_of_members: str,
    files: list[ShardFile],
    head_events: int,
    head_hash: str,
) -> BuildManifest:
    version = ctx.policy.version_at(ctx.as_of)
    return BuildManifest(
        dataset_id=ctx.build_id,
        build_id=ctx.build_id,
        purpose=ctx.purpose,
        as_of=iso(ctx.as_of) or "",
        decided_at=iso(ctx.now) or "",
        policy={
            "name": ctx.policy.name,
            "version": version.version if version else None,
            "sha256": version.sha256 if version else None,
            "terms_url": version.terms_url if version else None,
        },
        terms_version=version.version if version else None,
        ledger={"head_hash": head_hash, "events": head_events},
        counts=counts,
        pii=_pii(ctx),
        members=members.num_rows,
        members_digest=digest_of_members,
        files=BuildManifest.file_entries(files),
        engine=ctx.engine,
        consentry_version=consentry.__version__,
        created_at=iso(utcnow()) or "",
        predecessor=ctx.predecessor,
        sources=staged.describe(),
        scrubber=(
            {"enabled": True, "version": ctx.scrub.version, "config": ctx.scrub.config_json()}
            if ctx.scrub is not None
            else {"enabled": False}
        ),
    )
