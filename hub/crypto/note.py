"""C2SP signed notes (c2sp.org/signed-note) and Ed25519 cosignatures
(c2sp.org/tlog-cosignature, cosignature/v1) over the tlog checkpoints of
hub.crypto.checkpoint, Ed25519 only; the text rules all three share are in
hub.crypto.note_text.

The audit log's tree heads leave the hub as signed checkpoints. Using the formats the Go
checksum database, Sigsum and the transparency-dev witnesses already speak means an agency or
an outside auditor can check them, and a public witness can cosign them, with tools nobody
here wrote. That only works if every byte matches, so this module is strict: it accepts what
the specs allow and the reference implementations (golang.org/x/mod/sumdb/note,
transparency-dev/formats, filippo.io/torchwood, sigsum-go) emit, and says exactly why it
rejects anything else. The golden vectors in tests/unit/crypto/test_note.py come from those
projects.

Only Ed25519 is supported, as plain note signatures (signature type 0x01) and as timestamped
cosignatures (type 0x04); ML-DSA-44 cosignatures (0x06) and the other types are out of scope.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.crypto.checkpoint import Checkpoint
from hub.crypto.note_text import NoteError, b64decode, b64encode, check_body, check_name, check_text

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteError",
    "NoteKey",
    "Signature",
    "cosign",
    "format_note",
    "open_note",
    "parse_note",
    "parse_signer_key",
    "sign",
    "signer_key",
]

ED25519 = 0x01
"""Signature type of a plain Ed25519 note signature (c2sp.org/signed-note)."""
COSIGNATURE_V1 = 0x04
"""Signature type of a timestamped Ed25519 cosignature (c2sp.org/tlog-cosignature)."""

MAX_SIGNATURES = 100
"""Go's sumdb/note limit; the spec asks verifiers for a limit of at least 16."""

KEY_HASH_SIZE = 4
_PUBLIC_SIZE = 32
_ED25519_SIG_SIZE = 64
_TIMESTAMP_SIZE = 8
_MAX_TIMESTAMP = 2**63 - 1
_SIG_PREFIX = "— "  # em dash U+2014, then a space
_SKEY_PREFIX = "PRIVATE+KEY+"
_HASH_RE = re.compile(r"[0-9a-fA-F]{8}")
_TYPES = frozenset({ED25519, COSIGNATURE_V1})


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _cosigned_message(body: str, timestamp: int) -> bytes:
    """cosignature/v1 signs a header and time line, then the whole checkpoint text,
    extension lines included; the header keeps a cosignature from passing as a note
    signature by the same key."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise NoteError(f"cosignature timestamp {timestamp!r} is not an integer")
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")


@dataclass(frozen=True)
class NoteKey:
    """A public key that verifies note signatures under one name and signature type.

    The key hash commits to the name and type as well as the key, so the same Ed25519 key
    used for plain signatures (0x01) and for cosignatures (0x04) is two NoteKeys with
    different hashes, and neither verifies the other's signatures.
    """

    name: str
    public: Ed25519PublicKey
    sig_type: int = ED25519

    def __post_init__(self) -> None:
        check_name(self.name)
        if not isinstance(self.public, Ed25519PublicKey):
            raise NoteError("public key is not an Ed25519 public key")
        if self.sig_type not in _TYPES:
            raise NoteError(f"unsupported signature type 0x{self.sig_type:02x}")

    def __hash__(self) -> int:
        # Ed25519PublicKey is unhashable, so hash its bytes; the generated __eq__ agrees.
        return hash((self.name, self.sig_type, _raw_public(self.public)))

    @property
    def key_hash(self) -> bytes:
        """SHA-256(name || "\\n" || type || public key)[:4], the spec's recommended key ID,
        which is what every implementation computes."""
        material = bytes([self.sig_type]) + _raw_public(self.public)
        return hashlib.sha256(self.name.encode("utf-8") + b"\n" + material).digest()[:4]

    @property
    def id(self) -> str:
        """How messages name the key: the vkey's first two fields."""
        return f"{self.name}+{self.key_hash.hex()}"

    def vkey(self) -> str:
        """The verifier key text operators exchange: "<name>+<hex key hash>+<base64(type ||
        public key)>"."""
        material = bytes([self.sig_type]) + _raw_public(self.public)
        return f"{self.id}+{b64encode(material)}"

    @classmethod
    def from_vkey(cls, text: str) -> NoteKey:
        """Parse a vkey, checking that its key hash matches its name, type and key, so a
        mistyped or spliced vkey fails here rather than as "unknown key" on every note."""
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise NoteError("verifier key does not have the form <name>+<hash>+<key>")
        name, hash_text, key_text = parts
        check_name(name)
        if not _HASH_RE.fullmatch(hash_text):
            raise NoteError(f"verifier key hash {hash_text!r} is not 8 hexadecimal digits")
        material = b64decode(key_text, "verifier key")
        if not material:
            raise NoteError("verifier key material is empty")
        sig_type, key = material[0], material[1:]
        if sig_type not in _TYPES:
            raise NoteError(f"verifier key has unsupported signature type 0x{sig_type:02x}")
        if len(key) != _PUBLIC_SIZE:
            raise NoteError(f"verifier key is {len(key)} bytes; want {_PUBLIC_SIZE}")
        try:
            public = Ed25519PublicKey.from_public_bytes(key)
        except ValueError as e:
            raise NoteError("verifier key is not a valid Ed25519 public key") from e
        note_key = cls(name, public, sig_type)
        if note_key.key_hash != bytes.fromhex(hash_text):
            raise NoteError(
                f"verifier key hash {hash_text} does not match the key "
                f"(computed {note_key.key_hash.hex()})"
            )
        return note_key

    def verify(self, body: str, signature: bytes) -> int | None:
        """Check one signature (the bytes after the 4-byte key hash) over a note text.

        Returns None for a plain signature and the cosignature's timestamp for type 0x04,
        since None cannot also mean failure: any failure raises NoteError. Whether a
        timestamp is too far in the future is the caller's policy, not this function's.
        """
        data = check_body(body)
        if self.sig_type == ED25519:
            if len(signature) != _ED25519_SIG_SIZE:
                raise NoteError(
                    f"signature by {self.id} is {len(signature)} bytes; want {_ED25519_SIG_SIZE}"
                )
            self._check(signature, data)
            return None
        want = _TIMESTAMP_SIZE + _ED25519_SIG_SIZE
        if len(signature) != want:
            raise NoteError(
                f"cosignature by {self.id} is {len(signature)} bytes; want {want} "
                "(8-byte timestamp, 64-byte signature)"
            )
        # A cosignature vouches for a tree head; over anything else it means nothing.
        Checkpoint.parse(body)
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        if timestamp > _MAX_TIMESTAMP:
            raise NoteError(f"cosignature by {self.id} has timestamp {timestamp} above 2^63-1")
        self._check(signature[_TIMESTAMP_SIZE:], _cosigned_message(body, timestamp))
        return timestamp

    def _check(self, signature: bytes, message: bytes) -> None:
        try:
            self.public.verify(signature, message)
        except InvalidSignature as e:
            raise NoteError(f"signature by {self.id} does not verify") from e


@dataclass(frozen=True)
class Signature:
    """One parsed signature line, verified or not: which key it claims, and its bytes."""

    name: str
    key_hash: bytes
    signature: bytes

    def __post_init__(self) -> None:
        check_name(self.name)
        if len(self.key_hash) != KEY_HASH_SIZE:
            raise NoteError(f"key hash is {len(self.key_hash)} bytes; want {KEY_HASH_SIZE}")
        if not self.signature:
            raise NoteError(f"signature by {self.name} is empty")

    def line(self) -> str:
        """The signature line, "— <name> <base64(key hash || signature)>\\n"."""
        return f"{_SIG_PREFIX}{self.name} {b64encode(self.key_hash + self.signature)}\n"


def _parse_line(line: str) -> Signature:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError(f"signature line {line!r} does not start with an em dash and a space")
    name, space, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not space:
        raise NoteError(f"signature line {line!r} has no space after the key name")
    check_name(name)
    if not b64:
        raise NoteError(f"signature by {name} is empty")
    raw = b64decode(b64, f"signature by {name}")
    if len(raw) <= KEY_HASH_SIZE:
        raise NoteError(
            f"signature by {name} is {len(raw)} bytes; want a {KEY_HASH_SIZE}-byte key hash "
            "and then the signature"
        )
    return Signature(name, raw[:KEY_HASH_SIZE], raw[KEY_HASH_SIZE:])


def _parse_full_line(line: str) -> Signature:
    if not line.endswith("\n") or "\n" in line[:-1]:
        raise NoteError(f"signature line {line!r} is not one line ending in a newline")
    return _parse_line(line[:-1])


def _as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError(f"note is not valid UTF-8 (bad byte at offset {e.start})") from e
    return text


def parse_note(text: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines, verifying nothing.

    The text ends at the last blank line (the text itself may contain blank lines), and
    every line after it must be a well-formed signature line. Bytes are accepted because
    notes arrive over the wire, where invalid UTF-8 is one more way to be malformed.
    """
    note = _as_text(text)
    check_text(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line between its text and its signatures")
    body, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteError("note does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures; at most {MAX_SIGNATURES} allowed")
    return body, [_parse_line(line) for line in lines]


def format_note(body: str, signatures: Iterable[Signature | str]) -> str:
    """Assemble a signed note from its text and signature lines (as sign() and cosign()
    return them, or as Signature objects, e.g. ones kept from parse_note).

    Lines are re-parsed and re-rendered so a note this builds always parses back to the
    same text and signatures.
    """
    check_body(body)
    lines: list[str] = []
    for item in signatures:
        sig = item if isinstance(item, Signature) else _parse_full_line(item)
        lines.append(sig.line())
    if not lines:
        raise NoteError("a signed note needs at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures; at most {MAX_SIGNATURES} allowed")
    return body + "\n" + "".join(lines)


def sign(body: str, name: str, private: Ed25519PrivateKey) -> str:
    """A plain Ed25519 (type 0x01) signature line over a note text."""
    data = check_body(body)
    key = NoteKey(name, private.public_key(), ED25519)
    return Signature(name, key.key_hash, private.sign(data)).line()


def cosign(checkpoint: Checkpoint, name: str, private: Ed25519PrivateKey, timestamp: int) -> str:
    """A cosignature/v1 (type 0x04) signature line over a checkpoint, made at `timestamp`
    (POSIX seconds). The caller supplies the time so that witnesses stay testable and
    deterministic."""
    _check_timestamp(timestamp)
    key = NoteKey(name, private.public_key(), COSIGNATURE_V1)
    message = _cosigned_message(checkpoint.body(), timestamp)
    raw = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + private.sign(message)
    return Signature(name, key.key_hash, raw).line()


def open_note(
    text: str | bytes, known: Iterable[NoteKey]
) -> tuple[str, list[tuple[NoteKey, int | None]]]:
    """Parse a signed note and verify it against the keys the caller trusts.

    Returns the text and each known key that signed it (once, in note order) with its
    cosignature timestamp or None. Per the spec, signatures whose (name, key hash) match no
    known key are ignored, which is what lets logs rotate keys and witnesses add
    cosignatures; every signature from a known key is checked, and one that fails rejects
    the whole note, as does a note that no known key signed.
    """
    body, sigs = parse_note(text)
    index: dict[tuple[str, bytes], NoteKey] = {}
    for key in known:
        ident = (key.name, key.key_hash)
        other = index.setdefault(ident, key)
        if other != key:
            raise NoteError(f"two different known keys share the name and key hash {key.id}")
    verified: dict[NoteKey, int | None] = {}
    for sig in sigs:
        signer = index.get((sig.name, sig.key_hash))
        if signer is None:
            continue
        timestamp = signer.verify(body, sig.signature)
        verified.setdefault(signer, timestamp)
    if not verified:
        raise NoteError("note has no signature from a known key")
    return body, list(verified.items())


def signer_key(name: str, private: Ed25519PrivateKey, sig_type: int = ED25519) -> str:
    """The Go signer key text, "PRIVATE+KEY+<name>+<hex key hash>+<base64(type || seed)>",
    for moving a log or witness key between this hub and Go tooling. It is a secret."""
    key = NoteKey(name, private.public_key(), sig_type)
    seed = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return f"{_SKEY_PREFIX}{key.id}+{b64encode(bytes([sig_type]) + seed)}"


def parse_signer_key(text: str) -> tuple[NoteKey, Ed25519PrivateKey]:
    """Parse a Go signer key, checking its key hash against the public key derived from the
    seed (the text only carries the hash, and a wrong one would sign unverifiable notes)."""
    if not text.startswith(_SKEY_PREFIX):
        raise NoteError("signer key does not start with PRIVATE+KEY+")
    parts = text[len(_SKEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise NoteError("signer key does not have the form PRIVATE+KEY+<name>+<hash>+<key>")
    name, hash_text, key_text = parts
    check_name(name)
    if not _HASH_RE.fullmatch(hash_text):
        raise NoteError(f"signer key hash {hash_text!r} is not 8 hexadecimal digits")
    material = b64decode(key_text, "signer key")
    if not material:
        raise NoteError("signer key material is empty")
    sig_type, seed = material[0], material[1:]
    if sig_type not in _TYPES:
        raise NoteError(f"signer key has unsupported signature type 0x{sig_type:02x}")
    if len(seed) != _PUBLIC_SIZE:
        raise NoteError(f"signer key seed is {len(seed)} bytes; want {_PUBLIC_SIZE}")
    private = Ed25519PrivateKey.from_private_bytes(seed)
    key = NoteKey(name, private.public_key(), sig_type)
    if key.key_hash != bytes.fromhex(hash_text):
        raise NoteError(
            f"signer key hash {hash_text} does not match the key (computed {key.key_hash.hex()})"
        )
    return key, private
