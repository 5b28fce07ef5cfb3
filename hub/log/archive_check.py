"""Checking an archive (``hub.log.archive``) against its own evidence: each record's chain
value, each segment's link to the one before, and the signed checkpoint of every stream's
head. Every problem becomes a ``Finding`` that names its place (stream, segment, offset);
reading never checks, so an auditor may read a damaged archive and check it apart."""

from __future__ import annotations

import bisect
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
    """One fault, with the place it was found: auditors act on the place. ``place`` is the
    record (topic, partition, offset) when the fault is one record's, so that other checks
    of the same record can be told apart from other faults."""

    where: str
    problem: str
    place: tuple[str, int, int] | None = None

    def __str__(self) -> str:
        at = f" offset {self.place[2]}" if self.place else ""
        return f"{self.where}{at}: {self.problem}"


def check_archive(archive: Archive, origin: str, hub_keys: Sequence[note.NoteKey]) -> list[Finding]:
    """Every check the archive supports, one finding per fault: what follows from a fault
    already found (the next segment's link to an edited one, the signed head of a stream
    whose records were found altered) is not reported again. Empty means all passed."""
    findings: list[Finding] = []
    signed = _checkpoint(archive, origin, hub_keys, findings)
    streams = set(archive.streams()) | (set(signed.heads) if signed else set())
    for topic, partition in sorted(streams):
        before = len(findings)
        head = _check_stream(archive, topic, partition, findings)
        want = signed.heads.get((topic, partition)) if signed else None
        where = f"archive {topic}/{partition}"
        if signed is None or len(findings) > before:
            continue
        if want is None:
            findings.append(Finding(where, "stream is not covered by the signed checkpoint"))
        elif want.segments > head.segments or want.next_offset > head.next_offset:
            findings.append(
                Finding(
                    where,
                    f"removed with every record after it (truncated): the signed checkpoint "
                    f"says {want.segments} segments ending at offset {want.next_offset}; the "
                    f"archive has {head.segments} ending at {head.next_offset}",
                    (topic, partition, head.next_offset),
                )
            )
        elif (want.next_offset, want.segments) != (head.next_offset, head.segments):
            findings.append(
                Finding(
                    where,
                    f"added after the signed checkpoint with every record after it: it says "
                    f"{want.segments} segments ending at offset {want.next_offset}; the "
                    f"archive has {head.segments} ending at {head.next_offset}",
                    (topic, partition, want.next_offset),
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
    altered = False  # the segment before had a record found altered: its hash changed too
    cut = False  # the segment before was unreadable part way: where it ended is unknown
    for path in archive.segment_files(topic, partition):
        where = f"archive {topic}/{partition} segment {path.name}"
        data = path.read_bytes()
        head.segments += 1
        before = len(findings)
        try:
            meta = fastavro.reader(io.BytesIO(data)).metadata
        except Exception as exc:
            findings.append(Finding(where, f"unreadable header: {exc}"))
            head.segment_hash = hashlib.sha256(data).digest()
            altered = cut = True
            continue
        if not cut:  # after a segment read part way, where this one should start is unknown
            _check_header(meta, head, altered, where, (topic, partition), findings)
        # its records are checked from where it says it starts, so a fault is found once
        head.chain = bytes.fromhex(meta.get(f"{META}chain_start", ""))
        head.next_offset = max(int(meta.get(f"{META}first_offset", -1)), head.next_offset)
        cut = not _check_records(archive, path, (topic, partition), head, where, findings)
        altered = len(findings) > before
        head.segment_hash = hashlib.sha256(data).digest()
    return head


def _check_header(
    meta: dict[str, str],
    head: StreamHead,
    altered: bool,
    where: str,
    stream: tuple[str, int],
    findings: list[Finding],
) -> None:
    """A segment's link to the one before, as one finding: a segment file removed shows as
    a broken link, a broken chain and a jump in offsets together."""
    links = meta.get(f"{META}previous_segment") == head.segment_hash.hex()
    continues = meta.get(f"{META}chain_start") == head.chain.hex()
    first = int(meta.get(f"{META}first_offset", -1))
    # a later start is a transaction's gap, unless the chain says records are missing
    if first > head.next_offset and not continues:
        findings.append(
            Finding(
                where,
                f"missing with every record up to offset {first - 1}, which come before "
                f"this segment (a segment removed, or records cut from the one before)",
                (*stream, head.next_offset),
            )
        )
    elif first < head.next_offset:
        findings.append(Finding(where, f"starts at offset {first}, expected {head.next_offset}"))
    elif not continues:
        findings.append(Finding(where, "its chain does not continue the previous one"))
    elif not links and not altered:
        findings.append(
            Finding(where, "does not link to the segment before it (that segment replaced)")
        )


def _check_records(
    archive: Archive,
    path: Path,
    stream: tuple[str, int],
    head: StreamHead,
    where: str,
    findings: list[Finding],
) -> bool:
    """Each record against its chain value, with its predecessor by offset, so that two
    records swapped are one finding (reordered), not three. False if the segment could not
    be read to its end."""
    offsets: list[int] = []  # seen so far in this segment, ascending while in order
    chains: dict[int, bytes] = {}
    missing: dict[int, int] = {}  # offset reported missing -> its finding's index
    expected, count = head.next_offset, 0
    try:
        for r, stored in archive.read_segment(path, *stream):
            count += 1
            below = bisect.bisect_left(offsets, r.offset)
            previous = chains[offsets[below - 1]] if below else head.chain
            continues = chain_value(previous, r) == stored
            if r.offset < expected:
                text = f"reordered: found after offset {expected - 1}"
                if r.offset in missing:
                    findings[missing.pop(r.offset)] = Finding(where, text, (*stream, r.offset))
                else:
                    findings.append(Finding(where, text, (*stream, r.offset)))
            elif r.offset > expected and not continues:
                # a gap alone is a transaction's marker or aborted records; a gap where the
                # chain breaks is this record edited or one before it taken out (or moved,
                # if it turns up later): the chain cannot tell which, replay can
                missing[expected] = len(findings)
                findings.append(
                    Finding(
                        where,
                        "does not continue the chain: edited, or a record before it removed "
                        f"(from offsets {expected}..{r.offset - 1})",
                        (*stream, r.offset),
                    )
                )
            elif not continues:
                findings.append(
                    Finding(
                        where,
                        "does not match its chain value (edited, or inserted)",
                        (*stream, r.offset),
                    )
                )
            bisect.insort(offsets, r.offset)
            chains[r.offset] = stored
            expected = max(expected, r.offset + 1)
    except Exception as exc:
        findings.append(
            Finding(
                where,
                f"unreadable, with the rest of its segment ({count} records read): {exc}",
                (*stream, expected),
            )
        )
        return False
    finally:
        if offsets:
            head.chain = chains[offsets[-1]]
        head.next_offset = expected
    return True
