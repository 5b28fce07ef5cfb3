"""Notices sealed under epoch keys: one HPKE seal per recipient per epoch, then AES-256-GCM
per notice (docs/protocol.md 12.3).

Why: a full HPKE seal is an X25519 key generation, a Diffie-Hellman and two HKDF
expansions, about 60-120 µs here; AES-GCM under a key already made is about 1 µs. So the
hub draws a random 32-byte key per recipient per epoch, wraps it once with HPKE to the
recipient's X25519 key, and encrypts each notice's content under it. The wrapped key and
the epoch id travel in every notice of the epoch, so any one notice opens alone (a reader
may start anywhere in its topic).

An epoch ends at the first notice accepted ``EPOCH_SECONDS`` or more away from the epoch's
first (either way: partitions interleave times a little, a restore from the archive by a
lot), after ``EPOCH_NOTICES`` notices, or when the worker stops. Its key is then dropped;
it is never written anywhere in clear. Nonces are random (96 bits): ``EPOCH_NOTICES`` keeps
the chance that two notices of one epoch share a nonce below 2^-64.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.crypto.sealing import SealError, open_sealed, seal

EPOCH_INFO_TAG = b"LEADHUB-EPOCH-V1\x00"
EPOCH_SECONDS = 3600.0
EPOCH_NOTICES = 65_536
NONCE_BYTES = 12


@dataclass(frozen=True)
class EpochSealed:
    """One notice's content under its recipient's current epoch key."""

    recipient_key_id: str
    epoch_id: uuid.UUID
    wrapped_key: bytes
    sealed: bytes


@dataclass
class _Epoch:
    key_id: str
    epoch_id: uuid.UUID
    wrapped_key: bytes
    aead: AESGCM
    started: float
    used: int = 0

    def holds(self, at: float) -> bool:
        """Room for one more notice accepted at ``at``."""
        return self.used < EPOCH_NOTICES and abs(at - self.started) < EPOCH_SECONDS


def epoch_info(epoch_id: uuid.UUID) -> bytes:
    """HPKE ``info`` of a wrapped epoch key: binds it to its epoch id."""
    return EPOCH_INFO_TAG + epoch_id.bytes


class EpochSealer:
    """The hub's side: seals each notice under its recipient's current epoch key, starting
    a new epoch when the current one is full or old. ``at`` is seconds on the hub's
    acceptance clock (an event's ``recorded_at``), so this module reads no clock."""

    def __init__(self, recipients: Mapping[str, tuple[str, X25519PublicKey]]) -> None:
        self._recipients = dict(recipients)
        self._epochs: dict[str, _Epoch] = {}

    def seal(self, recipient: str, plaintext: bytes, aad: bytes, at: float) -> EpochSealed:
        epoch = self._epochs.get(recipient)
        if epoch is None or not epoch.holds(at):
            epoch = self._epochs[recipient] = self._begin(recipient, at)
        epoch.used += 1
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + epoch.aead.encrypt(nonce, plaintext, aad)
        return EpochSealed(epoch.key_id, epoch.epoch_id, epoch.wrapped_key, sealed)

    def _begin(self, recipient: str, at: float) -> _Epoch:
        key_id, public = self._recipients[recipient]
        key = AESGCM.generate_key(bit_length=256)
        epoch_id = uuid.uuid4()
        return _Epoch(key_id, epoch_id, seal(key, public, epoch_info(epoch_id)), AESGCM(key), at)


@lru_cache(maxsize=256)  # a reader meets each epoch's wrapped key in every notice of it
def _unwrapped(wrapped_key: bytes, private: X25519PrivateKey, epoch_id: uuid.UUID) -> AESGCM:
    key = open_sealed(wrapped_key, private, epoch_info(epoch_id))
    if len(key) != 32:
        raise SealError("the wrapped epoch key is not 32 bytes")
    return AESGCM(key)


def open_epoch_sealed(
    sealed: bytes, wrapped_key: bytes, epoch_id: uuid.UUID, private: X25519PrivateKey, aad: bytes
) -> bytes:
    """The recipient's side: unwrap the epoch key with its private key, then open."""
    aead = _unwrapped(wrapped_key, private, epoch_id)
    try:
        return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except Exception as exc:  # InvalidTag, or ValueError for a too-short input
        raise SealError("notice does not open with this epoch key") from exc
