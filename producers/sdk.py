"""The agency-side publishing SDK: build a typed event, encode it, sign it, publish it.

An agency system needs only this (or, without Python, docs/protocol.md): the body is
encoded once, those bytes are signed, and the record goes to the agency's own ingest
topic keyed by participant, with CloudEvents headers for routers that do not read Avro.
The publishers are the hub's own (``hub.log.publishing``): one implementation of sealing
and sending, whoever sends.
"""

from __future__ import annotations

from hub.events import Envelope, EventBody
from hub.log import AsyncPublisher, Publisher

__all__ = ["AsyncPublisher", "Publisher", "json_submission"]


def json_submission(envelope: Envelope, body: EventBody) -> dict[str, object]:
    """The JSON form of a sealed event for the hub's HTTP API (POST /v1/events): the body
    in JSON, which the hub encodes against the schema into the same bytes ``seal`` signed,
    so the signature carries over unchanged."""
    import base64

    return {
        "event_id": str(envelope.event_id),
        "event_type": envelope.event_type,
        "key_id": envelope.key_id,
        "participant_id": envelope.participant_id,
        "occurred_at": envelope.occurred_at.isoformat(),
        "causation_id": str(envelope.causation_id) if envelope.causation_id else None,
        "correlation_id": str(envelope.correlation_id) if envelope.correlation_id else None,
        "body": body.model_dump(mode="json"),
        "signature": base64.b64encode(envelope.signature).decode(),
    }
