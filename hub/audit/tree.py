"""An append-only RFC 9162 Merkle tree that serves roots and proofs for any past size.

Every full, aligned subtree hash is kept as leaves arrive, so a root, inclusion proof or
consistency proof for any size costs O(log^2 n) hashes rather than rehashing n leaves.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.audit.merkle import EMPTY_ROOT, HASH_SIZE, node_hash


def _split(n: int) -> int:
    """The k of RFC 9162 2.1.1: the largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """Leaf hashes in, tree hashes and proofs out.

    Level k holds the hashes of the full subtrees of 2**k leaves at offsets that are multiples
    of 2**k, packed into one bytearray per level: for millions of leaves that is a fraction of
    the memory of one bytes object per node, and still one slice per lookup. A node is cached
    as soon as its right child is, so appending costs amortised O(1) hashes.
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Adds one leaf hash (not the entry: hashing entries is the caller's domain) and
        returns its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(leaf_hash)}")
        index = self._size
        self._levels[0] += leaf_hash
        self._size += 1
        level, i = 0, index
        while i & 1:  # a right child completes its parent, and perhaps that parent's parent
            parent = node_hash(self._node(level, i - 1), self._node(level, i))
            level, i = level + 1, i >> 1
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += parent
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for h in leaf_hashes:
            self.append(h)

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self._size:
            raise ValueError(f"leaf index {index} is outside a tree of {self._size} leaves")
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[size]) of RFC 9162 2.1.1: the tree head as it was after ``size`` leaves."""
        size = self._check_size(size)
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 9162 2.1.3.1, deepest sibling first."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
        siblings: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            mid = lo + _split(hi - lo)
            if index < mid:
                siblings.append(self._hash(mid, hi))
                hi = mid
            else:
                siblings.append(self._hash(lo, mid))
                lo = mid
        siblings.reverse()
        return siblings

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[size2]) of RFC 9162 2.1.4.1 (SUBPROOF with b = true), deepest first.
        Empty when there is nothing to prove: from the empty tree or to the same size."""
        size2 = self._check_size(size2)
        if not 0 <= size1 <= size2:
            raise ValueError(f"size1 {size1} is not between 0 and size2 {size2}")
        if size1 in (0, size2):
            return []
        nodes: list[bytes] = []
        lo, hi, m, complete = 0, size2, size1, True
        while m != hi - lo:
            mid = lo + _split(hi - lo)
            if m <= mid - lo:
                nodes.append(self._hash(mid, hi))
                hi = mid
            else:
                nodes.append(self._hash(lo, mid))
                m -= mid - lo
                lo, complete = mid, False
        if not complete:  # the old root is not a node of the new tree: the verifier needs it
            nodes.append(self._hash(lo, hi))
        nodes.reverse()
        return nodes

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"tree size {size} is not between 0 and {self._size}")
        return size

    def _node(self, level: int, i: int) -> bytes:
        return bytes(self._levels[level][i * HASH_SIZE : (i + 1) * HASH_SIZE])

    def _hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a non-empty aligned range (start a multiple of the smallest
        power of two >= end - start, as every range the RFC recursion visits is).

        Such a range splits into full cached subtrees, one per bit of its length, largest
        first; folding them from the right is the RFC recursion, in O(log n) hashes."""
        parts: list[bytes] = []
        offset, width = start, end - start
        while width:
            level = width.bit_length() - 1
            parts.append(self._node(level, offset >> level))
            offset += 1 << level
            width -= 1 << level
        acc = parts.pop()
        while parts:
            acc = node_hash(parts.pop(), acc)
        return acc
