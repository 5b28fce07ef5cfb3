"""The decision log as a transparency log: lead.audit records are the leaves of an RFC 9162
Merkle tree, the hub signs checkpoints of it (C2SP tlog-checkpoint), agencies witness them
(C2SP tlog-cosignature), and anyone holding the records can check all of it.

Leaves are the stored bytes of each lead.audit record (audit records name fields, never
values, and carry no key material), so erasing a participant changes no leaf and every
proof keeps verifying. Pure: no Kafka, no files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit import merkle
from hub.audit.tree import MerkleTree
from hub.crypto import PublicKeys, note


def witness_name(origin: str, agency: str) -> str:
    return f"{origin}/witness/{agency}"


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


@dataclass
class Witnessed:
    checkpoint: note.Checkpoint
    where: str
    cosigners: dict[str, int] = field(default_factory=dict)  # witness name -> timestamp


@dataclass
class LogCheck:
    """What verifying the log found: the checkpoints, who witnessed them, the proofs
    checked, and every failure with its place."""

    records: int = 0
    checkpoints: dict[int, Witnessed] = field(default_factory=dict)
    inclusion_proofs: int = 0
    consistency_proofs: int = 0
    findings: list[str] = field(default_factory=list)

    @property
    def latest(self) -> Witnessed | None:
        return self.checkpoints[max(self.checkpoints)] if self.checkpoints else None


def verify_log(
    values: Sequence[bytes],
    notes: Sequence[tuple[str, str]],
    origin: str,
    hub: Sequence[note.NoteKey],
    witnesses: Sequence[note.NoteKey] = (),
) -> LogCheck:
    """Check signed checkpoints ``notes`` (place, text) against lead.audit's ``values``."""
    check = LogCheck(records=len(values))
    _read_notes(check, notes, origin, hub, witnesses)
    _check_tree(check, tree_of(values))
    return check


def _read_notes(
    check: LogCheck,
    notes: Sequence[tuple[str, str]],
    origin: str,
    hub: Sequence[note.NoteKey],
    witnesses: Sequence[note.NoteKey],
) -> None:
    for where, text in notes:
        try:
            body, signers = note.open_note(text, [*hub, *witnesses])
            if not any(k in hub for k, _ in signers):
                raise note.NoteError("not signed by the hub's log key")
            cp = note.Checkpoint.parse(body)
        except note.NoteError as exc:
            check.findings.append(f"{where}: {exc}")
            continue
        if cp.origin != origin:
            check.findings.append(f"{where}: origin {cp.origin!r}, expected {origin!r}")
            continue
        seen = check.checkpoints.setdefault(cp.size, Witnessed(cp, where))
        if seen.checkpoint.root != cp.root:
            check.findings.append(
                f"{where}: a second checkpoint of size {cp.size} with another root "
                f"(first at {seen.where}): the log forked"
            )
            continue
        for key, timestamp in signers:
            if key not in hub and timestamp is not None:
                seen.cosigners[key.name] = timestamp


def _check_tree(check: LogCheck, tree: MerkleTree) -> None:
    good: list[Witnessed] = []
    for size in sorted(check.checkpoints):
        w = check.checkpoints[size]
        if size > tree.size:
            check.findings.append(
                f"lead.audit holds {tree.size} records, but checkpoint {size} ({w.where}) "
                "vouches for more: records were removed (truncated)"
            )
            continue
        if tree.root(size) != w.checkpoint.root:
            since = good[-1].checkpoint.size if good else 0
            check.findings.append(
                f"lead.audit records {since}..{size - 1} differ from what checkpoint {size} "
                f"({w.where}) signed: edited, removed or reordered"
            )
            continue
        if good:
            a = good[-1].checkpoint
            proof = tree.consistency_proof(a.size, size) if a.size else []
            if a.size:
                try:
                    merkle.verify_consistency(a.size, size, proof, a.root, w.checkpoint.root)
                    check.consistency_proofs += 1
                except merkle.ProofError as exc:
                    check.findings.append(f"checkpoints {a.size} -> {size}: {exc}")
        good.append(w)
    if good:
        latest = good[-1].checkpoint
        for index in range(latest.size):
            try:
                merkle.verify_inclusion(
                    index,
                    latest.size,
                    tree.leaf(index),
                    tree.inclusion_proof(index, latest.size),
                    latest.root,
                )
                check.inclusion_proofs += 1
            except merkle.ProofError as exc:
                check.findings.append(f"lead.audit record {index}: {exc}")
