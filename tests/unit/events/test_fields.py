"""Identity and notes encrypted under a per-participant key; erasing the key erases them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hub.events.codec import Codec
from hub.events.fields import DataKeyStore, FieldDecryptError, open_field, seal_field
from hub.events.models import Identity, LocalRecordNumber, Narrative

PERSON = Identity(
    given_name="Tavo",
    family_name="Quenlin",
    aliases=["TQ"],
    date_of_birth=date(1990, 4, 1),
    local_record_numbers=[LocalRecordNumber(system="bpd-rms", value="R-000123")],
)


def test_seal_and_open(tmp_path: Path, codec: Codec) -> None:
    store = DataKeyStore(tmp_path)
    key_id, key = store.get_or_create("P-AAAA000001")
    assert store.get_or_create("P-AAAA000001") == (key_id, key)
    sealed = seal_field(PERSON, participant_id="P-AAAA000001", key_id=key_id, key=key, codec=codec)
    assert b"Quenlin" not in sealed.ciphertext
    assert open_field(sealed, participant_id="P-AAAA000001", key=key, codec=codec) == PERSON
    note = Narrative(text="met at the clinic")
    sealed_note = seal_field(
        note, participant_id="P-AAAA000001", key_id=key_id, key=key, codec=codec
    )
    assert open_field(sealed_note, participant_id="P-AAAA000001", key=key, codec=codec) == note


def test_ciphertext_cannot_be_moved_to_another_participant(tmp_path: Path, codec: Codec) -> None:
    store = DataKeyStore(tmp_path)
    key_id, key = store.get_or_create("P-AAAA000001")
    sealed = seal_field(PERSON, participant_id="P-AAAA000001", key_id=key_id, key=key, codec=codec)
    with pytest.raises(FieldDecryptError):
        open_field(sealed, participant_id="P-BBBB000002", key=key, codec=codec)


def test_erasure_destroys_the_key(tmp_path: Path, codec: Codec) -> None:
    store = DataKeyStore(tmp_path)
    key_id, key = store.get_or_create("P-AAAA000001")
    sealed = seal_field(PERSON, participant_id="P-AAAA000001", key_id=key_id, key=key, codec=codec)
    assert store.erase("P-AAAA000001")
    assert store.get("P-AAAA000001") is None and store.erased("P-AAAA000001")
    # nothing of the key is left: only an empty tombstone, named for the pseudonym
    assert [p.name for p in tmp_path.iterdir()] == [".erased"]
    assert [(p.name, p.stat().st_size) for p in (tmp_path / ".erased").iterdir()] == [
        ("P-AAAA000001", 0)
    ]
    assert not store.erased("P-AAAA000002")
    new_id, new_key = store.get_or_create("P-AAAA000001")
    assert new_id != key_id
    with pytest.raises(FieldDecryptError):
        open_field(sealed, participant_id="P-AAAA000001", key=new_key, codec=codec)


def test_path_characters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pseudonym"):
        DataKeyStore(tmp_path).get_or_create("../etc/passwd")


def test_readers_see_a_key_whole_or_not_at_all(tmp_path: Path) -> None:
    """Another process reads the store while the worker writes it: a key is linked into
    place complete, erased by renaming it away first, and no staging file is left behind."""
    worker, reader = DataKeyStore(tmp_path), DataKeyStore(tmp_path)
    created = worker.get_or_create("P-7K2M9Q4R8T")
    assert reader.get("P-7K2M9Q4R8T") == created
    assert reader.get_or_create("P-7K2M9Q4R8T") == created  # a second creator gets the same
    assert worker.erase("P-7K2M9Q4R8T")
    assert reader.get("P-7K2M9Q4R8T") is None
    assert not worker.erase("P-7K2M9Q4R8T")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".erased"]  # and its tombstone
    other = reader.get_or_create("P-7K2M9Q4R8T")  # a new key after erasure, not the old
    keys = sorted(p.name for p in tmp_path.iterdir())
    assert other != created and keys == [".erased", "P-7K2M9Q4R8T.key"]
