"""Publishing signed events: build a typed event, encode it, sign it, send it to the
publisher's own ingest topic keyed by participant, with CloudEvents headers for routers
that do not read Avro. The hub publishes its own events (policy, lapses) this way too;
agencies get it as ``producers.sdk``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from kafka import KafkaProducer

from hub.crypto import SigningKey
from hub.events import (
    Codec,
    Envelope,
    EventBody,
    cloudevents_headers,
    encode_envelope,
    ingest_topic,
    sign_event,
)


def _record(envelope: Envelope, codec: Codec) -> dict[str, Any]:
    """A sealed envelope as a Kafka record: keyed by participant, CloudEvents headers."""
    return {
        "key": envelope.participant_id.encode(),
        "value": encode_envelope(envelope, codec),
        "headers": cloudevents_headers(envelope),
    }


class Publisher:
    """Publishes one agency's events. Synchronous: ``publish`` returns once the broker
    has acknowledged the record (acks=all), so a returned envelope is durable."""

    def __init__(
        self,
        *,
        key: SigningKey,
        codec: Codec,
        bootstrap_servers: Sequence[str],
        client_kwargs: dict[str, object] | None = None,
        ack_timeout_s: float = 30.0,
    ) -> None:
        self.key = key
        self.codec = codec
        self.topic = ingest_topic(key.agency)
        self._ack_timeout_s = ack_timeout_s
        self._producer = KafkaProducer(
            bootstrap_servers=list(bootstrap_servers),
            acks="all",
            # the broker drops a retried batch it already has: a publisher's retry never
            # writes an event twice (a publisher re-sending an event is the hub's to refuse)
            enable_idempotence=True,
            linger_ms=2,
            # back within a second of a broker's return, however long it was away
            reconnect_backoff_max_ms=1000,
            **(client_kwargs or {}),
        )
        # Learn the topic's partitions now: a wrong topic or a missing grant is an error
        # here, not at the first event, and no send waits for metadata later (under a
        # storm of broker restarts, one such wait in a send once ran out its 60 s)
        self._producer.partitions_for(self.topic)

    def publish(
        self,
        body: EventBody,
        *,
        participant_id: str,
        occurred_at: datetime,
        event_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        correlation_id: uuid.UUID | None = None,
    ) -> Envelope:
        envelope = sign_event(
            body,
            codec=self.codec,
            key=self.key,
            participant_id=participant_id,
            occurred_at=occurred_at,
            event_id=event_id,
            causation_id=causation_id,
            correlation_id=correlation_id,
        )
        self.send(envelope)
        return envelope

    def send(self, envelope: Envelope) -> tuple[int, int]:
        """Publish an already sealed envelope (e.g. a retry after a timeout: same event id);
        its (partition, offset) on the ingest topic, which its receipt names."""
        future = self._producer.send(self.topic, **_record(envelope, self.codec))
        sent = future.get(timeout=self._ack_timeout_s)
        return sent.partition, sent.offset

    def close(self) -> None:
        self._producer.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncPublisher:
    """The asyncio twin of Publisher, on aiokafka, for agency services that are async.
    ``client_kwargs`` in aiokafka's spelling: ``hub.streams.credentials.aiokafka_kwargs``
    turns the config's broker.security into it (an SSL context, not file names)."""

    def __init__(
        self,
        *,
        key: SigningKey,
        codec: Codec,
        bootstrap_servers: Sequence[str],
        client_kwargs: dict[str, object] | None = None,
    ) -> None:
        from aiokafka import AIOKafkaProducer

        self.key = key
        self.codec = codec
        self.topic = ingest_topic(key.agency)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=list(bootstrap_servers),
            acks="all",
            enable_idempotence=True,  # see Publisher
            **(client_kwargs or {}),
        )

    async def start(self) -> AsyncPublisher:
        await self._producer.start()
        return self

    async def publish(
        self,
        body: EventBody,
        *,
        participant_id: str,
        occurred_at: datetime,
        event_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        correlation_id: uuid.UUID | None = None,
    ) -> Envelope:
        envelope = sign_event(
            body,
            codec=self.codec,
            key=self.key,
            participant_id=participant_id,
            occurred_at=occurred_at,
            event_id=event_id,
            causation_id=causation_id,
            correlation_id=correlation_id,
        )
        await self._producer.send_and_wait(self.topic, **_record(envelope, self.codec))
        return envelope

    async def stop(self) -> None:
        await self._producer.stop()

    async def __aenter__(self) -> AsyncPublisher:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
