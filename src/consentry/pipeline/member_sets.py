"""A build's member set as one stored value: Parquet bytes of (member_id, records), sorted by member_id.

A build's members are written once and then read whole (stale-build checks,
rebuilds) or probed for one member ("which builds used member M?"). One row
per member and build in the store cost more than a second per million members
on SQLite, on every build; one value per build costs a few tens of
milliseconds. A probe reads the footer and the row group whose member_id
range holds the member (row groups of ROW_GROUP_MEMBERS, each with its
min/max), a few milliseconds per build.
"""

from __future__ import annotations

import bisect

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["MEMBER_SET_SCHEMA", "contains", "decode", "encode"]

MEMBER_SET_SCHEMA = pa.schema([pa.field("member_id", pa.string(), nullable=False), pa.field("records", pa.int64())])

#: Members per row group: a probe decodes one of them
ROW_GROUP_MEMBERS = 16_384


def encode(members: pa.Table) -> bytes:
    """Parquet bytes (zstd) of `members` (member_id, records), sorted by member_id (bytewise)."""
    table = members.select(MEMBER_SET_SCHEMA.names).cast(MEMBER_SET_SCHEMA).combine_chunks()
    ids = table.column("member_id").chunks[0] if table.num_rows else pa.array([], pa.string())
    if len(ids) > 1 and not pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
        table = table.sort_by([("member_id", "ascending")])
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=3,
        row_group_size=ROW_GROUP_MEMBERS,
        use_dictionary=False,
        write_statistics=["member_id"],
    )
    return bytes(sink.getvalue())


def decode(data: bytes) -> pa.Table:
    """The member set (MEMBER_SET_SCHEMA), sorted by member_id."""
    return pq.read_table(pa.BufferReader(data)).cast(MEMBER_SET_SCHEMA)


def contains(data: bytes, member_id: str) -> bool:
    """Whether the member set holds `member_id` (reads only the row group its range covers)."""
    file = pq.ParquetFile(pa.BufferReader(data))
    meta = file.metadata
    bounds: list[tuple[str, str] | None] = []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(0).statistics
        bounds.append((stats.min, stats.max) if stats is not None and stats.has_min_max else None)
    if all(b is not None for b in bounds):  # sorted: the first group whose max is >= member_id
        maxes = [b[1] for b in bounds if b is not None]
        g = bisect.bisect_left(maxes, member_id)
        candidates = [g] if g < len(bounds) else []
    else:  # statistics missing: read every group whose range is unknown or covers the id
        candidates = [g for g, b in enumerate(bounds) if b is None or b[0] <= member_id <= b[1]]
    for g in candidates:
        column = file.read_row_group(g, columns=["member_id"]).column(0)
        if pc.any(pc.equal(column, member_id)).as_py():
            return True
    return False
