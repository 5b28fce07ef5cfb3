"""Checking an archive (``hub.log.archive``) against its own evidence: each record's chain
value, each segment's link to the one before, and the signed checkpoint of every stream's
head. Every problem becomes a ``Finding`` that names its place (stream, segment, offset);
reading never checks, so an auditor may read a damaged archive and check it apart."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

import fastavro

from hub.crypto import note
from hub.log.archive import (
    CHECKPOINT_FILE,
    META,
    Archive,
    ArchiveCheckpoint,
    StreamHead,
    chain_value,
)


@dataclass(frozen=True)
class Finding:
    """One failed check, with the place it failed: auditors act on the place."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def check_archive(archive: Archive, origin: str, hub_keys: Sequence[note.NoteKey]) -> list[Finding]:
    """Every check the archive supports; an empty list means all passed."""
    findings: list[Finding] = []
    signed = _checkpoint(archive, origin, hub_keys, findings)
    streams = set(archive.streams()) | (set(signed.heads) if signed else set())
    for topic, partition in sorted(streams):
        head = _check_stream(archive, topic, partition, findings)
        want = signed.heads.get((topic, partition)) if signed else None
        where = f"archive {topic}/{partition}"
        if signed is None:
            continue
        if want is None:
            findings.append(Finding(where, "stream is not covered by the signed checkpoint"))
        elif (want.next_offset, want.segments) != (head.next_offset, head.segments):
            findings.append(
                Finding(
                    where,
                    f"the signed checkpoint says {want.segments} segments ending at offset "
                    f"{want.next_offset}; the archive has {head.segments} ending at "
                    f"{head.next_offset}",
                )
            )
        elif (want.segment_hash, want.chain) != (head.segment_hash, head.chain):
            findings.append(Finding(where, "the last segment differs from the signed checkpoint"))
    return findings


def _checkpoint(
    archive: Archive, origin: str, hub_keys: Sequence[note.NoteKey], findings: list[Finding]
) -> ArchiveCheckpoint | None:
    path = archive.root / CHECKPOINT_FILE
    where = f"archive {CHECKPOINT_FILE}"
    if not path.exists():
        if archive.exists:
            findings.append(Finding(where, "missing: nothing vouches for the segments"))
        return None
    try:
        body, _ = note.open_note(path.read_text(), hub_keys)
        signed = ArchiveCheckpoint.parse(body)
    except (ValueError, UnicodeDecodeError) as exc:
        findings.append(Finding(where, f"not a valid signed checkpoint: {exc}"))
        return None
    if signed.origin != origin:
        findings.append(Finding(where, f"origin {signed.origin!r}, expected {origin!r}"))
    return signed


def _check_stream(
    archive: Archive, topic: str, partition: int, findings: list[Finding]
) -> StreamHead:
    head = StreamHead()
    for path in archive.segment_files(topic, partition):
        where = f"archive {topic}/{partition} segment {path.name}"
        data = path.read_bytes()
        head.segments += 1
        try:
            meta = fastavro.reader(io.BytesIO(data)).metadata
        except Exception as exc:
            findings.append(Finding(where, f"unreadable header: {exc}"))
            head.segment_hash = hashlib.sha256(data).digest()
            continue
        if meta.get(f"{META}previous_segment") != head.segment_hash.hex():
            findings.append(
                Finding(
                    where,
                    "does not link to the segment before it (removed, replaced or edited segment)",
                )
            )
        continues = meta.get(f"{META}chain_start") == head.chain.hex()
        if not continues:
            findings.append(Finding(where, "its chain does not continue the previous one"))
        first = int(meta.get(f"{META}first_offset", -1))
        # a later start is a transaction's gap, unless the chain says records are missing
        if first < head.next_offset or (first > head.next_offset and not continues):
            findings.append(
                Finding(where, f"starts at offset {first}, expected {head.next_offset}")
            )
        count = 0
        chain, expected = head.chain, head.next_offset
        try:
            for r, stored in archive.read_segment(path, topic, partition):
                count += 1
                # a gap alone is a transaction's marker or aborted records; a gap where
                # the chain breaks is a record taken out
                continues = chain_value(chain, r) == stored
                if r.offset < expected:
                    findings.append(
                        Finding(
                            where,
                            f"record at offset {expected} out of order (found offset {r.offset})",
                        )
                    )
                elif r.offset > expected and not continues:
                    findings.append(
                        Finding(
                            where,
                            f"record at offset {expected} missing (found offset {r.offset}, "
                            "which does not continue the chain)",
                        )
                    )
                elif not continues:
                    findings.append(
                        Finding(
                            where,
                            f"record at offset {r.offset} does not match its chain (edited)",
                        )
                    )
                chain, expected = stored, max(expected, r.offset) + 1
        except Exception as exc:
            findings.append(Finding(where, f"truncated or corrupt after {count} records: {exc}"))
        head.segment_hash = hashlib.sha256(data).digest()
        head.chain, head.next_offset = chain, expected
    return head
