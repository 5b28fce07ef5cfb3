"""What the hub's clock costs in wall-clock mode, on a simulated city: the scenario's events
arrive at their own times on the lead.events partitions their participants hash to (Kafka's
default partitioner, six partitions), each partition's processor folds them, and a tick is
sent to a partition whenever something there falls due before its next event, at the due
moment, as the worker's clock task does (hub.streams.runtime.keep_time; its once-per-interval
limit only merges ticks, so this counts at most as many). The hub events the ticks and the
traffic make due are folded back at once. Counted: ticks per partition per day against a
tick every minute, the audit records a tick makes (none: it is decided for no one), what
fell due, and the cost of folding a tick.

`python -m bench.clock [PARTICIPANTS]`; `make bench` runs it."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from kafka.partitioner.default import murmur2

from bench.memory import fake_seal
from hub.config import load_settings
from hub.context import HubContext
from hub.domain import CLOCK_TICKED, Due, PartitionProcessor, PolicyBook, audited
from hub.events import (
    EVENT_MODELS,
    SYSTEM_PARTICIPANT,
    ClockTicked,
    Envelope,
    EventBody,
)
from producers.simulator import plan

PARTITIONS = 6
MINUTES_PER_DAY = 24 * 60


def _envelope(
    event_type: str, source: str, pid: str, at: datetime, event_id: uuid.UUID
) -> Envelope:
    return Envelope(
        event_id=event_id,
        event_type=event_type,
        schema_fingerprint=bytes(8),
        source=source,
        key_id="k",
        participant_id=pid,
        occurred_at=at,
        recorded_at=at,
        payload=b"",
        signature=b"",
    )


def partition_of(participant_id: str) -> int:
    return int(murmur2(participant_id.encode()) & 0x7FFFFFFF) % PARTITIONS


def main(participants: int) -> dict[str, float]:
    hub = HubContext(load_settings())
    policy = hub.policy
    book = PolicyBook.of([policy]).apply(
        "policy_published", {"policy_version": policy.version, "policy_sha256": policy.sha256}
    )
    processors = [PartitionProcessor(book, hub.recipients) for _ in range(PARTITIONS)]
    scenario = plan(11, participants, lambda pid, event_id: fake_seal)
    publications = sorted(scenario.publications, key=lambda p: p.occurred_at)
    ticks, due, tick_decisions = Counter[int](), Counter[str](), 0
    tick_seconds = 0.0

    def fold_due(p: int, dues: Iterable[Due], at: datetime) -> None:
        """What fell due comes back through the gatekeeper at once and is folded too."""
        for d in dues:
            due[d.event_type] += 1
            hub_event = _envelope(d.event_type, "hub", d.participant_id, at, d.event_id)
            fold(p, hub_event, EVENT_MODELS[d.event_type].model_validate(d.body))

    def fold(p: int, envelope: Envelope, body: EventBody) -> None:
        at = envelope.recorded_at or envelope.occurred_at
        fold_due(p, processors[p].process(envelope, body).due, at)

    def tick_until(p: int, until: datetime) -> None:
        nonlocal tick_decisions, tick_seconds
        while (moment := processors[p].deadlines.next_due()) is not None and moment <= until:
            tick = _envelope(CLOCK_TICKED, "hub", SYSTEM_PARTICIPANT, moment, uuid.uuid4())
            started = time.perf_counter()
            outcome = processors[p].process(tick, ClockTicked(partition=p))
            tick_seconds += time.perf_counter() - started
            tick_decisions += len(audited(p, tick, outcome))
            ticks[p] += 1
            fold_due(p, outcome.due, moment)

    for pub in publications:
        p = partition_of(pub.participant_id)
        tick_until(p, pub.occurred_at)
        envelope = _envelope(
            pub.body.event_type, pub.agency, pub.participant_id, pub.occurred_at, pub.event_id
        )
        fold(p, envelope, pub.body)
    start, end = publications[0].occurred_at, publications[-1].occurred_at
    days = (end - start).total_seconds() / 86_400
    for p in range(PARTITIONS):  # each partition's clock up to the end of the period
        tick_until(p, end)
    total = sum(ticks.values())
    return {
        "participants": participants,
        "events": len(publications),
        "days": days,
        "partitions": PARTITIONS,
        "ticks": total,
        "ticks_per_partition_day": total / PARTITIONS / days,
        "ticks_per_partition_day_every_minute": MINUTES_PER_DAY,
        "audit_records_per_tick": tick_decisions / total if total else 0.0,
        "fold_us_per_tick": tick_seconds / total * 1e6 if total else 0.0,
        **{f"due.{k}": v for k, v in sorted(due.items())},
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)))
