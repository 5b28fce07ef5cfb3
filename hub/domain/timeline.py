"""A participant's timeline: what happened, in log order, as metadata only.

Entries name events (type, category, source, times), never their contents, so a timeline
can be kept, cached and shown to the hub's operators without holding personal data; the
contents stay in lead.events, disclosed per recipient by the policy.

A worker holds every participant's timeline, one entry per event of the whole log, so a
timeline keeps its entries packed in one bytes value, 36 bytes an entry (as objects an
entry took about 300), and gives them back as ``Entry`` values on demand.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from hub.events import EVENT_MODELS, epoch_micros

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PACKED = struct.Struct(">16sHHqq")  # event id, type, source, occurred_at, recorded_at
# Names (event types, sources) by a number of this process's own: nothing packed here is
# ever written anywhere, so the numbering need not be stable between processes.
_NAMES: list[str] = []
_NUMBERS: dict[str, int] = {}


def _number(name: str) -> int:
    number = _NUMBERS.get(name)
    if number is None:
        number = _NUMBERS[name] = len(_NAMES)
        _NAMES.append(name)
    return number


@dataclass(frozen=True)
class Entry:
    event_id: UUID
    event_type: str
    category: str
    source: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Timeline:
    packed: bytes = b""

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(
            Entry(
                UUID(bytes=event_id),
                _NAMES[event_type],
                EVENT_MODELS[_NAMES[event_type]].category,
                _NAMES[source],
                EPOCH + timedelta(microseconds=occurred),
                EPOCH + timedelta(microseconds=recorded),
            )
            for event_id, event_type, source, occurred, recorded in _PACKED.iter_unpack(self.packed)
        )

    def apply(
        self,
        event_id: UUID,
        event_type: str,
        source: str,
        occurred_at: datetime,
        recorded_at: datetime,
    ) -> Timeline:
        """Append in log order; a redelivered event (same id) changes nothing."""
        if event_id in self:
            return self
        entry = _PACKED.pack(
            event_id.bytes,
            _number(event_type),
            _number(source),
            epoch_micros(occurred_at),
            epoch_micros(recorded_at),
        )
        return Timeline(self.packed + entry)

    def __contains__(self, event_id: object) -> bool:
        if not isinstance(event_id, UUID):
            return False
        wanted, size, packed = event_id.bytes, _PACKED.size, self.packed
        return any(packed[i : i + 16] == wanted for i in range(0, len(packed), size))

    def as_of(self, moment: datetime) -> tuple[Entry, ...]:
        """What the hub had recorded by ``moment`` (by the log's time, not the event's)."""
        return tuple(e for e in self.entries if e.recorded_at <= moment)
