"""The hub's stream handlers on an in-memory bus, no broker: each record handled as soon as
it is sent, so a seeded scenario becomes the topics the worker would have written."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from hub.crypto.epochs import EpochSealer
from hub.crypto.sealing import SealingKey, generate_sealing_key
from hub.crypto.signing import PublicKeys, SigningKey
from hub.domain.agencies import AgencyRegistry
from hub.domain.audit_records import read_decisions
from hub.domain.gatekeeper import Gatekeeper, LogClock
from hub.domain.policy import PolicyBook
from hub.domain.processor import PartitionProcessor
from hub.events.codec import Codec
from hub.events.envelope import (
    Envelope,
    cloudevents_headers,
    decode_envelope,
    encode_envelope,
    sign_event,
)
from hub.events.models import PolicyPublished
from hub.events.topics import AUDIT, EVENTS, REJECTED, ingest_topic
from hub.streams.handlers import ORIGIN, CanonicalHandler, IngestHandler, Out
from producers.bad_input import add_bad_input
from producers.simulator import Scenario, plan
from tests.support.fakes import fake_seal
from tests.support.histories import RECIPIENTS, default_policy

POLICY = default_policy()
B = TypeVar("B", bound="MemoryBus")


@dataclass(frozen=True)
class Logged:
    """A record as the auditor reads it (LogRecord)."""

    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass
class MemoryBus:
    """Topics as lists; each record is handled as soon as it is sent, in send order."""

    ingest: IngestHandler
    canonical: CanonicalHandler
    topics: dict[str, list[Out]] = field(default_factory=lambda: defaultdict(list))

    def send(self, out: Out) -> None:
        records = self.topics[out.topic]
        records.append(out)
        if out.topic.startswith("lead.ingest."):
            nexts = self.ingest.handle(
                out.topic, 0, len(records) - 1, out.key, out.value, out.headers
            )
        elif out.topic == EVENTS:
            origin = dict(out.headers).get(ORIGIN)
            nexts = self.canonical.handle(
                out.value, offset=len(records) - 1, origin=origin.decode() if origin else None
            )
        else:
            return
        for n in nexts:
            self.send(n)

    def publish(self, envelope: Envelope, codec: Codec) -> None:
        self.send(
            Out(
                ingest_topic(envelope.source),
                envelope.participant_id.encode(),
                encode_envelope(envelope, codec),
                cloudevents_headers(envelope),
            )
        )


def told(
    bus_type: type[B],
    scenario: Scenario,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> tuple[B, dict[str, SealingKey]]:
    """The hub's handlers on a bus of ``bus_type``, told the policy and then every
    publication of the scenario in order; the recipients' sealing keys."""
    sealing = {a: generate_sealing_key(a, demo=True) for a in RECIPIENTS}
    hub_key = agency_keys["hub"]
    bus = bus_type(
        IngestHandler(
            Gatekeeper(codec, agencies, public_keys),
            LogClock(),
            events_partitions=1,
            hub_key=hub_key,
        ),
        CanonicalHandler(
            codec,
            PartitionProcessor(PolicyBook.of([POLICY]), RECIPIENTS),
            EpochSealer({a: (k.key_id, k.public) for a, k in sealing.items()}),
            hub_key,
        ),
    )
    start = scenario.publications[0].occurred_at - timedelta(days=1)
    published = PolicyPublished(
        policy_version=POLICY.version, policy_sha256=POLICY.sha256, effective_at=start
    )
    bus.publish(
        sign_event(published, codec=codec, key=hub_key, participant_id="SYSTEM", occurred_at=start),
        codec,
    )
    for p in scenario.publications:
        bus.publish(
            sign_event(
                p.body,
                codec=codec,
                key=agency_keys[p.agency],
                participant_id=p.participant_id,
                occurred_at=p.occurred_at,
                event_id=p.event_id,
                causation_id=p.causation_id,
                correlation_id=p.correlation_id,
            ),
            codec,
        )
    return bus, sealing


@dataclass
class Story:
    scenario: Scenario
    bus: MemoryBus
    codec: Codec
    sealing: dict[str, SealingKey]
    hub_keys: PublicKeys
    agency_keys: PublicKeys

    def decoded(self, topic: str, subject: str) -> list[dict[str, Any]]:
        return [self.codec.decode(o.value, subject).datum for o in self.bus.topics[topic]]

    def decisions(self) -> list[dict[str, Any]]:
        """Every decision on lead.audit, each whole (an audit record holds an event's)."""
        return [d for o in self.bus.topics[AUDIT] for d in read_decisions(self.codec, o.value)]

    def events(self) -> list[Envelope]:
        return [decode_envelope(o.value, self.codec) for o in self.bus.topics[EVENTS]]


def build_story(
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> Story:
    """A seeded program of 150 people told to the hub's handlers, with bad input after."""
    scenario = plan(20261125, 150, lambda pid, event_id: fake_seal)
    add_bad_input(scenario, random.Random(3), codec, agency_keys)
    bus, sealing = told(MemoryBus, scenario, codec, agencies, agency_keys, public_keys)
    hub_key = agency_keys["hub"]
    assert bus.topics[REJECTED] == [], "every good event of the story must be accepted"
    for bad in scenario.bad:
        bus.send(Out(bad.topic, bad.key, bad.value, bad.headers))
    return Story(
        scenario,
        bus,
        codec,
        sealing,
        PublicKeys({("hub", hub_key.key_id): hub_key.public}),
        public_keys,
    )
