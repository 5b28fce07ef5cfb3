"""Transparency-log tree heads as c2sp.org/tlog-checkpoint note text: what the hub's
notary signs and witnesses cosign (hub.crypto.note signs and verifies the notes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.crypto.note_text import NoteError, b64decode, b64encode, check_text

__all__ = ["ROOT_SIZE", "Checkpoint"]

ROOT_SIZE = 32
_MAX_SIZE = 2**64 - 1
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A transparency log's tree head as c2sp.org/tlog-checkpoint note text.

    Constructing one validates it, so every Checkpoint has a body() that parse() accepts
    and gives back unchanged; a signature over the body is then a signature over exactly
    these fields.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin:
            raise NoteError("checkpoint origin is empty")
        check_text(self.origin, "checkpoint origin")
        if "\n" in self.origin:
            raise NoteError("checkpoint origin contains a newline")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise NoteError(f"checkpoint size {self.size!r} is not an integer")
        if not 0 <= self.size <= _MAX_SIZE:
            raise NoteError(f"checkpoint size {self.size} is outside 0..2^64-1")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_SIZE:
            n = len(self.root) if isinstance(self.root, bytes | bytearray) else "not"
            raise NoteError(f"checkpoint root hash is {n} bytes; want {ROOT_SIZE}")
        if not isinstance(self.extensions, tuple):
            raise NoteError("checkpoint extensions must be a tuple of lines")
        for i, line in enumerate(self.extensions, start=1):
            if not line:
                raise NoteError(f"checkpoint extension line {i} is empty")
            check_text(line, f"checkpoint extension line {i}")
            if "\n" in line:
                raise NoteError(f"checkpoint extension line {i} contains a newline")

    def body(self) -> str:
        """The note text that logs sign and witnesses cosign."""
        head = f"{self.origin}\n{self.size}\n{b64encode(self.root)}\n"
        return head + "".join(f"{line}\n" for line in self.extensions)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint's note text (the body open_note returns), strictly: only
        the one spelling body() would produce is accepted."""
        check_text(body, "checkpoint")
        if not body.endswith("\n"):
            raise NoteError("checkpoint does not end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(
                f"checkpoint has {len(lines)} line(s); want origin, tree size and root hash"
            )
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise NoteError("checkpoint origin is empty")
        if not _SIZE_RE.fullmatch(size_text):
            raise NoteError(
                f"checkpoint tree size {size_text!r} is not a decimal number without "
                "sign or leading zeros"
            )
        size = int(size_text)
        if size > _MAX_SIZE:
            raise NoteError(f"checkpoint tree size {size_text} exceeds 2^64-1")
        root = b64decode(root_text, "checkpoint root hash")
        return cls(origin, size, root, tuple(extensions))
