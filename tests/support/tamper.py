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


def edit_decision(archive_dir: Path, index: int) -> tuple[str, int]:
    """Flip the low bit of one lead.audit record's last byte (its decided_at): still a
    well-formed decision, now a different one."""
    found: list[int] = []

    def edit(rows: Rows) -> Rows:
        value = bytearray(rows[index]["value"])
        value[-1] ^= 1
        rows[index]["value"] = bytes(value)
        found.append(rows[index]["offset"])
        return rows

    rewrite_segment(segments(archive_dir, "lead.audit")[0], edit)
    return "lead.audit", found[0]


def delete_record(archive_dir: Path, index: int) -> tuple[str, int]:
    found: list[int] = []

    def delete(rows: Rows) -> Rows:
        found.append(rows[index]["offset"])
        return rows[:index] + rows[index + 1 :]

    rewrite_segment(segments(archive_dir, "lead.audit")[0], delete)
    return "lead.audit", found[0]


def insert_forged(archive_dir: Path, index: int) -> tuple[str, int]:
    """A copy of a decision under a new id, in the offset a transaction marker left free
    after the first such gap from ``index`` on, carrying its model's chain value."""
    found: list[int] = []

    def insert(rows: Rows) -> Rows:
        at = next(
            i for i in range(index, len(rows) - 1) if rows[i + 1]["offset"] > rows[i]["offset"] + 1
        )
        forged = dict(rows[at])
        forged["offset"] = rows[at]["offset"] + 1
        forged["value"] = rows[at]["value"][:-1] + bytes([rows[at]["value"][-1] ^ 1])
        forged["headers"] = [
            {
                "key": h["key"],
                "value": b"00000000-0000-5000-8000-000000000000"
                if h["key"] == "ce_id"
                else h["value"],
            }
            for h in rows[at]["headers"]
        ]
        found.append(forged["offset"])
        return [*rows[: at + 1], forged, *rows[at + 1 :]]

    rewrite_segment(segments(archive_dir, "lead.audit")[0], insert)
    return "lead.audit", found[0]


def swap_two(archive_dir: Path, index: int) -> tuple[str, int]:
    found: list[int] = []

    def swap(rows: Rows) -> Rows:
        rows[index], rows[index + 1] = rows[index + 1], rows[index]
        found.append(rows[index + 1]["offset"])  # the earlier record, now found second
        return rows

    rewrite_segment(segments(archive_dir, "lead.audit")[0], swap)
    return "lead.audit", found[0]


def truncate_segment(archive_dir: Path, keep_all_but: int) -> tuple[str, int]:
    found: list[int] = []

    def cut(rows: Rows) -> Rows:
        found.append(rows[-keep_all_but]["offset"])
        return rows[:-keep_all_but]

    rewrite_segment(segments(archive_dir, "lead.audit")[-1], cut)
    return "lead.audit", found[0]


def drop_checkpoint(archive_dir: Path, index: int) -> tuple[str, int]:
    found: list[int] = []

    def drop(rows: Rows) -> Rows:
        found.append(rows[index]["offset"])
        return rows[:index] + rows[index + 1 :]

    rewrite_segment(segments(archive_dir, "lead.checkpoints")[0], drop)
    return "lead.checkpoints", found[0]


def forge_checkpoint_signature(archive_dir: Path, index: int) -> tuple[str, int]:
    """One character of the hub's signature on a checkpoint changed (its first signature
    line comes right after the note's blank line)."""
    found: list[int] = []

    def forge(rows: Rows) -> Rows:
        value: bytes = rows[index]["value"]
        rows[index]["value"] = _flip_signature(value, value.index(SIGNATURE) + 1)
        found.append(rows[index]["offset"])
        return rows

    rewrite_segment(segments(archive_dir, "lead.checkpoints")[0], forge)
    return "lead.checkpoints", found[0]


def edit_cosignature(archive_dir: Path) -> tuple[str, int]:
    """One character of a witness's cosignature changed, on the first cosigned checkpoint
    (a note with more than one signature line)."""
    found: list[int] = []

    def edit(rows: Rows) -> Rows:
        for row in rows:
            value: bytes = row["value"]
            if value.count(SIGNATURE) > 1:
                row["value"] = _flip_signature(value, value.rindex(SIGNATURE) + 1)
                found.append(row["offset"])
                return rows
        raise AssertionError("no cosigned checkpoint to tamper with")

    rewrite_segment(segments(archive_dir, "lead.checkpoints")[0], edit)
    return "lead.checkpoints", found[0]


def lose_segment(archive_dir: Path, topic: str) -> tuple[str, int]:
    segments(archive_dir, topic)[-1].unlink()
    return topic, 0
