"""The hub itself: its worker process with every guarantee on (decode, signature check,
deduplication, policy and consent, timeline, sealing under epoch keys, signed notices,
audit records, the Merkle notary), fed the same records as the baselines; then latency at a
fixed load, and the auditor's replay and verification over what it wrote."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.baselines import end_offsets, rate_of, wait_for_outputs
from bench.workload import Record
from hub.audit import Auditor, processes_for, read_log
from hub.config import Settings
from hub.context import HubContext
from hub.events import AUDIT, EVENTS, Codec, notify_topic
from hub.log import read_topics

RECIPIENTS = ("bpd", "sao", "opd", "cm", "bchd", "tx", "hsg")
NOTIFY = [notify_topic(a) for a in RECIPIENTS]


def throughput(
    bootstrap: Sequence[str], records: Sequence[Record], spawned: float
) -> dict[str, float]:
    """Events per second from the first canonical record to the last output, once every
    event is on lead.events and the outputs have stopped growing; and seconds from the
    worker's spawn to its first canonical record (ready)."""
    events = wait_for_outputs(bootstrap, [EVENTS], len(records) + 1)
    ends, previous = end_offsets(bootstrap, [AUDIT, *NOTIFY]), -1
    while ends != previous:  # the last events' steps may still be running
        time.sleep(1.5)
        ends, previous = end_offsets(bootstrap, [AUDIT, *NOTIFY]), ends
    settled = [r.timestamp for r in read_topics(bootstrap, [AUDIT, *NOTIFY])]
    first = min(events)
    return {
        "events_per_s": rate_of([first, max(settled + events)], len(records)),
        "ready_s": first / 1000 - spawned,
        "outputs": float(len(settled)),
    }


async def _paced(
    bootstrap: Sequence[str], records: Sequence[Record], per_s: float
) -> dict[str, float]:
    producer = AIOKafkaProducer(
        bootstrap_servers=list(bootstrap), acks="all", enable_idempotence=False
    )
    await producer.start()
    sent: dict[str, float] = {}
    try:
        started = time.perf_counter()
        for i, r in enumerate(records):
            delay = started + i / per_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[r.event_id] = time.time()
            await producer.send(r.topic, value=r.value, key=r.key, headers=r.headers)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def latency(
    bootstrap: Sequence[str], codec: Codec, records: Sequence[Record], per_s: float
) -> dict[str, float]:
    """Publish to sealed notice on the recipient's topic, at a fixed offered load."""
    sent = asyncio.run(_paced(bootstrap, records, per_s))
    deadline = time.monotonic() + 60
    latencies: list[float] = []
    previous = -1
    while time.monotonic() < deadline:
        latencies = []
        for r in read_topics(bootstrap, NOTIFY):
            event_id = str(codec.decode(r.value, "notice").datum["event_id"])
            if event_id in sent:
                latencies.append(r.timestamp - sent[event_id] * 1000)
        if latencies and len(latencies) == previous:
            break
        previous = len(latencies)
        time.sleep(1.5)  # the last events' notices may still be on their way
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {
        "offered_per_s": per_s,
        "events": float(len(records)),
        "notices": float(len(ordered)),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "mean_ms": statistics.fmean(ordered),
    }


def audit_rates(settings: Settings, bootstrap: Sequence[str]) -> dict[str, Any]:
    started = time.perf_counter()
    log = read_log(settings, "kafka", bootstrap)
    read_s = time.perf_counter() - started
    auditor = Auditor(HubContext(settings), log, processes=processes_for(os.cpu_count()))
    started = time.perf_counter()
    findings, summary = auditor.replay_findings()
    replay_s = time.perf_counter() - started
    started = time.perf_counter()
    check = auditor.log_check()
    verify_s = time.perf_counter() - started
    records = len(log.events) + len(log.audit) + len(log.checkpoints)
    return {
        "events": summary["events"],
        "audit_records": summary["audit_records"],
        "raw_read_per_s": records / read_s,
        "replay_events_per_s": summary["events"] / replay_s,
        "verify_records_per_s": check.records / verify_s,
        "replay_findings": len(findings),
        "verify_intact": check.intact,
    }
