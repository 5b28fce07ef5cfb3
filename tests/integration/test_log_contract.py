"""What the hub needs from its log, checked on both implementations it runs on: the
single embedded node and a three-node cluster (replication 3, min ISR 2). One contract,
one class of tests, one subclass per implementation: a promise that holds on one and not
the other fails here, not in an end-to-end test that only shows its consequence.

The promises are those the hub's code relies on: acknowledged records read back once, in
order, with end offsets that count them (batched writes included); a transaction's records
and the consumer offsets it carries commit together or not at all; a timestamp finds its
offset; a ``read_committed`` reader sees no aborted record."""

from __future__ import annotations

import asyncio
import uuid
from typing import ClassVar

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from hub.log.broker import EmbeddedBroker
from hub.log.kafka_cluster import EmbeddedCluster
from hub.log.reading import read_topics
from tests.support.offsets import end_offsets

pytestmark = pytest.mark.integration

PARTITIONS = 3

Log = EmbeddedBroker | EmbeddedCluster


def _topic(log: Log) -> str:
    """A new topic, its replication the implementation's default (1, or 3 in a cluster)."""
    name = f"contract-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=log.bootstrap_servers, **log.client_kwargs())
    try:
        admin.create_topics([NewTopic(name, PARTITIONS, -1)])
    finally:
        admin.close()
    return name


def _values(log: Log, topic: str) -> dict[int, list[bytes]]:
    """Every committed value of ``topic``, per partition, in offset order."""
    found: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
    for r in read_topics(log.bootstrap_servers, [topic], client_kwargs=log.client_kwargs()):
        found[r.partition].append(r.value)
    return found


class LogContract:
    """The contract; a subclass names the implementation in its ``log`` fixture."""

    kind: ClassVar[str]

    def test_acknowledged_batched_records_read_back_once_in_order(self, log: Log) -> None:
        topic = _topic(log)
        producer = KafkaProducer(
            bootstrap_servers=log.bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=20,  # batches of many records: the old broker miscounted those
            **log.client_kwargs(),
        )
        sent: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
        try:
            futures = []
            for i in range(600):
                p, value = i % PARTITIONS, f"{self.kind}-{i}".encode()
                futures.append(producer.send(topic, value, partition=p))
                sent[p].append(value)
            for f in futures:
                f.get(60)
        finally:
            producer.close()
        ends = end_offsets(log.bootstrap_servers, topic, PARTITIONS, log.client_kwargs())
        assert ends == {p: len(v) for p, v in sent.items()}
        assert _values(log, topic) == sent

    def test_a_transaction_commits_its_records_and_offsets_or_nothing(self, log: Log) -> None:
        topic, group = _topic(log), f"contract-{uuid.uuid4().hex[:8]}"
        asyncio.run(_three_transactions(log, topic, group))
        assert _values(log, topic)[0] == [b"kept-0", b"kept-1", b"kept-2"]
        consumer = KafkaConsumer(
            bootstrap_servers=log.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            **log.client_kwargs(),
        )
        try:
            # the last committed transaction's offset, not the aborted one's after it
            assert consumer.committed(TopicPartition(topic, 1)) == 7
        finally:
            consumer.close()

    def test_a_timestamp_finds_the_first_record_at_or_after_it(self, log: Log) -> None:
        topic = _topic(log)
        producer = KafkaProducer(
            bootstrap_servers=log.bootstrap_servers, acks="all", **log.client_kwargs()
        )
        base = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
        try:
            for i in range(10):
                producer.send(topic, b"t", partition=0, timestamp_ms=base + i * 1000).get(30)
        finally:
            producer.close()
        consumer = KafkaConsumer(
            bootstrap_servers=log.bootstrap_servers, enable_auto_commit=False, **log.client_kwargs()
        )
        try:
            tp = TopicPartition(topic, 0)
            found = consumer.offsets_for_times({tp: base + 4500})[tp]
            assert found is not None and (found.offset, found.timestamp) == (5, base + 5000)
            assert consumer.offsets_for_times({tp: base + 60_000})[tp] is None
        finally:
            consumer.close()


async def _three_transactions(log: Log, topic: str, group: str) -> None:
    """Committed, committed, aborted: each writes to partition 0 and carries an offset of
    partition 1 for ``group``."""
    from aiokafka import AIOKafkaProducer
    from aiokafka import TopicPartition as KafkaTP

    producer = AIOKafkaProducer(
        bootstrap_servers=log.bootstrap_servers,
        transactional_id=f"{group}-txn",
        acks="all",
    )
    await producer.start()
    try:
        steps: list[tuple[list[bytes], int, bool]] = [
            ([b"kept-0", b"kept-1"], 3, True),
            ([b"kept-2"], 7, True),
            ([b"dropped-0", b"dropped-1"], 9, False),
        ]
        for values, offset, commit in steps:
            await producer.begin_transaction()
            for v in values:
                await producer.send(topic, v, partition=0)
            await producer.send_offsets_to_transaction({KafkaTP(topic, 1): offset}, group)
            if commit:
                await producer.commit_transaction()
            else:
                await producer.abort_transaction()
    finally:
        await producer.stop()


class TestTheEmbeddedNode(LogContract):
    kind = "node"

    @pytest.fixture
    def log(self, broker: EmbeddedBroker) -> Log:
        return broker


class TestAThreeNodeCluster(LogContract):
    kind = "cluster"

    @pytest.fixture
    def log(self, kafka_cluster: EmbeddedCluster) -> Log:
        return kafka_cluster
