"""Driver-side tallies of a Spark build, in DuckDB: reasons from per-class counts, and the members' pseudonyms."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from consentry.decide import RECORD_CLASSES, class_reason_sql
from consentry.pipeline.keys import hmac_sql

__all__ = ["class_tally", "keyed_members"]


def class_tally(classes: pa.Table, verdicts: pa.Table) -> pa.Table:
    """Records per reason, and per allowed member: columns reason, member_id (NULL unless ALLOWED), count.

    `classes` has member_id and one count column per `RECORD_CLASSES` entry (one row per member);
    `verdicts` is `decide_members`' member_id, gate_reason, closed, consent_reason. Records of members
    missing from `verdicts` are UNKNOWN_MEMBER, as `class_reason_sql` says.
    """
    per_class = " UNION ALL ".join(
        f"SELECT j.rid, {class_reason_sql(repr(c), 'j')} AS reason, j.{c} AS n FROM j WHERE j.{c} > 0"
        for c in RECORD_CLASSES
    )
    con = duckdb.connect()
    try:
        con.register("g", classes)
        con.register("m", verdicts)
        table: pa.Table = con.sql(
            f"WITH j AS (SELECT g.member_id AS rid, {', '.join(f'g.{c}' for c in RECORD_CLASSES)}, m.member_id, "
            "m.gate_reason, m.closed, m.consent_reason FROM g LEFT JOIN m ON g.member_id = m.member_id) "
            "SELECT reason, CASE WHEN reason = 'ALLOWED' THEN rid END AS member_id, sum(n)::BIGINT AS \"count\" "
            f"FROM ({per_class}) GROUP BY ALL"
        ).to_arrow_table()
    finally:
        con.close()
    return table


def keyed_members(key: bytes, allowed: pa.Table) -> pa.Table:
    """member_id, member_key, records of the allowed members (columns member_id, count), by member_id."""
    con = duckdb.connect()
    try:
        con.register("a", allowed)
        table: pa.Table = con.sql(
            f'SELECT member_id, {hmac_sql(key, "member_id")} AS member_key, "count" AS records '
            "FROM a ORDER BY member_id"
        ).to_arrow_table()
    finally:
        con.close()
    return table
