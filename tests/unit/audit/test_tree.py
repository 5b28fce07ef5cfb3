"""MerkleTree against the plain recursive definitions of merkle.py: same roots, and proofs the
verifiers accept for every past size, reject once a leaf is tampered with, and cost
O(log^2 n) hashes even in a tree of a million leaves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit import merkle
from hub.audit import tree as tree_module
from hub.audit.merkle import ProofError, leaf_hash, node_hash
from hub.audit.tree import MerkleTree

MAX = 300
LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(MAX)]
TREE = MerkleTree()
TREE.extend(LEAVES)  # one tree, queried at every past size: that is the point of it
TAMPERED = leaf_hash(b"not what was logged")


def test_an_empty_tree() -> None:
    t = MerkleTree()
    assert t.size == 0
    assert t.root() == merkle.root([]) == merkle.EMPTY_ROOT
    assert t.consistency_proof(0) == []


def test_append_returns_indices_and_keeps_leaves() -> None:
    t = MerkleTree()
    assert [t.append(h) for h in LEAVES[:5]] == [0, 1, 2, 3, 4]
    assert t.size == 5
    assert [t.leaf(i) for i in range(5)] == LEAVES[:5]
    assert t.root(2) == node_hash(LEAVES[0], LEAVES[1])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX))
def test_root_of_every_past_size_is_the_rfc_root(size: int) -> None:
    assert TREE.root(size) == merkle.root(LEAVES[:size])


def test_root_defaults_to_the_current_size() -> None:
    assert TREE.root() == TREE.root(MAX) == merkle.root(LEAVES)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX), st.data())
def test_every_inclusion_proof_verifies_and_a_tampered_leaf_does_not(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1))
    proof = TREE.inclusion_proof(index, size)
    root = merkle.root(LEAVES[:size])
    merkle.verify_inclusion(index, size, LEAVES[index], proof, root)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, TAMPERED, proof, root)
    tampered = MerkleTree()
    tampered.extend([*LEAVES[:index], TAMPERED, *LEAVES[index + 1 : size]])
    with pytest.raises(ProofError):  # the honest leaf against the tampered tree's own root
        merkle.verify_inclusion(index, size, LEAVES[index], proof, tampered.root())


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX), st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_past_does_not(
    size2: int, data: st.DataObject
) -> None:
    size1 = data.draw(st.integers(1, size2))
    proof = TREE.consistency_proof(size1, size2)
    root1, root2 = merkle.root(LEAVES[:size1]), merkle.root(LEAVES[:size2])
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    if size1 < size2:
        index = data.draw(st.integers(0, size1 - 1))
        rewritten = MerkleTree()
        rewritten.extend([*LEAVES[:index], TAMPERED, *LEAVES[index + 1 : size2]])
        with pytest.raises(ProofError):  # the old head was of other leaves
            merkle.verify_consistency(size1, size2, proof, rewritten.root(size1), root2)
        with pytest.raises(ProofError):  # the new head rewrote an old leaf
            merkle.verify_consistency(size1, size2, proof, root1, rewritten.root())
        rewritten_proof = rewritten.consistency_proof(size1)
        with pytest.raises(ProofError):  # not even with a proof from the rewritten log
            merkle.verify_consistency(size1, size2, rewritten_proof, root1, rewritten.root())


def test_consistency_proofs_that_prove_nothing_are_empty() -> None:
    assert TREE.consistency_proof(0, 7) == []
    assert TREE.consistency_proof(7, 7) == []
    assert TREE.consistency_proof(MAX) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: TREE.root(MAX + 1), "tree size"),
        (lambda: TREE.root(-1), "tree size"),
        (lambda: TREE.leaf(MAX), "leaf index"),
        (lambda: TREE.leaf(-1), "leaf index"),
        (lambda: TREE.inclusion_proof(5, 5), "leaf index"),
        (lambda: TREE.inclusion_proof(0, 0), "leaf index"),
        (lambda: TREE.inclusion_proof(-1), "leaf index"),
        (lambda: TREE.inclusion_proof(0, MAX + 1), "tree size"),
        (lambda: TREE.consistency_proof(6, 5), "size1"),
        (lambda: TREE.consistency_proof(-1), "size1"),
        (lambda: TREE.consistency_proof(1, MAX + 1), "tree size"),
        (lambda: MerkleTree().append(b"short"), "32 bytes"),
    ],
)
def test_out_of_range_arguments_are_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.stress
def test_a_million_leaves_serve_proofs_in_polylog_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 1_000_000
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    big = MerkleTree()
    big.extend(leaves)
    assert big.size == n

    calls = 0

    def counting_node_hash(left: bytes, right: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return node_hash(left, right)

    monkeypatch.setattr(tree_module, "node_hash", counting_node_hash)
    budget = (n - 1).bit_length() ** 2  # O(log^2 n), where rehashing would be ~n

    for size, index, old in [(n, 765_432, 999_999), (999_983, 0, 524_289), (700_001, 700_000, 3)]:
        calls = 0
        root = big.root(size)
        inclusion = big.inclusion_proof(index, size)
        consistency = big.consistency_proof(old, size)
        old_root = big.root(old)
        assert calls <= budget
        merkle.verify_inclusion(index, size, leaves[index], inclusion, root)
        merkle.verify_consistency(old, size, consistency, old_root, root)

    assert big.root() == big.root(n)
    assert big.root(3) == merkle.root(leaves[:3])
