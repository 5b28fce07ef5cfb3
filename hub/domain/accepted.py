"""The ids of every event the gatekeeper has accepted, and where each came from.

The gatekeeper refuses a repeat of any event ever accepted, so it holds one entry per
event of the whole log: kept as two machine integers per event (the id's 128 bits, and
its origin packed as topic, partition and offset) rather than a UUID object and a string,
which is what keeps a worker's memory within bounds at a hundred thousand participants.
"""

from __future__ import annotations

from uuid import UUID

_OFFSET_BITS = 40
_PARTITION_BITS = 16
UNKNOWN = -1


class AcceptedIds:
    """A ``Container[UUID]`` of accepted event ids, each with its ingest origin."""

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
