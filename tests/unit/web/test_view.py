"""The pages' view against what recipients actually received: for every agency, the inbox
holds exactly the notices on its topic, and each shows exactly the fields the sealed
notice carried when the recipient opened it. Nothing else can reach a page."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from hub.domain import REMINDED_AT
from hub.domain.notices import Notice, open_notice
from hub.domain.policy import PolicyBook
from hub.domain.processor import PartitionProcessor, audited
from hub.events.envelope import sign_event
from hub.events.models import (
    ChargesDeclined,
    ChargesHeld,
    DeclineReason,
    IntakeDeadlineApproaching,
    LinkBasis,
    NoticeAcknowledged,
    OffenceCategory,
    ParticipantsLinked,
    ParticipantsUnlinked,
    RecordsViewed,
    UnlinkReason,
    ViewKind,
)
from hub.events.topics import notify_topic
from hub.web.caseload import HOLD_ENDS, REMINDER_ENDS, Query
from hub.web.view import OWN, DisclosureView, named, redacted
from tests.support.histories import RECIPIENTS
from tests.support.stories import POLICY, Story

PART2 = {"treatment_admitted", "treatment_discharged"}


@pytest.fixture(scope="module")
def viewed(story: Story) -> DisclosureView:
    """The same story folded again by a handler that feeds a view, as the worker's does."""
    from hub.domain.processor import audited
    from hub.events.envelope import decode_body, decode_envelope

    view = DisclosureView()
    processor = PartitionProcessor(PolicyBook.of([POLICY]), RECIPIENTS)
    for out in story.bus.topics["lead.events"]:
        envelope = decode_envelope(out.value, story.codec)
        body = decode_body(envelope, story.codec)
        outcome = processor.process(envelope, body)
        if not outcome.duplicate:
            view.record(envelope, body.model_dump(), audited(0, envelope, outcome))
    return view


@pytest.mark.parametrize("agency", RECIPIENTS)
def test_the_inbox_is_exactly_what_the_agency_could_open(
    story: Story, viewed: DisclosureView, agency: str
) -> None:
    sent = [
        Notice.model_validate(story.codec.decode(o.value, "notice").datum)
        for o in story.bus.topics[notify_topic(agency)]
    ]
    inbox = {s.notice_id: s for s in viewed.inbox(agency)}
    assert set(inbox) == {n.notice_id for n in sent}
    for notice in sent:
        opened = open_notice(notice, story.sealing[agency], story.hub_keys)
        shown = inbox[notice.notice_id]
        # the page shows what the notice carried; sealed identities stay sealed on a page
        assert redacted(shown.fields) == redacted(opened["fields"]), (agency, notice.event_type)
        assert shown.seen == notice.rule_id
        if agency in {"bpd", "sao"}:
            assert shown.event_type not in PART2


def test_a_timeline_is_the_agencys_own_events_and_its_notices_only(
    story: Story, viewed: DisclosureView
) -> None:
    for agency in RECIPIENTS:
        noticed = {s.event_id for s in viewed.inbox(agency)}
        for participant in viewed.participants(agency):
            for s in viewed.timeline(participant, agency):
                assert (s.seen == OWN and s.source == agency) or s.event_id in noticed
    someone = viewed.participants("cm")[0]
    assert viewed.timeline(someone, "cm", as_of=viewed.now - timedelta(days=10**4)) == []


def test_reads_are_not_facts_to_show(
    story: Story, viewed: DisclosureView, agency_keys: dict
) -> None:
    view = DisclosureView()
    participant = viewed.participants("sao")[0]
    first = viewed.inbox("sao")[-1]
    read = RecordsViewed(
        viewer="sao", view=ViewKind.TIMELINE, event_ids=[first.event_id], request_id=first.event_id
    )
    envelope = sign_event(
        read,
        codec=story.codec,
        key=agency_keys["hub"],
        participant_id=participant,
        occurred_at=first.recorded_at,
    )
    view.record(envelope, read.model_dump(), ())
    assert view.timeline(participant, "hub") == [] and view.items == {}


def test_an_acknowledgement_marks_its_notice(
    story: Story, viewed: DisclosureView, agency_keys: dict
) -> None:
    notice = viewed.inbox("sao")[0]
    assert notice.notice_id not in viewed.acknowledged
    ack = NoticeAcknowledged(
        notice_id=notice.notice_id, recipient="sao", acknowledged_at=notice.recorded_at
    )
    envelope = sign_event(
        ack,
        codec=story.codec,
        key=agency_keys["sao"],
        participant_id=notice.participant_id,
        occurred_at=notice.recorded_at,
    )
    view = DisclosureView()
    view.record(envelope, ack.model_dump(), ())
    assert view.acknowledged == {notice.notice_id}


def copied(view: DisclosureView) -> DisclosureView:
    """A copy to add events to: the story's view serves the other tests."""
    return DisclosureView(
        {p: list(items) for p, items in view.items.items()},
        list(view.joins),
        {
            a: {
                p: replace(
                    c, holds=dict(c.holds), consents=dict(c.consents), reminders=dict(c.reminders)
                )
                for p, c in by.items()
            }
            for a, by in view.cases.items()
        },
        {a: list(items) for a, items in view.received.items()},
        now=view.now,
    )


def folder(story: Story, keys: dict, view: DisclosureView) -> Any:
    """Record an event in ``view`` as the worker would: signed, decided, then recorded."""
    processor = PartitionProcessor(PolicyBook(in_force=POLICY), RECIPIENTS)

    def fold(body: Any, source: str, participant: str, at: datetime) -> UUID:
        envelope = sign_event(
            body, codec=story.codec, key=keys[source], participant_id=participant, occurred_at=at
        ).model_copy(update={"recorded_at": at})
        decided = audited(0, envelope, processor.process(envelope, body))
        view.record(envelope, body.model_dump(), decided)
        return envelope.event_id

    return fold


def test_a_link_joins_timelines_for_whom_it_was_told_and_an_unlink_parts_them(
    story: Story, viewed: DisclosureView, agency_keys: dict
) -> None:
    view = copied(viewed)
    first, second = view.participants("cm")[:2]
    alone = {p: view.timeline(p, "cm") for p in (first, second)}
    sao_before = view.timeline(second, "sao")
    later = view.now + timedelta(hours=1)
    fold = folder(story, agency_keys, view)

    link = ParticipantsLinked(
        linked_participant_id=first,
        basis=LinkBasis.AUTOMATIC,
        weight=24.5,
        levels=["given=nickname"],
        token_kinds=["fd"],
    )
    linked = fold(link, "hub", second, later)
    assert view.person(second, "cm") == [second, first] == view.person(second, "cm", later)
    # one person on the caseload, led by the id referred first
    people = view.people("cm")
    assert len(people) == len(view.participants("cm")) - 1
    (pair,) = [ids for ids in people if first in ids]
    assert set(pair) == {first, second}
    assert view.items[pair[0]][0].at <= view.items[pair[1]][0].at
    joined = view.timeline(second, "cm")
    assert len(joined) == len(alone[first]) + len(alone[second]) + 1
    assert [s.recorded_at for s in joined] == sorted(s.recorded_at for s in joined)
    assert view.timeline(first, "cm") == joined  # from either id
    assert view.timeline(second, "cm", as_of=later - timedelta(seconds=1)) == alone[second]
    # sao was not told of the link: its pages join nothing
    assert view.person(second, "sao") == [second] and view.timeline(second, "sao") == sao_before
    # the inbox lists each notice once, under the id it was recorded under
    assert len({s.notice_id for s in view.inbox("cm")}) == len(view.inbox("cm"))

    apart = ParticipantsUnlinked(linked_participant_id=second, reason=UnlinkReason.DIFFERENT_PEOPLE)
    fold(apart, "cm", first, later + timedelta(hours=1))
    assert view.person(second, "cm") == [second]
    assert [s.event_id for s in view.timeline(second, "cm")] == [
        *(s.event_id for s in alone[second]),
        linked,  # the link itself stays on the record
    ]
    assert view.person(second, "cm", later + timedelta(minutes=1)) == [second, first]


@pytest.mark.parametrize("agency", RECIPIENTS)
def test_the_caseload_index_says_what_the_timelines_say(
    viewed: DisclosureView, agency: str
) -> None:
    """The index the view keeps as events arrive agrees with a scan of each timeline: how
    many events, the latest, the name, the open holds, the pending reminders, the inbox."""
    assert viewed.participants(agency) == sorted(
        p for p in viewed.items if viewed._events_of(p, agency)
    )
    holds, reminders, notices = set(), set(), set()
    for pid in viewed.items:
        events = viewed._events_of(pid, agency)
        notices |= {s.event_id for s in events if s.notice_id is not None}
        ended = {s.fields.get("case_ref") for s in events if s.event_type in HOLD_ENDS}
        holds |= {
            s.event_id
            for s in events
            if s.event_type == "charges_held" and s.fields.get("case_ref") not in ended
        }
        pending: dict[str, object] = {}
        for s in events:
            about = str(s.fields.get("case_ref") or s.fields.get("consent_id"))
            if s.event_type in REMINDED_AT:
                pending[about] = s.event_id
            elif s.event_type in REMINDER_ENDS:
                pending.pop(about, None)
        reminders |= set(pending.values())
        case = viewed.cases.get(agency, {}).get(pid)
        if events:
            assert case is not None and case.count == len(events) and case.latest == events[-1]
            assert (case.name, case.named_by) == (named(events) or (None, None))
    assert {s.event_id for s in viewed.open_holds(agency)} == holds
    assert {s.event_id for s in viewed.reminders(agency)} == reminders
    assert {s.event_id for s in viewed.inbox(agency)} == notices
    if agency in ("sao", "cm"):
        assert notices, "a scan that finds nothing proves nothing"


def test_the_caseload_finds_filters_and_puts_who_needs_action_first(
    viewed: DisclosureView,
) -> None:
    now = viewed.now
    everyone = viewed.caseload("cm", Query(), now)
    assert len(everyone) == len(viewed.people("cm"))
    needing = [r for r in everyone if r.needs]
    assert needing and everyone[: len(needing)] == needing  # those needing action first
    someone = everyone[-1]
    assert viewed.caseload("cm", Query(text=someone.ids[0][2:8].lower()), now)[0] == someone
    held = viewed.caseload("cm", Query(hold=True), now)
    assert {r.ids[0] for r in held} == {h.participant_id for h in viewed.open_holds("cm")}
    active = viewed.caseload("cm", Query(status="ACTIVE"), now)
    assert active and all(r.status == "ACTIVE" for r in active)
    unseen = viewed.caseload("cm", Query(unseen_days=30), now)
    assert all(r.last_contact is None or (now - r.last_contact).days >= 30 for r in unseen)
    by_id = viewed.caseload("cm", Query(sort="id"), now)
    assert [r.ids[0] for r in by_id] == sorted(r.ids[0] for r in everyone)


def test_an_open_hold_and_its_reminder_are_listed_until_the_hold_ends(
    story: Story, viewed: DisclosureView, agency_keys: dict
) -> None:
    """The story's holds have all ended by its close: here one is open, reminded of, and
    then declined, so the index's holds and reminders are seen to come and go."""
    view = copied(viewed)
    fold = folder(story, agency_keys, view)
    pid = view.participants("cm")[0]
    now = view.now + timedelta(hours=1)
    deadline = now + timedelta(days=14)
    held = fold(
        ChargesHeld(
            case_ref="SAO-HOLD-1",
            charge_category=OffenceCategory.DRUG_POSSESSION,
            held_at=now,
            intake_deadline=deadline,
            window_days=14,
        ),
        "sao",
        pid,
        now,
    )
    reminder = IntakeDeadlineApproaching(
        case_ref="SAO-HOLD-1", held_event_id=held, deadline=deadline, hours_before=24
    )
    reminded = fold(reminder, "hub", pid, deadline - timedelta(hours=24))
    for agency in ("cm", "sao"):
        assert [h.event_id for h in view.open_holds(agency) if h.participant_id == pid] == [held]
        assert [r.event_id for r in view.reminders(agency)] == [reminded]
    (row,) = view.caseload("cm", Query(hold=True), deadline - timedelta(hours=24))
    assert row.ids[0] == pid and row.needs[0].startswith("intake due in 24 h")
    fold(
        ChargesDeclined(
            case_ref="SAO-HOLD-1",
            decided_at=now + timedelta(days=2),
            reason=DeclineReason.INTAKE_COMPLETED,
        ),
        "sao",
        pid,
        now + timedelta(days=2),
    )
    assert view.open_holds("cm") == view.reminders("cm") == []
    assert view.caseload("cm", Query(hold=True), now + timedelta(days=2)) == []
