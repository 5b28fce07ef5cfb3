"""Where a topic's partitions end now, as a reader with the same credentials sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kafka import KafkaConsumer, TopicPartition


def end_offsets(
    bootstrap: Sequence[str], topic: str, partitions: int, client_kwargs: Mapping[str, object]
) -> dict[int, int]:
    consumer = KafkaConsumer(
        bootstrap_servers=list(bootstrap), enable_auto_commit=False, **client_kwargs
    )
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: n for tp, n in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()
