"""A Merkle tree over the ledger (RFC 6962 / RFC 9162 section 2.1), so one event can be proven without the rest.

Leaves are the events' chain hashes (32 bytes each, in event order). The
tree hash of a list of leaves D[n] is RFC 6962's:

    MTH({})      = SHA-256()
    MTH({d})     = SHA-256(0x00 || d)
    MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = largest power of two < n

An inclusion proof is RFC 6962's audit path, checked with RFC 9162's
algorithm; any RFC 6962 verifier that takes the same leaf data can check it.
`Frontier` folds leaves one at a time and can give the root of every prefix
on the way, so one pass over the chain checks any number of checkpoints.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = ["EMPTY_ROOT", "Frontier", "inclusion_proof", "leaf_hash", "node_hash", "root_of", "verify_inclusion"]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962's hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962's hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The roots of the perfect subtrees a prefix of leaves splits into, largest first (a compact Merkle range)."""

    __slots__ = ("_nodes", "size")

    def __init__(self) -> None:
        self._nodes: list[tuple[int, bytes]] = []  # (height, hash)
        self.size = 0

    def add(self, data: bytes) -> None:
        """Fold in the next leaf."""
        height, node = 0, leaf_hash(data)
        nodes = self._nodes
        while nodes and nodes[-1][0] == height:
            node = node_hash(nodes.pop()[1], node)
            height += 1
        nodes.append((height, node))
        self.size += 1

    def root(self) -> bytes:
        """The tree hash of the leaves added so far."""
        if not self._nodes:
            return EMPTY_ROOT
        root = self._nodes[-1][1]
        for _, node in reversed(self._nodes[:-1]):
            root = node_hash(node, root)
        return root


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The tree hash of `leaves`."""
    frontier = Frontier()
    for data in leaves:
        frontier.add(data)
    return frontier.root()


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree over `leaves` (RFC 6962 PATH(m, D[n]))."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    level = [leaf_hash(d) for d in leaves]
    path: list[bytes] = []
    i = index
    while len(level) > 1:
        if i % 2:
            path.append(level[i - 1])
        elif i + 1 < len(level):
            path.append(level[i + 1])
        # A last node without a sibling rises unchanged: that is RFC 6962's split at the largest power of two.
        level = [node_hash(level[j], level[j + 1]) if j + 1 < len(level) else level[j] for j in range(0, len(level), 2)]
        i //= 2
    return path


def verify_inclusion(data: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does `path` prove leaf `data` at `index` in the tree of `tree_size` with `root`?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash(data)
    for p in path:
        if sn == 0:
            return False
        if fn % 2 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
