"""Describing a topic's records as a person may see them: decoded, verified, redacted.
(Reading them is ``hub.log.reading.read_topics``.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

from kafka.consumer.fetcher import ConsumerRecord

from hub.crypto import PublicKeys
from hub.events import (
    ENCRYPTED,
    Codec,
    EventError,
    check_headers,
    decode_body,
    decode_envelope,
    verify,
)


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
