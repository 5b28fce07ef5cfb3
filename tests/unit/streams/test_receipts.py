"""Every record an agency puts on its ingest topic gets exactly one signed receipt, on that
agency's receipts topic only: accepted with where the event is on lead.events, or rejected
with the dead letter's reason and detail. The seeded story (every good event, then the bad
input) through the real handlers, codec and signatures; no broker."""

from __future__ import annotations

from collections import Counter

from hub.crypto import PublicKeys
from hub.domain.receipts import Receipt, ReceiptStatus, receipt_id
from hub.events import EVENTS, HUB, REJECTED, decode_envelope, receipts_topic
from hub.streams.handlers import ORIGIN
from tests.support.histories import RECIPIENTS
from tests.support.stories import Story


def _receipts(story: Story) -> dict[str, list[Receipt]]:
    return {
        a: [
            Receipt.model_validate(story.codec.decode(o.value, "receipt").datum)
            for o in story.bus.topics[receipts_topic(a)]
        ]
        for a in RECIPIENTS
    }


def test_one_receipt_per_ingest_record_for_its_agency_alone(story: Story) -> None:
    receipts = _receipts(story)
    for agency in RECIPIENTS:
        records = story.bus.topics[f"lead.ingest.{agency}"]
        got = receipts[agency]
        assert sorted(r.ingest_offset for r in got) == list(range(len(records))), agency
        assert {r.agency for r in got} <= {agency}
        assert all(r.receipt_id == receipt_id(r.ingest_topic, 0, r.ingest_offset) for r in got)
    assert sum(map(len, receipts.values())) > 500  # the story is not vacuous
    assert receipts_topic(HUB) not in story.bus.topics  # the hub's own: on lead.events


def test_accepted_receipts_say_where_the_event_is(story: Story) -> None:
    events = story.bus.topics[EVENTS]
    for agency, got in _receipts(story).items():
        for r in (r for r in got if r.status is ReceiptStatus.ACCEPTED):
            assert r.events_partition == 0 and r.events_offset is not None
            record = events[r.events_offset]
            envelope = decode_envelope(record.value, story.codec)
            assert (envelope.event_id, envelope.participant_id) == (r.event_id, r.participant_id)
            assert envelope.recorded_at == r.decided_at and envelope.source == agency
            assert dict(record.headers)[ORIGIN].decode() == f"{r.ingest_topic}/0/{r.ingest_offset}"
            assert (r.reason, r.detail) == (None, None)


def test_rejected_receipts_say_what_the_dead_letter_says(story: Story) -> None:
    dead = {
        (h["leadhub-topic"], h["leadhub-offset"]): h
        for h in (
            {k: v.decode() for k, v in o.headers if k.startswith("leadhub-")}
            for o in story.bus.topics[REJECTED]
        )
    }
    rejected = [
        r for got in _receipts(story).values() for r in got if r.status is ReceiptStatus.REJECTED
    ]
    assert len(rejected) == len(dead) > 5
    reasons = Counter(r.reason for r in rejected)
    assert len(reasons) >= 4, reasons  # undecodable, unsigned, not allowed, duplicate...
    for r in rejected:
        letter = dead[(r.ingest_topic, str(r.ingest_offset))]
        assert (r.reason, r.detail) == (letter["leadhub-reason"], letter["leadhub-detail"])
        assert r.events_offset is None and r.events_partition is None
    assert any(r.event_id is None for r in rejected)  # a record that never decoded
    decoded = {r.reason for r in rejected if r.event_id is not None}
    assert {"TYPE_NOT_ALLOWED", "BAD_SIGNATURE", "DUPLICATE"} <= decoded, decoded


def test_receipts_are_signed_by_the_hub(story: Story) -> None:
    for got in _receipts(story).values():
        for r in got:
            assert r.verifies(story.hub_keys)
    r = next(r for got in _receipts(story).values() for r in got)
    forged = r.model_copy(update={"status": ReceiptStatus.REJECTED, "reason": "DUPLICATE"})
    assert not forged.verifies(story.hub_keys)
    assert not r.verifies(PublicKeys({}))
