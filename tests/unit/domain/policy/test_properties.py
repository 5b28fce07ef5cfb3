"""Properties of the decision over generated consent histories: a few thousand events in
make test-unit, at least 100,000 in the stress run.

Each history is a participant's log: consents granted, revoked (some under 2.35 locks),
policy versions published (known, unknown, with a wrong hash), erasure, and every kind of
data event, at times that often fall exactly on a consent's edges. For every event and
every recipient the engine's decision must equal a brute-force oracle's, and the
stated properties must hold.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.domain.policy import ConsentState, Decision, PolicyBook, PolicyEvent, decide
from hub.domain.policy.decide import RECORDS_VIEWED
from hub.events.models import EVENT_MODELS
from tests.support.histories import RECIPIENTS, default_policy, generate, oracle, variant_policy

POLICIES = [default_policy(), variant_policy()]
BOOK = PolicyBook.of(POLICIES)
TARGET_EVENTS = 100_000


def run(history: list[PolicyEvent]) -> list[tuple[Decision, ...]]:
    """The hub's fold: policy book and consent state advance, then the event is decided."""
    book, state = BOOK, ConsentState()
    out = []
    for event in history:
        book = book.apply(event.event_type, event.body)
        state = state.apply(event.event_type, event.body)
        out.append(decide(event, state, book.in_force, RECIPIENTS))
    return out


def check_history(history: list[PolicyEvent]) -> None:
    decisions = run(history)
    assert run(history) == decisions, "same inputs must give the same decisions"
    for position, (event, made) in enumerate(zip(history, decisions, strict=True)):
        if event.event_type == RECORDS_VIEWED:
            # a read is logged for its reader alone, discloses nothing new, notifies no one
            viewer, ids = event.body["viewer"], tuple(event.body["event_ids"])
            assert [(d.recipient, d.permit, dict(d.fields), d.notices) for d in made] == [
                (viewer, True, {"event_ids": ids}, ())
            ]
            continue
        assert [d.recipient for d in made] == [r for r in RECIPIENTS if r != event.source]
        for d in made:
            allowed, consent_id, policy = oracle(history, position, d.recipient, POLICIES)
            assert d.permit == allowed, (position, event.event_type, d)
            assert d.policy_version == (policy.version if policy else None)
            if not d.permit:
                assert d.reason is not None and not d.fields
                continue
            assert policy is not None
            rule = policy.rule_for(d.recipient, event.event_type)
            assert rule is not None and d.rule_id == rule.id
            # minimum necessary: exactly the named fields, with the event's own values
            assert tuple(d.fields) == rule.disclose[event.event_type]
            assert all(d.fields[k] == event.body[k] for k in d.fields)
            assert d.consent_id == consent_id
            if EVENT_MODELS[event.event_type].category == "sud_treatment":
                assert d.recipient not in {"bpd", "sao"}, "Part 2 reached enforcement"
                assert "part2_redisclosure" in d.notices


@pytest.mark.stress
def test_properties_hold_over_100k_generated_events() -> None:
    counted = itertools.count()

    @settings(
        max_examples=450,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(seed=st.integers(0, 2**63), length=st.integers(220, 400))
    def prop(seed: int, length: int) -> None:
        history = generate(seed, length, POLICIES)
        for _ in history:
            next(counted)
        check_history(history)

    prop()
    assert next(counted) >= TARGET_EVENTS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**63), length=st.integers(20, 120))
def test_properties_hold_over_random_histories(seed: int, length: int) -> None:
    """The same properties at unit scale (random seeds, a few thousand events in all): what
    ``make test-unit`` checks of the decision while the 100k run waits for ``make test``."""
    check_history(generate(seed, length, POLICIES))
