"""Intake windows lapse by the log's clock; timelines keep log order and drop redeliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.deadlines import Deadlines, Hold
from hub.domain.timeline import Timeline

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
HELD = uuid.UUID(int=1, version=4)


def held(
    days: int = 14, participant: str = "P-A", case: str = "c1", event_id: uuid.UUID = HELD
) -> Deadlines:
    body = {"case_ref": case, "intake_deadline": T0 + timedelta(days=days)}
    return Deadlines().apply(event_id, "charges_held", participant, body)


def test_a_hold_lapses_exactly_at_its_deadline() -> None:
    state = held()
    state, lapsed = state.advance(T0 + timedelta(days=14, microseconds=-1))
    assert lapsed == []
    state, lapsed = state.advance(T0 + timedelta(days=14))
    assert [h.held_event_id for h in lapsed] == [HELD]
    assert lapsed[0].expiry_body() == {
        "case_ref": "c1",
        "held_event_id": HELD,
        "deadline": T0 + timedelta(days=14),
    }
    assert state.advance(T0 + timedelta(days=30))[1] == []  # lapses once


def test_intake_in_time_closes_the_window() -> None:
    state = held().apply(uuid.uuid4(), "intake_completed", "P-A", {})
    assert state.advance(T0 + timedelta(days=60))[1] == []


def test_intake_after_the_deadline_is_too_late() -> None:
    state = held()
    state, lapsed = state.advance(T0 + timedelta(days=15))  # the intake's own time first
    assert len(lapsed) == 1
    state = state.apply(uuid.uuid4(), "intake_completed", "P-A", {})
    assert not state.open


def test_decisions_close_only_their_case_and_person() -> None:
    state = held(case="c1")
    state = state.apply(
        uuid.UUID(int=2, version=4),
        "charges_held",
        "P-B",
        {"case_ref": "c1", "intake_deadline": T0 + timedelta(days=7)},
    )
    state = state.apply(uuid.uuid4(), "charges_declined", "P-A", {"case_ref": "c1"})
    assert [h.participant_id for h in state.open.values()] == ["P-B"]
    state = state.apply(uuid.uuid4(), "charges_filed", "P-B", {"case_ref": "other"})
    assert len(state.open) == 1


def test_the_expiry_id_is_deterministic_and_its_echo_is_harmless() -> None:
    hold = Hold(HELD, "P-A", "c1", T0)
    assert hold.expiry_event_id == Hold(HELD, "P-B", "x", T0).expiry_event_id
    state = held().apply(
        hold.expiry_event_id, "intake_window_expired", "P-A", {"held_event_id": HELD}
    )
    assert not state.open


def test_the_clock_never_goes_back() -> None:
    state, _ = held().advance(T0 + timedelta(days=3))
    state, lapsed = state.advance(T0 - timedelta(days=300))
    assert state.clock == T0 + timedelta(days=3) and lapsed == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40 * 86_400), min_size=1, max_size=30))
def test_every_hold_lapses_exactly_once_in_deadline_order(offsets: list[int]) -> None:
    state = Deadlines()
    for i, seconds in enumerate(offsets):
        body = {"case_ref": f"c{i}", "intake_deadline": T0 + timedelta(seconds=seconds)}
        state = state.apply(uuid.UUID(int=i + 1, version=4), "charges_held", f"P-{i}", body)
    seen: list[Hold] = []
    for day in range(0, 42):
        state, lapsed = state.advance(T0 + timedelta(days=day))
        assert all(h.deadline <= state.clock for h in lapsed)
        seen += lapsed
    assert len(seen) == len(offsets) == len({h.held_event_id for h in seen})
    assert [h.deadline for h in seen] == sorted(h.deadline for h in seen)


def test_timeline_keeps_log_order_and_drops_redeliveries() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    tl = Timeline().apply(a, "referral_made", "bpd", T0, T0 + timedelta(seconds=1))
    tl = tl.apply(b, "charges_held", "sao", T0 - timedelta(hours=1), T0 + timedelta(seconds=2))
    assert tl.apply(a, "referral_made", "bpd", T0, T0) is tl
    assert [e.event_type for e in tl.entries] == ["referral_made", "charges_held"]
    assert tl.entries[1].category == "justice"
    assert [e.event_id for e in tl.as_of(T0 + timedelta(seconds=1))] == [a]
