"""The agenda (lapses, reminders, consent expiries) falls due by the log's clock; timelines
keep log order and drop redeliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.deadlines import (
    CONSENT_EXPIRED,
    CONSENT_REMINDER,
    LAPSE,
    Deadlines,
    Due,
    Hold,
)
from hub.domain.deadlines import (
    INTAKE_REMINDER as REMINDER,
)
from hub.domain.timeline import Timeline

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
HELD = uuid.UUID(int=1, version=4)


def held(
    days: int = 14,
    participant: str = "P-A",
    case: str = "c1",
    event_id: uuid.UUID = HELD,
    hours: tuple[int, ...] = (),
) -> Deadlines:
    body = {"case_ref": case, "intake_deadline": T0 + timedelta(days=days)}
    return Deadlines().apply(event_id, "charges_held", participant, body, intake_hours=hours)


def test_a_hold_lapses_exactly_at_its_deadline() -> None:
    state = held()
    state, due = state.advance(T0 + timedelta(days=14, microseconds=-1))
    assert due == []
    state, due = state.advance(T0 + timedelta(days=14))
    assert [(d.event_type, d.cause) for d in due] == [(LAPSE, HELD)]
    assert due[0].event_id == Hold(HELD, "P-A", "c1", T0).expiry_event_id
    assert due[0].at == T0 + timedelta(days=14)
    assert due[0].body == {
        "case_ref": "c1",
        "held_event_id": HELD,
        "deadline": T0 + timedelta(days=14),
    }
    assert state.advance(T0 + timedelta(days=30))[1] == []  # lapses once


def test_intake_in_time_closes_the_window() -> None:
    state = held().apply(uuid.uuid4(), "intake_completed", "P-A", {})
    assert state.advance(T0 + timedelta(days=60))[1] == []
    assert state.next_due() is None  # a closed hold costs no tick


def test_intake_after_the_deadline_is_too_late() -> None:
    state = held()
    state, due = state.advance(T0 + timedelta(days=15))  # the intake's own time first
    assert len(due) == 1
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
    state, due = state.advance(T0 - timedelta(days=300))
    assert state.clock == T0 + timedelta(days=3) and due == []


def test_reminders_fall_due_at_their_marks_before_the_lapse() -> None:
    state = held(hours=(72, 24))
    deadline = T0 + timedelta(days=14)
    assert state.next_due() == deadline - timedelta(hours=72)
    found = []
    for hours in (73, 72, 25, 24, 1, 0):
        state, due = state.advance(deadline - timedelta(hours=hours))
        found += [(d.event_type, d.body.get("hours_before"), d.at) for d in due]
    assert found == [
        (REMINDER, 72, deadline - timedelta(hours=72)),
        (REMINDER, 24, deadline - timedelta(hours=24)),
        (LAPSE, None, deadline),
    ]


def test_a_mark_overtaken_by_a_nearer_one_is_not_sent() -> None:
    """A hold entered 12 hours before its deadline gets the 24-hour reminder alone, at
    the time it was entered; a hold whose clock jumps past its deadline gets its lapse
    alone."""
    deadline = T0 + timedelta(days=14)
    state = Deadlines()
    state.advance(deadline - timedelta(hours=12))
    state = state.apply(
        HELD,
        "charges_held",
        "P-A",
        {"case_ref": "c1", "intake_deadline": deadline},
        intake_hours=(72, 24),
    )
    state, due = state.advance(deadline - timedelta(hours=11))
    assert [(d.body["hours_before"], d.at) for d in due] == [(24, deadline - timedelta(hours=12))]
    assert [d.event_type for d in held(hours=(72, 24)).advance(deadline)[1]] == [LAPSE]


def test_reminder_ids_are_one_per_hold_and_mark() -> None:
    deadline = T0 + timedelta(days=14)
    ids = set()
    for _ in range(2):  # a replay derives the same ids
        state = held(hours=(72, 24))
        for hours in (72, 24, 0):
            ids |= {d.event_id for d in state.advance(deadline - timedelta(hours=hours))[1]}
    assert len(ids) == 3


CONSENT = uuid.UUID(int=7, version=4)
GRANTED = uuid.UUID(int=8, version=4)
EXPIRES = T0 + timedelta(days=365)


def granted(days: tuple[int, ...] = (14,)) -> Deadlines:
    body = {"consent_id": CONSENT, "expires_at": EXPIRES}
    return Deadlines().apply(
        GRANTED, "consent_granted", "P-A", body, source="cm", consent_days=days
    )


def test_a_consent_expires_at_its_instant_with_a_reminder_before() -> None:
    state = granted()
    state, due = state.advance(EXPIRES - timedelta(days=14, microseconds=1))
    assert due == []
    state, due = state.advance(EXPIRES - timedelta(days=14))
    assert [(d.event_type, d.body["days_before"], d.cause) for d in due] == [
        (CONSENT_REMINDER, 14, GRANTED)
    ]
    state, due = state.advance(EXPIRES - timedelta(microseconds=1))
    assert due == []
    state, due = state.advance(EXPIRES)
    assert [(d.event_type, d.at) for d in due] == [(CONSENT_EXPIRED, EXPIRES)]
    assert due[0].body == {"consent_id": CONSENT, "obtained_by": "cm", "expires_at": EXPIRES}
    assert state.next_due() is None and not state.watched


@pytest.mark.parametrize(
    ("event_type", "body", "watched"),
    [
        ("consent_revoked", {"consent_id": CONSENT, "scope": "ALL"}, False),
        ("consent_revoked", {"consent_id": CONSENT, "scope": "SOME"}, True),
        ("consent_revoked", {"consent_id": uuid.uuid4(), "scope": "ALL"}, True),
        ("participant_erased", {}, False),
    ],
)
def test_a_consent_revoked_as_a_whole_or_erased_is_no_longer_watched(
    event_type: str, body: dict[str, object], watched: bool
) -> None:
    state = granted().apply(uuid.uuid4(), event_type, "P-A", body)
    assert bool(state.watched) is watched
    # a consent no longer watched costs no tick: its marks are dropped, not waited for
    assert (state.next_due() is not None) is watched
    assert bool(state.advance(EXPIRES)[1]) is watched


def test_another_participants_revocation_changes_nothing() -> None:
    state = granted().apply(
        uuid.uuid4(), "consent_revoked", "P-B", {"consent_id": CONSENT, "scope": "ALL"}
    )
    assert state.watched


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 40 * 86_400), min_size=1, max_size=30))
def test_every_hold_lapses_exactly_once_in_deadline_order(offsets: list[int]) -> None:
    state = Deadlines()
    for i, seconds in enumerate(offsets):
        body = {"case_ref": f"c{i}", "intake_deadline": T0 + timedelta(seconds=seconds)}
        state = state.apply(uuid.UUID(int=i + 1, version=4), "charges_held", f"P-{i}", body)
    seen: list[Due] = []
    for day in range(0, 42):
        state, due = state.advance(T0 + timedelta(days=day))
        assert all(d.at <= state.clock for d in due)
        seen += due
    assert len(seen) == len(offsets) == len({d.cause for d in seen})
    assert [d.at for d in seen] == sorted(d.at for d in seen)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 20 * 86_400), min_size=1, max_size=12),
    st.lists(st.integers(0, 21 * 86_400), min_size=1, max_size=40),
    st.sets(st.integers(0, 11), max_size=6),
)
def test_however_the_clock_moves_each_item_ends_once_and_nothing_is_sent_after_its_end(
    deadlines: list[int], moves: list[int], closed: set[int]
) -> None:
    """Holds with reminders, moved by any sequence of clock times (as events and ticks
    arrive): each hold open at its deadline lapses exactly once; no reminder follows its
    own lapse or a close; reminders come in falling order of hours; and next_due never
    points at a time the clock has passed."""
    state = Deadlines()
    for i, seconds in enumerate(deadlines):
        body = {"case_ref": f"c{i}", "intake_deadline": T0 + timedelta(seconds=seconds)}
        state.apply(
            uuid.UUID(int=i + 1, version=4), "charges_held", f"P-{i}", body, intake_hours=(72, 24)
        )
    for i in closed & set(range(len(deadlines))):
        state.apply(uuid.uuid4(), "intake_completed", f"P-{i}", {})
    sent: dict[uuid.UUID, list[Due]] = {}
    for seconds in [*sorted(moves), 40 * 86_400]:
        state, due = state.advance(T0 + timedelta(seconds=seconds))
        for d in due:
            sent.setdefault(d.cause, []).append(d)
        following = state.next_due()
        assert following is None or following > state.clock
    for i in range(len(deadlines)):
        got = sent.get(uuid.UUID(int=i + 1, version=4), [])
        if i in closed:
            assert got == []
            continue
        assert [d.event_type for d in got][-1:] == [LAPSE]
        hours = [d.body["hours_before"] for d in got[:-1]]
        assert all(d.event_type == REMINDER for d in got[:-1])
        assert hours == sorted(set(hours), reverse=True)


def test_timeline_keeps_log_order_and_drops_redeliveries() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    tl = Timeline().apply(a, "referral_made", "bpd", T0, T0 + timedelta(seconds=1))
    tl = tl.apply(b, "charges_held", "sao", T0 - timedelta(hours=1), T0 + timedelta(seconds=2))
    assert tl.apply(a, "referral_made", "bpd", T0, T0) is tl
    assert [e.event_type for e in tl.entries] == ["referral_made", "charges_held"]
    assert tl.entries[1].category == "justice"
    assert [e.event_id for e in tl.as_of(T0 + timedelta(seconds=1))] == [a]
