"""The text rules that C2SP signed notes, tlog checkpoints and cosignatures share: which
characters a note, a name or an origin may hold, and the one base64 spelling accepted.
Kept apart so hub.crypto.checkpoint and hub.crypto.note both build on them."""

from __future__ import annotations

import base64
import binascii

__all__ = ["NoteError", "b64decode", "b64encode", "check_body", "check_name", "check_text"]


class NoteError(ValueError):
    """A note, key, checkpoint or signature that is malformed or does not verify.

    A ValueError so callers parsing untrusted input can catch one family; the message is
    one line naming the exact defect, because "malformed note" helps nobody debug a witness.
    """


def check_text(text: str, what: str) -> bytes:
    """The spec's character rules, shared by note texts, names, origins and extension lines:
    valid UTF-8 and no ASCII control character except newline."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NoteError(f"{what} is not valid UTF-8 (lone surrogate at offset {e.start})") from e
    for i, ch in enumerate(text):
        if ord(ch) < 0x20 and ch != "\n":
            raise NoteError(f"{what} contains control character U+{ord(ch):04X} at offset {i}")
    return data


def check_name(name: str, what: str = "key name") -> None:
    """Names are separated by spaces in signature lines and by '+' in vkeys, so neither may
    appear inside one."""
    if not name:
        raise NoteError(f"{what} is empty")
    check_text(name, what)
    if "+" in name:
        raise NoteError(f"{what} {name!r} contains '+'")
    for ch in name:
        if ch.isspace():
            raise NoteError(f"{what} {name!r} contains a space (U+{ord(ch):04X})")


def check_body(body: str) -> bytes:
    """What any signer would sign: non-empty text that ends in a newline."""
    data = check_text(body, "note text")
    if not body.endswith("\n"):
        raise NoteError("note text does not end with a newline")
    return data


def b64decode(text: str, what: str) -> bytes:
    """Standard padded base64, and only its canonical spelling.

    Canonical means re-encoding gives the same text, so the unused low bits of the last
    character are zero. Go tolerates other spellings, but nothing honest emits them, and
    accepting them would let two different texts carry the same signature or root.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as e:
        raise NoteError(f"{what} is not valid base64") from e
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
