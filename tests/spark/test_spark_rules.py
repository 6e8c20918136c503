"""The reason order's Spark SQL forms agree with row-wise `decide`, on random scenarios.

Per example, a batch of scenarios runs as two Spark queries over one Parquet
table of records and one of member verdicts (computed on the driver by
`decide_members`, as the Spark engine does): each record's reason
(`record_reason_sql`), its class then reason (`record_class_sql`,
`class_reason_sql`), the pushed-down filter (`record_allowed_sql`), and the
per-member class counts (`CLASS_COUNTS`) tallied on the driver
(`spark_tally.class_tally`). The DuckDB forms: tests/rules/test_forms_agree.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules.scenarios import PURPOSE, Scenario, scenarios

from consentry.pipeline.engines import split_causes, split_tally
from consentry.pipeline.engines.spark_tally import class_tally
from consentry.rules import (
    CLASS_COUNTS,
    RECORD_CLASSES,
    class_reason_sql,
    decide_members,
    member_passes_sql,
    record_allowed_sql,
    record_class_sql,
    record_reason_sql,
)
from consentry.rules.records import time_text_sql

pytestmark = pytest.mark.spark

BATCH = 8


def _tables(batch: list[Scenario]) -> tuple[pa.Table, pa.Table, list[pa.Table]]:
    """Every scenario's records and verdicts in one table each, told apart by `sid`."""
    records, verdicts, per_scenario = [], [], []
    for sid, s in enumerate(batch):
        table = s.record_table()
        table = table.append_column("sid", pa.array([sid] * table.num_rows, pa.int64()))
        records.append(table.append_column("_row", pa.array(range(table.num_rows), pa.int64())))
        v = decide_members(s.policy, PURPOSE, s.snapshot(), at=s.at, now=s.now)
        per_scenario.append(v)
        verdicts.append(v.append_column("sid", pa.array([sid] * v.num_rows, pa.int64())))
    return pa.concat_tables(records), pa.concat_tables(verdicts), per_scenario


def _per_scenario(batch: list[Scenario], form: Callable[[Scenario], str]) -> str:
    """One expression choosing each row's scenario's form by `r.sid` (one scan and one join for the batch)."""
    return "CASE r.sid " + " ".join(f"WHEN {sid} THEN ({form(s)})" for sid, s in enumerate(batch)) + " END"


def _reasons_sql(batch: list[Scenario]) -> str:
    def kw(s: Scenario) -> dict[str, Any]:
        return {"at": s.at, "now": s.now, "dialect": "spark"}

    def reason(s: Scenario) -> str:
        return record_reason_sql(s.policy, PURPOSE, **kw(s))

    def split(s: Scenario) -> str:
        return class_reason_sql(f"({record_class_sql(s.policy, PURPOSE, **kw(s))})", "m")

    def keep(s: Scenario) -> str:
        return record_allowed_sql(s.policy, PURPOSE, **kw(s))

    return (
        f"SELECT r.sid, r._row, {_per_scenario(batch, reason)} AS reason, {_per_scenario(batch, split)} AS split, "
        f"coalesce({_per_scenario(batch, keep)}, FALSE) AS keep, ({member_passes_sql('m')}) AS ok "
        "FROM records r LEFT JOIN verdicts m ON m.sid = r.sid AND m.member_id = r.member_id"
    )


def _classes_sql(batch: list[Scenario]) -> str:
    def record_class(s: Scenario) -> str:
        return record_class_sql(s.policy, PURPOSE, at=s.at, now=s.now, dialect="spark")

    return (
        f"SELECT sid, member_id, {', '.join(CLASS_COUNTS)} "
        f"FROM (SELECT r.sid, r.member_id, {_per_scenario(batch, record_class)} AS c FROM records r) "
        "GROUP BY sid, member_id"
    )


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(batch=st.lists(scenarios(), min_size=BATCH, max_size=BATCH))
def test_the_spark_forms_agree_with_row_wise_decide(batch: list[Scenario], spark: Any, tmp_path: Path) -> None:
    records, verdicts, per_scenario = _tables(batch)
    where = tmp_path / f"ex-{len(list(tmp_path.iterdir()))}"
    where.mkdir()
    pq.write_table(records, where / "records.parquet")
    pq.write_table(verdicts, where / "verdicts.parquet")
    spark.read.parquet(str(where / "records.parquet")).createOrReplaceTempView("records")
    spark.read.parquet(str(where / "verdicts.parquet")).createOrReplaceTempView("verdicts")

    rows = spark.sql(_reasons_sql(batch)).collect()
    got = {(r["sid"], r["_row"]): r for r in rows}
    for sid, s in enumerate(batch):
        for n, rec in enumerate(s.records):
            want = s.record_decision(rec).reason.value
            row = got[(sid, n)]
            assert (row["reason"], row["split"]) == (want, want), rec
            if row["ok"]:
                assert row["keep"] == (want == "ALLOWED"), rec

    counted = spark.sql(_classes_sql(batch)).collect()
    for sid, s in enumerate(batch):
        mine = [r.asDict() for r in counted if r["sid"] == sid]
        classes = pa.Table.from_pylist(
            [{"member_id": r["member_id"], **{c: r[c] for c in RECORD_CLASSES}} for r in mine],
            schema=pa.schema([("member_id", pa.string()), *((c, pa.int64()) for c in RECORD_CLASSES)]),
        )
        tally = class_tally(classes, per_scenario[sid])
        counts, allowed = split_tally(tally)
        expected = [s.record_decision(rec).reason.value for rec in s.records]
        assert counts == dict(Counter(expected))
        reserved = "RESERVED_BY_RIGHTS_HOLDER"
        causes = Counter(s.record_cause(r) for r, w in zip(s.records, expected, strict=True) if w == reserved)
        assert split_causes(tally) == ({reserved: dict(causes)} if causes else {})
        allowed_members = Counter(
            str(r["member_id"]) for r, w in zip(s.records, expected, strict=True) if w == "ALLOWED"
        )
        assert dict(zip(allowed["member_id"].to_pylist(), allowed["count"].to_pylist(), strict=True)) == allowed_members


#: RFC 3339 spellings the records statement names, and text that is not a time
TIME_TEXTS = [
    "2024-12-15",
    "2024-12-15T10:00:00Z",
    "2024-12-15T10:00:00+02:00",
    "2024-12-15T10:00:00-0530",
    "2024-12-15T10:00:00+02",
    "2024-12-15 10:00:00Z",
    "2024-12-15T10:00:00.123456Z",
    " 2024-12-15T10:00:00Z ",
    "2024-12-15T10:00:00",
    "2024-02-30",
    "yesterday",
    "",
    None,
]


def test_time_text_reads_the_same_in_spark_and_duckdb(spark: Any) -> None:
    """The records statement's time formats, as each engine's SQL reads them (microseconds since the epoch)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.register("t", pa.table({"n": range(len(TIME_TEXTS)), "txt": pa.array(TIME_TEXTS, pa.string())}))
        local = con.execute(f"SELECT epoch_us({time_text_sql('txt', 'duckdb')}) FROM t ORDER BY n").fetchall()
    finally:
        con.close()
    df = spark.createDataFrame([(n, v) for n, v in enumerate(TIME_TEXTS)], "n INT, txt STRING")
    remote = [tuple(r) for r in df.orderBy("n").selectExpr(f"unix_micros({time_text_sql('txt', 'spark')})").collect()]
    assert [v for (v,) in remote] == [v for (v,) in local]
    assert sum(v is not None for (v,) in local) == 8
