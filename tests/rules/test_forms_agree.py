"""Every form generated from the reason order agrees with row-wise `decide`, on random scenarios (DuckDB).

The forms: the member verdicts (`decide_members`, evidence included), the
flat record CASE (`decide_records`), the engines' split forms (record class,
then class and verdict; the pushed-down filter of allowed members' records;
the per-member class counts and their tally), and the causes of a stale build.
The Spark SQL forms are checked in tests/spark/test_spark_rules.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from consentry.pipeline.engines import split_causes, split_tally
from consentry.rules import (
    CLASS_COUNTS,
    RECORD_CLASSES,
    SIGNAL_CLASSES,
    VERDICT_COLUMNS,
    VerdictKind,
    class_counts,
    class_reason_sql,
    class_tally_sql,
    decide_members,
    decide_records,
    member_passes_sql,
    record_allowed_sql,
    record_class_sql,
    stale_cause_sql,
)
from consentry.rules.order import REASONS, Stage
from consentry.vocab import ReasonCode

from .scenarios import PURPOSE, Scenario, scenarios

CONSENT_CODES = {r.code for r in REASONS if r.stage is Stage.CONSENT} | {ReasonCode.ALLOWED}


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB connection for every example (a connection costs more than an example's queries)."""
    db = duckdb.connect(config={"threads": 1})  # tiny tables: no use for a thread pool
    db.execute("SET TimeZone = 'UTC'")
    yield db
    db.close()


def member_reason(verdict: dict[str, Any]) -> str:
    """A member's reason from its verdict row, read column by column in the order's way."""
    for column, kind in VERDICT_COLUMNS.items():
        entries = [r.code for r in REASONS if r.verdict == column]
        if kind is VerdictKind.REASON and verdict[column] is not None:
            return str(verdict[column])
        if kind is VerdictKind.FLAG and verdict[column]:
            return entries[0].value
    return ReasonCode.ALLOWED.value


def check_member_verdicts(s: Scenario, con: duckdb.DuckDBPyConnection) -> Any:
    verdicts = decide_members(s.policy, PURPOSE, s.snapshot(), at=s.at, now=s.now, con=con)
    for row, verdict in zip(s.members, verdicts.to_pylist(), strict=True):
        assert verdict["member_id"] == row["member_id"]
        expected = s.member_decision(row["member_id"])
        assert member_reason(verdict) == expected.reason.value, row
        if expected.reason in CONSENT_CODES:  # the evidence of a consent reason, or of an allowed member
            assert (verdict["event_id"], verdict["case_id"]) == (expected.event_id, expected.case_id), row
    return verdicts


def check_split_forms(s: Scenario, con: duckdb.DuckDBPyConnection, expected: list[str]) -> None:
    """Class first, then class and verdict; and the filter the write uses for allowed members' records."""
    record_class = record_class_sql(s.policy, PURPOSE, at=s.at, now=s.now, records="r")
    allowed = record_allowed_sql(s.policy, PURPOSE, at=s.at, now=s.now, records="r")
    rows = con.execute(
        f"SELECT {class_reason_sql('f.c', 'm')}, coalesce(f.allowed, FALSE), {member_passes_sql('m')} "
        f"FROM (SELECT r._row, r.member_id, {record_class} AS c, ({allowed}) AS allowed FROM records r) AS f "
        "LEFT JOIN m ON f.member_id = m.member_id ORDER BY f._row"
    ).fetchall()
    for rec, want, (reason, keep, member_ok) in zip(s.records, expected, rows, strict=True):
        assert reason == want, rec
        if member_ok:
            assert keep == (want == "ALLOWED"), rec
    assert {want for want in expected} <= {*RECORD_CLASSES, *ReasonCode.__members__}


def check_tally(s: Scenario, con: duckdb.DuckDBPyConnection, expected: list[str]) -> None:
    """The engines' counting: records per member and class (CLASS_COUNTS), then `class_tally_sql`.

    Without signals on any record, also with the signals classes not counted (`class_counts(SIGNAL_CLASSES)`).
    """
    _check_tally(s, con, expected, CLASS_COUNTS)
    if all(r["_signals"] is None for r in s.records):
        _check_tally(s, con, expected, class_counts(SIGNAL_CLASSES))


def _check_tally(s: Scenario, con: duckdb.DuckDBPyConnection, expected: list[str], aggregates: tuple[str, ...]) -> None:
    record_class = record_class_sql(s.policy, PURPOSE, at=s.at, now=s.now, records="r")
    counts = ", ".join(aggregates)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE g AS SELECT member_id, {counts} "
        f"FROM (SELECT member_id, {record_class} AS c FROM records r) GROUP BY member_id"
    )
    tally = con.sql(class_tally_sql("g", "m")).to_arrow_table()
    per_reason, allowed = split_tally(tally)
    assert per_reason == dict(Counter(expected))
    reserved = ReasonCode.RESERVED_BY_RIGHTS_HOLDER.value
    causes = Counter(s.record_cause(r) for r, want in zip(s.records, expected, strict=True) if want == reserved)
    assert split_causes(tally) == ({reserved: dict(causes)} if causes else {})
    allowed_members = Counter(
        str(r["member_id"]) for r, want in zip(s.records, expected, strict=True) if want == "ALLOWED"
    )
    assert dict(zip(allowed["member_id"].to_pylist(), allowed["count"].to_pylist(), strict=True)) == allowed_members


def check_stale_causes(s: Scenario, con: duckdb.DuckDBPyConnection) -> None:
    """The build's members that no longer qualify, per member-level reason, as row-wise `decide` says."""
    con.register("b", s.build_table())
    try:
        rows = con.execute(stale_cause_sql("b", "m")).fetchall()
    finally:
        con.unregister("b")
    expected: dict[str, dict[str, int]] = {}
    for m in s.build_members:
        reason = s.member_decision(m["member_id"]).reason
        if reason is not ReasonCode.ALLOWED:
            cause = expected.setdefault(reason.value, {"members": 0, "records": 0})
            cause["members"] += 1
            cause["records"] += m["records"]
    assert {str(c): {"members": int(n), "records": int(r)} for c, n, r in rows} == expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_every_generated_form_agrees_with_row_wise_decide(scenario: Scenario, con: duckdb.DuckDBPyConnection) -> None:
    s = scenario
    verdicts = check_member_verdicts(s, con)
    expected = [s.record_decision(rec).reason.value for rec in s.records]
    records = s.record_table()
    assert decide_records(s.policy, PURPOSE, verdicts, records, at=s.at, now=s.now, con=con).to_pylist() == expected
    con.register("records", records.append_column("_row", pa.array(range(records.num_rows), pa.int64())))
    con.register("m", verdicts)
    try:
        check_split_forms(s, con, expected)
        check_tally(s, con, expected)
        check_stale_causes(s, con)
    finally:
        con.unregister("records")
        con.unregister("m")
