"""Which members of each build a model was trained on have since taken their data back, and since when.

The member-level causes are the rules' own (`consentry.rules.stale_member_sql`
over `decide_members`, as for stale builds), decided at the moment asked; the
time of each cause comes from its evidence in the ledger. One ledger snapshot
and one set of verdicts serve every build of the same purpose and T.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from consentry.pipeline.registry import BuildRecord
from consentry.store.protocol import Store
from consentry.vocab import ReasonCode

__all__ = ["STALE_SCHEMA", "Lineage", "stale_lineage"]

_TS = pa.timestamp("us", tz="UTC")

#: One row per member of a build who no longer qualifies: the cause and when it arose.
STALE_SCHEMA = pa.schema(
    [
        ("build_id", pa.string()),
        ("purpose", pa.string()),
        ("member_id", pa.string()),
        ("records", pa.int64()),
        ("cause", pa.string()),
        ("cause_at", _TS),
    ]
)


@dataclass
class Lineage:
    """The stale members of a set of builds, and per build its members that anything excludes now."""

    stale: pa.Table
    #: build id -> member ids of the build that some cause excludes now (a superset of its stale members)
    excluded: dict[str, pa.Array] = field(default_factory=dict)


def _verdicts(store: Store, con: duckdb.DuckDBPyConnection, purpose: str, as_of: datetime, now: datetime) -> None:
    """Register `v` (the verdicts), `c` (closures) and `x` (members any cause excludes) for one purpose and T."""
    from consentry.decide import decide_members
    from consentry.rules import stale_member_sql

    snapshot = store.snapshot(purpose, as_of, now)
    verdicts = decide_members(store.policy(), purpose, snapshot, at=as_of, now=now, con=con)
    con.register("v", verdicts)
    con.register("c", snapshot.select(["member_id", "closed_at"]))
    con.execute("CREATE OR REPLACE TEMP VIEW everyone AS SELECT member_id, 0::BIGINT AS records FROM v")
    con.execute(f"CREATE OR REPLACE TEMP TABLE x AS SELECT member_id FROM ({stale_member_sql('everyone', 'v')})")


def _cause_times(store: Store, con: duckdb.DuckDBPyConnection) -> None:
    """Register `et` (event id -> recorded) and `ct` (case id -> received) for the evidence in `raw`."""
    events = [r[0] for r in con.execute("SELECT DISTINCT event_id FROM raw WHERE event_id IS NOT NULL").fetchall()]
    cases = [r[0] for r in con.execute("SELECT DISTINCT case_id FROM raw WHERE case_id IS NOT NULL").fetchall()]
    recorded = store.models.event_times(events)
    received = store.models.case_times(cases)
    con.register(
        "et",
        pa.table({"event_id": pa.array(list(recorded), pa.int64()), "at": pa.array(list(recorded.values()), _TS)}),
    )
    con.register(
        "ct",
        pa.table(
            {
                "case_id": pa.array(list(received), pa.string()),
                "at": pa.array([r for r, _ in received.values()], _TS),
            }
        ),
    )


def stale_lineage(store: Store, builds: Iterable[BuildRecord], now: datetime) -> Lineage:
    """The members of `builds` who no longer qualify at `now`, with their cause and its time.

    A cause's time is the recording of the ledger event behind it (a deny, an
    upheld objection), the receipt of a pending objection, or the closure of
    the account; a cause without one (a gate reason, an unknown member) takes
    the build's own moment, the earliest it could have arisen. No cause is
    dated before the build that holds the data was decided.
    """
    from consentry.rules import stale_member_sql

    by_scope: dict[tuple[str, datetime], list[BuildRecord]] = {}
    for record in builds:
        by_scope.setdefault((record.purpose, record.as_of), []).append(record)
    con = duckdb.connect()
    lineage = Lineage(STALE_SCHEMA.empty_table())
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute(
            "CREATE TEMP TABLE raw (build_id VARCHAR, purpose VARCHAR, decided_at TIMESTAMPTZ, member_id VARCHAR,"
            " records BIGINT, cause VARCHAR, event_id BIGINT, case_id VARCHAR, closed_at TIMESTAMPTZ)"
        )
        for (purpose, as_of), records in by_scope.items():
            _verdicts(store, con, purpose, as_of, now)
            for record in records:
                members = store.builds.members(record.build_id)
                con.register("b", members)
                con.execute(
                    f"""INSERT INTO raw SELECT ?, ?, ?, s.member_id, s.records, s.cause, s.event_id, s.case_id,
                          c.closed_at
                        FROM ({stale_member_sql("b", "v")}) s LEFT JOIN c ON c.member_id = s.member_id""",
                    [record.build_id, purpose, record.decided_at or record.created_at],
                )
                excluded: pa.Table = con.sql(
                    """SELECT member_id FROM b WHERE member_id IN (SELECT member_id FROM x)
                        UNION SELECT member_id FROM raw WHERE build_id = $1""",
                    params=[record.build_id],
                ).to_arrow_table()
                lineage.excluded[record.build_id] = excluded.column(0).combine_chunks()
                con.unregister("b")
        _cause_times(store, con)
        closed, pending = ReasonCode.ACCOUNT_CLOSED.value, ReasonCode.OBJECTION_PENDING.value
        lineage.stale = con.sql(
            f"""SELECT build_id, purpose, member_id, records, cause,
                  greatest(decided_at, coalesce(CASE WHEN cause = '{closed}' THEN closed_at
                                                     WHEN cause = '{pending}' THEN ct.at
                                                     ELSE et.at END, decided_at)) AS cause_at
                FROM raw LEFT JOIN et USING (event_id) LEFT JOIN ct USING (case_id)"""
        ).to_arrow_table()
        lineage.stale = lineage.stale.cast(STALE_SCHEMA)
    finally:
        con.close()
    return lineage
