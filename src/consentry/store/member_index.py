"""A build's member index: its members as sorted 64-bit codes, so a set of members is probed without decoding ids.

Forgetting obligations ask, for every build a model was trained on, which of
the members some cause excludes now (~100,000 of a million) the build holds,
and with how many records. Decoding each build's member set (its ids, from
Parquet) and probing it as strings cost ~90 ms a build of 700,000 members; the
index answers the same from integer arrays in a few milliseconds.

The index holds one code per member, `member_codes(member_id)`: a 64-bit hash
of the id's UTF-8 bytes (the splitmix64 finalizer over its length and its
8-byte little-endian words; fixed here, never to change for a stored index),
sorted, with the member's records in the same order. It is written with the
member set (`register_pending`), or computed from the member set on first use
for a build registered before it existed, and then kept.

A code stands for a member exactly only while no two members share one: a
reader checks that the codes of every member in the store are distinct before
trusting an index (`codes_distinct`), and reads member sets otherwise. An index
whose own codes repeat is stored as unusable (`MemberIndex.usable`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["INDEX_FORMAT", "MemberIndex", "codes_distinct", "decode_index", "encode_index", "member_codes"]

#: The first byte of a stored index: the layout and the code below (a new code would be a new format)
INDEX_FORMAT = 1

Codes = npt.NDArray[np.uint64]

_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_BATCH = 1 << 20
#: How records are stored, narrowest first (the third byte of an index says which): uint8, uint16, uint32, int64
_RECORD_TYPES = tuple(np.dtype(t).newbyteorder("<") for t in ("u1", "u2", "u4", "i8"))


def _mix(x: Codes) -> Codes:
    """splitmix64's finalizer, in place."""
    x ^= x >> np.uint64(30)
    x *= _MUL1
    x ^= x >> np.uint64(27)
    x *= _MUL2
    x ^= x >> np.uint64(31)
    return x


def member_codes(ids: pa.Array | pa.ChunkedArray) -> Codes:
    """The 64-bit code of each member id (no nulls), in the order given."""
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    ids = ids.cast(pa.large_string())
    out = np.empty(len(ids), np.uint64)
    for start in range(0, len(ids), _BATCH):
        out[start : start + _BATCH] = _codes(ids.slice(start, _BATCH))
    return out


def _codes(ids: pa.Array) -> Codes:
    n = len(ids)
    if n == 0:
        return np.empty(0, np.uint64)
    offsets = np.frombuffer(ids.buffers()[1], np.int64, n + 1, ids.offset * 8)
    data = np.frombuffer(ids.buffers()[2] or b"", np.uint8)[offsets[0] : offsets[-1]]
    lengths = np.diff(offsets)
    words = (lengths + 7) // 8
    width = int(words.max()) * 8
    padded = np.zeros((n, max(width, 8)), np.uint8)
    if int(lengths.min()) == int(lengths.max()):
        padded[:, : int(lengths[0])] = data.reshape(n, int(lengths[0]))
    else:
        rows = np.repeat(np.arange(n), lengths)
        cols = np.arange(len(data)) - np.repeat(offsets[:-1] - offsets[0], lengths)
        padded[rows, cols] = data
    as_words = padded.view("<u8").astype(np.uint64)
    h = _mix(lengths.astype(np.uint64) + _GOLDEN)
    for j in range(width // 8):
        mixed = _mix((h ^ as_words[:, j]) + _GOLDEN)
        h = np.where(words > j, mixed, h)
    return h


def codes_distinct(codes: Codes) -> bool:
    """Whether no two of `codes` are equal."""
    ordered = np.sort(codes)
    return not bool(np.any(ordered[1:] == ordered[:-1]))


@dataclass(frozen=True)
class MemberIndex:
    """A build's members as sorted codes and their records (aligned); `usable` is False if two codes are equal."""

    codes: Codes
    records: npt.NDArray[np.int64]
    usable: bool

    def probe(self, codes: Codes) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
        """(positions in `codes` of the members this build holds, ascending; their records here)."""
        if not self.usable:
            raise ValueError("this member index has equal codes: read the member set instead")
        if len(self.codes) == 0 or len(codes) == 0:
            return np.empty(0, np.intp), np.empty(0, np.int64)
        at = np.searchsorted(self.codes, codes)
        np.minimum(at, len(self.codes) - 1, out=at)
        held = np.flatnonzero(self.codes[at] == codes)
        return held, self.records[at[held]].astype(np.int64)


def encode_index(members: pa.Table) -> bytes:
    """The stored index of a member set (member_id, records, …): format byte, unique flag, records width, arrays."""
    codes = member_codes(members.column("member_id"))
    records = pc.fill_null(members.column("records"), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.argsort(codes)  # distinct codes need no stable sort (equal ones make the index unusable)
    codes, records = codes[order], records[order]
    usable = not bool(np.any(codes[1:] == codes[:-1]))
    top = int(records.max()) if len(records) else 0
    low = int(records.min()) if len(records) else 0
    kind = len(_RECORD_TYPES) - 1
    if low >= 0:
        kind = next(i for i, t in enumerate(_RECORD_TYPES) if top < 1 << (8 * t.itemsize - (t.kind == "i")))
    head = bytes([INDEX_FORMAT, int(usable), kind])
    body: bytes = codes.astype("<u8").tobytes() + records.astype(_RECORD_TYPES[kind]).tobytes()
    return head + body


def decode_index(data: bytes) -> MemberIndex:
    """The index stored by `encode_index` (ValueError for another format)."""
    if len(data) < 3 or data[0] != INDEX_FORMAT:
        raise ValueError("not a member index of this format")
    kind = _RECORD_TYPES[data[2]]
    n = (len(data) - 3) // (8 + kind.itemsize)
    codes = np.frombuffer(data, "<u8", n, 3).astype(np.uint64, copy=False)
    records = np.frombuffer(data, kind, n, 3 + 8 * n).astype(np.int64)
    return MemberIndex(codes, records, bool(data[1]))
