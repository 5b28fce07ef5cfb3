"""The linkage secret: the HMAC key of the keyed blocking tokens (hub.domain.linkage).

Without it a token is 16 random-looking bytes; with it, anyone holding tokens can test a
guessed name and birth date against them. So it lives in a file of its own, apart from
the data keys and from anything derived from identities, and never on the log: the
token index is rebuilt in each worker's memory from lead.events and never written
anywhere. Made on first use by whichever worker comes first (written under a temporary
name and linked into place, so two workers starting together agree on one secret)."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

SECRET_BYTES = 32


class LinkageSecretError(ValueError):
    """The secret file is there but is not a secret this hub wrote."""


def linkage_secret(path: Path) -> bytes:
    """The secret at ``path``, made (0600) if there is none yet."""
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, staged = tempfile.mkstemp(dir=path.parent, prefix=".new-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:  # mkstemp makes it 0600
                f.write(secrets.token_bytes(SECRET_BYTES))
            os.link(staged, path)
        except FileExistsError:
            pass  # another worker made it first: its secret wins
        finally:
            os.unlink(staged)
        secret = path.read_bytes()
    if len(secret) != SECRET_BYTES:
        raise LinkageSecretError(f"{path}: a linkage secret is {SECRET_BYTES} bytes")
    return secret
