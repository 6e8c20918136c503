"""Which builds went stale, and rebuilding them.

A build goes stale when members whose data it holds have since taken it back
(withdrawn, objected, closed their account) or records in it were deleted at
the source. Member-level causes come from the ledger, decided now; deleted
records are found by re-reading a build's sources against its output, which
runs only when asked (`stale_builds(check_deletions=True)`, the
`builds stale` command) and is recorded in the registry with the time it was
taken, so that listing stale builds never reads the lake.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from consentry.errors import BuildError, ConsentryError, InputError
from consentry.pipeline.build import BuildProgress, BuildResult, build
from consentry.pipeline.engines.local_sql import quote_path, records_sql, register_signals
from consentry.pipeline.keys import hmac_sql, resolve_key
from consentry.pipeline.lineage_run import LineageConfig
from consentry.pipeline.manifest import MANIFEST_NAME
from consentry.pipeline.registry import BuildRecord, build_members, get_build, list_builds, reconcile
from consentry.pipeline.shards import CarryOver, source_hashes
from consentry.pipeline.sources import resolve_sources, stage_text_sources
from consentry.store.protocol import Store
from consentry.timeutil import iso, utc, utcnow

__all__ = ["StaleBuild", "carry_over", "deleted_records", "rebuild", "stale_builds"]


@dataclass(frozen=True)
class StaleBuild:
    """A build holding data of members who have since taken it back.

    `causes` maps a reason code (OPTED_OUT, OBJECTION_UPHELD, OBJECTION_PENDING,
    ACCOUNT_CLOSED, RECORD_DELETED, …) to {"members": n, "records": n}.
    RECORD_DELETED is as of `deletions_checked_at` (None: never checked, and
    then listed under `unchecked`).
    """

    build: BuildRecord
    stale_members: int
    stale_records: int
    causes: dict[str, dict[str, int]] = field(default_factory=dict)
    unchecked: tuple[str, ...] = ()
    deletions_checked_at: datetime | None = None
    #: set when the ledger no longer holds the prefix the build saw (truncated, rolled back or rewritten)
    ledger_problem: str | None = None
    #: a sharded build's shards holding stale members: shard -> {"members": n, "records": n} (member-level causes)
    shards: dict[int, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "build_id": self.build.build_id,
            "purpose": self.build.purpose,
            "as_of": self.build.to_dict()["as_of"],
            "out_dir": self.build.out_dir,
            "members": self.build.members,
            "stale_members": self.stale_members,
            "stale_records": self.stale_records,
            "causes": self.causes,
            "unchecked": list(self.unchecked),
            "deletions_checked_at": iso(self.deletions_checked_at),
            "ledger_problem": self.ledger_problem,
            "shards": self.build.shards,
            "stale_shards": [{"shard": s, **n} for s, n in sorted(self.shards.items())],
        }


def _member_causes(
    store: Store, record: BuildRecord, now: datetime
) -> tuple[dict[str, dict[str, int]], dict[int, dict[str, int]]]:
    """Members of the build who no longer qualify, per cause, and (sharded builds) per shard."""
    from consentry.decide import decide_members
    from consentry.rules import stale_cause_sql, stale_member_sql

    members = build_members(store, record.build_id)
    snapshot = store.snapshot(record.purpose, record.as_of, now)
    verdicts = decide_members(store.policy(), record.purpose, snapshot, at=record.as_of, now=now)
    by = "shard" if "shard" in members.column_names else None
    sql = stale_cause_sql("b", "v")
    if by:  # per shard too: each stale member's cause, joined back to its shard
        sql = (
            "SELECT b.shard, s.cause, count(*) AS members, sum(s.records) AS records "
            f"FROM ({stale_member_sql('b', 'v')}) AS s JOIN b ON s.member_id = b.member_id "
            "GROUP BY b.shard, s.cause ORDER BY b.shard, s.cause"
        )
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("b", members)
        con.register("v", verdicts)
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    causes: dict[str, dict[str, int]] = {}
    shards: dict[int, dict[str, int]] = {}
    for row in rows:
        cause, m, r = row[-3:]
        total = causes.setdefault(str(cause), {"members": 0, "records": 0})
        total["members"] += int(m)
        total["records"] += int(r)
        if by:
            shard = shards.setdefault(int(row[0]), {"members": 0, "records": 0})
            shard["members"] += int(m)
            shard["records"] += int(r)
    return causes, shards


def stale_builds(
    store: Store,
    now: datetime | None = None,
    *,
    check_deletions: bool = False,
    key: bytes | None = None,
) -> list[StaleBuild]:
    """Complete builds that hold data their owners have since taken back, with counts per cause.

    Member-level causes come from the ledger (the same rules as a build, as of
    the build's T and decided `now`). Deleted records come from the last
    recorded check; with `check_deletions`, pending builds are reconciled
    first and each build's sources are re-read against its output now, and
    the result is recorded (a build whose sources or output can no longer be
    read lists RECORD_DELETED under `unchecked`). Without it, nothing but the
    store is read and nothing is written.
    """
    now = utc(now) if now is not None else utcnow()
    if check_deletions:
        reconcile(store)
    out: list[StaleBuild] = []
    events, _ = store.head()
    for record in list_builds(store):
        causes, shards = _member_causes(store, record, now)
        ledger_problem = _ledger_problem(store, record, events)
        if ledger_problem:
            # Withdrawals the build saw may be gone from the ledger: none of its members can be vouched for.
            causes[LEDGER_CONTRADICTED] = {"members": record.members, "records": _included(record)}
        if check_deletions:
            store.builds.record_deletions(record.build_id, now, deleted_records(store, record, now, key))
        checked_at, deleted = store.builds.deletions(record.build_id)
        unchecked = ("RECORD_DELETED",) if deleted is None else ()
        if deleted is not None and deleted["records"]:
            causes["RECORD_DELETED"] = deleted
        if not causes:
            continue
        if ledger_problem:
            stale_members, stale_records = record.members, _included(record)
        else:
            member_causes = [c for k, c in causes.items() if k != "RECORD_DELETED"]
            stale_members = sum(c["members"] for c in member_causes)
            stale_records = sum(c["records"] for c in member_causes) + causes.get("RECORD_DELETED", {}).get(
                "records", 0
            )
        out.append(
            StaleBuild(record, stale_members, stale_records, causes, unchecked, checked_at, ledger_problem, shards)
        )
    return out


#: The cause listed for a build whose ledger prefix is gone; not a reason code (no record is excluded for it).
LEDGER_CONTRADICTED = "LEDGER_CONTRADICTED"


def _included(record: BuildRecord) -> int:
    return int(record.counts.get("included", 0))


def _ledger_problem(store: Store, record: BuildRecord, events_now: int) -> str | None:
    """Does the ledger still hold the prefix this build saw? (The stored hash of its last event is compared.)"""
    if record.ledger is None:
        return None
    seen, head = record.ledger
    if events_now < seen:
        return (
            f"the ledger has {events_now} events, fewer than the {seen} this build saw: events were removed "
            "or the database was rolled back, and withdrawals among them would be missed"
        )
    if seen and store.event(seen).hash != head:
        return f"event {seen} no longer has the hash this build saw: the ledger was rewritten"
    return None


def deleted_records(
    store: Store, record: BuildRecord, now: datetime, key: bytes | None = None
) -> dict[str, int] | None:
    """{"members": n, "records": n} of the build's records deleted at or before `now`.

    None when it cannot be checked: the output was replaced or removed, or the
    sources can no longer be read.
    """
    out = Path(record.out_dir)
    try:
        digest = hashlib.sha256((out / MANIFEST_NAME).read_bytes()).hexdigest()
    except OSError:
        return None
    shards = sorted(out.glob("part-*.parquet")) or sorted(out.glob("shard=*/part-*.parquet"))
    if digest != record.manifest_sha256 or not shards:
        return None
    key = resolve_key(store, key)
    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="consentry-lineage-") as tmp:
            sources = stage_text_sources(resolve_sources(list(record.sources)), (), Path(tmp))
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            register_signals(con, sources)
            con.execute(f"CREATE TEMP VIEW r AS {records_sql(sources, ())}")
            shard_list = ", ".join(quote_path(p) for p in shards)
            row = con.execute(
                f"""SELECT count(*), count(DISTINCT o.member_key)
                FROM read_parquet([{shard_list}]) o
                JOIN (SELECT record_id, member_id FROM r WHERE NOT _malformed AND deleted_at <= ?) x
                  ON o.record_id = x.record_id AND o.member_key = {hmac_sql(key, "x.member_id")}""",
                [now],
            ).fetchone()
    except (ConsentryError, duckdb.Error, OSError):
        return None
    finally:
        con.close()
    assert row is not None
    return {"members": int(row[1]), "records": int(row[0])}


def rebuild(
    store: Store,
    build_id: str,
    out: str | os.PathLike[str],
    *,
    force: bool = False,
    key: bytes | None = None,
    progress: Callable[[BuildProgress], None] | None = None,
    now: datetime | None = None,
    only_affected_shards: bool = False,
    lineage: LineageConfig | None = None,
) -> BuildResult:
    """Build again the purpose, sources and T of `build_id`, decided now; the manifest names it as predecessor.

    Members who withdrew, objected or closed their accounts since, and records
    deleted since, are excluded by the ordinary rules (later withdrawals win).
    A sharded build is rebuilt with its shard count. With
    `only_affected_shards`, only the shards whose decision changed are written;
    the others are carried over from the original's output, byte for byte
    (refused, as InputError or BuildError, when the original is not sharded,
    its output or sources changed, or the policy or scrubber differ).
    """
    previous = get_build(store, build_id)
    carry = carry_over(store, previous) if only_affected_shards else None
    return build(
        store,
        previous.purpose,
        list(previous.sources),
        out,
        as_of=previous.as_of,
        engine=previous.engine,
        scrub=previous.scrub,
        force=force,
        key=key,
        progress=progress,
        predecessor=previous.build_id,
        now=now,
        shards=previous.shards,
        carry=carry,
        lineage=lineage,
        surrogates=_surrogates_of(previous, carry),
    )


def _surrogates_of(previous: BuildRecord, carry: CarryOver | None) -> str:
    """The original's surrogates ("build" when its manifest carries a surrogate salt; "store" if unreadable)."""
    if carry is not None:
        return "build" if carry.manifest["scrubber"].get("surrogate_salt") else "store"
    try:
        manifest = json.loads((Path(previous.out_dir) / MANIFEST_NAME).read_bytes())
        return "build" if manifest["scrubber"].get("surrogate_salt") else "store"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return "store"


def carry_over(store: Store, previous: BuildRecord) -> CarryOver:
    """What a partial rebuild of `previous` starts from, once its output, sources, policy and scrubber check out."""
    name = previous.build_id
    if previous.shards == 1:
        raise InputError(f"build {name} is not sharded; rebuild it whole (without --only-affected-shards)")
    where = Path(previous.out_dir)
    try:
        raw = (where / MANIFEST_NAME).read_bytes()
    except OSError:
        raise BuildError(f"the output of build {name} is missing at {where}; rebuild it whole") from None
    if hashlib.sha256(raw).hexdigest() != previous.manifest_sha256:
        raise BuildError(f"the manifest at {where} is not build {name}'s (it was replaced); rebuild it whole")
    manifest = json.loads(raw)
    hashed = _check_sources(name, manifest["shards"].get("sources_sha256"), previous.sources)
    policy = store.policy().version_at(previous.as_of)
    if (policy.sha256 if policy else None) != manifest["policy"]["sha256"]:
        raise BuildError(f"the policy in force at build {name}'s T has changed since; rebuild it whole")
    if previous.scrub and _scrubber_now(manifest["scrubber"].get("surrogate_salt")) != manifest["scrubber"]:
        raise BuildError(f"the scrubber or its configuration changed since build {name}; rebuild it whole")
    return CarryOver(name, where, manifest, build_members(store, name), hashed)


def _check_sources(name: str, recorded: list[dict[str, str]] | None, given: tuple[str, ...]) -> list[dict[str, str]]:
    """The sources' SHA-256 now; BuildError unless they are the same files with the same SHA-256 as recorded."""
    if recorded is None:
        raise InputError(f"build {name} read remote sources, whose contents were not recorded; rebuild it whole")
    hashed = source_hashes([f.path for f in resolve_sources(list(given)).files])
    now = {d["path"]: d["sha256"] for d in hashed}
    then = {d["path"]: d["sha256"] for d in recorded}
    for path in sorted(then.keys() | now.keys()):
        if path not in now:
            raise BuildError(f"source {path} of build {name} is gone; rebuild it whole")
        if path not in then:
            raise BuildError(f"source {path} is new since build {name}; rebuild it whole")
        if now[path] != then[path]:
            raise BuildError(f"source {path} changed since build {name} (its SHA-256 differs); rebuild it whole")
    return hashed


def _scrubber_now(salt: str | None = None) -> dict[str, Any]:
    """The scrubber's entry in a manifest written now (its version and configuration; the key is not in it);
    with `salt`, that of a build with per-build surrogates under that salt."""
    from consentry.pipeline.steps import ScrubStep
    from consentry.scrub.config import ScrubConfig, Surrogates

    config = ScrubConfig.for_surrogates(Surrogates.BUILD if salt else Surrogates.STORE)
    step = ScrubStep(b"\0" * 32, workers=1, config=config)
    entry = {"enabled": True, "version": step.version, "config": step.config_json()}
    return entry | ({"surrogate_salt": salt} if salt else {})
