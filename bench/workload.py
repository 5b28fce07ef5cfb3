"""The records the benchmarks feed the hub: a seeded LEAD scenario, signed by each agency,
encoded exactly as agencies publish them (identity really encrypted)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.crypto import SigningKey
from hub.events import (
    Codec,
    EncryptedField,
    Identity,
    Narrative,
    cloudevents_headers,
    encode_envelope,
    ingest_topic,
    seal_field,
    sign_event,
)
from producers.simulator import plan


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    event_id: str


def scenario_records(
    codec: Codec, keys: dict[str, SigningKey], participants: int, seed: int = 6
) -> list[Record]:
    def seal_for(pid: str, event_id: uuid.UUID) -> Callable[[Identity | Narrative], EncryptedField]:
        key = AESGCM.generate_key(bit_length=256)
        return lambda plain: seal_field(
            plain, participant_id=pid, key_id="dk-bench", key=key, codec=codec
        )

    records = []
    for p in plan(seed, participants, seal_for).publications:
        envelope = sign_event(
            p.body,
            codec=codec,
            key=keys[p.agency],
            participant_id=p.participant_id,
            occurred_at=p.occurred_at,
            event_id=p.event_id,
            causation_id=p.causation_id,
            correlation_id=p.correlation_id,
        )
        records.append(
            Record(
                ingest_topic(p.agency),
                p.participant_id.encode(),
                encode_envelope(envelope, codec),
                cloudevents_headers(envelope),
                str(p.event_id),
            )
        )
    return records
