"""The vectorised member verdicts: the member entries of the reason order over a whole ledger snapshot.

`decide_members` runs, in DuckDB, one column per verdict column of the order
(`VERDICT_COLUMNS`): a reason column holds the first of its entries that
applies, a flag column whether its one entry applies. Records then meet these
verdicts in the engines' SQL (`consentry.rules.sql`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from consentry.policy import Policy
from consentry.rules.order import OTHERWISE, REASONS, VERDICT_COLUMNS, Stage, VerdictKind
from consentry.rules.scope import Scope
from consentry.store.protocol import SNAPSHOT_SCHEMA
from consentry.timeutil import utc

if TYPE_CHECKING:
    import duckdb

__all__ = ["MEMBER_VERDICT_SCHEMA", "decide_members", "members_sql"]

_ARROW_TYPES = {VerdictKind.KEY: pa.string(), VerdictKind.REASON: pa.string(), VerdictKind.FLAG: pa.bool_()}

#: What `decide_members` returns: one row per member of the snapshot.
MEMBER_VERDICT_SCHEMA = pa.schema(
    [(name, _ARROW_TYPES[kind]) for name, kind in VERDICT_COLUMNS.items()]
    + [("event_id", pa.int64()), ("case_id", pa.string())]
)

#: The relation member fragments read: a snapshot row, its region's mode and start, and the deny that counts.
_MEMBERS_RELATION = """
WITH s AS (
  SELECT s.*, c.mode, c.starts,
    CASE WHEN s.now_choice = 'deny' THEN s.now_source
         WHEN s.at_choice = 'deny' THEN s.at_source END AS deny_source,
    CASE WHEN s.now_choice = 'deny' THEN s.now_event_id
         WHEN s.at_choice = 'deny' THEN s.at_event_id END AS deny_event
  FROM snapshot s LEFT JOIN countries c ON c.country IS NOT DISTINCT FROM s.country
)"""


def members_sql(scope: Scope) -> str:
    """The verdicts query over relations `snapshot` (SNAPSHOT_SCHEMA) and `countries` (country, mode, starts)."""
    columns: list[str] = []
    for name, kind in VERDICT_COLUMNS.items():
        entries = [r for r in REASONS if r.verdict == name]
        if kind is VerdictKind.KEY:
            columns.append(name)
        elif kind is VerdictKind.FLAG:
            columns.append(f"coalesce({entries[0].sql(scope)}, FALSE) AS {name}")
        else:
            whens = "".join(f"\n    WHEN {r.sql(scope)} THEN '{r.code}'" for r in entries)
            columns.append(f"CASE{whens}\n  END AS {name}")
    # The evidence: that of the first consent entry that applies, else the outcome's
    consent = [r for r in REASONS if r.stage is Stage.CONSENT]
    events = "".join(f"\n    WHEN {r.sql(scope)} THEN {r.event_sql}" for r in consent)
    cases = "".join(f"\n    WHEN {r.sql(scope)} THEN {r.case_sql}" for r in consent)
    columns.append(f"CASE{events}\n    ELSE {OTHERWISE.event_sql}\n  END AS event_id")
    columns.append(f"CASE{cases}\n  END AS case_id")
    return f"{_MEMBERS_RELATION}\nSELECT\n  " + ",\n  ".join(columns) + "\nFROM s"


def _country_rules(policy: Policy, purpose: str, countries: list[str | None], at: datetime) -> pa.Table:
    """Mode and processing start per distinct country (unknown and missing ones included)."""
    version = policy.version_at(at)
    modes: list[str | None] = []
    starts: list[datetime | None] = []
    for c in countries:
        mode = version.mode_for(purpose, c) if version else None
        modes.append(mode.value if mode else None)
        starts.append(policy.processing_starts(purpose, c, at))
    return pa.table(
        {
            "country": pa.array(countries, pa.string()),
            "mode": pa.array(modes, pa.string()),
            "starts": pa.array(starts, pa.timestamp("us", tz="UTC")),
        }
    )


def decide_members(
    policy: Policy,
    purpose: str,
    snapshot: pa.Table,
    *,
    at: datetime,
    now: datetime,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """Per-member verdicts (MEMBER_VERDICT_SCHEMA) for a whole ledger snapshot.

    Runs on `con` (its time zone set to UTC) when given, else on a DuckDB connection of its own.
    """
    import duckdb

    at, now = utc(at), utc(now)
    snapshot = snapshot.select(SNAPSHOT_SCHEMA.names).cast(SNAPSHOT_SCHEMA)
    distinct = pc.unique(snapshot.column("country")).to_pylist()
    if None not in distinct:
        distinct.append(None)
    countries = _country_rules(policy, purpose, distinct, at)
    db = con if con is not None else duckdb.connect()
    try:
        db.execute("SET TimeZone = 'UTC'")
        db.register("snapshot", snapshot)
        db.register("countries", countries)
        table: pa.Table = db.sql(members_sql(Scope(policy, purpose, at, now))).to_arrow_table()
        return table.cast(MEMBER_VERDICT_SCHEMA)
    finally:
        if con is None:
            db.close()
        else:
            db.unregister("snapshot")
            db.unregister("countries")
