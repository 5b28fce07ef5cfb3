"""What the report reads from the log: decoded events, decisions and rejections, and the
period asked for. Built by ``hub.report.source``; read by the measures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from hub.events import Envelope
from hub.events import models as m

READ = "records_viewed"  # the hub's own event for a read through its API


@dataclass(frozen=True)
class LoggedEvent:
    envelope: Envelope
    body: m.EventBody
    person: str | None = None  # the person's first id, if linked to other ids (see source)

    @property
    def recorded(self) -> datetime:
        return self.envelope.recorded_at or self.envelope.occurred_at

    @property
    def at(self) -> datetime:
        return self.envelope.occurred_at

    @property
    def pid(self) -> str:
        """Whom the measures count: the person, one for all of their linked ids."""
        return self.person or self.envelope.participant_id


@dataclass(frozen=True)
class LoggedDecision:
    decision_id: UUID
    event_id: UUID
    recipient: str
    permit: bool
    reason: str | None
    decided_at: datetime
    event_type: str = ""


"""A read through the hub's pages or API: logged on lead.audit as the reader's permit, but
it discloses nothing new and sends no notice, so it is counted apart from disclosures."""


@dataclass(frozen=True)
class LoggedRejection:
    reason: str
    rejected_at: datetime


@dataclass
class ReportLog:
    """What the report reads: decoded, deduplicated, in log order.

    ``rejections`` is None when the source holds no lead.rejected. ``published_ms`` and
    ``notified_ms`` are broker timestamps (ms) of each event's first ingest record and of
    each notice's first record, by event id and by notice (= decision) id."""

    events: list[LoggedEvent] = field(default_factory=list)
    decisions: list[LoggedDecision] = field(default_factory=list)
    rejections: list[LoggedRejection] | None = None
    published_ms: dict[UUID, int] = field(default_factory=dict)
    notified_ms: dict[UUID, int] = field(default_factory=dict)
    unreadable: int = 0


@dataclass(frozen=True)
class Period:
    """Dates are inclusive; ``as_of`` keeps only what the hub had recorded by then."""

    start: date | None = None
    end: date | None = None
    as_of: datetime | None = None


# ---------------------------------------------------------------------------- calendar
