"""A participant's timeline: what happened, in log order, as metadata only.

Entries name events (type, category, source, times), never their contents, so a timeline
can be kept, cached and shown to the hub's operators without holding personal data; the
contents stay in lead.events, disclosed per recipient by the policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hub.events.models import EVENT_MODELS


@dataclass(frozen=True)
class Entry:
    event_id: UUID
    event_type: str
    category: str
    source: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class Timeline:
    entries: tuple[Entry, ...] = ()

    def apply(
        self,
        event_id: UUID,
        event_type: str,
        source: str,
        occurred_at: datetime,
        recorded_at: datetime,
    ) -> Timeline:
        """Append in log order; a redelivered event (same id) changes nothing."""
        if any(e.event_id == event_id for e in self.entries):
            return self
        entry = Entry(
            event_id,
            event_type,
            EVENT_MODELS[event_type].category,
            source,
            occurred_at,
            recorded_at,
        )
        return Timeline((*self.entries, entry))

    def as_of(self, moment: datetime) -> tuple[Entry, ...]:
        """What the hub had recorded by ``moment`` (by the log's time, not the event's)."""
        return tuple(e for e in self.entries if e.recorded_at <= moment)
