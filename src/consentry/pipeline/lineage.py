"""Checking a finished build against its sources: which of its records were deleted since."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from consentry.errors import ConsentryError
from consentry.pipeline.engines.local_sql import quote_path, records_sql
from consentry.pipeline.keys import hmac_sql, resolve_key
from consentry.pipeline.manifest import MANIFEST_NAME
from consentry.pipeline.sources import resolve_sources, stage_text_sources
from consentry.store.protocol import Store

if TYPE_CHECKING:
    from consentry.pipeline.registry import BuildRecord

__all__ = ["deleted_records"]


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
    shards = sorted(out.glob("part-*.parquet"))
    if digest != record.manifest_sha256 or not shards:
        return None
    key = resolve_key(store, key)
    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="consentry-lineage-") as tmp:
            sources = stage_text_sources(resolve_sources(list(record.sources)), (), Path(tmp))
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
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
