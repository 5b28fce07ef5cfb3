"""Sealing to one agency: HPKE (RFC 9180) base mode, X25519 + HKDF-SHA256 + AES-256-GCM,
from ``cryptography``. It wraps each epoch key of that agency's notices (``epochs``) and,
to the hub's intake key, what agencies seal for the hub. Only the holder of the private key
opens it; the broker, its operators and other agencies see ciphertext.

Keys: ``<keys_dir>/<agency>/<key_id>.hpke.pub`` and ``.hpke.key`` beside the agency's
signing keys; the newest key (by sorted key id) is the one notices' epoch keys are sealed
to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from hub.crypto.signing import (
    SEALING_SUFFIX,
    new_key_id,
    read_pem_private,
    read_pem_public,
    write_pem_pair,
)
from hub.errors import DeploymentError

SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


class SealError(Exception):
    """The sealed bytes do not open with this key and context: wrong key or tampered."""


@dataclass(frozen=True)
class SealingKey:
    agency: str
    key_id: str
    private: X25519PrivateKey

    @property
    def public(self) -> X25519PublicKey:
        return self.private.public_key()


def generate_sealing_key(agency: str, *, demo: bool) -> SealingKey:
    return SealingKey(agency, new_key_id(demo=demo), X25519PrivateKey.generate())


def write_sealing_key(key: SealingKey, keys_dir: Path) -> tuple[Path, Path]:
    return write_pem_pair(
        keys_dir / key.agency,
        key.key_id + SEALING_SUFFIX,
        key.private,
        demo=key.key_id.startswith("demo-"),
    )


def _newest(folder: Path, suffix: str) -> Path:
    found = sorted(folder.glob(f"*{SEALING_SUFFIX}{suffix}"))
    if not found:
        raise DeploymentError(f"no sealing key ({SEALING_SUFFIX}{suffix}) in {folder}")
    return found[-1]


def load_sealing_key(keys_dir: Path, agency: str) -> SealingKey:
    path = _newest(keys_dir / agency, ".key")
    private = read_pem_private(path)
    if not isinstance(private, X25519PrivateKey):
        raise DeploymentError(f"{path}: not an X25519 key")
    return SealingKey(agency, path.name.removesuffix(SEALING_SUFFIX + ".key"), private)


def load_recipient_key(keys_dir: Path, agency: str) -> tuple[str, X25519PublicKey]:
    path = _newest(keys_dir / agency, ".pub")
    public = read_pem_public(path)
    if not isinstance(public, X25519PublicKey):
        raise DeploymentError(f"{path}: not an X25519 key")
    return path.name.removesuffix(SEALING_SUFFIX + ".pub"), public


def seal(plaintext: bytes, recipient: X25519PublicKey, info: bytes) -> bytes:
    """Encapsulated key (32 bytes) followed by the AEAD ciphertext; ``info`` binds the
    ciphertext to its context (the notice id), so it cannot be replayed as another notice."""
    return SUITE.encrypt(plaintext, recipient, info)


def open_sealed(sealed: bytes, key: X25519PrivateKey, info: bytes) -> bytes:
    try:
        return SUITE.decrypt(sealed, key, info)
    except Exception as exc:  # cryptography raises InvalidTag or ValueError for bad input
        raise SealError("notice does not open with this key") from exc
