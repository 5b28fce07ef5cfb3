"""What "already seen" means in the hub, in one place.

Every repeat the hub meets is one of five kinds. Each has its key, the window over which
a repeat is recognised, and what survives a restart:

- ``AcceptedIds``, an event the hub accepted. Asked by the gatekeeper. Key: the event id,
  with the ingest record it came from. Window: the whole log. After a restart: rebuilt by
  reading lead.events from its start, then following it.
- A canonical event folded. Asked by ``PartitionProcessor`` (the worker and replay alike).
  Key: the event id within its participant's timeline. Window: the whole log. After a
  restart: rebuilt by folding lead.events.
- ``Positions``, a record a reader has folded. Asked by the worker (lead.events), the
  notary (lead.audit) and the accepted-id follower. Key: (partition, offset). Window: this
  process's reading. After a restart: in-memory state is folded again from the start, and
  the transactions' committed offsets say from where its outputs are new.
- ``OnTheLog``, an output already sent. Asked by the worker after a disaster restore.
  Key: topic and output id. Window: until derived once more. After a restart: learned from
  the output topics, only when the group has no committed offsets.
- ``FirstSeen``, a record met again in one reading of the log. Asked by replay and the
  report. Key: event, decision or notice id. Window: one reading. After a restart: nothing
  is kept, each reading starts again.

The agency's inbox keeps its own notice ids in its file (consumers/inbox.py): the same
rule as ``FirstSeen`` (the first copy of a notice id counts), kept on disk because the
inbox outlives a reading.

The canonical fold needs no structure of its own: a canonical event is keyed by its
participant, so any copy of it is in the same partition, and the timeline the fold keeps
anyway holds its id. Repeats of the other kinds are redeliveries (a crash, a rebalance,
an agency's retry) and are dropped and counted, never decided twice.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar
from uuid import UUID

_OFFSET_BITS = 40
_PARTITION_BITS = 16
UNKNOWN = -1

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class AcceptedIds:
    """A ``Container[UUID]`` of accepted event ids, each with its ingest origin.

    The gatekeeper refuses a repeat of any event ever accepted, so this holds one entry
    per event of the whole log: two machine integers per event (the id's 128 bits, and its
    origin packed as topic, partition and offset) rather than a UUID object and a string,
    which keeps a worker's memory within bounds at a hundred thousand participants. The
    origin tells the worker's own redelivery after a crash (same ingest record: already
    forwarded, dropped silently) from an agency sending the event again (rejected as
    DUPLICATE)."""

    def __init__(self) -> None:
        self._origins: dict[int, int] = {}
        self._topics: dict[str, int] = {}

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, UUID) and event_id.int in self._origins

    def __len__(self) -> int:
        return len(self._origins)

    def add(self, event_id: UUID, origin: str) -> None:
        """``origin`` is ``topic/partition/offset`` of the ingest record, or anything else
        for an origin not known (it then matches no origin)."""
        self._origins[event_id.int] = self._pack(origin)

    def discard(self, event_id: UUID) -> None:
        """Un-accept: the transaction that admitted it was not committed."""
        self._origins.pop(event_id.int, None)

    def came_from(self, event_id: UUID, origin: str) -> bool:
        packed = self._origins.get(event_id.int)
        return packed is not None and packed != UNKNOWN and packed == self._pack(origin)

    def _pack(self, origin: str) -> int:
        topic, _, place = origin.rpartition("/")
        topic, _, partition = topic.rpartition("/")
        if not (topic and partition.isdigit() and place.isdigit()):
            return UNKNOWN
        p, offset = int(partition), int(place)
        if p >= 1 << _PARTITION_BITS or offset >= 1 << _OFFSET_BITS:
            return UNKNOWN
        index = self._topics.setdefault(topic, len(self._topics))
        return (index << (_PARTITION_BITS + _OFFSET_BITS)) | (p << _OFFSET_BITS) | offset


class Positions:
    """Where a reader's folding of each partition ends: a record below it is a redelivery.

    Offsets, not ids, because within a partition the log's order is the only identity a
    reader needs: what it folded is exactly the offsets below its position."""

    def __init__(self) -> None:
        self._next: dict[int, int] = {}

    def __getitem__(self, partition: int) -> int:
        """The next offset to fold (0 for a partition not read yet)."""
        return self._next.get(partition, 0)

    def folded(self, partition: int, offset: int) -> bool:
        return offset < self._next.get(partition, 0)

    def advance(self, partition: int, offset: int) -> None:
        """``offset`` is folded, and so is everything before it."""
        self._next[partition] = offset + 1

    def forget(self, partition: int) -> None:
        """The state folded from this partition is dropped: read it again from the start."""
        self._next.pop(partition, None)


class OnTheLog:
    """Ids of outputs found on the log when a worker re-derives it (a disaster restore),
    each to be sent no more. Each is dropped once: the worker derives each output once,
    so the set empties as it catches up, and is empty on every ordinary start."""

    def __init__(self) -> None:
        self._ids: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, output_id: str) -> None:
        self._ids.add(output_id)

    def unsent(self, items: Iterable[T], id_of: Callable[[T], str | None]) -> list[T]:
        """``items`` less those on the log already."""
        if not self._ids:
            return list(items)
        kept = []
        for item in items:
            output_id = id_of(item)
            if output_id is not None and output_id in self._ids:
                self._ids.discard(output_id)
            else:
                kept.append(item)
        return kept


class FirstSeen(dict[K, V]):
    """One reading's records by id: the first copy of an id counts, later ones (a
    broadcast's copy in every partition, an archive overlapping Kafka) are counted only."""

    repeats: int = 0

    def keep(self, key: K, value: V) -> bool:
        """Keep ``value`` unless ``key`` was seen; whether it was kept."""
        if key in self:
            self.repeats += 1
            return False
        self[key] = value
        return True
