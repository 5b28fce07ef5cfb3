"""Stand-ins for what a unit test does not exercise: an encrypted field that is never opened."""

from __future__ import annotations

from hub.events.models import EncryptedField, Identity, Narrative, PlaintextType


def fake_seal(plain: Identity | Narrative) -> EncryptedField:
    """A field that looks sealed: for tests where no one opens it."""
    kind = PlaintextType.IDENTITY if isinstance(plain, Identity) else PlaintextType.NARRATIVE
    return EncryptedField(
        plaintext_type=kind, key_id="dk-test", nonce=b"n" * 12, ciphertext=b"c" * 16
    )
