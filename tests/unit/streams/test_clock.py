"""The hub's clock on the log: ticks on a quiet partition make holds lapse and reminders
and consent expiries fall due, each published once as a signed hub event, admitted by
the gatekeeper and decided like any other; a tick itself is decided for no one, and
replay of a log with ticks derives exactly the audit log. The real gatekeeper, fold,
codec and signatures over memory topics; no broker."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.inbox import Inbox, reminder_lines
from hub.audit.replay import diff, replay_events
from hub.crypto import PublicKeys, SigningKey, generate_sealing_key
from hub.crypto.epochs import EpochSealer
from hub.domain import (
    Gatekeeper,
    LogClock,
    Notice,
    PartitionProcessor,
    PolicyBook,
    issue_participant_id,
    time_left,
)
from hub.domain.agencies import AgencyRegistry
from hub.domain.audit_records import read_decisions
from hub.domain.deadlines import tick_id
from hub.events import Codec, decode_envelope, sign_event
from hub.events.models import (
    ChargesHeld,
    ClockTicked,
    ConsentGranted,
    DataCategory,
    OffenceCategory,
    PolicyPublished,
    Purpose,
)
from hub.events.topics import AUDIT, EVENTS, REJECTED, notify_topic
from hub.streams.handlers import CanonicalHandler, IngestHandler
from hub.web.view import DisclosureView, reminded_of
from tests.support.histories import RECIPIENTS, default_policy
from tests.support.stories import Logged, MemoryBus

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
POLICY = default_policy()
PID = issue_participant_id(lambda n: bytes(range(n)))


class Hub:
    """The worker's two handlers over memory topics, its policy published at START."""

    def __init__(self, codec: Codec, agencies: AgencyRegistry, keys: dict[str, SigningKey]):
        public = PublicKeys({(a, k.key_id): k.public for a, k in keys.items()})
        self.codec, self.keys = codec, keys
        self.sealing = {a: generate_sealing_key(a, demo=True) for a in RECIPIENTS}
        self.view = DisclosureView()  # the pages' view
        self.bus = MemoryBus(
            IngestHandler(Gatekeeper(codec, agencies, public, events_partitions=1), LogClock(), 1),
            CanonicalHandler(
                codec,
                PartitionProcessor(PolicyBook.of([POLICY]), RECIPIENTS),
                EpochSealer({a: (k.key_id, k.public) for a, k in self.sealing.items()}),
                keys["hub"],
                observe=self.view.record,
            ),
        )
        self.publish(
            PolicyPublished(
                policy_version=POLICY.version, policy_sha256=POLICY.sha256, effective_at=START
            ),
            "hub",
            "SYSTEM",
            START,
        )

    def publish(self, body: Any, agency: str, pid: str, at: datetime) -> uuid.UUID:
        envelope = sign_event(
            body, codec=self.codec, key=self.keys[agency], participant_id=pid, occurred_at=at
        )
        self.bus.publish(envelope, self.codec)
        return envelope.event_id

    def tick(self, at: datetime) -> None:
        """What the worker's clock task sends (hub.streams.runtime.keep_time)."""
        envelope = sign_event(
            ClockTicked(partition=0),
            codec=self.codec,
            key=self.keys["hub"],
            participant_id="SYSTEM",
            occurred_at=at,
            event_id=tick_id(0, at),
        )
        self.bus.publish(envelope, self.codec)

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        envelopes = (decode_envelope(o.value, self.codec) for o in self.bus.topics[EVENTS])
        return [(e.event_type, e.model_dump()) for e in envelopes]

    def types(self) -> Counter[str]:
        return Counter(t for t, _ in self.events())

    def notified(self, event_type: str) -> set[str]:
        """The recipients a permit for ``event_type`` went to (from lead.audit)."""
        return {
            d["recipient"]
            for o in self.bus.topics[AUDIT]
            for d in read_decisions(self.codec, o.value)
            if d["event_type"] == event_type and d["permit"]
        }


@pytest.fixture
def hub(codec: Codec, agencies: AgencyRegistry, agency_keys: dict[str, SigningKey]) -> Hub:
    return Hub(codec, agencies, agency_keys)


def hold(hub: Hub, at: datetime) -> tuple[uuid.UUID, datetime]:
    deadline = at + timedelta(days=14)
    body = ChargesHeld(
        case_ref="case-1",
        charge_category=OffenceCategory.DRUG_POSSESSION,
        held_at=at,
        intake_deadline=deadline,
        window_days=14,
    )
    return hub.publish(body, "sao", PID, at), deadline


def test_a_hold_on_a_quiet_partition_lapses_at_the_first_tick_after_its_deadline(hub: Hub) -> None:
    held, deadline = hold(hub, START + timedelta(hours=1))
    audit_before = len(hub.bus.topics[AUDIT])
    hub.tick(deadline - timedelta(hours=73))
    assert len(hub.bus.topics[AUDIT]) == audit_before  # a tick is decided for no one
    assert hub.types()["intake_deadline_approaching"] == 0

    hub.tick(deadline - timedelta(hours=72))
    hub.tick(deadline - timedelta(hours=71))  # the same mark is not sent twice
    hub.tick(deadline - timedelta(hours=24))
    hub.tick(deadline - timedelta(seconds=1))
    assert hub.types()["intake_deadline_approaching"] == 2
    assert hub.types()["intake_window_expired"] == 0

    hub.tick(deadline + timedelta(seconds=30))
    hub.tick(deadline + timedelta(seconds=90))
    types = hub.types()
    assert types["intake_window_expired"] == 1 and types["clock_ticked"] == 7
    lapse = next(e for t, e in hub.events() if t == "intake_window_expired")
    assert lapse["occurred_at"] == deadline and lapse["causation_id"] == held
    assert lapse["recorded_at"] == deadline + timedelta(seconds=30)  # the tick's moment
    assert hub.notified("intake_window_expired") == {"sao", "bpd", "opd", "cm"}
    assert hub.notified("intake_deadline_approaching") == {"sao", "cm"}
    assert hub.bus.topics[REJECTED] == []


def test_reminders_tell_the_hours_and_reach_sao_and_cm_only(hub: Hub) -> None:
    _, deadline = hold(hub, START + timedelta(hours=1))
    hub.tick(deadline - timedelta(hours=10))  # both marks passed at once: the nearer one
    reminders = [e for t, e in hub.events() if t == "intake_deadline_approaching"]
    assert len(reminders) == 1
    sent = [
        hub.codec.decode(o.value, "notice").datum
        for a in RECIPIENTS
        for o in hub.bus.topics[notify_topic(a)]
    ]
    assert {n["recipient"] for n in sent if n["event_type"] == "intake_deadline_approaching"} == {
        "sao",
        "cm",
    }


def test_the_inbox_page_and_command_show_a_pending_reminder_with_the_time_left(
    hub: Hub, tmp_path: Path
) -> None:
    _, deadline = hold(hub, START + timedelta(hours=1))
    hub.tick(deadline - timedelta(hours=30))
    hub.tick(deadline - timedelta(hours=23))
    (page,) = hub.view.reminders("sao")
    assert (page.event_type, page.fields["hours_before"]) == ("intake_deadline_approaching", 24)
    assert time_left(reminded_of(page), deadline - timedelta(hours=23)) == "23 h 0 min left"
    assert hub.view.reminders("bpd") == []  # the policy sends reminders to sao and cm only

    box = Inbox.open(tmp_path / "inbox.jsonl")
    hub_keys = PublicKeys({("hub", hub.keys["hub"].key_id): hub.keys["hub"].public})

    def sync() -> None:
        for o in hub.bus.topics[notify_topic("sao")]:
            box.receive(
                Notice(**hub.codec.decode(o.value, "notice").datum), hub.sealing["sao"], hub_keys
            )

    sync()
    lines = reminder_lines(box, deadline - timedelta(hours=2, minutes=30))
    assert lines[1:] == [
        f"  {PID}  intake deadline, case case-1: {deadline:%Y-%m-%d %H:%M}, 2 h 30 min left "
        "(reminded 24 h before)"
    ]
    hub.tick(deadline)  # lapsed: nothing pending any more, on the page or in the command
    sync()
    assert hub.view.reminders("sao") == [] and reminder_lines(box, deadline) == []


def consent(hub: Hub, at: datetime, days: int, recipients: list[str]) -> uuid.UUID:
    body = ConsentGranted(
        consent_id=uuid.uuid4(),
        form_version="roi-2026",
        recipients=recipients,
        categories=[DataCategory.CASE_MANAGEMENT],
        purposes=[Purpose.CASE_MANAGEMENT],
        effective_at=at,
        expires_at=at + timedelta(days=days),
    )
    hub.publish(body, "cm", PID, at)
    return body.consent_id


def test_a_consent_expiry_is_announced_at_its_instant_with_a_reminder_before(hub: Hub) -> None:
    at = START + timedelta(hours=1)
    consent(hub, at, 90, ["bchd", "hsg"])
    expires = at + timedelta(days=90)
    hub.tick(expires - timedelta(days=15))
    hub.tick(expires - timedelta(days=14))
    hub.tick(expires - timedelta(seconds=1))
    assert hub.types()["consent_expiry_approaching"] == 1
    assert hub.types()["consent_expired"] == 0
    hub.tick(expires)
    assert hub.types()["consent_expired"] == 1
    assert hub.notified("consent_expired") == {"cm", "tx"}
    assert hub.notified("consent_expiry_approaching") == {"cm"}
    # on the timeline of those told (cm obtained the consent), on no one else's
    shown = {a: {s.event_type for s in hub.view.timeline(PID, a)} for a in RECIPIENTS}
    assert {a for a, types in shown.items() if "consent_expired" in types} == {"cm", "tx"}


def test_a_renewed_consent_gets_no_reminder_and_a_revoked_one_no_expiry(hub: Hub) -> None:
    at = START + timedelta(hours=1)
    consent(hub, at, 90, ["bchd"])
    consent(hub, at + timedelta(days=60), 365, ["bchd", "hsg"])  # renews it
    hub.tick(at + timedelta(days=90))
    assert hub.types()["consent_expiry_approaching"] == 0
    assert hub.types()["consent_expired"] == 1  # the old one still ends, for the record


def test_replay_of_a_log_with_ticks_derives_exactly_the_audit_log(hub: Hub) -> None:
    hold(hub, START + timedelta(hours=1))
    consent(hub, START + timedelta(hours=2), 30, ["bchd"])
    for hours in range(0, 24 * 40, 7):
        hub.tick(START + timedelta(hours=hours))
    assert hub.types()["intake_window_expired"] == 1
    events = [
        Logged(EVENTS, 0, i, o.value, o.key, o.headers)
        for i, o in enumerate(hub.bus.topics[EVENTS])
    ]
    audit = [
        Logged(AUDIT, 0, i, o.value, o.key, o.headers) for i, o in enumerate(hub.bus.topics[AUDIT])
    ]
    keys = PublicKeys({(a, k.key_id): k.public for a, k in hub.keys.items()})
    derived = replay_events(events, hub.codec, keys, [POLICY], RECIPIENTS)
    compared = diff(derived, audit, hub.codec)
    assert compared.findings == [] and compared.pending_due == compared.pending_decisions == 0
    assert compared.logged == len(derived.decisions) > len(audit) > 0
    assert len(derived.due) == 5  # two reminders and a lapse, a reminder and an expiry


def test_a_tick_from_an_agency_or_for_no_partition_is_a_dead_letter(hub: Hub) -> None:
    """Only the hub keeps time, and only for partitions that exist: anything else is
    refused with its reason, and moves no clock."""
    _, deadline = hold(hub, START + timedelta(hours=1))
    for agency, partition in (("sao", 0), ("hub", 3)):
        envelope = sign_event(
            ClockTicked(partition=partition),
            codec=hub.codec,
            key=hub.keys[agency],
            participant_id="SYSTEM",
            occurred_at=deadline + timedelta(days=1),
        )
        hub.bus.publish(envelope, hub.codec)
    reasons = [dict(o.headers)["leadhub-reason"] for o in hub.bus.topics[REJECTED]]
    assert reasons == [b"TYPE_NOT_ALLOWED", b"INVALID_EVENT"]
    assert hub.types()["intake_window_expired"] == 0 and hub.types()["clock_ticked"] == 0
