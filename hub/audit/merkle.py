"""RFC 9162 (Certificate Transparency v2) Merkle trees: leaf and node hashes, roots, and
the verification of inclusion and consistency proofs, and of the subtree inclusion and
subtree consistency proofs of draft-ietf-plants-merkle-tree-certs (section 4).

Pure and small on purpose: an auditor should be able to read it against RFC 9162 section
2.1 line by line. It passes the public transparency-dev/merkle test vectors (see
tests/unit/audit/test_merkle.py), including every mutation a verifier must reject.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) of RFC 9162 2.1.1


class ProofError(ValueError):
    """A proof that does not prove what it claims; the message says which check failed."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1, from leaf hashes."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)  # largest power of two < n
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def _check_sizes(what: str, *hashes: bytes) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"{what}: a hash of {len(h)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 2.1.3.2; raises ProofError unless leaf ``index`` is in the tree of ``size``
    leaves whose root is ``expected_root``."""
    _check_sizes("inclusion", leaf, expected_root, *proof)
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path")
    if r != expected_root:
        raise ProofError("inclusion proof leads to another root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 2.1.4.2; raises ProofError unless the tree of ``size2`` leaves with root
    ``root2`` extends the tree of ``size1`` leaves with root ``root1``. A proof from the
    empty tree proves nothing and is refused, as the reference implementation does."""
    if size1 > size2:
        raise ProofError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes but different roots")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    _check_sizes("consistency", root1, root2, *proof)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 a power of two: its root is the first node
        path.insert(0, root1)
    fr, sr = _walk_consistency(size1 - 1, size2 - 1, path)
    if fr != root1:
        raise ProofError("consistency proof does not lead to root1")
    if sr != root2:
        raise ProofError("consistency proof does not lead to root2")


def _walk_consistency(fn: int, sn: int, path: list[bytes]) -> tuple[bytes, bytes]:
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the path")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path")
    return fr, sr


def is_valid_subtree(start: int, end: int) -> bool:
    """Whether ``[start, end)`` is a subtree in the draft's sense: ``start`` is a multiple of
    the smallest power of two >= ``end - start``, the alignment that makes the subtree's
    nodes, and so its proofs, line up with the nodes of every tree that contains it."""
    if start < 0 or start > end:
        return False
    bit_ceil = 1 << max(end - start - 1, 0).bit_length()  # BIT_CEIL(0) is 1: [x, x) is valid
    return start & (bit_ceil - 1) == 0


def verify_subtree_inclusion(
    index: int, start: int, end: int, leaf: bytes, proof: Sequence[bytes], subtree_hash: bytes
) -> None:
    """Raises ProofError unless leaf ``index`` is in the subtree ``[start, end)`` whose hash is
    ``subtree_hash``. A subtree is a Merkle tree of its own over ``D[start:end]``, so this is
    RFC 9162 2.1.3.2 with the index and size taken relative to ``start``."""
    if not is_valid_subtree(start, end):
        raise ProofError(f"[{start}, {end}) is not a valid subtree")
    if not start <= index < end:
        raise ProofError(f"leaf index {index} is outside the subtree [{start}, {end})")
    verify_inclusion(index - start, end - start, leaf, proof, subtree_hash)


def verify_subtree_consistency(
    start: int,
    end: int,
    size: int,
    proof: Sequence[bytes],
    subtree_hash: bytes,
    root_hash: bytes,
) -> None:
    """Raises ProofError unless the subtree ``[start, end)`` with hash ``subtree_hash`` is part
    of the tree of ``size`` leaves with root ``root_hash``, following "Verifying a Subtree
    Consistency Proof" of draft-ietf-plants-merkle-tree-certs. With ``start == 0`` this is an
    RFC 9162 consistency proof and with ``end == start + 1`` an inclusion proof.

    An empty subtree is part of every tree, so for ``start == end`` only its hash (that of the
    empty string) and the empty proof are checked, never ``root_hash``; and unlike
    verify_consistency, roots are not length-checked when no proof is needed."""
    if not is_valid_subtree(start, end):
        raise ProofError(f"[{start}, {end}) is not a valid subtree")
    if end > size:
        raise ProofError(f"subtree [{start}, {end}) ends beyond tree size {size}")
    if start == end:
        if proof:
            raise ProofError("an empty subtree needs an empty proof")
        if subtree_hash != EMPTY_ROOT:
            raise ProofError("an empty subtree's hash must be that of the empty string")
        return
    _check_sizes("subtree consistency", *proof)
    fr, sr = _walk_subtree_consistency(start, end - 1, size - 1, list(proof), subtree_hash)
    if fr != subtree_hash:
        raise ProofError("subtree consistency proof does not lead to the subtree hash")
    if sr != root_hash:
        raise ProofError("subtree consistency proof does not lead to the root")


def _walk_subtree_consistency(
    fn: int, sn: int, tn: int, path: list[bytes], subtree_hash: bytes
) -> tuple[bytes, bytes]:
    """The draft's walk from the subtree's first and last leaves (fn, sn) and the tree's last
    leaf (tn) up to the root, returning the subtree hash and the root the proof leads to."""
    # Climb to the lowest node that the subtree and the tree share: the subtree's own root if
    # it lies on the tree's right edge, else the highest full node on the subtree's right edge.
    # The draft's two loops in one: sn == tn stays true once true, and can't become true while
    # an odd sn < tn is shifted.
    while fn != sn and (sn == tn or sn & 1):
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if fn == sn:
        fr = sr = subtree_hash
    else:
        if not path:
            raise ProofError("empty subtree consistency proof")
        fr = sr = path.pop(0)
    for c in path:
        if tn == 0:
            raise ProofError("subtree consistency proof is longer than the path")
        if sn & 1 or sn == tn:
            if fn < sn:
                fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not sn & 1:
                fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if tn != 0:
        raise ProofError("subtree consistency proof is shorter than the path")
    return fr, sr
