"""The decision log as a transparency log: lead.audit records are the leaves of an RFC 9162
Merkle tree, the hub signs checkpoints of it (C2SP tlog-checkpoint), agencies witness them
(C2SP tlog-cosignature), and anyone holding the records can check all of it (hub.audit.log_check).

Leaves are the stored bytes of each lead.audit record (audit records name fields, never
values, and carry no key material), so erasing a participant changes no leaf and every
proof keeps verifying. Pure: no Kafka, no files.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit import merkle
from hub.audit.tree import MerkleTree
from hub.crypto import PublicKeys, note


def witness_name(origin: str, agency: str) -> str:
    return f"{origin}/witness/{agency}"


def witness_agency(name: str) -> str:
    """The agency of a witness key's name (``witness_name`` read back)."""
    return name.rsplit("/", 1)[-1]


def log_keys(origin: str, keys: PublicKeys, hub: str = "hub") -> list[note.NoteKey]:
    """The hub's checkpoint keys (every one it ever had), named by the log's origin as
    C2SP logs are."""
    return [note.NoteKey(origin, k, note.ED25519) for k in keys.of(hub)]


def witness_keys(origin: str, keys: PublicKeys, hub: str = "hub") -> list[note.NoteKey]:
    """Every agency's keys as cosigners of this log."""
    return [
        note.NoteKey(witness_name(origin, agency), k, note.COSIGNATURE_V1)
        for agency in sorted(keys.agencies() - {hub})
        for k in keys.of(agency)
    ]


def tree_of(values: Iterable[bytes]) -> MerkleTree:
    tree = MerkleTree()
    tree.extend(merkle.leaf_hash(v) for v in values)
    return tree


def signed_checkpoint(origin: str, tree: MerkleTree, private: Ed25519PrivateKey) -> str:
    body = note.Checkpoint(origin, tree.size, tree.root()).body()
    return note.format_note(body, [note.sign(body, origin, private)])
