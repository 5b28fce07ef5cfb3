"""The decision log as a transparency log: checkpoints, witnesses and the verifier's
findings for every way the log can be altered."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consumers.witness import cosign_latest
from hub.audit import merkle
from hub.audit.checkpoints import signed_checkpoint, tree_of, verify_log, witness_name
from hub.crypto import note
from hub.crypto.signing import SigningKey
from hub.errors import HubError

ORIGIN = "leadhub.test/audit"
HUB = Ed25519PrivateKey.generate()
LOG_KEYS = [note.NoteKey(ORIGIN, HUB.public_key(), note.ED25519)]
OPD = SigningKey("opd", "k1", Ed25519PrivateKey.generate())
WITNESS_KEYS = [note.NoteKey(witness_name(ORIGIN, "opd"), OPD.public, note.COSIGNATURE_V1)]
VALUES = [f"decision {i}".encode() for i in range(40)]


def _notes(values: list[bytes], sizes: tuple[int, ...] = (10, 25, 40)) -> list[tuple[str, str]]:
    return [
        (f"lead.checkpoints@{i}", signed_checkpoint(ORIGIN, tree_of(values[:n]), HUB))
        for i, n in enumerate(sizes)
    ]


def _check(values: list[bytes], notes: list[tuple[str, str]]) -> list[str]:
    return verify_log(values, notes, ORIGIN, LOG_KEYS, WITNESS_KEYS).findings


def test_an_honest_log_verifies_with_every_proof() -> None:
    check = verify_log(VALUES, _notes(VALUES), ORIGIN, LOG_KEYS, WITNESS_KEYS)
    assert check.findings == []
    assert check.latest is not None and check.latest.checkpoint.size == 40
    assert check.inclusion_proofs == 40 and check.consistency_proofs == 2


def test_a_checkpoint_is_a_c2sp_signed_note_anyone_can_check() -> None:
    text = signed_checkpoint(ORIGIN, tree_of(VALUES), HUB)
    body, signers = note.open_note(text, LOG_KEYS)
    assert body == f"{ORIGIN}\n40\n" + note.Checkpoint.parse(body).body().split("\n")[2] + "\n"
    assert note.Checkpoint.parse(body).root == merkle.root([merkle.leaf_hash(v) for v in VALUES])
    assert [k for k, _ in signers] == LOG_KEYS
    assert text == signed_checkpoint(ORIGIN, tree_of(VALUES), HUB), "deterministic"


def test_an_edited_record_is_placed_between_checkpoints() -> None:
    edited = list(VALUES)
    edited[17] = b"decision 17, now a permit"
    found = _check(edited, _notes(VALUES))
    assert found == [
        "lead.audit records 10..24 differ from what checkpoint 25 (lead.checkpoints@1) "
        "signed: edited, removed or reordered",
        "lead.audit records 10..39 differ from what checkpoint 40 (lead.checkpoints@2) "
        "signed: edited, removed or reordered",
    ]


def test_a_deleted_and_a_reordered_record_are_found() -> None:
    deleted = VALUES[:3] + VALUES[4:]
    assert any("records 0..9 differ" in f for f in _check(deleted, _notes(VALUES)))
    swapped = list(VALUES)
    swapped[30], swapped[31] = swapped[31], swapped[30]
    found = _check(swapped, _notes(VALUES))
    assert len(found) == 1 and "records 25..39 differ from what checkpoint 40" in found[0]


def test_a_truncated_log_is_named() -> None:
    found = _check(VALUES[:30], _notes(VALUES))
    assert found == [
        "lead.audit holds 30 records, but checkpoint 40 (lead.checkpoints@2) vouches for "
        "more: records were removed (truncated)"
    ]


def test_forged_forked_and_foreign_checkpoints_are_findings() -> None:
    forger = Ed25519PrivateKey.generate()
    forged = ("lead.checkpoints@9", signed_checkpoint(ORIGIN, tree_of(VALUES[:5]), forger))
    assert "lead.checkpoints@9: note has no signature from a known key" in _check(
        VALUES, [*_notes(VALUES), forged]
    )
    other = [b"another history"] * 25
    fork = ("lead.checkpoints@7", signed_checkpoint(ORIGIN, tree_of(other), HUB))
    assert any("the log forked" in f for f in _check(VALUES, [*_notes(VALUES), fork]))
    foreign = (
        "lead.checkpoints@8",
        signed_checkpoint("elsewhere.example/log", tree_of(VALUES), HUB),
    )
    assert _check(VALUES, [foreign]) == [
        "lead.checkpoints@8: note has no signature from a known key"
    ], "another log's checkpoint is signed under another name"


def test_a_witness_cosigns_only_what_extends_what_it_saw(tmp_path: Path) -> None:
    state = tmp_path / "opd.json"
    notes = [text for _, text in _notes(VALUES, (10,))]
    first = cosign_latest(
        notes,
        tree_of(VALUES[:10]),
        origin=ORIGIN,
        hub_keys=LOG_KEYS,
        witness=OPD,
        state_file=state,
        now=1_800_000_000,
    )
    assert first is not None
    check = verify_log(VALUES[:10], [("c@0", first)], ORIGIN, LOG_KEYS, WITNESS_KEYS)
    assert check.findings == []
    assert check.latest is not None
    assert check.latest.cosigners == {witness_name(ORIGIN, "opd"): 1_800_000_000}
    assert (
        cosign_latest(
            notes,
            tree_of(VALUES[:10]),
            origin=ORIGIN,
            hub_keys=LOG_KEYS,
            witness=OPD,
            state_file=state,
        )
        is None
    ), "nothing new"
    grown = cosign_latest(
        [*notes, signed_checkpoint(ORIGIN, tree_of(VALUES), HUB)],
        tree_of(VALUES),
        origin=ORIGIN,
        hub_keys=LOG_KEYS,
        witness=OPD,
        state_file=state,
    )
    assert grown is not None and "\n40\n" in grown
    rewritten = [b"rewritten"] * 10 + VALUES[10:] + [b"more"]
    with pytest.raises(HubError, match="does not extend checkpoint 40"):
        cosign_latest(
            [signed_checkpoint(ORIGIN, tree_of(rewritten), HUB)],
            tree_of(rewritten),
            origin=ORIGIN,
            hub_keys=LOG_KEYS,
            witness=OPD,
            state_file=state,
        )
