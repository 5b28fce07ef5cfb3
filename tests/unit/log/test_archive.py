"""The archive's evidence: every kind of tampering is found, and named by its place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.crypto import note
from hub.log.archive import Archive, ArchivedRecord
from hub.log.archive_check import check_archive
from tests.support.paths import SCHEMAS
from tests.support.tamper import rewrite_segment

ORIGIN = "leadhub.test/audit"
KEY = Ed25519PrivateKey.generate()
HUB_KEYS = [note.NoteKey(ORIGIN, KEY.public_key(), note.ED25519)]


def _records(topic: str, partition: int, start: int, n: int) -> list[ArchivedRecord]:
    return [
        ArchivedRecord(
            topic,
            partition,
            offset,
            1_700_000_000_000 + offset,
            f"P-{offset % 7}".encode(),
            f"value {offset}".encode(),
            (("ce_id", f"id-{offset}".encode()),),
        )
        for offset in range(start, start + n)
    ]


def _archive(tmp_path: Path) -> Archive:
    archive = Archive(tmp_path / "archive", SCHEMAS, max_segment_records=10)
    for start in (0, 4, 20):  # three segments of lead.audit/0, the first two in two writes
        archive.append(
            _records("lead.audit", 0, start, 16 if start == 4 else 4 if start == 0 else 10)
        )
    archive.append(_records("lead.events", 3, 0, 5))
    archive.write_checkpoint(ORIGIN, ORIGIN, KEY)
    return archive


def _segment(archive: Archive, index: int) -> Path:
    return archive.segment_files("lead.audit", 0)[index]


def test_an_untouched_archive_verifies_and_reads_back_in_order(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    assert check_archive(archive, ORIGIN, HUB_KEYS) == []
    audit = [r for r in archive.read() if r.topic == "lead.audit"]
    assert [r.offset for r in audit] == list(range(30))
    assert audit[12].value == b"value 12" and audit[12].headers == (("ce_id", b"id-12"),)
    assert [p.name for p in archive.segment_files("lead.audit", 0)] == [
        "000000000000.avro",
        "000000000010.avro",
        "000000000020.avro",
    ]
    reopened = Archive(archive.root, SCHEMAS, max_segment_records=10)
    assert reopened.next_offset("lead.audit", 0) == 30
    assert reopened.next_offset("lead.events", 3) == 5
    reopened.append(_records("lead.audit", 0, 30, 2))  # continues the chain after a restart
    reopened.write_checkpoint(ORIGIN, ORIGIN, KEY)
    assert check_archive(reopened, ORIGIN, HUB_KEYS) == []


def test_a_segment_must_continue_its_stream(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    with pytest.raises(ValueError, match="start at offset 29, the archive ends at 30"):
        archive.append(_records("lead.audit", 0, 29, 1))


def test_offsets_may_skip_where_transactions_ended(tmp_path: Path) -> None:
    """A transactional log skips the offsets of its commit markers and aborted records: the
    archive keeps the gaps and verifies; a record taken out of one is still found."""
    archive = _archive(tmp_path)
    archive.append(_records("lead.audit", 0, 31, 2))  # 30: a commit marker
    archive.append(_records("lead.audit", 0, 36, 1))  # 33..35: two aborted records, a marker
    archive.write_checkpoint(ORIGIN, ORIGIN, KEY)
    assert _problems(archive) == []
    assert [r.offset for r in archive.read(["lead.audit"])][-4:] == [29, 31, 32, 36]
    assert archive.next_offset("lead.audit", 0) == 37
    rewrite_segment(_segment(archive, 3), lambda rows: rows[:-2] + rows[-1:])
    assert _problems(archive) == [
        f"{_SEG}31.avro offset 36: does not continue the chain: edited, or a record before "
        "it removed (from offsets 32..35)"
    ]


_SEG = "archive lead.audit/0 segment 0000000000"


def _problems(archive: Archive) -> list[str]:
    return [str(f) for f in check_archive(Archive(archive.root, SCHEMAS), ORIGIN, HUB_KEYS)]


def test_an_edited_record_is_named_by_its_offset(tmp_path: Path) -> None:
    archive = _archive(tmp_path)

    def edit(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        rows[3]["value"] = b"value 13, but permitted"
        return rows

    rewrite_segment(_segment(archive, 1), edit)
    assert _problems(archive) == [
        f"{_SEG}10.avro offset 13: does not match its chain value (edited, or inserted)"
    ], "one finding: the next segment's link to this one follows from it"


def test_a_deleted_record_is_named(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    rewrite_segment(_segment(archive, 1), lambda rows: rows[:4] + rows[5:])
    assert _problems(archive) == [
        f"{_SEG}10.avro offset 15: does not continue the chain: edited, or a record before "
        "it removed (from offsets 14..14)"
    ]


def test_two_reordered_records_are_named(tmp_path: Path) -> None:
    archive = _archive(tmp_path)

    def swap(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        rows[5], rows[6] = rows[6], rows[5]
        return rows

    rewrite_segment(_segment(archive, 2), swap)
    assert _problems(archive) == [f"{_SEG}20.avro offset 25: reordered: found after offset 26"]


def test_a_truncated_segment_is_named(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    path = _segment(archive, 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    problems = _problems(archive)
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        f"{_SEG}10.avro offset 10: unreadable, with the rest of its segment (0 records read)"
    )


def test_a_removed_segment_is_named(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    _segment(archive, 1).unlink()
    assert _problems(archive) == [
        f"{_SEG}20.avro offset 10: missing with every record up to offset 19, which come "
        "before this segment (a segment removed, or records cut from the one before)"
    ]


def test_a_rewritten_tail_with_fresh_chains_still_fails_the_signed_heads(tmp_path: Path) -> None:
    """A tamperer who recomputes every chain value still cannot re-sign the checkpoint."""
    archive = _archive(tmp_path)
    forged_dir = tmp_path / "forged" / "segments" / "lead.audit" / "0"
    forged_dir.mkdir(parents=True)
    for i in (0, 1):  # the honest beginning, then a tail written with the hub's own code
        shutil.copy(_segment(archive, i), forged_dir)
    forged = Archive(tmp_path / "forged", SCHEMAS, max_segment_records=10)
    forged.append(
        [
            ArchivedRecord("lead.audit", 0, r.offset, r.timestamp, r.key, b"forged", r.headers)
            for r in _records("lead.audit", 0, 20, 10)
        ]
    )
    last = _segment(archive, 2)
    last.write_bytes(forged.segment_files("lead.audit", 0)[2].read_bytes())
    problems = _problems(archive)
    assert problems == [
        "archive lead.audit/0: the last segment differs from the signed checkpoint"
    ], problems


def test_a_write_cut_short_by_a_crash_is_cut_back_to_its_last_whole_block(
    tmp_path: Path,
) -> None:
    archive = Archive(tmp_path / "archive", SCHEMAS, max_segment_records=100)
    archive.append(_records("lead.audit", 0, 0, 5))
    archive.append(_records("lead.audit", 0, 5, 5))
    path = archive.segment_files("lead.audit", 0)[0]
    whole = path.stat().st_size
    archive.append(_records("lead.audit", 0, 10, 5))
    with path.open("r+b") as f:  # the third write was half done
        f.truncate(whole + (path.stat().st_size - whole) // 2)
    reopened = Archive(archive.root, SCHEMAS, max_segment_records=100)
    assert reopened.next_offset("lead.audit", 0) == 10
    assert path.stat().st_size == whole
    reopened.append(_records("lead.audit", 0, 10, 5))  # the broker still has them: again
    reopened.write_checkpoint(ORIGIN, ORIGIN, KEY)
    assert check_archive(reopened, ORIGIN, HUB_KEYS) == []
    assert [r.offset for r in reopened.read()] == list(range(15))


def test_the_checkpoint_must_be_the_hubs(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    other = Ed25519PrivateKey.generate()
    archive.write_checkpoint(ORIGIN, ORIGIN, other)
    problems = _problems(archive)
    assert any("archive checkpoint: not a valid signed checkpoint" in p for p in problems)
    (archive.root / "checkpoint").unlink()
    assert any("missing" in p for p in _problems(archive))


def test_the_record_schema_is_documented_avro() -> None:
    schema = json.loads((SCHEMAS / "archive" / "record.avsc").read_text())
    assert all(f.get("doc") for f in schema["fields"])
