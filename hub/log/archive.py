"""The durable archive: every hub topic's records in Avro Object Container File segments.

The broker's own log is durable; the archive is the auditor's copy, which outlives the
broker (auditors read it years later), and the disaster recovery when a broker's log
directory is lost (``hub.log.archiver.restore``). Three layers of evidence:

- each record carries a chain value, SHA-256 over the previous one and the record's
  stream, offset, timestamp, key, value and headers, so an edited, removed or reordered
  record is found and named by its offset;
- each segment's header names the SHA-256 of the previous segment file, so a removed,
  replaced or truncated segment breaks the link to the next (a segment grows by appended
  blocks until it holds ``max_segment_records``, then the next one starts);
- a signed note (``archive/checkpoint``, C2SP signed-note format, the hub's Ed25519 key)
  names every stream's head, so rewriting a stream's tail with new chain values is
  evident too.

Pure file handling here; reading Kafka into the archive is ``hub.log.archiver``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
import structlog

from hub.crypto import note
from hub.errors import HubError

log = structlog.get_logger(__name__)
RECORD_SCHEMA_PATH = Path("archive") / "record.avsc"
CHAIN_TAG = b"LEADHUB-ARCHIVE-V1\x00"
ZERO = bytes(32)
CHECKPOINT_FILE = "checkpoint"
SEGMENTS = "segments"
ARCHIVE_SUFFIX = "/archive"  # the archive checkpoint's first line: the log's origin + this
META = "leadhub."


@dataclass(frozen=True)
class ArchivedRecord:
    """A record as Kafka gave it; shaped like a kafka-python ConsumerRecord, so auditors
    read the archive and the broker through the same code."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def chain_value(previous: bytes, r: ArchivedRecord) -> bytes:
    parts = [
        r.topic.encode(),
        struct.pack(">iqq", r.partition, r.offset, r.timestamp),
        b"\xff" if r.key is None else r.key,
        r.value,
        *(p for k, v in r.headers for p in (k.encode(), v)),
    ]
    framed = b"".join(struct.pack(">I", len(p)) + p for p in parts)
    return hashlib.sha256(CHAIN_TAG + previous + framed).digest()


@dataclass
class StreamHead:
    """Where a stream's archive ends: what the next record and segment must link to."""

    next_offset: int = 0
    segments: int = 0
    segment_hash: bytes = ZERO  # of the last segment as it stands
    chain: bytes = ZERO
    last_path: Path | None = field(default=None, compare=False)
    last_count: int = field(default=0, compare=False)
    hasher: Any = field(default=None, compare=False, repr=False)  # the last segment's, so far


@dataclass(frozen=True)
class ArchiveCheckpoint:
    """The signed note's body: every stream's head at one moment."""

    origin: str
    heads: dict[tuple[str, int], StreamHead] = field(default_factory=dict)

    def body(self) -> str:
        lines = [f"{self.origin}{ARCHIVE_SUFFIX}"]
        for (topic, partition), h in sorted(self.heads.items()):
            lines.append(
                f"stream {topic}/{partition} {h.next_offset} {h.segments} "
                f"{h.segment_hash.hex()} {h.chain.hex()}"
            )
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, body: str) -> ArchiveCheckpoint:
        lines = body.rstrip("\n").split("\n")
        if not lines[0].endswith(ARCHIVE_SUFFIX):
            raise ValueError("not an archive checkpoint")
        heads: dict[tuple[str, int], StreamHead] = {}
        for line in lines[1:]:
            kind, stream, nxt, segs, seg_hash, chain = line.split(" ")
            if kind != "stream":
                raise ValueError(f"unknown line {kind!r}")
            topic, partition = stream.rsplit("/", 1)
            heads[(topic, int(partition))] = StreamHead(
                int(nxt), int(segs), bytes.fromhex(seg_hash), bytes.fromhex(chain)
            )
        return cls(lines[0].removesuffix(ARCHIVE_SUFFIX), heads)


def _segment_name(first_offset: int) -> str:
    return f"{first_offset:012d}.avro"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write, fsync, rename: a crash leaves the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


class Archive:
    """One archive directory; single writer (the broker's owner), any number of readers."""

    def __init__(self, root: Path, schemas_dir: Path, max_segment_records: int = 50_000) -> None:
        self.root = root
        self.max_segment_records = max_segment_records
        self.schema = fastavro.parse_schema(
            json.loads((schemas_dir / RECORD_SCHEMA_PATH).read_text())
        )
        self._heads: dict[tuple[str, int], StreamHead] | None = None

    # -- layout ---------------------------------------------------------------------------

    def stream_dir(self, topic: str, partition: int) -> Path:
        return self.root / SEGMENTS / topic / str(partition)

    def streams(self) -> list[tuple[str, int]]:
        base = self.root / SEGMENTS
        if not base.is_dir():
            return []
        found = [
            (t.name, int(p.name))
            for t in base.iterdir()
            if t.is_dir()
            for p in t.iterdir()
            if p.is_dir() and p.name.isdigit()
        ]
        return sorted(found)

    def segment_files(self, topic: str, partition: int) -> list[Path]:
        return sorted(self.stream_dir(topic, partition).glob("*.avro"))

    @property
    def exists(self) -> bool:
        return bool(self.streams())

    @classmethod
    def existing(cls, root: Path, schemas_dir: Path) -> Archive:
        """The archive a hub wrote at ``root``, for reading; one clear error if none did."""
        archive = cls(root, schemas_dir)
        if not archive.exists:
            raise HubError(f"no archive at {root}: run the hub (or `make demo`) first")
        return archive

    # -- writing --------------------------------------------------------------------------

    def heads(self) -> dict[tuple[str, int], StreamHead]:
        """Each stream's head, from its last segment (read once, then kept up to date)."""
        if self._heads is None:
            self._heads = {}
            for topic, partition in self.streams():
                files = self.segment_files(topic, partition)
                head = StreamHead(segments=len(files))
                if files:
                    self._load_open_segment(head, files[-1], topic, partition)
                self._heads[(topic, partition)] = head
        return self._heads

    def _load_open_segment(self, head: StreamHead, path: Path, topic: str, partition: int) -> None:
        """Read the last segment; if a crash cut its last block short, cut the file back to
        its last whole block, which loses only what was never acknowledged as archived."""
        whole = 0
        with path.open("rb") as f:
            try:
                for block in fastavro.block_reader(f, self.schema):
                    for row in block:
                        assert isinstance(row, dict)
                        head.next_offset, head.chain = row["offset"] + 1, row["chain"]
                        head.last_count += 1
                    whole = f.tell()
            except Exception as exc:  # any damage past `whole` is cut off
                log.warning("archive_repaired", segment=str(path), kept_bytes=whole, error=str(exc))
        if whole and whole < path.stat().st_size:
            # keep the damaged original as evidence; continue from the whole blocks
            shutil.copy2(path, path.with_name(f"{path.name}.damaged-{time.time_ns()}"))
            with path.open("r+b") as f:
                f.truncate(whole)
                os.fsync(f.fileno())
        head.last_path = path
        head.hasher = hashlib.sha256(path.read_bytes())
        head.segment_hash = head.hasher.digest()

    def next_offset(self, topic: str, partition: int) -> int:
        return self.heads().get((topic, partition), StreamHead()).next_offset

    def append(self, records: Sequence[ArchivedRecord]) -> None:
        """Archive consecutive records of one stream: appended as blocks to the stream's
        open segment until it holds ``max_segment_records``, then into a new segment. Each
        write is fsynced before it returns."""
        first = records[0]
        stream = (first.topic, first.partition)
        head = self.heads().setdefault(stream, StreamHead())
        if first.offset < head.next_offset:
            raise ValueError(
                f"{first.topic}/{first.partition}: records start at offset {first.offset}, "
                f"the archive ends at {head.next_offset}"
            )
        rows: list[dict[str, Any]] = []
        chain = head.chain
        # offsets rise but may skip: a transaction's commit marker, aborted records
        expected = first.offset
        for r in records:
            if (r.topic, r.partition) != stream or r.offset < expected:
                raise ValueError(f"{r.topic}/{r.partition}@{r.offset} breaks the stream's order")
            expected = r.offset + 1
            chain = chain_value(chain, r)
            rows.append(
                {
                    "offset": r.offset,
                    "timestamp": r.timestamp,
                    "key": r.key,
                    "value": r.value,
                    "headers": [{"key": k, "value": v} for k, v in r.headers],
                    "chain": chain,
                }
            )
        while rows:
            room = self.max_segment_records - head.last_count
            if head.last_path is None or room <= 0:
                self._open_segment(head, stream, rows[0]["offset"])
                room = self.max_segment_records
            self._write_block(head, rows[:room])
            rows = rows[room:]

    def _open_segment(self, head: StreamHead, stream: tuple[str, int], first: int) -> None:
        """Start a segment whose header links it to the segment before and the chain."""
        metadata = {
            f"{META}topic": stream[0],
            f"{META}partition": str(stream[1]),
            f"{META}first_offset": str(first),
            f"{META}previous_segment": head.segment_hash.hex(),
            f"{META}chain_start": head.chain.hex(),
        }
        buffer = io.BytesIO()
        fastavro.writer(buffer, self.schema, [], codec="deflate", metadata=metadata)
        path = self.stream_dir(*stream) / _segment_name(first)
        _write_atomically(path, buffer.getvalue())
        head.segments += 1
        head.last_path, head.last_count = path, 0
        head.hasher = hashlib.sha256(buffer.getvalue())

    def _write_block(self, head: StreamHead, rows: list[dict[str, Any]]) -> None:
        assert head.last_path is not None and head.hasher is not None
        with head.last_path.open("a+b") as f:
            start = f.seek(0, os.SEEK_END)
            fastavro.writer(f, self.schema, rows, codec="deflate")
            f.flush()
            os.fsync(f.fileno())
            f.seek(start)
            head.hasher.update(f.read())
        head.segment_hash = head.hasher.digest()
        head.last_count += len(rows)
        head.next_offset = rows[-1]["offset"] + 1
        head.chain = rows[-1]["chain"]

    def write_checkpoint(self, origin: str, name: str, sign: Any) -> str:
        """Sign every stream's head (``sign`` is a private Ed25519 key) as the archive's
        checkpoint; returns the note."""
        body = ArchiveCheckpoint(origin, dict(self.heads())).body()
        text = note.format_note(body, [note.sign(body, name, sign)])
        _write_atomically(self.root / CHECKPOINT_FILE, text.encode())
        return text

    # -- reading --------------------------------------------------------------------------

    def read_segment(
        self, path: Path, topic: str, partition: int
    ) -> Iterator[tuple[ArchivedRecord, bytes]]:
        with path.open("rb") as f:
            for row in fastavro.reader(f, self.schema):
                assert isinstance(row, dict)
                yield (
                    ArchivedRecord(
                        topic,
                        partition,
                        row["offset"],
                        row["timestamp"],
                        row["key"],
                        row["value"],
                        tuple((h["key"], h["value"]) for h in row["headers"]),
                    ),
                    row["chain"],
                )

    def read(self, topics: Iterable[str] | None = None) -> Iterator[ArchivedRecord]:
        """Every archived record of these topics (all if None), stream by stream in offset
        order. Reading does not verify: ``hub.log.archive_check`` does, and says where."""
        wanted = None if topics is None else set(topics)
        for topic, partition in self.streams():
            if wanted is not None and topic not in wanted:
                continue
            for path in self.segment_files(topic, partition):
                for r, _chain in self.read_segment(path, topic, partition):
                    yield r
