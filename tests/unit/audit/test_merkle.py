"""The Merkle verifier against the public transparency-dev/merkle vectors (every happy path
and every mutation, plain and subtree proofs), and against trees built here."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit.merkle import (
    EMPTY_ROOT,
    ProofError,
    is_valid_subtree,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
    verify_subtree_consistency,
    verify_subtree_inclusion,
)
from tests.support.paths import ROOT

VECTORS = ROOT.parent / "shared" / "testdata" / "merkle" / "testdata"


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in case["proof"] or []]


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        _proof(case),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (case["size1"], case["size2"], _proof(case), _b64(case["root1"]), _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


@pytest.mark.parametrize(
    "path", _cases("subtreeinclusion"), ids=lambda p: str(p.relative_to(VECTORS))
)
def test_subtree_inclusion_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        case["leafIdx"],
        case["start"],
        case["end"],
        _b64(case["leafHash"]),
        _proof(case),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_subtree_inclusion(*args)
    else:
        verify_subtree_inclusion(*args)


@pytest.mark.parametrize(
    "path", _cases("subtreeconsistency"), ids=lambda p: str(p.relative_to(VECTORS))
)
def test_subtree_consistency_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        case["start"],
        case["end"],
        case["size"],
        _proof(case),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_subtree_consistency(*args)
    else:
        verify_subtree_consistency(*args)


def test_there_are_vectors_with_both_outcomes() -> None:
    for kinds in (("inclusion", "consistency"), ("subtreeinclusion", "subtreeconsistency")):
        paths = _cases(kinds[0]) + _cases(kinds[1])
        assert {json.loads(p.read_text())["wantErr"] for p in paths} == {True, False}
    assert len(_cases("inclusion")) > 50 and len(_cases("consistency")) > 30
    assert len(_cases("subtreeinclusion")) > 100 and len(_cases("subtreeconsistency")) > 60


def _inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, to test the verifier on trees of our own."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if index < k:
        return [*_inclusion_proof(leaves[:k], index), root(leaves[k:])]
    return [*_inclusion_proof(leaves[k:], index - k), root(leaves[:k])]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 70), st.data())
def test_every_leaf_of_our_trees_is_provably_included(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(size)]
    index = data.draw(st.integers(0, size - 1))
    verify_inclusion(index, size, leaves[index], _inclusion_proof(leaves, index), root(leaves))
    with pytest.raises(ProofError):
        other = leaf_hash(b"not in the tree")
        verify_inclusion(index, size, other, _inclusion_proof(leaves, index), root(leaves))


def test_root_of_two_leaves() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert root([a, b]) == node_hash(a, b)


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 70), st.data())
def test_our_trees_are_provably_consistent_with_their_prefixes(size2: int, data: Any) -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(size2)]
    size1 = data.draw(st.integers(1, size2))
    proof = _subproof(size1, leaves, True)
    verify_consistency(size1, size2, proof, root(leaves[:size1]), root(leaves))
    if size1 < size2:
        forged = [leaf_hash(b"x") for _ in range(size1)] + leaves[size1:]
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, proof, root(forged[:size1]), root(leaves))


def test_valid_subtrees() -> None:
    assert is_valid_subtree(0, 13) and is_valid_subtree(4, 8) and is_valid_subtree(8, 13)
    assert is_valid_subtree(5, 5) and is_valid_subtree(5, 6)
    assert not is_valid_subtree(5, 8) and not is_valid_subtree(2, 1)
    assert not is_valid_subtree(-1, 0) and not is_valid_subtree(1, 2**63 + 2)


def _subtree_subproof(start: int, end: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    """SUBTREE_SUBPROOF(start, end, D_n, b) of draft-ietf-plants-merkle-tree-certs 4.4.1."""
    n = len(leaves)
    if start == 0 and end == n:
        return [] if complete else [root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if end <= k:
        return [*_subtree_subproof(start, end, leaves[:k], complete), root(leaves[k:])]
    if k <= start:
        return [*_subtree_subproof(start - k, end - k, leaves[k:], complete), root(leaves[:k])]
    return [*_subtree_subproof(0, end - k, leaves[k:], False), root(leaves[:k])]


@st.composite
def _subtrees(draw: st.DrawFn) -> tuple[int, int, int]:
    """A tree size and a non-empty valid subtree of it."""
    size = draw(st.integers(1, 70))
    end = draw(st.integers(1, size))
    width = 1 << draw(st.integers(0, (end - 1).bit_length()))
    start = max(0, ((end - 1) // width) * width)
    return start, end, size


@settings(max_examples=300, deadline=None)
@given(_subtrees())
def test_our_subtrees_are_provably_consistent_with_their_trees(
    subtree: tuple[int, int, int],
) -> None:
    start, end, size = subtree
    assert is_valid_subtree(start, end)
    leaves = [leaf_hash(str(i).encode()) for i in range(size)]
    proof = _subtree_subproof(start, end, leaves, True)
    sub = root(leaves[start:end])
    verify_subtree_consistency(start, end, size, proof, sub, root(leaves))
    index = (start + end) // 2
    verify_subtree_inclusion(
        index, start, end, leaves[index], _inclusion_proof(leaves[start:end], index - start), sub
    )
    forged = [*leaves[:start], leaf_hash(b"x"), *leaves[start + 1 :]]
    with pytest.raises(ProofError):
        verify_subtree_consistency(start, end, size, proof, root(forged[start:end]), root(leaves))
    if start == 0:  # the draft: a subtree proof from 0 is the RFC 9162 consistency proof
        assert proof == _subproof(end, leaves, True)
    if end == start + 1:  # ... and one of a single leaf is its inclusion proof
        assert proof == _inclusion_proof(leaves, start)


def test_an_empty_subtree_is_in_every_tree() -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(5)]
    verify_subtree_consistency(4, 4, 5, [], EMPTY_ROOT, root(leaves))
    with pytest.raises(ProofError):
        verify_subtree_consistency(6, 6, 5, [], EMPTY_ROOT, root(leaves))
