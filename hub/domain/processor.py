"""What the hub does with each event of the canonical log, for one partition, as pure state.

Per event, in log order: drop a redelivery (an event id already on its participant's
timeline); let the hub's clock (the event's recorded_at) pass whatever falls due on the
way (lapses, reminders, consent expiries: hub events to publish); fold the event into the
policy in force, the participant's consent state, timeline and agenda; then decide, for
every candidate recipient, permit or deny. A ``clock_ticked`` only moves the clock: it
is folded into nothing and decided for no one, because it discloses nothing. The stream
agent only moves bytes in and out of this; replay feeds it the same log and gets the same
decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hub.domain.deadlines import CLOCK_TICKED, CONSENT_REMINDER, Deadlines, Due
from hub.domain.policy import ConsentState, Decision, PolicyBook, PolicyEvent, Reminders, decide
from hub.domain.timeline import Timeline
from hub.events import Envelope, EventBody

EMPTY = Timeline()
# events every lead.events partition holds a copy of, so that each sees the change at a
# definite position of its own
BROADCAST = frozenset({"policy_published"})


@dataclass(frozen=True)
class Outcome:
    decisions: tuple[Decision, ...] = ()
    due: tuple[Due, ...] = ()  # hub events the clock made due, to publish
    duplicate: bool = False


@dataclass
class PartitionProcessor:
    book: PolicyBook
    recipients: Sequence[str]
    consent: dict[str, ConsentState] = field(default_factory=dict)
    timelines: dict[str, Timeline] = field(default_factory=dict)
    deadlines: Deadlines = field(default_factory=Deadlines)

    def process(self, envelope: Envelope, body: EventBody) -> Outcome:
        pid, event_type = envelope.participant_id, envelope.event_type
        timeline = self.timelines.get(pid, EMPTY)
        if envelope.event_id in timeline:  # a canonical event is keyed by its participant
            return Outcome(duplicate=True)
        data = body.model_dump()
        at = envelope.recorded_at or envelope.occurred_at
        # the hub's clock (recorded_at), not the source's: a backdated or skewed report
        # can neither lapse a window early nor hold one open
        self.deadlines, passed = self.deadlines.advance(at)
        due = tuple(d for d in passed if self._still_due(d))
        if event_type == CLOCK_TICKED:
            return Outcome(due=due)
        self.book = self.book.apply(event_type, data)
        state = self.consent.get(pid, ConsentState()).apply(event_type, data)
        self.consent[pid] = state
        self.timelines[pid] = timeline.apply(
            envelope.event_id, event_type, envelope.source, envelope.occurred_at, at
        )
        policy = self.book.in_force
        marks = policy.reminders if policy is not None else Reminders()
        self.deadlines = self.deadlines.apply(
            envelope.event_id,
            event_type,
            pid,
            data,
            source=envelope.source,
            intake_hours=marks.intake_deadline_hours,
            consent_days=marks.consent_expiry_days,
        )
        event = PolicyEvent(envelope.event_id, event_type, envelope.source, pid, at, data)
        return Outcome(decide(event, state, policy, self.recipients), due)

    def _still_due(self, due: Due) -> bool:
        """A consent's reminder is not sent once a later consent renews it, nor its expiry
        once every recipient's share of it was revoked."""
        if "consent_id" not in due.body:
            return True
        state = self.consent.get(due.participant_id, ConsentState())
        grant = state.lapsing(due.body["consent_id"])
        if grant is None:
            return False
        return due.event_type != CONSENT_REMINDER or not state.renews(grant)


def audited(partition: int, envelope: Envelope, outcome: Outcome) -> tuple[Decision, ...]:
    """The decisions that go on lead.audit: the hub's and the auditor's replay's rule."""
    if outcome.duplicate or (envelope.event_type in BROADCAST and partition != 0):
        return ()  # every partition folds a broadcast; one decides it, so it is audited once
    return outcome.decisions
