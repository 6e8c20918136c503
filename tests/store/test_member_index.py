"""A build's member index: fixed codes, a lossless encoding, exact probes, and kept with the member set."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sqlalchemy import func, select, update

from consentry.store import SqlStore
from consentry.store.builds import BuildRecord
from consentry.store.member_index import codes_distinct, decode_index, encode_index, member_codes
from consentry.store.schema import build_member_index

IDS = ["", "m00000001", "ok_br", "3f2c1e9a-0b7d-4c55-9a1e-2d3c4b5a6f70", "é" * 9]


def test_codes_are_fixed_whatever_the_array_holds_around_them() -> None:
    # Stored indexes depend on these values: a change here is a new INDEX_FORMAT, never an edit
    pinned = [16294208416658607535, 2497208600865593972, 10270793464598956866, 6227082497717084958,
              2529414652808115522]  # fmt: skip
    assert member_codes(pa.array(IDS)).tolist() == pinned
    assert member_codes(pa.array(IDS).slice(1, 3)).tolist() == pinned[1:4]
    assert member_codes(pa.chunked_array([IDS[:2], IDS[2:]])).tolist() == pinned
    assert member_codes(pa.array(IDS, pa.large_string())).tolist() == pinned
    assert [member_codes(pa.array([i])).tolist()[0] for i in IDS] == pinned
    assert codes_distinct(member_codes(pa.array([f"m{i:08d}" for i in range(200_000)])))
    assert not codes_distinct(np.array([3, 1, 3], np.uint64))


def test_an_index_probes_exactly_like_the_member_ids() -> None:
    ids = [f"user-{i}" for i in range(0, 30_000, 3)]
    members = pa.table({"member_id": ids, "records": [i % 7 + (300 if i == 9 else 1) for i in range(len(ids))]})
    index = decode_index(encode_index(members))
    assert index.usable and len(index.codes) == len(ids) and np.all(np.diff(index.codes.astype(np.float64)) >= 0)
    wanted = pa.array(sorted(f"user-{i}" for i in range(0, 30_000, 2)))
    at, records = index.probe(member_codes(wanted))
    position = pc.index_in(wanted, value_set=pa.array(ids))
    assert at.tolist() == pc.indices_nonzero(pc.is_valid(position)).to_pylist()
    assert records.tolist() == pc.take(members.column("records"), pc.drop_null(position)).to_pylist()
    empty = decode_index(encode_index(members.slice(0, 0)))
    assert empty.probe(member_codes(wanted))[0].tolist() == []

    unusable = decode_index(bytes([1, 0]) + encode_index(members)[2:])
    with pytest.raises(ValueError, match="equal codes"):
        unusable.probe(member_codes(wanted))
    with pytest.raises(ValueError, match="format"):
        decode_index(b"\x07\x01\x00")


def _register(store: SqlStore, build_id: str, members: pa.Table) -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    record = BuildRecord(build_id, "genai_training", t, t, f"/nonexistent/{build_id}", "local", {}, None,
                         members.num_rows, None)  # fmt: skip
    store.builds.register_pending(record, members)


def _rows(store: SqlStore) -> int:
    with store._engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(build_member_index)).scalar_one())


def test_the_index_is_kept_with_the_member_set_and_goes_with_a_discarded_build(store: SqlStore) -> None:
    members = pa.table({"member_id": ["b", "a", "c"], "records": [2, 1, 70_000]})
    _register(store, "b-1", members)
    index = store.builds.member_index("b-1")
    assert index is not None and index.records[np.argsort(index.codes)].tolist() == (
        decode_index(encode_index(members)).records[np.argsort(index.codes)].tolist()
    )
    at, records = index.probe(member_codes(pa.array(["a", "c", "z"])))
    assert (at.tolist(), records.tolist()) == ([0, 1], [1, 70_000])
    assert store.builds.save_member_index("b-1", members.slice(0, 1)).codes.size == 1  # returned, not kept
    assert len(store.builds.member_index("b-1").codes) == 3  # type: ignore[union-attr]
    store.builds.discard_pending("b-1")
    assert store.builds.member_index("b-1") is None and _rows(store) == 0
    assert store.builds.save_member_index("b-1", members).usable and _rows(store) == 0  # no such build: not kept


def test_an_index_with_equal_codes_is_not_trusted(store: SqlStore) -> None:
    members = pa.table({"member_id": ["a", "b"], "records": [1, 1]})
    _register(store, "b-2", members)
    with store._engine.begin() as c:
        data = bytes([1, 0]) + encode_index(members)[2:]
        c.execute(update(build_member_index).values(data=data))
    index = store.builds.member_index("b-2")
    assert index is not None and not index.usable
