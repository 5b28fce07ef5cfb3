"""What a tamperer with write access to an archive does: decode a segment, change its
records, and write a well-formed segment with the same header back."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro

Rows = list[dict[str, Any]]
SIGNATURE = "\n\u2014 ".encode()  # a signed note's signature lines begin with an em dash
FORGED_ID = b"00000000-0000-5000-8000-000000000000"


def rewrite_segment(path: Path, change: Callable[[Rows], Rows]) -> None:
    with path.open("rb") as f:
        reader = fastavro.reader(f)
        schema, metadata = reader.writer_schema, dict(reader.metadata)
        rows: Rows = [r for r in reader if isinstance(r, dict)]
    meta = {k: v for k, v in metadata.items() if k.startswith("leadhub.")}
    buffer = io.BytesIO()
    fastavro.writer(buffer, schema, change(rows), codec="deflate", metadata=meta)
    path.write_bytes(buffer.getvalue())


def segments(archive_dir: Path, topic: str, partition: int = 0) -> list[Path]:
    return sorted((archive_dir / "segments" / topic / str(partition)).glob("*.avro"))


def _flip_signature(note: bytes, line: int) -> bytes:
    """One character changed inside the signature of the note's signature line that
    starts at ``line``, where its base64 keeps its form."""
    end = note.index(b"\n", line + 1)
    at = note.rindex(b" ", line, end) + 1 + 20  # past the key hash, into the signature
    changed = bytearray(note)
    changed[at] = ord("A") if changed[at] != ord("A") else ord("B")
    return bytes(changed)


def _tamper(
    archive_dir: Path, topic: str, change: Callable[[Rows], tuple[Rows, int]], segment: int = 0
) -> tuple[str, int]:
    """Apply ``change`` (new rows, and the offset of the record the fault is at) to one
    segment of ``topic``; returns the fault's topic and offset."""
    at: list[int] = []

    def apply(rows: Rows) -> Rows:
        changed, offset = change(rows)
        at.append(offset)
        return changed

    rewrite_segment(segments(archive_dir, topic)[segment], apply)
    return topic, at[0]


def in_a_run(rows: Rows, index: int, length: int = 1) -> int:
    """The first position from ``index`` on that starts ``length`` records whose offsets,
    and the offset before them, follow one another. After a gap (a transaction's marker)
    the archive's chain cannot tell an edited record from one removed before it; within a
    run it can."""
    offsets = [r["offset"] for r in rows]
    return next(
        i
        for i in range(max(index, 1), len(rows) - length + 1)
        if offsets[i - 1 : i + length] == list(range(offsets[i - 1], offsets[i - 1] + length + 1))
    )


def edit_decision(archive_dir: Path, index: int) -> tuple[str, int]:
    """Flip the low bit of one lead.audit record's last byte (its decided_at): still a
    well-formed record, now a different one."""

    def edit(rows: Rows) -> tuple[Rows, int]:
        i = in_a_run(rows, index)
        value = bytearray(rows[i]["value"])
        value[-1] ^= 1
        rows[i]["value"] = bytes(value)
        return rows, rows[i]["offset"]

    return _tamper(archive_dir, "lead.audit", edit)


def delete_record(archive_dir: Path, index: int, topic: str = "lead.audit") -> tuple[str, int]:
    """One record taken out; the fault shows at the record after it, whose chain value was
    made over the one removed."""
    return _tamper(
        archive_dir,
        topic,
        lambda rows: (rows[:index] + rows[index + 1 :], rows[index + 1]["offset"]),
    )


def insert_forged(archive_dir: Path, index: int) -> tuple[str, int]:
    """A copy of a decision under a new id, in the offset a transaction marker left free
    after the first such gap from ``index`` on, carrying its model's chain value."""

    def insert(rows: Rows) -> tuple[Rows, int]:
        at = next(
            i for i in range(index, len(rows) - 1) if rows[i + 1]["offset"] > rows[i]["offset"] + 1
        )
        forged = dict(rows[at])
        forged["offset"] = rows[at]["offset"] + 1
        forged["value"] = rows[at]["value"][:-1] + bytes([rows[at]["value"][-1] ^ 1])
        forged["headers"] = [
            {"key": h["key"], "value": FORGED_ID if h["key"] == "ce_id" else h["value"]}
            for h in rows[at]["headers"]
        ]
        return [*rows[: at + 1], forged, *rows[at + 1 :]], forged["offset"]

    return _tamper(archive_dir, "lead.audit", insert)


def swap_two(archive_dir: Path, index: int) -> tuple[str, int]:
    """Two neighbours (in a run from ``index`` on) swapped in the file, their offsets kept;
    the fault is at the earlier record, now found second."""

    def swap(rows: Rows) -> tuple[Rows, int]:
        i = in_a_run(rows, index, 2)
        rows[i], rows[i + 1] = rows[i + 1], rows[i]
        return rows, rows[i + 1]["offset"]

    return _tamper(archive_dir, "lead.audit", swap)


def truncate_segment(archive_dir: Path, cut: int) -> tuple[str, int]:
    """The last ``cut`` records of lead.audit's last segment removed; the fault is just
    after the last record kept (a transaction marker may follow it)."""
    return _tamper(
        archive_dir,
        "lead.audit",
        lambda rows: (rows[:-cut], rows[-cut - 1]["offset"] + 1),
        segment=-1,
    )


def forge_checkpoint_signature(archive_dir: Path, index: int) -> tuple[str, int]:
    """One character of the hub's signature on a checkpoint changed."""

    def forge(rows: Rows) -> tuple[Rows, int]:
        value: bytes = rows[index]["value"]
        rows[index]["value"] = _flip_signature(value, value.index(SIGNATURE) + 1)
        return rows, rows[index]["offset"]

    return _tamper(archive_dir, "lead.checkpoints", forge)


def edit_cosignature(archive_dir: Path) -> tuple[str, int]:
    """One character of a witness's cosignature changed, on the first cosigned checkpoint
    (a note with more than one signature line)."""

    def edit(rows: Rows) -> tuple[Rows, int]:
        row = next(r for r in rows if r["value"].count(SIGNATURE) > 1)
        row["value"] = _flip_signature(row["value"], row["value"].rindex(SIGNATURE) + 1)
        return rows, row["offset"]

    return _tamper(archive_dir, "lead.checkpoints", edit)


def lose_segment(archive_dir: Path, topic: str) -> tuple[str, int]:
    segments(archive_dir, topic)[-1].unlink()
    return topic, 0
