"""Driver-side tally of a Spark build, in DuckDB: reasons from Spark's per-member class counts."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from consentry.rules import class_tally_sql

__all__ = ["class_tally"]


def class_tally(classes: pa.Table, verdicts: pa.Table) -> pa.Table:
    """Records per reason, and per allowed member: `class_tally_sql` over Spark's counts and the verdicts."""
    con = duckdb.connect()
    try:
        con.register("g", classes)
        con.register("m", verdicts)
        table: pa.Table = con.sql(class_tally_sql("g", "m")).to_arrow_table()
    finally:
        con.close()
    return table
