"""The whole LEAD story through the hub's pure core, no broker: a seeded scenario's
events pass the gatekeeper, the processor lapses exactly the holds the story let lapse,
the prosecutor hears of exactly those lapses, bad input is refused with its reason, and
Part 2 never reaches enforcement."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import pytest

from hub.agencies import AgencyRegistry
from hub.crypto.signing import PublicKeys, SigningKey
from hub.events.codec import Codec
from hub.events.envelope import Envelope, cloudevents_headers, encode_envelope, seal
from hub.events.models import IntakeWindowExpired, PolicyPublished
from hub.gatekeeper import Accepted, Gatekeeper, LogClock
from hub.policy import Decision, PolicyBook
from hub.processor import PartitionProcessor
from hub.topics import ingest_topic
from producers.simulator import Scenario, add_bad_input, plan
from tests.unit.policy.history import RECIPIENTS, default_policy
from tests.unit.test_codec import _fake_seal

POLICY = default_policy()


@dataclass
class PureHub:
    gate: Gatekeeper
    hub_key: SigningKey
    codec: Codec
    processor: PartitionProcessor = field(
        default_factory=lambda: PartitionProcessor(PolicyBook.of([POLICY]), RECIPIENTS)
    )
    accepted: set[UUID] = field(default_factory=set)
    log: list[Envelope] = field(default_factory=list)
    decisions: list[tuple[Envelope, Decision]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    clock: LogClock = field(default_factory=LogClock)

    def publish(self, envelope: Envelope) -> None:
        self.ingest(
            ingest_topic(envelope.source).rsplit(".", 1)[1],
            encode_envelope(envelope, self.codec),
            envelope.participant_id.encode(),
            cloudevents_headers(envelope),
        )

    def ingest(
        self, agency: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        result = self.gate.admit(
            topic_agency=agency,
            value=value,
            key=key,
            headers=headers,
            clock=self.clock,
            seen=self.accepted,
        )
        if not isinstance(result, Accepted):
            self.rejected.append(result.reason.value)
            return
        env = result.envelope
        self.accepted.add(env.event_id)
        self.log.append(env)
        outcome = self.processor.process(env, result.body)
        self.decisions += [(env, d) for d in outcome.decisions]
        for hold in outcome.lapsed:  # the hub signs and publishes the lapse
            body = IntakeWindowExpired.model_validate(hold.expiry_body())
            self.publish(
                seal(
                    body,
                    codec=self.codec,
                    key=self.hub_key,
                    participant_id=hold.participant_id,
                    occurred_at=hold.deadline,
                    event_id=hold.expiry_event_id,
                )
            )


@pytest.fixture(scope="module")
def story(
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> tuple[Scenario, PureHub]:
    scenario = plan(20261125, 150, lambda pid: _fake_seal)
    add_bad_input(scenario, random.Random(3), codec, agency_keys)
    hub = PureHub(Gatekeeper(codec, agencies, public_keys), agency_keys["hub"], codec)
    policy_body = {
        "policy_version": POLICY.version,
        "policy_sha256": POLICY.sha256,
        "effective_at": scenario.publications[0].occurred_at - timedelta(days=1),
        "supersedes_version": None,
    }
    hub.publish(
        seal(
            PolicyPublished.model_validate(policy_body),
            codec=codec,
            key=agency_keys["hub"],
            participant_id="SYSTEM",
            occurred_at=policy_body["effective_at"],
        )
    )
    for p in scenario.publications:
        hub.publish(
            seal(
                p.body,
                codec=codec,
                key=agency_keys[p.agency],
                participant_id=p.participant_id,
                occurred_at=p.occurred_at,
                event_id=p.event_id,
                causation_id=p.causation_id,
                correlation_id=p.correlation_id,
            )
        )
    assert hub.rejected == [], "every good event of the story must be accepted"
    for bad in scenario.bad:
        hub.ingest(bad.topic.rsplit(".", 1)[1], bad.value, bad.key, bad.headers)
    return scenario, hub


def test_the_plan_is_reproducible_from_its_seed() -> None:
    a = plan(5, 40, lambda pid: _fake_seal)
    b = plan(5, 40, lambda pid: _fake_seal)
    assert [(p.event_id, p.body) for p in a.publications] == [
        (p.event_id, p.body) for p in b.publications
    ]
    assert plan(6, 40, lambda pid: _fake_seal).publications != a.publications


def test_bad_input_is_refused_with_its_reason(story: tuple[Scenario, PureHub]) -> None:
    scenario, hub = story
    assert Counter(hub.rejected) == Counter(b.expected.value for b in scenario.bad)
    assert {"BAD_SIGNATURE", "TYPE_NOT_ALLOWED", "MALFORMED", "UNKNOWN_SCHEMA", "DUPLICATE"} <= set(
        hub.rejected
    )


def test_exactly_the_holds_the_story_let_lapse_do_lapse(story: tuple[Scenario, PureHub]) -> None:
    scenario, hub = story
    lapses = {e.event_id for e in hub.log if e.event_type == "intake_window_expired"}
    filed_after_lapse = {
        p.body.window_expired_event_id  # type: ignore[attr-defined]
        for p in scenario.publications
        if p.body.event_type == "charges_filed"
    }
    assert len(lapses) == scenario.truth["holds.lapsed"] > 0
    assert lapses == filed_after_lapse


def test_the_prosecutor_hears_of_exactly_those_lapses(story: tuple[Scenario, PureHub]) -> None:
    _, hub = story
    lapsed_people = {e.participant_id for e in hub.log if e.event_type == "intake_window_expired"}
    told = {
        env.participant_id
        for env, d in hub.decisions
        if d.recipient == "sao" and d.permit and env.event_type == "intake_window_expired"
    }
    assert told == lapsed_people


def test_part2_never_reaches_enforcement_and_does_reach_the_case_manager(
    story: tuple[Scenario, PureHub],
) -> None:
    _, hub = story
    part2 = [(env, d) for env, d in hub.decisions if env.event_type.startswith("treatment_")]
    assert part2
    assert not [d for _, d in part2 if d.permit and d.recipient in {"bpd", "sao"}]
    assert any(d.permit and d.recipient == "cm" for _, d in part2)
    # participants who signed no Part 2 consent: the case manager is not told
    assert any(not d.permit and d.recipient == "cm" for _, d in part2)


def test_every_permit_has_a_rule_and_consent_where_needed(story: tuple[Scenario, PureHub]) -> None:
    _, hub = story
    permits = [d for _, d in hub.decisions if d.permit]
    assert permits
    for d in permits:
        rule = POLICY.rule_for(d.recipient, next(e.event_type for e, x in hub.decisions if x is d))
        assert rule is not None and rule.id == d.rule_id
        assert (d.consent_id is None) == (rule.consent.value == "none")
