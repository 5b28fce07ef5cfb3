"""Charge-hold windows: a hold starts the site's intake window, intake or a charging
decision closes it, and a hold still open when the log's clock passes its deadline lapses.

The clock is the log's own time (the latest recorded_at seen, stamped by the gatekeeper),
never the machine's, so a simulated scenario and an auditor's replay see the same lapses
at the same log positions.
The lapse becomes a hub event with a deterministic id, so emitting it twice after a crash
is recognised as a duplicate; when it comes back through lead.events it changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

EXPIRY_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0002")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Deadlines:
    open: Mapping[uuid.UUID, Hold] = field(default_factory=lambda: MappingProxyType({}))
    clock: datetime = _EPOCH

    def apply(
        self,
        event_id: uuid.UUID,
        event_type: str,
        participant_id: str,
        body: Mapping[str, Any],
    ) -> Deadlines:
        holds = dict(self.open)
        if event_type == "charges_held":
            holds.setdefault(
                event_id, Hold(event_id, participant_id, body["case_ref"], body["intake_deadline"])
            )
        elif event_type == "intake_completed":
            # intake meets every window this participant has open
            holds = {k: h for k, h in holds.items() if h.participant_id != participant_id}
        elif event_type in ("charges_declined", "charges_filed"):
            holds = {
                k: h
                for k, h in holds.items()
                if not (h.participant_id == participant_id and h.case_ref == body["case_ref"])
            }
        elif event_type == "intake_window_expired":
            holds.pop(body["held_event_id"], None)
        return replace(self, open=MappingProxyType(holds))

    def advance(self, to: datetime) -> tuple[Deadlines, list[Hold]]:
        """Move the clock to ``to`` (never back) and take out the holds that lapse on the
        way, oldest deadline first. Call it with an event's time before applying the
        event, so an intake completed after its deadline finds the hold already lapsed."""
        clock = max(self.clock, to)
        lapsed = sorted(
            (h for h in self.open.values() if h.deadline <= clock),
            key=lambda h: (h.deadline, str(h.held_event_id)),
        )
        still = {k: h for k, h in self.open.items() if h.deadline > clock}
        return Deadlines(MappingProxyType(still), clock), lapsed
