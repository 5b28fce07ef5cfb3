"""The yardsticks, on the same broker and the same records as the hub:

- raw: an aiokafka consumer that re-produces every record it reads, nothing else;
- plain faust: a faust agent that updates a table per key and fans out to two topics,
  with the hub's own faust settings (bench/plain_faust.py, a process of its own).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.workload import Record
from hub.log import read_topics


async def produce(bootstrap: Sequence[str], topic: str, records: Sequence[Record]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=list(bootstrap), acks="all", enable_idempotence=False, linger_ms=5
    )
    await producer.start()
    try:
        batch = [
            await producer.send(topic, value=r.value, key=r.key, headers=r.headers) for r in records
        ]
        await asyncio.gather(*batch)
    finally:
        await producer.stop()


async def raw_passthrough(
    bootstrap: Sequence[str], source: str, target: str, expected: int, partitions: int
) -> float:
    """Events per second: consume ``source`` from the start and re-produce to ``target``."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=list(bootstrap),
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=list(bootstrap), acks="all", enable_idempotence=False
    )
    await consumer.start()
    await producer.start()
    try:
        tps = [TopicPartition(source, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen, pending, started = 0, [], 0.0
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=1000)
            for messages in batches.values():
                if not started:
                    started = time.perf_counter()
                for m in messages:
                    headers = list(m.headers or ())
                    pending.append(
                        await producer.send(target, value=m.value, key=m.key, headers=headers)
                    )
                    seen += 1
        await asyncio.gather(*pending)
        return expected / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


def plain_faust(
    bootstrap: Sequence[str], source: str, expected: int, data_dir: Path
) -> tuple[float, float]:
    """(events per second, seconds from start to the first output) of the plain agent."""
    data_dir.mkdir(parents=True, exist_ok=True)
    spawned = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.plain_faust", ",".join(bootstrap), source, str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "faust.log").open("wb"),
    )
    try:
        outputs = wait_for_outputs(
            bootstrap, ["bench.faust.out1", "bench.faust.out2"], 2 * expected
        )
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return rate_of(outputs, expected), min(outputs) / 1000 - spawned


def end_offsets(bootstrap: Sequence[str], topics: Sequence[str]) -> int:
    """The sum of the topics' last stable offsets: one cheap request, where reading the
    records costs a core. Transaction markers count too, so it is at least the number of
    committed records."""
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KafkaTP

    consumer = KafkaConsumer(bootstrap_servers=list(bootstrap), isolation_level="read_committed")
    try:
        tps = [KafkaTP(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t))]
        return sum(consumer.end_offsets(tps).values())
    finally:
        consumer.close()


def wait_for_outputs(
    bootstrap: Sequence[str], topics: Sequence[str], at_least: int, timeout_s: float = 300
) -> list[int]:
    """Broker timestamps (ms) of the outputs, once there are ``at_least`` of them. The
    topics are read only when their end offsets could hold that many, and again only when
    they have grown: reading them over and over would take a core from what is measured."""
    deadline = time.monotonic() + timeout_s
    stamps: list[int] = []
    read_at = -1
    while time.monotonic() < deadline:
        ends = end_offsets(bootstrap, topics)
        if ends >= at_least and ends != read_at:
            read_at = ends
            stamps = [r.timestamp for r in read_topics(bootstrap, topics)]
            if len(stamps) >= at_least:
                return stamps
        time.sleep(0.25)
    raise RuntimeError(f"only {len(stamps)} of {at_least} outputs on {topics} in time")


def rate_of(stamps: Sequence[int], events: int) -> float:
    """Events per second over the span of the outputs' broker timestamps."""
    return events / max((max(stamps) - min(stamps)) / 1000, 1e-3)
