"""Checking lead.audit against the checkpoints the hub signed and the agencies cosigned.

An auditor signs what this finds, so it says exactly what it proved and no more: how many
checkpoints the log matches, how many records it proved included, how many consecutive
checkpoints it proved consistent, each out of the whole population. Once the log stops
matching a checkpoint, every later checkpoint covers the same altered records: they fail
with it and prove nothing more, so they are counted with the first, not reported one by
one, and the proofs that would need them are not checked rather than passed.

The records between the last checkpoint the log matches and the first it does not hold the
first fault; other evidence (the archive's record chains, replay) places it on one record
(see hub.audit.verification). Pure: no Kafka, no files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from hub.audit import merkle
from hub.audit.checkpoints import tree_of, witness_agency
from hub.audit.tree import MerkleTree
from hub.crypto import note

Place = tuple[str, int, int]
"""A record's place on the log: topic, partition, offset. Findings are merged by place."""


def place_text(place: Place) -> str:
    topic, partition, offset = place
    return f"{topic}/{partition} offset {offset}"


@dataclass(frozen=True)
class Problem:
    """One thing found wrong, where it was found."""

    place: Place | None
    what: str


@dataclass
class Witnessed:
    """A checkpoint with a valid hub signature, and the witnesses whose cosignature on it
    verifies."""

    checkpoint: note.Checkpoint
    place: Place
    cosigners: dict[str, int] = field(default_factory=dict)  # witness name -> timestamp


@dataclass(frozen=True)
class Mismatch:
    """Where lead.audit stops matching what the hub signed. Records ``start``..``end - 1``
    hold the first fault (``start`` is the size of the last checkpoint the log matches);
    ``checkpoint`` is the first that no longer matches and ``later`` counts those after it,
    which cover the same records."""

    start: int
    end: int
    checkpoint: Witnessed
    later: int
    truncated: bool  # the log holds fewer records than ``checkpoint`` vouches for


@dataclass
class LogCheck:
    """What checking the log proved, out of what there was to prove."""

    records: int = 0
    checkpoints: dict[int, Witnessed] = field(default_factory=dict)
    matched: list[int] = field(default_factory=list)  # sizes whose root the log reproduces
    mismatch: Mismatch | None = None
    inclusion_proofs: int = 0  # records proved included in the latest checkpoint
    consistency_proofs: int = 0  # consecutive checkpoint pairs proved consistent
    problems: list[Problem] = field(default_factory=list)  # checkpoints, forks, proofs
    witness_problems: list[Problem] = field(default_factory=list)  # invalid cosignatures

    @property
    def latest(self) -> Witnessed | None:
        return self.checkpoints[max(self.checkpoints)] if self.checkpoints else None

    @property
    def pairs(self) -> int:
        """Consecutive pairs of checkpoints: the consistency proofs there are to check."""
        return max(len(self.checkpoints) - 1, 0)

    @property
    def intact(self) -> bool:
        """Every checkpoint matched, every proof checked, nothing wrong with a note."""
        latest = self.latest
        return (
            latest is not None
            and self.mismatch is None
            and not self.problems
            and not self.witness_problems
            and self.inclusion_proofs == latest.checkpoint.size
            and self.consistency_proofs == self.pairs
        )


def verify_log(
    values: Sequence[bytes],
    notes: Sequence[tuple[Place, str]],
    origin: str,
    hub: Sequence[note.NoteKey],
    witnesses: Sequence[note.NoteKey] = (),
) -> LogCheck:
    """Check the signed checkpoints ``notes`` (place, text) against lead.audit's ``values``."""
    check = LogCheck(records=len(values))
    cosigners = {(k.name, k.key_hash): k for k in witnesses}
    for place, text in notes:
        _read_note(check, place, text, origin, hub, cosigners)
    tree = tree_of(values)
    _match(check, tree)
    _prove(check, tree)
    return check


def _read_note(
    check: LogCheck,
    place: Place,
    text: str,
    origin: str,
    hub: Sequence[note.NoteKey],
    cosigners: Mapping[tuple[str, bytes], note.NoteKey],
) -> None:
    # the hub's signature decides whether the checkpoint counts; a witness's bad
    # cosignature is that witness's finding and does not discard what the hub signed
    try:
        body, _ = note.open_note(text, hub)
        cp = note.Checkpoint.parse(body)
    except note.NoteError as exc:
        check.problems.append(Problem(place, f"not a checkpoint signed by the hub: {exc}"))
        return
    if cp.origin != origin:
        check.problems.append(Problem(place, f"origin {cp.origin!r}, expected {origin!r}"))
        return
    seen = check.checkpoints.setdefault(cp.size, Witnessed(cp, place))
    if seen.checkpoint.root != cp.root:
        check.problems.append(
            Problem(
                place,
                f"a second checkpoint of size {cp.size} with another root (the first at "
                f"{place_text(seen.place)}): the log forked",
            )
        )
        return
    for sig in note.parse_note(text)[1]:
        key = cosigners.get((sig.name, sig.key_hash))
        if key is None:
            continue
        try:
            timestamp = key.verify(body, sig.signature)
        except note.NoteError:
            witness = witness_agency(key.name)
            check.witness_problems.append(
                Problem(place, f"the cosignature of {witness} on checkpoint {cp.size} is invalid")
            )
            continue
        if timestamp is not None:
            seen.cosigners[key.name] = timestamp


def _match(check: LogCheck, tree: MerkleTree) -> None:
    """Compare each checkpoint's root with the log's tree of that size, in size order; the
    first that differs bounds the first fault from above, the last that matched from below."""
    first: Witnessed | None = None
    later = 0
    for size in sorted(check.checkpoints):
        w = check.checkpoints[size]
        matches = size <= tree.size and tree.root(size) == w.checkpoint.root
        if first is None and matches:
            check.matched.append(size)
        elif first is None:
            first = w
        elif matches:  # the hub signed two histories: both can't be the log
            check.problems.append(
                Problem(
                    w.place,
                    f"the log matches checkpoint {size} but not the earlier checkpoint "
                    f"{first.checkpoint.size}: the two are inconsistent (the log forked)",
                )
            )
        else:
            later += 1
    if first is not None:
        size = first.checkpoint.size
        start = check.matched[-1] if check.matched else 0
        check.mismatch = Mismatch(start, min(size, tree.size), first, later, size > tree.size)


def _prove(check: LogCheck, tree: MerkleTree) -> None:
    """The proofs a verifier without the log would be served: each consecutive pair of
    matched checkpoints is consistent, and each record up to the last matched checkpoint is
    included in it (the latest checkpoint, unless the log stopped matching before it)."""
    matched = check.matched
    for a, b in pairwise(matched):
        root_a, root_b = check.checkpoints[a].checkpoint.root, check.checkpoints[b].checkpoint.root
        try:
            merkle.verify_consistency(a, b, tree.consistency_proof(a, b), root_a, root_b)
            check.consistency_proofs += 1
        except merkle.ProofError as exc:
            check.problems.append(Problem(check.checkpoints[b].place, f"from {a}: {exc}"))
    if not matched:
        return
    size = matched[-1]
    root = check.checkpoints[size].checkpoint.root
    for index in range(size):
        try:
            merkle.verify_inclusion(
                index, size, tree.leaf(index), tree.inclusion_proof(index, size), root
            )
            check.inclusion_proofs += 1
        except merkle.ProofError as exc:
            check.problems.append(Problem(None, f"lead.audit record {index}: {exc}"))
