"""A build's member set as a few stored chunks: Parquet bytes of (member_id, records), sorted by member_id.

A build's members are written once and then read whole (stale-build checks,
rebuilds) or probed for one member ("which builds used member M?"). One row
per member and build in the store cost more than a second per million members
on SQLite, on every build. Instead the sorted set is cut into chunks of
CHUNK_MEMBERS members, each stored with its first member id: a few tens of
rows a build, written in tens of milliseconds. A probe picks, per build, the
one chunk whose range can hold the member (the greatest first id not above
it) and reads that chunk only.

Ids are sorted and compared bytewise (UTF-8), as Arrow sorts them; on
PostgreSQL the builds registry compares first ids with `COLLATE "C"`, which is the
same order.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from consentry.store.members import sorted_by_member_id

__all__ = [
    "CHUNK_MEMBERS",
    "MEMBER_SET_SCHEMA",
    "SHARDED_SET_SCHEMA",
    "contains",
    "decode",
    "encode",
    "shard_of_member",
]

MEMBER_SET_SCHEMA = pa.schema([pa.field("member_id", pa.string(), nullable=False), pa.field("records", pa.int64())])
#: A sharded build's member set: each member's shard too
SHARDED_SET_SCHEMA = MEMBER_SET_SCHEMA.append(pa.field("shard", pa.int32()))

#: Members per stored chunk: a probe decodes one chunk of each build
CHUNK_MEMBERS = 16_384


def _schema(members: pa.Table) -> pa.Schema:
    return SHARDED_SET_SCHEMA if "shard" in members.column_names else MEMBER_SET_SCHEMA


def encode(members: pa.Table) -> list[tuple[str, bytes]]:
    """`members` (member_id, records[, shard]) sorted by member_id, cut into chunks: (first member_id, Parquet bytes).

    A sharded build's set keeps each member's shard; an unsharded one's is stored as it always was.
    """
    schema = _schema(members)
    table = sorted_by_member_id(members.select(schema.names).cast(schema))
    chunks = []
    for start in range(0, table.num_rows, CHUNK_MEMBERS):
        part = table.slice(start, CHUNK_MEMBERS)
        sink = pa.BufferOutputStream()
        pq.write_table(part, sink, compression="zstd", compression_level=3, use_dictionary=False)
        chunks.append((str(part.column("member_id")[0].as_py()), bytes(sink.getvalue())))
    return chunks


def decode(chunks: Iterable[bytes]) -> pa.Table:
    """The member set (MEMBER_SET_SCHEMA, or SHARDED_SET_SCHEMA) from its chunks in order of their first member ids."""
    tables = [(t := _read(data)).cast(_schema(t)) for data in chunks]
    return pa.concat_tables(tables).combine_chunks() if tables else MEMBER_SET_SCHEMA.empty_table()


def contains(chunk: bytes, member_id: str) -> bool:
    """Whether one chunk holds `member_id`."""
    ids = _read(chunk, ["member_id"]).column(0)
    return bool(pc.any(pc.equal(ids, member_id)).as_py())


def shard_of_member(chunk: bytes, member_id: str) -> int | None:
    """The shard of `member_id` in one chunk (0 for an unsharded build's), or None if the chunk does not hold it."""
    file = pq.ParquetFile(pa.BufferReader(chunk))
    at = pc.index(file.read(columns=["member_id"], use_threads=False).column(0), member_id).as_py()
    if at < 0:
        return None
    if "shard" not in file.schema_arrow.names:
        return 0
    return int(file.read(columns=["shard"], use_threads=False).column(0)[at].as_py())


def _read(data: bytes, columns: list[str] | None = None) -> pa.Table:
    # ParquetFile.read on one thread: half the time of pq.read_table for a chunk this small
    return pq.ParquetFile(pa.BufferReader(data)).read(columns=columns, use_threads=False)
