"""The decision log as a transparency log: checkpoints, witnesses, and what checking the
log against them proves for every way the log can be altered."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consumers.witness import cosign_latest
from hub.audit import merkle
from hub.audit.checkpoints import signed_checkpoint, tree_of, witness_name
from hub.audit.log_check import LogCheck, Place, verify_log
from hub.crypto import note
from hub.crypto.signing import SigningKey
from hub.errors import HubError

ORIGIN = "leadhub.test/audit"
HUB = Ed25519PrivateKey.generate()
LOG_KEYS = [note.NoteKey(ORIGIN, HUB.public_key(), note.ED25519)]
OPD = SigningKey("opd", "k1", Ed25519PrivateKey.generate())
WITNESS_KEYS = [note.NoteKey(witness_name(ORIGIN, "opd"), OPD.public, note.COSIGNATURE_V1)]
VALUES = [f"decision {i}".encode() for i in range(40)]


def _notes(values: list[bytes], sizes: tuple[int, ...] = (10, 25, 40)) -> list[tuple[Place, str]]:
    return [
        (("lead.checkpoints", 0, i), signed_checkpoint(ORIGIN, tree_of(values[:n]), HUB))
        for i, n in enumerate(sizes)
    ]


def _check(values: list[bytes], notes: list[tuple[Place, str]]) -> LogCheck:
    return verify_log(values, notes, ORIGIN, LOG_KEYS, WITNESS_KEYS)


def test_an_honest_log_verifies_with_every_proof() -> None:
    check = _check(VALUES, _notes(VALUES))
    assert check.intact and check.mismatch is None and check.problems == []
    assert check.latest is not None and check.latest.checkpoint.size == 40
    assert check.inclusion_proofs == 40 and check.consistency_proofs == check.pairs == 2


def test_a_checkpoint_is_a_c2sp_signed_note_anyone_can_check() -> None:
    text = signed_checkpoint(ORIGIN, tree_of(VALUES), HUB)
    body, signers = note.open_note(text, LOG_KEYS)
    assert body == f"{ORIGIN}\n40\n" + note.Checkpoint.parse(body).body().split("\n")[2] + "\n"
    assert note.Checkpoint.parse(body).root == merkle.root([merkle.leaf_hash(v) for v in VALUES])
    assert [k for k, _ in signers] == LOG_KEYS
    assert text == signed_checkpoint(ORIGIN, tree_of(VALUES), HUB), "deterministic"


def test_an_edited_record_is_bounded_by_the_checkpoints_around_it_and_counted_once() -> None:
    edited = list(VALUES)
    edited[17] = b"decision 17, now a permit"
    check = _check(edited, _notes(VALUES))
    m = check.mismatch
    assert m is not None and (m.start, m.end, m.later, m.truncated) == (10, 25, 1, False)
    assert m.checkpoint.checkpoint.size == 25 and check.matched == [10]
    # only what the log still matches is proved: records 0..9 in checkpoint 10
    assert (check.inclusion_proofs, check.consistency_proofs, check.pairs) == (10, 0, 2)
    assert not check.intact and check.problems == []


def test_a_deleted_and_a_reordered_record_are_bounded() -> None:
    deleted = VALUES[:3] + VALUES[4:]
    m = _check(deleted, _notes(VALUES)).mismatch
    assert m is not None and (m.start, m.end, m.later) == (0, 10, 2)
    swapped = list(VALUES)
    swapped[30], swapped[31] = swapped[31], swapped[30]
    m = _check(swapped, _notes(VALUES)).mismatch
    assert m is not None and (m.start, m.end, m.later) == (25, 40, 0)


def test_a_truncated_log_is_named() -> None:
    check = _check(VALUES[:30], _notes(VALUES))
    m = check.mismatch
    assert m is not None and m.truncated and (m.start, m.end) == (25, 30)
    assert check.inclusion_proofs == 25


def test_forged_forked_and_foreign_checkpoints_are_problems_at_their_place() -> None:
    forger = Ed25519PrivateKey.generate()
    forged = (("lead.checkpoints", 0, 9), signed_checkpoint(ORIGIN, tree_of(VALUES[:5]), forger))
    check = _check(VALUES, [*_notes(VALUES), forged])
    assert [(p.place, p.what) for p in check.problems] == [
        (
            ("lead.checkpoints", 0, 9),
            "not a checkpoint signed by the hub: note has no signature from a known key",
        )
    ]
    assert check.mismatch is None, "a forged note is not a checkpoint the log must match"
    other = [b"another history"] * 25
    fork = (("lead.checkpoints", 0, 7), signed_checkpoint(ORIGIN, tree_of(other), HUB))
    assert any("the log forked" in p.what for p in _check(VALUES, [*_notes(VALUES), fork]).problems)
    foreign = (
        ("lead.checkpoints", 0, 8),
        signed_checkpoint("elsewhere.example/log", tree_of(VALUES), HUB),
    )
    assert [p.what for p in _check(VALUES, [foreign]).problems] == [
        "not a checkpoint signed by the hub: note has no signature from a known key"
    ], "another log's checkpoint is signed under another name"


def test_an_invalid_cosignature_is_the_witness_problem_and_keeps_the_checkpoint() -> None:
    notes = _notes(VALUES)
    place, text = notes[-1]
    body, _ = note.open_note(text, LOG_KEYS)
    line = note.cosign(note.Checkpoint.parse(body), witness_name(ORIGIN, "opd"), OPD.private, 9)
    good = _check(VALUES, [*notes[:-1], (place, text + line)])
    assert good.intact and good.checkpoints[40].cosigners
    flip = -20  # inside the signature's base64, which stays well-formed
    tampered = line[:flip] + ("A" if line[flip] != "A" else "B") + line[flip + 1 :]
    check = _check(VALUES, [*notes[:-1], (place, text + tampered)])
    assert [(p.place, p.what) for p in check.witness_problems] == [
        (place, "the cosignature of opd on checkpoint 40 is invalid")
    ]
    assert check.mismatch is None and check.inclusion_proofs == 40 and 40 in check.checkpoints


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
    check = verify_log(VALUES[:10], [(("c", 0, 0), first)], ORIGIN, LOG_KEYS, WITNESS_KEYS)
    assert check.intact
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
