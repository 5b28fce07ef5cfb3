"""Identifying data and free text, encrypted under a per-participant data key.

The log is immutable, so the only way to erase a person from it is to destroy the key
that their identity was encrypted under (crypto-shredding). Plaintext is the Avro
single-object encoding of ``types.Identity`` or ``types.Narrative``, sealed with
AES-256-GCM; the associated data binds the ciphertext to its participant, plaintext
type and key, so a ciphertext cannot be moved to another person's event.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.crypto import SealError, intake_info, open_sealed, seal
from hub.events.codec import Codec
from hub.events.errors import EventError
from hub.events.models import EncryptedField, Identity, Narrative, PlaintextType, SealedField

ENCRYPTED = "<encrypted>"  # how an encrypted field shows wherever its plaintext may not
FIELD_TAG = b"LEADHUB-FIELD-V1\x00"
NONCE_BYTES = 12
_SUBJECT = {PlaintextType.IDENTITY: "types.Identity", PlaintextType.NARRATIVE: "types.Narrative"}
_MODEL: dict[PlaintextType, type[Identity] | type[Narrative]] = {
    PlaintextType.IDENTITY: Identity,
    PlaintextType.NARRATIVE: Narrative,
}
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class FieldDecryptError(Exception):
    """The key is gone (erased) or the ciphertext was altered or moved."""


def _aad(participant_id: str, plaintext_type: PlaintextType, key_id: str) -> bytes:
    return FIELD_TAG + b"\x00".join(
        [participant_id.encode(), plaintext_type.value.encode(), key_id.encode()]
    )


def seal_field(
    plaintext: Identity | Narrative, *, participant_id: str, key_id: str, key: bytes, codec: Codec
) -> EncryptedField:
    kind = PlaintextType.IDENTITY if isinstance(plaintext, Identity) else PlaintextType.NARRATIVE
    data = codec.encode(_SUBJECT[kind], plaintext.model_dump())
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, data, _aad(participant_id, kind, key_id))
    return EncryptedField(plaintext_type=kind, key_id=key_id, nonce=nonce, ciphertext=sealed)


def open_field(
    field: EncryptedField, *, participant_id: str, key: bytes, codec: Codec
) -> Identity | Narrative:
    kind = PlaintextType(field.plaintext_type)
    try:
        data = AESGCM(key).decrypt(
            field.nonce, field.ciphertext, _aad(participant_id, kind, field.key_id)
        )
    except InvalidTag:
        raise FieldDecryptError("ciphertext does not open with this participant's key") from None
    decoded = codec.decode(data, _SUBJECT[kind])
    return _MODEL[kind].model_validate(decoded.datum)


def seal_for_intake(
    plaintext: Identity | Narrative,
    *,
    participant_id: str,
    event_id: str,
    key_id: str,
    public: X25519PublicKey,
    codec: Codec,
) -> SealedField:
    """What an agency holding no data key sends: the plaintext sealed to the hub's intake
    key, bound to this participant, plaintext type and event (docs/protocol.md 16.2)."""
    kind = PlaintextType.IDENTITY if isinstance(plaintext, Identity) else PlaintextType.NARRATIVE
    data = codec.encode(_SUBJECT[kind], plaintext.model_dump())
    info = intake_info(participant_id, kind.value, event_id, key_id)
    return SealedField(plaintext_type=kind, key_id=key_id, sealed=seal(data, public, info))


def open_for_intake(
    field: SealedField,
    *,
    participant_id: str,
    event_id: str,
    private: X25519PrivateKey,
    codec: Codec,
) -> Identity | Narrative:
    """The hub's side of ``seal_for_intake``; FieldDecryptError if it does not open."""
    kind = PlaintextType(field.plaintext_type)
    info = intake_info(participant_id, kind.value, event_id, field.key_id)
    try:
        data = open_sealed(field.sealed, private, info)
    except SealError:
        raise FieldDecryptError(
            "does not open with that intake key for this participant, event and field"
        ) from None
    decoded = codec.decode(data, _SUBJECT[kind])
    return _MODEL[kind].model_validate(decoded.datum)


class DataKeyStore:
    """Per-participant data keys in one directory, one file each, so that erasing a person
    is deleting one file (and leaving an empty tombstone under ``.erased/``).

    Other processes read the store while one writes it (the worker destroys a key while the
    demo, an auditor or a test looks it up), so a reader sees a key file whole or not at
    all: a new key is written under a temporary name and linked into place (the link fails
    if another process created the key first, whose key then wins), and an erased key is
    renamed away before it is overwritten and unlinked."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, participant_id: str) -> Path:
        if not _SAFE_ID.match(participant_id):
            raise ValueError("participant id has characters a pseudonym never has")
        return self.directory / f"{participant_id}.key"

    def get(self, participant_id: str) -> tuple[str, bytes] | None:
        try:
            text = self._path(participant_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        data = json.loads(text)
        return str(data["key_id"]), base64.b64decode(data["key"])

    def get_or_create(self, participant_id: str) -> tuple[str, bytes]:
        found = self.get(participant_id)
        if found is not None:
            return found
        self.directory.mkdir(parents=True, exist_ok=True)
        key_id, key = f"dk-{secrets.token_hex(8)}", AESGCM.generate_key(bit_length=256)
        record = json.dumps({"key_id": key_id, "key": base64.b64encode(key).decode()})
        fd, staged = tempfile.mkstemp(dir=self.directory, prefix=".new-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp makes it 0600
                f.write(record)
            os.link(staged, self._path(participant_id))
        except FileExistsError:
            existing = self.get(participant_id)
            if existing is None:  # created and erased meanwhile: as if never created
                raise
            return existing
        finally:
            os.unlink(staged)
        return key_id, key

    def _tombstone(self, participant_id: str) -> Path:
        return self.directory / ".erased" / self._path(participant_id).stem

    def erase(self, participant_id: str) -> bool:
        """Destroy the key, and leave an empty tombstone named for the (pseudonymous) id, so
        that a field no key opens can be told apart: erased, or never sealed to this hub."""
        path = self._path(participant_id)
        doomed = path.with_name(f".erased-{secrets.token_hex(8)}")
        try:
            path.rename(doomed)
        except FileNotFoundError:
            return False
        doomed.write_bytes(secrets.token_bytes(doomed.stat().st_size))
        doomed.unlink()
        self._tombstone(participant_id).parent.mkdir(exist_ok=True)
        self._tombstone(participant_id).touch()
        return True

    def erased(self, participant_id: str) -> bool:
        return self._tombstone(participant_id).exists()


def identity_opener(
    datakeys: DataKeyStore, codec: Codec
) -> Callable[[str, bytes, bytes], Identity | None]:
    """How record linkage opens an identity to compare it (its nonce and ciphertext as on
    lead.events), with the participant's one data key: None once the key is erased, or if
    it never opens."""

    def open_identity(participant: str, nonce: bytes, ciphertext: bytes) -> Identity | None:
        held = datakeys.get(participant)
        if held is None:
            return None
        key_id, key = held
        field = EncryptedField(
            plaintext_type=PlaintextType.IDENTITY, key_id=key_id, nonce=nonce, ciphertext=ciphertext
        )
        try:
            opened = open_field(field, participant_id=participant, key=key, codec=codec)
        except (FieldDecryptError, EventError, ValueError):
            return None
        return opened if isinstance(opened, Identity) else None

    return open_identity
