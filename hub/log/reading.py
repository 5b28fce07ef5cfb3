"""Reading topics from the start, as the hub's own readers and every tool do.

Reads assigned partitions (no consumer group, so nothing waits for a rebalance) up to
their ends as they were when reading began: ``read_committed`` end offsets, so a step's
transaction still open then is neither waited for nor half read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from hub.errors import BrokerError


def read_topics(
    bootstrap_servers: Sequence[str],
    topics: Sequence[str],
    *,
    client_kwargs: dict[str, object] | None = None,
    limit: int | None = None,
    follow: bool = False,
    since: datetime | None = None,
) -> Iterator[ConsumerRecord]:
    """Every committed record of ``topics``, partition by partition in offset order within
    each, up to the ends they had when called (``follow``: and then on, as they arrive);
    ``since``: only those the broker timestamped at or after it."""
    consumer = KafkaConsumer(
        bootstrap_servers=list(bootstrap_servers),
        enable_auto_commit=False,
        isolation_level="read_committed",  # what the hub's transactions committed, only
        reconnect_backoff_max_ms=1000,  # not kafka-python's 30 s: a broker restarts in seconds
        **(client_kwargs or {}),
    )
    try:
        tps: list[TopicPartition] = []
        for topic in topics:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                raise BrokerError(f"topic {topic!r} does not exist")
            tps.extend(TopicPartition(topic, p) for p in sorted(partitions))
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        if since is not None:
            found = consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in tps})
            ends_now = consumer.end_offsets(tps)
            for tp in tps:  # no record that late: start at the end
                at = found.get(tp)
                consumer.seek(tp, at.offset if at is not None else ends_now[tp])
        # the last stable offsets (a read_committed consumer's end): past the markers of
        # the transactions committed by then, so the positions reach them exactly
        ends = {} if follow else consumer.end_offsets(tps)
        seen = 0
        while follow or (reading := [tp for tp in tps if consumer.position(tp) < ends[tp]]):
            if not follow:
                consumer.pause(*(tp for tp in tps if tp not in reading))
            batch = consumer.poll(timeout_ms=1000)
            for tp in sorted(batch):
                for record in batch[tp]:
                    if not follow and record.offset >= ends[tp]:
                        break  # committed since the call: not part of this reading
                    yield record
                    seen += 1
                    if limit is not None and seen >= limit:
                        return
    finally:
        consumer.close()
