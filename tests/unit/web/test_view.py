"""The pages' view against what recipients actually received: for every agency, the inbox
holds exactly the notices on its topic, and each shows exactly the fields the sealed
notice carried when the recipient opened it. Nothing else can reach a page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.domain.notices import Notice, open_notice
from hub.domain.policy import PolicyBook
from hub.domain.processor import PartitionProcessor
from hub.events.envelope import sign_event
from hub.events.models import NoticeAcknowledged, RecordsViewed, ViewKind
from hub.events.topics import notify_topic
from hub.web.view import OWN, DisclosureView, redacted
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
