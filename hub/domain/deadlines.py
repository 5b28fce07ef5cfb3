"""The hub's agenda: what falls due as the log's clock moves, for one partition.

A charge hold starts the site's intake window; intake or a charging decision closes it; a
hold still open when the clock passes its deadline lapses, and the policy's reminder marks
(hours before the deadline) fall due before that. A consent the hub watches expires at its
``expires_at``, with reminder marks (days before) so the agency that obtained it can renew
it; a revocation of the whole consent, or an erasure, stops the watch.

The clock is the log's own time (the latest recorded_at seen, stamped by the gatekeeper;
on a quiet partition, the hub's ``clock_ticked`` events), never the machine's, so a
simulated scenario and an auditor's replay see the same items fall due at the same log
positions. Each item becomes a hub event with a deterministic id, so a replay derives the
same one and a hub restored from its archive recognises it; when it comes back through
lead.events it changes nothing here.

A mark overtaken by a nearer one in the same move of the clock is not sent: a hold entered
12 hours before its deadline gets the 24-hour reminder, not the 72-hour one too, and a
hold whose deadline has passed gets its lapse and no reminder.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

EXPIRY_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0002")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

LAPSE = "intake_window_expired"
INTAKE_REMINDER = "intake_deadline_approaching"
CONSENT_EXPIRED = "consent_expired"
CONSENT_REMINDER = "consent_expiry_approaching"
CLOCK_TICKED = "clock_ticked"
# what the agenda makes due: the hub events a move of the clock can cause
DUE_TYPES = frozenset({LAPSE, INTAKE_REMINDER, CONSENT_EXPIRED, CONSENT_REMINDER})
# each reminder, and the field of its body naming the moment it is about
REMINDED_AT = {INTAKE_REMINDER: "deadline", CONSENT_REMINDER: "expires_at"}


@dataclass(frozen=True, slots=True)
class Hold:
    held_event_id: uuid.UUID
    participant_id: str
    case_ref: str
    deadline: datetime

    @property
    def expiry_event_id(self) -> uuid.UUID:
        return uuid.uuid5(EXPIRY_NAMESPACE, str(self.held_event_id))


@dataclass(frozen=True, slots=True)
class Watch:
    """A consent whose expiry the hub announces."""

    consent_id: uuid.UUID
    granted_event_id: uuid.UUID
    participant_id: str
    obtained_by: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Due:
    """A hub event the clock made due: its type, body and deterministic id."""

    event_type: str
    participant_id: str
    at: datetime  # the instant it fell due: its occurred_at
    cause: uuid.UUID  # the charges_held or consent_granted it follows from
    body: Mapping[str, Any]
    key: str  # what names it, so that every derivation gives the same id

    @property
    def event_id(self) -> uuid.UUID:
        return uuid.uuid5(EXPIRY_NAMESPACE, self.key)


def time_left(due: datetime, now: datetime) -> str:
    """How long until ``due``, as a person reads it on a page or in a terminal."""
    seconds = int((due - now).total_seconds())
    if seconds <= 0:
        return "passed"
    days, rest = divmod(seconds, 86_400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{days} d {hours} h left"
    if hours:
        return f"{hours} h {minutes} min left"
    return f"{minutes} min left" if minutes else "under a minute left"


def tick_id(partition: int, at: datetime) -> uuid.UUID:
    """A clock tick's id: the same tick sent twice is one event."""
    return uuid.uuid5(EXPIRY_NAMESPACE, f"tick/{partition}/{at.isoformat()}")


_HOLD, _CONSENT = 0, 1


class _Mark(NamedTuple):
    """One moment on the agenda; tuples order by moment, then by owner and item, so every
    derivation takes them out in the same order."""

    due: datetime
    owner: str  # the participant
    name: str  # the item's id as text
    kind: int  # _HOLD or _CONSENT
    item: uuid.UUID  # the charges_held event id, or the consent id
    mark: int  # hours (a hold) or days (a consent) before the end; 0 for the end itself


class Deadlines:
    """The agenda of one partition. Cost per event is logarithmic in the open items (a heap
    of due moments, removed lazily; an index by participant), so a partition holding a
    city's worth of participants does not scan every item on every event. Mutable:
    ``apply`` and ``advance`` change it and return it, for use as a fold."""

    def __init__(self) -> None:
        self._open: dict[uuid.UUID, Hold] = {}
        self._by_participant: dict[str, set[uuid.UUID]] = {}
        self._watches: dict[tuple[str, uuid.UUID], Watch] = {}
        # the clock when an item (an owner's hold or consent) was scheduled
        self._since: dict[tuple[str, uuid.UUID], datetime] = {}
        self._heap: list[_Mark] = []
        self.clock: datetime = _EPOCH

    @property
    def open(self) -> Mapping[uuid.UUID, Hold]:
        return MappingProxyType(self._open)

    @property
    def watched(self) -> Mapping[tuple[str, uuid.UUID], Watch]:
        return MappingProxyType(self._watches)

    def next_due(self) -> datetime | None:
        """The earliest moment something is due, or None: what a ticker waits for. Items
        closed since they were scheduled are dropped here, so they cost no tick."""
        while self._heap and not self._alive(self._heap[0]):
            heapq.heappop(self._heap)
        return self._heap[0].due if self._heap else None

    def _alive(self, mark: _Mark) -> bool:
        if mark.kind == _HOLD:
            return mark.item in self._open
        return (mark.owner, mark.item) in self._watches

    def _schedule(
        self, kind: int, item: uuid.UUID, owner: str, end: datetime, marks: Sequence[timedelta]
    ) -> None:
        self._since[(owner, item)] = self.clock
        heapq.heappush(self._heap, _Mark(end, owner, str(item), kind, item, 0))
        for mark in marks:
            lead = int(mark.total_seconds() // 3600) if kind == _HOLD else mark.days
            heapq.heappush(self._heap, _Mark(end - mark, owner, str(item), kind, item, lead))

    def _close(self, hold_id: uuid.UUID) -> None:
        hold = self._open.pop(hold_id, None)
        if hold is not None:
            self._since.pop((hold.participant_id, hold_id), None)
            ids = self._by_participant[hold.participant_id]
            ids.discard(hold_id)
            if not ids:
                del self._by_participant[hold.participant_id]

    def _unwatch(self, participant_id: str, consent_id: uuid.UUID) -> None:
        if self._watches.pop((participant_id, consent_id), None) is not None:
            self._since.pop((participant_id, consent_id), None)

    def apply(
        self,
        event_id: uuid.UUID,
        event_type: str,
        participant_id: str,
        body: Mapping[str, Any],
        *,
        source: str = "",
        intake_hours: Sequence[int] = (),
        consent_days: Sequence[int] = (),
    ) -> Deadlines:
        """Fold one event in. ``intake_hours`` and ``consent_days``: the reminder marks of the
        policy in force, fixed for an item when it is scheduled."""
        if event_type == "consent_granted":
            consent_id = body["consent_id"]
            if (participant_id, consent_id) not in self._watches:
                watch = Watch(consent_id, event_id, participant_id, source, body["expires_at"])
                self._watches[(participant_id, consent_id)] = watch
                marks = [timedelta(days=d) for d in consent_days]
                self._schedule(_CONSENT, consent_id, participant_id, watch.expires_at, marks)
        elif event_type == "consent_revoked" and str(body["scope"]) == "ALL":
            self._unwatch(participant_id, body["consent_id"])
        elif event_type == "participant_erased":
            for key in [k for k in self._watches if k[0] == participant_id]:
                self._unwatch(*key)
        elif event_type == "charges_held":
            if event_id not in self._open:
                hold = Hold(event_id, participant_id, body["case_ref"], body["intake_deadline"])
                self._open[event_id] = hold
                self._by_participant.setdefault(participant_id, set()).add(event_id)
                marks = [timedelta(hours=h) for h in intake_hours]
                self._schedule(_HOLD, event_id, participant_id, hold.deadline, marks)
        else:
            self._close_holds(event_type, participant_id, body)
        return self

    def _close_holds(self, event_type: str, participant_id: str, body: Mapping[str, Any]) -> None:
        if event_type == "intake_completed":
            # intake meets every window this participant has open
            for hold_id in list(self._by_participant.get(participant_id, ())):
                self._close(hold_id)
        elif event_type in ("charges_declined", "charges_filed"):
            for hold_id in list(self._by_participant.get(participant_id, ())):
                if self._open[hold_id].case_ref == body["case_ref"]:
                    self._close(hold_id)
        elif event_type == LAPSE:
            self._close(body["held_event_id"])

    def advance(self, to: datetime) -> tuple[Deadlines, list[Due]]:
        """Move the clock to ``to`` (never back) and take out what falls due on the way, in
        order (for each item only its nearest mark passed). Call it with an event's time
        before applying the event, so an intake completed after its deadline finds the
        hold already lapsed."""
        self.clock = max(self.clock, to)
        nearest: dict[tuple[int, uuid.UUID], _Mark] = {}
        while self._heap and self._heap[0].due <= self.clock:
            mark = heapq.heappop(self._heap)
            if self._alive(mark):  # else closed already: a lazily removed entry
                nearest[(mark.kind, mark.item)] = mark  # popped in order: the last is nearest
        return self, [self._due(mark) for mark in sorted(nearest.values())]

    def _due(self, m: _Mark) -> Due:
        when = max(m.due, self._since.get((m.owner, m.item), m.due))  # a mark before the item
        if m.kind == _HOLD:
            hold = self._open[m.item]
            body: dict[str, Any] = {
                "case_ref": hold.case_ref,
                "held_event_id": hold.held_event_id,
                "deadline": hold.deadline,
            }
            if m.mark == 0:
                self._close(m.item)
                return Due(LAPSE, m.owner, m.due, m.item, body, m.name)
            body["hours_before"] = m.mark
            return Due(INTAKE_REMINDER, m.owner, when, m.item, body, f"{m.name}/{m.mark}h")
        watch = self._watches[(m.owner, m.item)]
        body = {
            "consent_id": watch.consent_id,
            "obtained_by": watch.obtained_by,
            "expires_at": watch.expires_at,
        }
        key, cause = f"consent/{m.owner}/{m.name}", watch.granted_event_id
        if m.mark == 0:
            self._unwatch(m.owner, m.item)
            return Due(CONSENT_EXPIRED, m.owner, m.due, cause, body, key)
        body["days_before"] = m.mark
        return Due(CONSENT_REMINDER, m.owner, when, cause, body, f"{key}/{m.mark}d")
