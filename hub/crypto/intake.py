"""The hub's intake keys: what an agency that shares no secret with the hub seals identity to.

A participant's data key is the crypto-shredding handle, so only the hub holds it. An agency
outside the hub seals identifying fields to the hub's intake public key instead (HPKE, the
suite notices use); the hub opens them when it admits the event and re-encrypts them under
the data key. Intake keys rotate by epoch, and an epoch's private key is destroyed once every
ingest record sealed to it has expired from the ingest topics (the epoch's end plus their
retention), after which no copy of what was sealed to it (on an ingest topic, a dead letter,
the archive) opens again: an erased person cannot be recovered from there either.

One key per epoch, epochs counted from the Unix epoch. The key id names the epoch's start
(``ik-20261207T000000Z``), so every worker derives the same id and the first to create the
key file wins (a hard link, as the data key store does): one epoch never has two keys.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hub.crypto import note

INTAKE_TAG = b"LEADHUB-INTAKE-V1\x00"
KEY_SET_LINE = "leadhub intake keys v1"
_EPOCH0 = datetime(1970, 1, 1, tzinfo=UTC)
_STAMP = "%Y%m%dT%H%M%SZ"
_KEY_ID = re.compile(r"^ik-(\d{8}T\d{6}Z)$")


def intake_info(participant_id: str, plaintext_type: str, event_id: str, key_id: str) -> bytes:
    """HPKE ``info``: binds a sealed field to one person, one kind of plaintext, one event
    and one intake key, so it cannot be moved into another event or person and still open."""
    return INTAKE_TAG + b"\x00".join(
        part.encode() for part in (participant_id, plaintext_type, event_id, key_id)
    )


@dataclass(frozen=True)
class IntakeKey:
    """The public half of one epoch's key, as the hub publishes it."""

    key_id: str
    starts: datetime
    ends: datetime  # seal to a newer key from here on
    destroyed_at: datetime  # the private key is gone from here on
    public: X25519PublicKey

    @property
    def raw_public(self) -> bytes:
        return self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def line(self) -> str:
        public = base64.b64encode(self.raw_public).decode()
        times = (
            t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in (self.starts, self.ends, self.destroyed_at)
        )
        return " ".join((self.key_id, *times, public))


def signed_key_set(origin: str, keys: Iterable[IntakeKey], private: Ed25519PrivateKey) -> str:
    """The hub's intake keys as a C2SP signed note (docs/protocol.md 16.2), signed like its
    checkpoints (key name: the log's origin), so an agency checks it with the key it
    already trusts: a line naming the set, a version line, then one line per key held,
    newest first."""
    body = "\n".join([f"{origin}/intake", KEY_SET_LINE, *(k.line() for k in keys)]) + "\n"
    return note.format_note(body, [note.sign(body, origin, private)])


def read_key_set(text: str, origin: str, hub_public: Ed25519PublicKey) -> list[IntakeKey]:
    """The keys of a signed key set, newest first, once the hub's signature on it checks
    out (raises NoteError otherwise, or ValueError for a set this version cannot read)."""
    body, _ = note.open_note(text, [note.NoteKey(origin, hub_public)])
    lines = body.splitlines()
    if lines[:2] != [f"{origin}/intake", KEY_SET_LINE]:
        raise ValueError("not a LEAD Hub intake key set, version 1")
    keys = []
    for line in lines[2:]:
        key_id, starts, ends, destroyed_at, public = line.split(" ")
        keys.append(
            IntakeKey(
                key_id,
                datetime.fromisoformat(starts),
                datetime.fromisoformat(ends),
                datetime.fromisoformat(destroyed_at),
                X25519PublicKey.from_public_bytes(base64.b64decode(public, validate=True)),
            )
        )
    return keys


def current_key(keys: Iterable[IntakeKey], now: datetime) -> IntakeKey:
    """The key to seal to at ``now``."""
    for key in keys:
        if key.starts <= now < key.ends:
            return key
    raise ValueError("no intake key is current: fetch the key set again")


class IntakeKeyring:
    """The hub's intake private keys, one file per epoch under ``directory``."""

    def __init__(self, directory: Path, epoch: timedelta, retention: timedelta) -> None:
        if epoch <= timedelta(0):
            raise ValueError("an intake epoch must be longer than zero")
        self.directory = directory
        self.epoch = epoch
        self.retention = retention
        self._held: dict[str, X25519PrivateKey] = {}

    def _start(self, moment: datetime) -> datetime:
        return _EPOCH0 + ((moment - _EPOCH0) // self.epoch) * self.epoch

    def _key(self, key_id: str, private: X25519PrivateKey) -> IntakeKey:
        starts = datetime.strptime(key_id.removeprefix("ik-"), _STAMP).replace(tzinfo=UTC)
        ends = starts + self.epoch
        return IntakeKey(key_id, starts, ends, ends + self.retention, private.public_key())

    def _path(self, key_id: str) -> Path:
        if not _KEY_ID.match(key_id):
            raise ValueError("not an intake key id")
        return self.directory / f"{key_id}.key"

    def current(self, now: datetime) -> IntakeKey:
        """This epoch's key, made now if no worker has made it yet."""
        key_id = "ik-" + self._start(now).strftime(_STAMP)
        private = self.private(key_id)
        if private is None:
            private = self._create(key_id)
        return self._key(key_id, private)

    def _create(self, key_id: str) -> X25519PrivateKey:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=self.directory, prefix=".new-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:  # mkstemp makes it 0600
                f.write(X25519PrivateKey.generate().private_bytes_raw())
            os.link(staged, self._path(key_id))
        except FileExistsError:
            pass  # another worker made this epoch's key first: its key wins
        finally:
            os.unlink(staged)
        private = self.private(key_id)
        if private is None:
            raise FileNotFoundError(f"intake key {key_id} vanished as it was made")
        return private

    def private(self, key_id: str) -> X25519PrivateKey | None:
        """The private key, or None if the hub does not hold it (never made, or destroyed)."""
        if not _KEY_ID.match(key_id):
            return None
        path = self._path(key_id)
        if not path.exists():
            self._held.pop(key_id, None)  # destroyed by another process
            return None
        if key_id not in self._held:
            try:
                self._held[key_id] = X25519PrivateKey.from_private_bytes(path.read_bytes())
            except (FileNotFoundError, ValueError):
                return None
        return self._held[key_id]

    def held(self) -> list[IntakeKey]:
        """Every key still held, newest first: what the hub publishes and can open."""
        found = []
        for path in sorted(self.directory.glob("ik-*.key"), reverse=True):
            private = self.private(path.stem)
            if private is not None:
                found.append(self._key(path.stem, private))
        return found

    def destroy_expired(self, now: datetime) -> list[str]:
        """Destroy every key whose epoch's ingest records have all expired; their ids."""
        destroyed = []
        for key in self.held():
            if key.destroyed_at <= now:
                path = self._path(key.key_id)
                doomed = path.with_name(f".destroyed-{secrets.token_hex(8)}")
                try:
                    path.rename(doomed)
                except FileNotFoundError:
                    continue  # another worker destroyed it first
                doomed.write_bytes(secrets.token_bytes(doomed.stat().st_size))
                doomed.unlink()
                self._held.pop(key.key_id, None)
                destroyed.append(key.key_id)
        return destroyed
