"""Which members of the builds models were trained on have since taken their data back, and since when.

The causes are the rules' own (`consentry.rules.stale_member_sql` over
`decide_members`, as for stale builds), decided at the moment asked; the time
of each cause comes from its evidence in the ledger. One ledger snapshot and
one set of verdicts serve every build of the same purpose and T.

Everything after the verdicts works on the *excluded* members alone (those
some cause excludes now, a small part of the members): each is given a code,
its position in the sorted array `Lineage.excluded`, and each build is reduced
to the codes of its members among them (`BuildLineage.codes`). The reduction
probes the build's member index (sorted 64-bit member codes,
consentry.store.member_index) with the excluded members' codes; it reads the
member set instead when the store's members do not all have distinct codes (or
the index cannot be trusted), with the same result. A build without an index
(registered before indexes existed) gets one from its member set on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from consentry.pipeline.registry import BuildRecord
from consentry.store.member_index import MemberIndex, codes_distinct, member_codes
from consentry.store.protocol import Store
from consentry.vocab import ReasonCode

__all__ = ["BuildLineage", "Lineage", "stale_lineage"]

_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class BuildLineage:
    """One build reduced to its excluded members: their codes, records, cause and its time (all aligned)."""

    build: BuildRecord
    #: codes (positions in `Lineage.excluded`) of the build's members whom some cause excludes now
    codes: pa.Array
    records: pa.Array
    #: the cause for this build's purpose and T (null: excluded for another build's purpose or T only)
    cause: pa.Array
    cause_at: pa.Array


@dataclass(frozen=True)
class Lineage:
    """The members some cause excludes now (sorted ids), and every build reduced to them."""

    excluded: pa.Array
    builds: dict[str, BuildLineage]


@dataclass(frozen=True)
class _Causes:
    """One purpose and T: each excluded member's cause and the evidence behind it."""

    member_id: pa.Array
    cause: pa.Array
    event_id: pa.Array
    case_id: pa.Array
    closed_at: pa.Array


def _all_causes(store: Store, scopes: list[tuple[str, datetime]], now: datetime) -> dict[tuple[str, datetime], _Causes]:
    """The causes of each purpose and T; one read of the ledger per purpose serves all its moments."""
    out = {}
    for purpose in sorted({p for p, _ in scopes}):
        moments = [t for p, t in scopes if p == purpose]
        for t, snapshot in zip(moments, store.snapshots(purpose, moments, now), strict=True):
            out[(purpose, t)] = _scope_causes(store, purpose, t, now, snapshot)
    return out


def _scope_causes(store: Store, purpose: str, as_of: datetime, now: datetime, snapshot: pa.Table) -> _Causes:
    """The causes of one purpose and T, from its snapshot."""
    import duckdb

    from consentry.decide import decide_members
    from consentry.rules import member_cause_sql

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        verdicts = decide_members(store.policy(), purpose, snapshot, at=as_of, now=now, con=con)
        con.register("v", verdicts)
        con.register("c", snapshot.select(["member_id", "closed_at"]))
        table: pa.Table = con.sql(
            f"""SELECT s.member_id, s.cause, s.event_id, s.case_id, c.closed_at
                FROM (SELECT member_id, {member_cause_sql("v")} AS cause, event_id, case_id FROM v) s
                LEFT JOIN c ON c.member_id = s.member_id
                WHERE s.cause IS NOT NULL"""
        ).to_arrow_table()
    finally:
        con.close()
    return _Causes(*(table.column(i).combine_chunks() for i in range(5)))


def _evidence_times(store: Store, causes: Iterable[_Causes]) -> tuple[dict[int, datetime], dict[str, datetime]]:
    """When each evidence event took effect, and when each evidence case was received."""
    events: set[int] = set()
    cases: set[str] = set()
    for c in causes:
        events.update(e for e in pc.unique(c.event_id).to_pylist() if e is not None)
        cases.update(k for k in pc.unique(c.case_id).to_pylist() if k is not None)
    return store.models.event_times(events), {k: v[0] for k, v in store.models.case_times(cases).items()}


def _aligned(
    excluded: pa.Array, causes: _Causes, events: dict[int, datetime], cases: dict[str, datetime]
) -> tuple[pa.Array, pa.Array]:
    """(cause, evidence time) for every excluded member, in code order (null where this scope has none)."""
    closed, pending = ReasonCode.ACCOUNT_CLOSED.value, ReasonCode.OBJECTION_PENDING.value
    event_at = _looked_up(causes.event_id, pa.array(list(events), pa.int64()), pa.array(list(events.values()), _TS))
    case_at = _looked_up(causes.case_id, pa.array(list(cases), pa.string()), pa.array(list(cases.values()), _TS))
    closed_at = causes.closed_at.cast(_TS)
    times = pc.if_else(
        pc.equal(causes.cause, closed),
        closed_at,
        pc.if_else(pc.equal(causes.cause, pending), case_at, event_at),
    )
    position = pc.index_in(excluded, value_set=causes.member_id)
    return pc.take(causes.cause, position), pc.take(times, position)


def _looked_up(keys: pa.Array, known: pa.Array, times: pa.Array) -> pa.Array:
    """The time of each key among `known` (null for a null or unknown key)."""
    return pc.take(times, pc.index_in(keys.cast(known.type), value_set=known))


@dataclass(frozen=True)
class _Probe:
    """The excluded members' codes, sorted (`codes`, with `order` back to member order); None: not trusted."""

    codes: npt.NDArray[np.uint64]
    order: npt.NDArray[np.intp]


def _probe(excluded: pa.Array, store: Store) -> _Probe | None:
    """The codes to probe member indexes with, if every member's code is distinct (else None: read member sets)."""
    if not codes_distinct(member_codes(store.members_table().column("member_id"))):
        return None
    codes = member_codes(excluded)
    order = np.argsort(codes)  # distinct: every member's code is
    return _Probe(codes[order], order)


def _index_of(store: Store, build_id: str) -> MemberIndex:
    """The build's member index; computed from its member set and kept, if it has none yet."""
    index = store.builds.member_index(build_id)
    return index if index is not None else store.builds.save_member_index(build_id, store.builds.members(build_id))


def _held(store: Store, record: BuildRecord, excluded: pa.Array, probe: _Probe | None) -> tuple[pa.Array, pa.Array]:
    """(codes of the build's excluded members, ascending; their records in the build)."""
    index = _index_of(store, record.build_id) if probe is not None else None
    if probe is None or index is None or not index.usable:
        members = store.builds.members(record.build_id)
        position = pc.index_in(members.column("member_id"), value_set=excluded)
        keep = pc.is_valid(position)
        return pc.filter(position, keep).combine_chunks(), pc.filter(members.column("records"), keep).combine_chunks()
    at, records = index.probe(probe.codes)
    codes = probe.order[at]
    ascending = np.argsort(codes, kind="stable")
    return pa.array(codes[ascending].astype(np.int32), pa.int32()), pa.array(records[ascending], pa.int64())


def _reduce(
    store: Store, record: BuildRecord, excluded: pa.Array, probe: _Probe | None, cause: pa.Array, evidence: pa.Array
) -> BuildLineage:
    """One build reduced to its excluded members: codes, records, cause and its time."""
    codes, records = _held(store, record, excluded, probe)
    decided = pa.scalar(record.decided_at or record.created_at, _TS)
    at = pc.take(evidence, codes)
    cause_at = pc.if_else(pc.fill_null(pc.greater(at, decided), False), at, decided)
    return BuildLineage(record, codes, records, pc.take(cause, codes), cause_at)


def stale_lineage(store: Store, builds: Iterable[BuildRecord], now: datetime, *, use_index: bool = True) -> Lineage:
    """Every build reduced to its members whom a cause excludes at `now`, with the cause and its time.

    A cause's time is the effective time (`at`) of the ledger event behind it
    (a deny, an upheld objection's deny), the receipt of a pending objection, or the closure of
    the account; a cause without one (a gate reason) takes the build's own
    moment, the earliest it could have arisen. No cause is dated before the
    build that holds the data was decided. (Members are never deleted, so
    every member of a build is among those the verdicts decide.)

    `use_index=False` reads every build's member set instead of its member
    index (the reference the index is tested against; the result is the same).
    """
    records = list(builds)
    scopes = sorted({(r.purpose, r.as_of) for r in records})
    causes = _all_causes(store, scopes, now)
    ids = [c.member_id for c in causes.values()]
    excluded: pa.Array = pc.unique(pa.concat_arrays([*ids, pa.array([], pa.string())]))
    excluded = pc.take(excluded, pc.sort_indices(excluded))
    probe = _probe(excluded, store) if causes and use_index else None
    events, cases = _evidence_times(store, causes.values())
    aligned = {s: _aligned(excluded, c, events, cases) for s, c in causes.items()}

    def reduce(record: BuildRecord) -> BuildLineage:
        cause, evidence = aligned[(record.purpose, record.as_of)]
        return _reduce(store, record, excluded, probe, cause, evidence)

    # Reading indexes or member sets and probing them releases the GIL (SQL, NumPy, Arrow): builds side by side
    with ThreadPoolExecutor(max_workers=min(4, len(records) or 1), thread_name_prefix="consentry-lineage") as pool:
        out = {bl.build.build_id: bl for bl in pool.map(reduce, records)}
    return Lineage(excluded, out)
