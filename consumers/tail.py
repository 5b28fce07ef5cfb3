"""Reading a topic from the start and describing each record: decoded, verified, redacted.

Reads assigned partitions (no consumer group, so nothing waits for a rebalance) up to
their ends as they were when reading began: ``read_committed`` end offsets, so a step's
transaction still open then is neither waited for nor half read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from hub.crypto.signing import PublicKeys
from hub.errors import BrokerError
from hub.events.codec import Codec
from hub.events.envelope import check_headers, decode_body, decode_envelope, verify
from hub.events.errors import EventError

ENCRYPTED = "<encrypted>"


def read_topics(
    bootstrap_servers: Sequence[str],
    topics: Sequence[str],
    *,
    client_kwargs: dict[str, object] | None = None,
    limit: int | None = None,
    follow: bool = False,
) -> Iterator[ConsumerRecord]:
    """Every committed record of ``topics``, partition by partition in offset order within
    each, up to the ends they had when called (``follow``: and then on, as they arrive)."""
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


@dataclass
class Described:
    """One record as a person may see it: never identity or note plaintext."""

    partition: int
    offset: int
    headers: dict[str, str]
    ok: bool
    reason: str = ""
    event_type: str = ""
    source: str = ""
    participant_id: str = ""
    event_id: str = ""
    occurred_at: str = ""
    body: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        if {"plaintext_type", "ciphertext"} <= value.keys():
            return ENCRYPTED
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | UUID):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    return value


def describe(record: ConsumerRecord, codec: Codec, keys: PublicKeys) -> Described:
    headers = {k: v.decode(errors="replace") for k, v in record.headers or []}
    out = Described(record.partition, record.offset, headers, ok=False)
    try:
        envelope = decode_envelope(record.value, codec)
        out.event_type, out.source = envelope.event_type, envelope.source
        out.participant_id, out.event_id = envelope.participant_id, str(envelope.event_id)
        out.occurred_at = envelope.occurred_at.isoformat()
        check_headers(record.headers or [], record.key, envelope)
        verify(envelope, keys)
        body = decode_body(envelope, codec)
    except EventError as exc:
        out.reason = str(exc)
        return out
    out.ok = True
    out.body = _redact(body.model_dump())
    return out
