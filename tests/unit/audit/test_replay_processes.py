"""Replay across processes: partitions are independent, so replaying runs of them in
forked processes and joining the results gives the same replay as one process, byte for
byte, findings and their order included."""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import replace

from hub.audit.replay import Replay, diff, replay_events
from hub.events.envelope import decode_envelope, encode_envelope
from hub.events.topics import AUDIT, EVENTS
from tests.support.histories import RECIPIENTS
from tests.support.stories import POLICY, Logged, Story

PARTITIONS = 6


def logged(story: Story) -> list[Logged]:
    """The story's lead.events spread over six partitions by participant (the policy's
    publication in each), with a forged signature and an unreadable
    record in two different partitions (findings of both kinds from more than one
    process)."""
    offsets: Counter[int] = Counter()
    records = []
    for o in story.bus.topics[EVENTS]:
        if dict(o.headers)["ce_type"].endswith(b"policy_published"):
            partitions = list(range(PARTITIONS))  # as the gatekeeper writes a broadcast
        else:
            partitions = [zlib.crc32(o.key or b"") % PARTITIONS]
        for partition in partitions:
            records.append(Logged(EVENTS, partition, offsets[partition], o.value, o.key, o.headers))
            offsets[partition] += 1
    assert len(offsets) > 2, "the story's events span several partitions"
    last = max(offsets)
    forged = next(i for i, r in enumerate(records) if r.partition == last)
    envelope = decode_envelope(records[forged].value, story.codec)
    bad = encode_envelope(envelope.model_copy(update={"signature": bytes(64)}), story.codec)
    records[forged] = replace(records[forged], value=bad)
    first = max(i for i, r in enumerate(records) if r.partition == min(offsets))
    records[first] = replace(records[first], value=b"\xc3\x01 not avro")
    return records


def replayed(story: Story, records: list[Logged], processes: int) -> Replay:
    return replay_events(
        records, story.codec, story.agency_keys, [POLICY], RECIPIENTS, processes=processes
    )


def test_replay_in_processes_equals_replay_in_one(story: Story) -> None:
    records = logged(story)
    one = replayed(story, records, 1)
    assert len(one.findings) == 2 and one.events > 1000 and one.disclosed
    for processes in (2, 4):
        many = replayed(story, records, processes)
        for name in (
            "records",
            "decisions",
            "decided_on",
            "disclosed",
            "joins",
            "findings",
            "events",
        ):
            assert getattr(many, name) == getattr(one, name), name
        assert list(many.decisions) == list(one.decisions)  # the same order too
        assert list(many.envelopes.items()) == list(one.envelopes.items())
        assert many.envelopes.repeats == one.envelopes.repeats > 0  # the policy's copies
        assert list(many.due.items()) == list(one.due.items())
        assert many.processors.keys() == one.processors.keys()
        for partition, processor in one.processors.items():  # the state each ends in
            other = many.processors[partition]
            assert vars(other.deadlines) == vars(processor.deadlines)  # no __eq__ of its own
            assert replace(other, deadlines=processor.deadlines) == processor
        audit = [
            Logged(AUDIT, 0, i, o.value, o.key, o.headers)
            for i, o in enumerate(story.bus.topics[AUDIT])
        ]
        assert diff(many, audit, story.codec) == diff(one, audit, story.codec)


def test_records_out_of_order_replay_in_partition_order(story: Story) -> None:
    records = logged(story)
    shuffled = sorted(records, key=lambda r: (r.offset, -r.partition))
    assert shuffled != records
    one, again = replayed(story, records, 1), replayed(story, shuffled, 2)
    assert list(again.decisions.items()) == list(one.decisions.items())
    assert again.findings == one.findings
