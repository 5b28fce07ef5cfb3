"""The hub's intake keys: one per epoch whoever makes it, destroyed exactly when the ingest
records sealed to it have expired, and published as a note signed like the checkpoints."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.crypto import (
    IntakeKeyring,
    SealError,
    current_key,
    open_sealed,
    read_key_set,
    seal,
    signed_key_set,
)
from hub.crypto.intake import intake_info
from hub.crypto.note import NoteError, NoteKey, open_note

WEEK = timedelta(days=7)
NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)


def test_every_worker_gets_the_same_key_for_an_epoch(tmp_path: Path) -> None:
    one, two = (IntakeKeyring(tmp_path, WEEK, WEEK) for _ in range(2))
    a, b = one.current(NOW), two.current(NOW + timedelta(days=1))
    assert a.key_id == b.key_id == "ik-20261203T000000Z"  # 7-day epochs from 1970-01-01
    assert a.raw_public == b.raw_public
    assert (a.starts, a.ends, a.destroyed_at) == (
        datetime(2026, 12, 3, tzinfo=UTC),
        datetime(2026, 12, 10, tzinfo=UTC),
        datetime(2026, 12, 17, tzinfo=UTC),
    )
    assert one.current(a.ends).key_id == "ik-20261210T000000Z"
    assert [k.key_id for k in two.held()] == ["ik-20261210T000000Z", "ik-20261203T000000Z"]
    files = list(tmp_path.glob("ik-*.key"))
    assert len(files) == 2 and all(f.stat().st_mode & 0o077 == 0 for f in files)  # private


def test_a_key_is_destroyed_when_its_epochs_ingest_records_have_expired(tmp_path: Path) -> None:
    keyring = IntakeKeyring(tmp_path, WEEK, timedelta(days=3))
    key = keyring.current(NOW)
    info = intake_info(
        "P-7KQ2M9XR4TQF", "IDENTITY", "3b0f0c1e-0000-4000-8000-000000000001", key.key_id
    )
    sealed = seal(b"identity", key.public, info)
    assert keyring.destroy_expired(key.destroyed_at - timedelta(microseconds=1)) == []
    private = keyring.private(key.key_id)
    assert private is not None and open_sealed(sealed, private, info) == b"identity"
    other = IntakeKeyring(tmp_path, WEEK, timedelta(days=3))  # another worker's view
    assert other.private(key.key_id) is not None
    assert keyring.destroy_expired(key.destroyed_at) == [key.key_id]
    assert keyring.private(key.key_id) is None and other.private(key.key_id) is None
    assert other.destroy_expired(key.destroyed_at) == []  # once
    assert list(tmp_path.iterdir()) == []  # no copy of the private key left behind
    fresh = keyring.private(keyring.current(key.ends).key_id)  # the next epoch's key
    assert fresh is not None
    with pytest.raises(SealError):
        open_sealed(sealed, fresh, info)


def test_the_published_set_verifies_with_the_hubs_checkpoint_key(tmp_path: Path) -> None:
    keyring = IntakeKeyring(tmp_path, WEEK, WEEK)
    keyring.current(NOW)
    keyring.current(NOW + WEEK)
    hub = Ed25519PrivateKey.generate()
    origin = "leadhub.example/audit"
    text = signed_key_set(origin, keyring.held(), hub)
    body, signers = open_note(text, [NoteKey(origin, hub.public_key())])
    assert len(signers) == 1
    lines = body.splitlines()
    assert lines[:2] == [f"{origin}/intake", "leadhub intake keys v1"]
    newest = keyring.held()[0]
    key_id, starts, ends, destroyed, public = lines[2].split(" ")
    assert (key_id, starts, ends, destroyed) == (
        "ik-20261210T000000Z",
        "2026-12-10T00:00:00Z",
        "2026-12-17T00:00:00Z",
        "2026-12-24T00:00:00Z",
    )
    assert base64.b64decode(public) == newest.raw_public
    assert len(lines) == 4
    forged = text.replace(public, base64.b64encode(bytes(32)).decode())
    with pytest.raises(NoteError):
        open_note(forged, [NoteKey(origin, hub.public_key())])


def test_binding_names_participant_type_event_and_key() -> None:
    assert intake_info("P-1", "NARRATIVE", "e", "ik-1") == (
        b"LEADHUB-INTAKE-V1\x00P-1\x00NARRATIVE\x00e\x00ik-1"
    )


def test_an_agency_reads_back_exactly_the_keys_the_hub_signed(tmp_path: Path) -> None:
    keyring = IntakeKeyring(tmp_path, WEEK, WEEK)
    keyring.current(NOW - WEEK)
    keyring.current(NOW)
    hub = Ed25519PrivateKey.generate()
    keys = read_key_set(
        signed_key_set("o.example/audit", keyring.held(), hub), "o.example/audit", hub.public_key()
    )
    assert [(k.key_id, k.starts, k.ends, k.destroyed_at, k.raw_public) for k in keys] == [
        (k.key_id, k.starts, k.ends, k.destroyed_at, k.raw_public) for k in keyring.held()
    ]
    assert current_key(keys, NOW).key_id == "ik-20261203T000000Z"
    assert current_key(keys, NOW - WEEK).key_id == "ik-20261126T000000Z"
    with pytest.raises(ValueError, match="fetch the key set again"):
        current_key(keys, NOW + WEEK)
    with pytest.raises(NoteError):  # signed by someone else
        read_key_set(
            signed_key_set("o.example/audit", keys, Ed25519PrivateKey.generate()),
            "o.example/audit",
            hub.public_key(),
        )
