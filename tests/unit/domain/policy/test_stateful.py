"""A stateful search for a sequence of consent, policy and data events that makes the
engine disagree with the oracle; hypothesis shrinks any failure to the shortest story."""

from __future__ import annotations

import random

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from hub.domain.policy import ConsentState, PolicyBook, PolicyEvent, decide
from tests.support.histories import (
    DATA_TYPES,
    LOCK_EVENTS,
    RECIPIENTS,
    Generator,
    default_policy,
    oracle,
    variant_policy,
)

POLICIES = [default_policy(), variant_policy()]


class ConsentLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.gen = Generator(random.Random(0), POLICIES)
        self.gen.started = True
        self.history: list[PolicyEvent] = []
        self.book = PolicyBook.of(POLICIES)
        self.state = ConsentState()

    def _record(self, event: PolicyEvent) -> None:
        """Fold the event in and check every decision on it against the oracle."""
        self.history.append(event)
        self.book = self.book.apply(event.event_type, event.body)
        self.state = self.state.apply(event.event_type, event.body)
        position = len(self.history) - 1
        for d in decide(event, self.state, self.book.in_force, RECIPIENTS):
            allowed, consent_id, _ = oracle(self.history, position, d.recipient, POLICIES)
            assert (d.permit, d.consent_id) == (allowed, consent_id), d

    @rule(seed=st.integers(0, 2**32), version=st.integers(0, len(POLICIES) - 1))
    def publish(self, seed: int, version: int) -> None:
        self.gen.rng.seed(seed)
        policy = POLICIES[version]
        body = {"policy_version": policy.version, "policy_sha256": policy.sha256}
        self._record(self.gen.make("policy_published", body))

    @rule(seed=st.integers(0, 2**32))
    def grant(self, seed: int) -> None:
        self.gen.rng.seed(seed)
        self._record(self.gen.make("consent_granted", self.gen._grant()))

    @rule(seed=st.integers(0, 2**32))
    def revoke(self, seed: int) -> None:
        self.gen.rng.seed(seed)
        self._record(self.gen.make("consent_revoked", self.gen._revocation()))

    @rule(seed=st.integers(0, 2**32), event_type=st.sampled_from([*LOCK_EVENTS, *DATA_TYPES]))
    def data_event(self, seed: int, event_type: str) -> None:
        self.gen.rng.seed(seed)
        self._record(self.gen.make(event_type, self.gen.data_body(event_type)))

    @rule(seed=st.integers(0, 2**32))
    def anything(self, seed: int) -> None:
        self.gen.rng.seed(seed)
        self._record(self.gen.event())


ConsentLifecycle.TestCase.settings = settings(
    max_examples=300, stateful_step_count=50, deadline=None
)
TestConsentLifecycle = ConsentLifecycle.TestCase
