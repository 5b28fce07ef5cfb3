"""Charge-hold windows: a hold starts the site's intake window, intake or a charging
decision closes it, and a hold still open when the log's clock passes its deadline lapses.

The clock is the log's own time (the latest recorded_at seen, stamped by the gatekeeper),
never the machine's, so a simulated scenario and an auditor's replay see the same lapses
at the same log positions.
The lapse becomes a hub event with a deterministic id, so a replay derives the same one
and a hub restored from its archive recognises it; when it comes back through lead.events
it changes nothing.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

EXPIRY_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0002")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Hold:
    held_event_id: uuid.UUID
    participant_id: str
    case_ref: str
    deadline: datetime

    @property
    def expiry_event_id(self) -> uuid.UUID:
        return uuid.uuid5(EXPIRY_NAMESPACE, str(self.held_event_id))

    def expiry_body(self) -> dict[str, Any]:
        """The body of the hub's intake_window_expired event for this hold."""
        return {
            "case_ref": self.case_ref,
            "held_event_id": self.held_event_id,
            "deadline": self.deadline,
        }


class Deadlines:
    """Open holds of one partition. Cost per event is logarithmic in the open holds (a
    heap of deadlines, removed lazily; an index by participant), so a partition holding
    a city's worth of participants does not scan every hold on every event. Mutable:
    ``apply`` and ``advance`` change it and return it, for use as a fold."""

    def __init__(self) -> None:
        self._open: dict[uuid.UUID, Hold] = {}
        self._by_participant: dict[str, set[uuid.UUID]] = {}
        self._heap: list[tuple[datetime, str, uuid.UUID]] = []
        self.clock: datetime = _EPOCH

    @property
    def open(self) -> Mapping[uuid.UUID, Hold]:
        return MappingProxyType(self._open)

    def _close(self, hold_id: uuid.UUID) -> None:
        hold = self._open.pop(hold_id, None)
        if hold is not None:
            ids = self._by_participant[hold.participant_id]
            ids.discard(hold_id)
            if not ids:
                del self._by_participant[hold.participant_id]

    def apply(
        self,
        event_id: uuid.UUID,
        event_type: str,
        participant_id: str,
        body: Mapping[str, Any],
    ) -> Deadlines:
        if event_type == "charges_held":
            if event_id not in self._open:
                hold = Hold(event_id, participant_id, body["case_ref"], body["intake_deadline"])
                self._open[event_id] = hold
                self._by_participant.setdefault(participant_id, set()).add(event_id)
                heapq.heappush(self._heap, (hold.deadline, str(event_id), event_id))
        elif event_type == "intake_completed":
            # intake meets every window this participant has open
            for hold_id in list(self._by_participant.get(participant_id, ())):
                self._close(hold_id)
        elif event_type in ("charges_declined", "charges_filed"):
            for hold_id in list(self._by_participant.get(participant_id, ())):
                if self._open[hold_id].case_ref == body["case_ref"]:
                    self._close(hold_id)
        elif event_type == "intake_window_expired":
            self._close(body["held_event_id"])
        return self

    def advance(self, to: datetime) -> tuple[Deadlines, list[Hold]]:
        """Move the clock to ``to`` (never back) and take out the holds that lapse on the
        way, oldest deadline first. Call it with an event's time before applying the
        event, so an intake completed after its deadline finds the hold already lapsed."""
        self.clock = max(self.clock, to)
        lapsed: list[Hold] = []
        while self._heap and self._heap[0][0] <= self.clock:
            _, _, hold_id = heapq.heappop(self._heap)
            hold = self._open.get(hold_id)
            if hold is not None:  # else closed already: a lazily removed entry
                self._close(hold_id)
                lapsed.append(hold)
        return self, lapsed
