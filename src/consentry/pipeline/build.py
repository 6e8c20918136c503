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
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

import consentry
from consentry.decide import decide_members
from consentry.errors import InputError
from consentry.pipeline.canaries import plant_canaries
from consentry.pipeline.engines import DEFAULT_MEMORY_LIMIT, BuildPlan, Decided, Engine, open_engine
from consentry.pipeline.keys import resolve_key
from consentry.pipeline.lineage_run import LineageConfig, LineageRun, run_info
from consentry.pipeline.manifest import MANIFEST_NAME, BuildManifest, members_digest, newest_checkpoint_for
from consentry.pipeline.metadata import write_metadata
from consentry.pipeline.progress import BuildProgress, BuildStage
from consentry.pipeline.registry import BuildRecord, EarlyRegistration, reconcile
from consentry.pipeline.shards import CarryOver, check_shards, language_block
from consentry.pipeline.sources import resolve_sources, stage_text_sources
from consentry.pipeline.steps import MEMBER_COLUMN, Project, Rechunk, Step, chain, scrub_step
from consentry.pipeline.writer import OutputDir, ShardFile, ShardWriter
from consentry.rules.reservations import CAUSES as RESERVATION_CAUSES
from consentry.store.protocol import Store
from consentry.timeutil import ARROW_TS, iso, utc, utcnow
from consentry.vocab import ReasonCode

__all__ = ["BuildProgress", "BuildResult", "BuildStage", "build"]

ROW_GROUP_ROWS = 65_536
INLINE_SCRUB_ROWS = 50_000


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
    #: the shard count, and for a partial rebuild the shards it wrote (the rest carried over)
    shards: int = 1
    rebuilt_shards: tuple[int, ...] | None = None
    #: where the build's OpenLineage events went and how each delivery went (`LineageRun.report`)
    lineage: dict[str, Any] | None = None
    #: the manifest's `canaries` (how many planted, the commitment); None without canaries
    canaries: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        sharded: dict[str, Any] = {"shards": self.shards} if self.shards > 1 else {}
        if self.rebuilt_shards is not None:
            sharded["rebuilt_shards"] = list(self.rebuilt_shards)
        if self.canaries is not None:
            sharded["canaries"] = self.canaries
        return sharded | {
            "build_id": self.build_id,
            "out": str(self.out_dir),
            "manifest": str(self.manifest_path),
            "manifest_sha256": self.manifest_sha256,
            "counts": self.counts,
            "members": self.members,
            "files": len(self.files),
            "pii": self.pii,
            "predecessor": self.predecessor,
            "lineage": self.lineage,
        }


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
    now: datetime | None = None,
    shards: int = 1,
    carry: CarryOver | None = None,
    lineage: LineageConfig | None = None,
    surrogates: str = "store",
    canaries: int = 0,
    canary_repeats: int = 1,
) -> BuildResult:
    """Build the training dataset for `purpose` as of `as_of` (default: `now`) into `out`.

    `now` (default: the clock, read once) is when the build decides: every
    withdrawal recorded up to it counts, and it is the build's time in the
    registry and the manifest. `shards` (1 to 4096) splits the output into
    that many cohort shards (`consentry.pipeline.shards`); `carry` (a partial
    rebuild's original, see `staleness.rebuild`) carries its unchanged shards over.
    `surrogates` ("store", the default, or "build") chooses the scrubber's surrogates:
    "build" rewrites names, e-mails, phones and usernames with surrogates consistent
    within this build under a key of its own (`scrub_step`).
    `canaries` plants that many canaries, each `canary_repeats` times, and a
    rebuild of a build with canaries plants them again (`consentry.pipeline.canaries`).
    `lineage` says where its OpenLineage events go (default: nowhere);
    an endpoint that cannot be reached is reported in the result, never raised.
    Raises InputError for bad sources or arguments (naming file and column),
    BuildError when OUT exists without `force` or the build cannot complete.
    Nothing is left at `out` and nothing is registered unless it succeeds.
    """
    check_shards(shards)
    now = utc(now) if now is not None else utcnow()
    when = utc(as_of) if as_of is not None else now
    if when > now:
        raise InputError("is in the future; a build can only use what is known now", field="--as-of")
    policy = store.policy()
    if purpose not in policy.purposes():
        known = ", ".join(policy.purposes()) or "none"
        raise InputError(f"unknown purpose {purpose!r}; the policy has: {known}", field="--purpose")
    version = policy.version_at(when)
    rule = version.purpose(purpose) if version else None
    pass_through = tuple(rule.pass_through) if rule else ()
    source_set = resolve_sources(sources, pass_through, remote=engine == "spark")  # URIs: Spark reads them
    build_id = _new_build_id(now)
    target = OutputDir(Path(out), build_id, force=force)
    report = progress or (lambda _: None)
    written = _WriteProgress(report)
    pseudonym_key = resolve_key(store, key)
    plan = BuildPlan(
        purpose=purpose,
        policy=policy,
        as_of=when,
        now=now,
        sources=source_set,
        pass_through=pass_through,
        key=pseudonym_key,
        work_dir=target.work,
        batch_rows=ROW_GROUP_ROWS,
        memory_limit=memory_limit,
        on_rows=written.add,
        build_id=build_id,
        engine=engine,
        scrub=scrub_step(pseudonym_key, surrogates, carry.manifest if carry else None) if scrub else None,
        predecessor=predecessor,
        progress=report,
        shards=shards,
        carry=carry,
        canaries=plant_canaries(store, canaries, canary_repeats, predecessor),
    )
    run = _lineage_run(lineage or LineageConfig(), plan, target.out)
    with target:
        reconcile(store)  # a build killed after its rename, before it was marked complete
        run.start(iso(utcnow()) or "")
        try:
            result = _run(store, plan, target, written, run)
        except BaseException as e:
            run.fail(iso(utcnow()) or "", _message(e))
            raise
    run.complete(iso(utcnow()) or "", result.out_dir, result.manifest_sha256)
    return replace(result, lineage=run.report())


def _lineage_run(config: LineageConfig, plan: BuildPlan, out: Path) -> LineageRun:
    """The build's OpenLineage run (a new UUIDv7 run id, kept in the manifest)."""
    info = run_info(
        run_id=LineageRun.new_run_id(),
        namespace=config.namespace,
        purpose=plan.purpose,
        sources=plan.sources.registered(),
        out=str(out),
        pass_through=plan.pass_through,
        engine=plan.engine,
        scrubbed=plan.scrub is not None,
        as_of=iso(plan.as_of) or "",
    )
    return LineageRun(config, info)


def _message(e: BaseException) -> str:
    """A failure's one line for the FAIL event (our errors name files and fields, never personal data)."""
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _run(store: Store, plan: BuildPlan, target: OutputDir, written: _WriteProgress, run: LineageRun) -> BuildResult:
    plan.report(BuildStage.READ)
    from consentry.pipeline.sharded import seal_shards, start_source_hashes, write_shards

    hashed = start_source_hashes(plan)
    plan = replace(plan, sources=stage_text_sources(plan.sources, plan.pass_through, target.work / "staged"))
    plan = replace(plan, ledger=store.head(), checkpoint=newest_checkpoint_for(store))
    early: EarlyRegistration | None = None
    try:
        with open_engine(plan.engine, plan) as eng:
            plan.report(BuildStage.DECIDE)
            eng.start()  # the engine's record-level work runs beside the ledger snapshot
            verdicts = _verdicts(store, plan)
            decided = eng.decide(verdicts)
            del verdicts  # the engine holds what it needs: a 10^6-member table less while writing
            pa.default_memory_pool().release_unused()
            if plan.shards > 1:
                decided, split = write_shards(plan, eng, target, decided, written)
            else:
                if plan.scrub is None:  # the member set is final: register and digest it beside the write
                    pending = _record(plan, target, {}, None, decided.members.num_rows)
                    early = EarlyRegistration(store, pending, decided.members)
                allowed = written.total = decided.counts.get(ReasonCode.ALLOWED.value, 0)
                if plan.canaries is not None:  # planted in Python: the engine does not write OUT itself
                    plan.canaries.bind(decided.members)
                files = None if plan.canaries is not None else _engine_write(plan, eng, target.temp, allowed)
                if files is None:
                    files = _write(plan, eng.included(), target.temp, allowed)
                sealed = files
        if plan.shards > 1:
            result, record = seal_shards(store, plan, target, decided, split, hashed, run)
        else:
            result, record = _seal(store, plan, target, decided, sealed, early, run)
    except BaseException:
        if early is not None:
            early.abandon()  # nothing is in place yet: leave no pending row behind
        raise
    try:
        if plan.canaries is not None:  # secret: in the store only, with the pending build they belong to
            store.canaries.record(*plan.canaries.records(plan.build_id))
            result = replace(result, canaries=plan.canaries.summary(plan.build_id))
        target.commit()
    except BaseException:
        store.builds.discard_pending(record.build_id)  # OUT is as it was: nothing to reconcile later
        raise
    store.builds.mark_complete(record.build_id)
    return result


def _seal(
    store: Store,
    plan: BuildPlan,
    target: OutputDir,
    decided: Decided,
    files: list[ShardFile],
    early: EarlyRegistration | None,
    run: LineageRun,
) -> tuple[BuildResult, BuildRecord]:
    """Write the dataset's metadata and manifest, and register the build as pending with its final figures."""
    members = _final_members(plan, decided)
    counts = _counts(plan, decided)
    digest_of_members = early.members_digest() if early else members_digest(members.column("member_key"))
    manifest = replace(_manifest(plan, counts, members, digest_of_members, files), lineage=run.report())
    manifest = replace(manifest, metadata_files=write_metadata(target.temp, manifest.data()))
    digest = manifest.write(target.temp)
    plan.report(BuildStage.COMMIT)
    record = _record(plan, target, counts, digest, members.num_rows)
    if early is not None:
        early.finish(record)
    else:
        store.builds.register_pending(record, members.select(["member_id", "records"]))
    result = BuildResult(
        build_id=plan.build_id,
        out_dir=target.out,
        manifest_path=target.out / MANIFEST_NAME,
        manifest_sha256=digest,
        counts=counts,
        members=members.num_rows,
        files=files,
        pii=_pii(plan),
        predecessor=plan.predecessor,
    )
    return result, record


def _record(
    plan: BuildPlan, target: OutputDir, counts: dict[str, Any], digest: str | None, members: int
) -> BuildRecord:
    """The registry's row for this build (counts and digest final only once the manifest is written)."""
    return BuildRecord(
        build_id=plan.build_id,
        purpose=plan.purpose,
        as_of=plan.as_of,
        created_at=plan.now,
        out_dir=str(target.out),
        engine=plan.engine,
        counts=counts,
        manifest_sha256=digest,
        members=members,
        predecessor=plan.predecessor,
        decided_at=plan.now,
        scrub=plan.scrub is not None,
        sources=plan.sources.registered(),
        ledger=plan.ledger,
        shards=plan.shards,
    )


def _verdicts(store: Store, plan: BuildPlan) -> pa.Table:
    """Every member's verdict for the purpose, as of T, decided now (the snapshot is dropped on return)."""
    snapshot = store.snapshot(plan.purpose, plan.as_of, plan.now)
    store.maintain_member_image()  # the next build reads the members from it
    if plan.scrub is not None:  # members' countries: the region hints of the scrubber's local rules
        plan.scrub.set_countries(snapshot)
    return decide_members(plan.policy, plan.purpose, snapshot, at=plan.as_of, now=plan.now)


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


def _engine_write(plan: BuildPlan, eng: Engine, directory: Path, allowed: int) -> list[ShardFile] | None:
    """Let the engine write OUT itself (the rows never enter Python); None if it leaves that to `_write`."""
    plan.report(BuildStage.WRITE, 0, allowed)
    files = eng.write_output(directory, plan.scrub)
    if files is not None:
        plan.report(BuildStage.WRITE, allowed, allowed)
    return files


def _write(plan: BuildPlan, reader: pa.RecordBatchReader, directory: Path, allowed: int) -> list[ShardFile]:
    schema = output_schema(reader.schema)
    if plan.scrub is not None and allowed < INLINE_SCRUB_ROWS:
        plan.scrub.workers = 1  # a process pool costs more than it saves on small builds
    steps: list[Step] = [plan.scrub] if plan.scrub is not None else []
    steps += [plan.canaries] if plan.canaries is not None else []
    steps += [Project(schema), Rechunk(ROW_GROUP_ROWS)]
    writer = ShardWriter(directory, schema)
    done = 0
    try:
        for batch in chain(iter(reader), steps):
            writer.write(batch)
            done += batch.num_rows
            plan.report(BuildStage.WRITE, done, allowed)
    finally:
        files = writer.close()
    return files


def _final_members(plan: BuildPlan, decided: Decided, lost: Counter[str] | None = None) -> pa.Table:
    """Allowed members, less records the scrub step dropped (members left with none go)."""
    members = decided.members
    if lost is None:
        lost = plan.scrub.stats.dropped_members if plan.scrub is not None else Counter()
    if not lost:
        return members
    ids = members.column("member_id").to_pylist()
    records = [n - lost.get(m, 0) for m, n in zip(ids, members.column("records").to_pylist(), strict=True)]
    adjusted = members.set_column(2, "records", pa.array(records, pa.int64()))
    return adjusted.filter(pc.greater(adjusted.column("records"), 0))


def _counts(plan: BuildPlan, decided: Decided, scrub_failed: int | None = None) -> dict[str, Any]:
    if scrub_failed is None:
        scrub_failed = plan.scrub.stats.dropped[ReasonCode.SCRUB_FAILED] if plan.scrub is not None else 0
    excluded = {
        r.value: decided.counts.get(r.value, 0)
        for r in ReasonCode
        if r not in (ReasonCode.ALLOWED, ReasonCode.SCRUB_FAILED)
    }
    excluded[ReasonCode.SCRUB_FAILED.value] = scrub_failed
    allowed = decided.counts.get(ReasonCode.ALLOWED.value, 0)
    reserved = decided.causes.get(ReasonCode.RESERVED_BY_RIGHTS_HOLDER.value, {})
    return {
        "input": sum(decided.counts.values()),
        "included": allowed - scrub_failed,
        "excluded": {k: v for k, v in sorted(excluded.items(), key=lambda kv: ReasonCode(kv[0]).rank)},
        # RESERVED_BY_RIGHTS_HOLDER per signal kind (the first honoured one that reserves), or unreadable
        "reserved_by_signal": {cause: reserved.get(cause, 0) for cause in RESERVATION_CAUSES},
    }


def _pii(plan: BuildPlan) -> dict[str, int]:
    if plan.scrub is None:
        return {}
    return dict(sorted(plan.scrub.stats.entities.items()))


def _languages(plan: BuildPlan) -> dict[str, dict[str, int]] | None:
    """Records scrubbed and findings, per language code the scrubber read them in (None unscrubbed)."""
    return None if plan.scrub is None else language_block(plan.scrub.stats.languages)


def _manifest(
    plan: BuildPlan,
    counts: dict[str, Any],
    members: pa.Table,
    digest_of_members: str,
    files: list[ShardFile],
    *,
    pii: dict[str, int] | None = None,
    shards: dict[str, Any] | None = None,
) -> BuildManifest:
    version = plan.policy.version_at(plan.as_of)
    rule = version.purpose(plan.purpose) if version else None
    datasets = version.spec.datasets if version else None
    return BuildManifest(
        dataset_id=plan.build_id,
        build_id=plan.build_id,
        purpose=plan.purpose,
        as_of=iso(plan.as_of) or "",
        decided_at=iso(plan.now) or "",
        policy={
            "name": plan.policy.name,
            "version": version.version if version else None,
            "sha256": version.sha256 if version else None,
            "terms_url": version.terms_url if version else None,
            "legal_basis": rule.legal_basis.value if rule else None,
            "purpose_label": rule.label if rule else None,
            "kinds": list(rule.kinds) if rule else [],
            "visibility": [v.value for v in rule.visibility] if rule else [],
            "datasets": datasets.model_dump(mode="json") if datasets else None,
        },
        terms_version=version.version if version else None,
        ledger={"head_hash": plan.ledger[1], "events": plan.ledger[0], "checkpoint": plan.checkpoint},
        counts=counts,
        pii=_pii(plan) if pii is None else pii,
        members=members.num_rows,
        members_digest=digest_of_members,
        files=BuildManifest.file_entries(files),
        engine=plan.engine,
        consentry_version=consentry.__version__,
        created_at=iso(plan.now) or "",
        predecessor=plan.predecessor,
        sources=plan.sources.describe(),
        scrubber=(
            {"enabled": True, "version": plan.scrub.version, "config": plan.scrub.config_json()}
            | ({"surrogate_salt": plan.scrub.salt} if plan.scrub.salt else {})
            if plan.scrub is not None
            else {"enabled": False}
        ),
        shards=shards,
        canaries=plan.canaries.summary(plan.build_id) if plan.canaries is not None else None,
        languages=_languages(plan),
    )
