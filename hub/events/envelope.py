"""The envelope: routing facts, the exact payload bytes, and the agency's signature.

What is signed (docs/protocol.md, "Signing input"): a domain tag, then each signed field
as a 4-byte big-endian length and its bytes, payload last. The signature is over the
bytes the agency produced, never over a re-serialisation, so any Avro library can check
it and no canonicalisation bug can make two different events share a signature.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.crypto import KEY_ID, PublicKeys, SigningKey
from hub.events.codec import Codec
from hub.events.errors import (
    HeaderMismatch,
    InvalidEvent,
    MalformedPayload,
    Reason,
    SignatureError,
    UnexpectedSchema,
)
from hub.events.models import EVENT_MODELS, EncryptedField, EventBody
from hub.events.schemas import ENVELOPE

SIGNING_TAG = b"LEADHUB-EVENT-SIG-V1\x00"
CE_SPECVERSION = "1.0"
CE_TYPE_PREFIX = "org.leadhub."
CE_SOURCE_PREFIX = "/leadhub/agencies/"
CONTENT_TYPE = "application/avro"
NOTE_TEXT = "text/plain; charset=utf-8"  # a signed checkpoint (C2SP signed note)
# Events about no one participant (policy_published) carry this reserved participant id.
SYSTEM_PARTICIPANT = "SYSTEM"

Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class Envelope(BaseModel):
    """Mirrors schemas/envelope.avsc field for field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    event_type: Identifier
    schema_fingerprint: Annotated[bytes, Field(min_length=8, max_length=8)]
    source: Identifier
    key_id: Annotated[str, Field(pattern=KEY_ID.pattern)]
    participant_id: Identifier
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime | None = None
    causation_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None
    payload: bytes
    signature: bytes
    resealed: EncryptedField | None = None

    def signing_input(self) -> bytes:
        return signing_input(
            event_id=self.event_id,
            event_type=self.event_type,
            source=self.source,
            key_id=self.key_id,
            participant_id=self.participant_id,
            occurred_at=self.occurred_at,
            causation_id=self.causation_id,
            correlation_id=self.correlation_id,
            schema_fingerprint=self.schema_fingerprint,
            payload=self.payload,
        )


def epoch_micros(t: datetime) -> int:
    delta = t.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def signing_input(
    *,
    event_id: uuid.UUID,
    event_type: str,
    source: str,
    key_id: str,
    participant_id: str,
    occurred_at: datetime,
    causation_id: uuid.UUID | None,
    correlation_id: uuid.UUID | None,
    schema_fingerprint: bytes,
    payload: bytes,
) -> bytes:
    fields: list[bytes] = [
        str(event_id).encode(),
        event_type.encode(),
        source.encode(),
        key_id.encode(),
        participant_id.encode(),
        struct.pack(">q", epoch_micros(occurred_at)),
        str(causation_id).encode() if causation_id else b"",
        str(correlation_id).encode() if correlation_id else b"",
        schema_fingerprint,
        payload,
    ]
    return SIGNING_TAG + b"".join(struct.pack(">I", len(f)) + f for f in fields)


def sign_event(
    body: EventBody,
    *,
    codec: Codec,
    key: SigningKey,
    participant_id: str,
    occurred_at: datetime,
    event_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
    correlation_id: uuid.UUID | None = None,
) -> Envelope:
    """Encode the body once and sign those very bytes with the agency's key."""
    payload = codec.encode(body.event_type, body.model_dump())
    facts: dict[str, Any] = {
        "event_id": event_id or uuid.uuid4(),
        "event_type": body.event_type,
        "source": key.agency,
        "key_id": key.key_id,
        "participant_id": participant_id,
        "occurred_at": occurred_at,
        "causation_id": causation_id,
        "correlation_id": correlation_id,
        "schema_fingerprint": payload[2:10],
        "payload": payload,
    }
    return Envelope(**facts, signature=key.sign(signing_input(**facts)))


def verify(envelope: Envelope, keys: PublicKeys) -> None:
    """Raise SignatureError unless the source agency's key signed exactly these facts."""
    if not envelope.signature:
        raise SignatureError("event is not signed", Reason.MISSING_SIGNATURE)
    if envelope.payload[2:10] != envelope.schema_fingerprint:
        raise SignatureError("schema_fingerprint differs from the payload header")
    if keys.get(envelope.source, envelope.key_id) is None:
        raise SignatureError(f"no key {envelope.key_id!r} registered for {envelope.source!r}")
    if not keys.verify(
        envelope.source, envelope.key_id, envelope.signature, envelope.signing_input()
    ):
        raise SignatureError(f"signature does not verify with {envelope.source}/{envelope.key_id}")


def encode_envelope(envelope: Envelope, codec: Codec) -> bytes:
    return codec.encode(ENVELOPE, envelope.model_dump())


def decode_envelope(data: bytes, codec: Codec, *, canonical: bool = True) -> Envelope:
    decoded = codec.decode(data, ENVELOPE, canonical=canonical)
    try:
        return Envelope.model_validate(decoded.datum)
    except ValidationError as exc:
        raise InvalidEvent(f"envelope: {_first_error(exc)}") from None


def decode_body(envelope: Envelope, codec: Codec, *, canonical: bool = True) -> EventBody:
    """The typed body, checked against the envelope's event type and semantic rules."""
    decoded = codec.decode(envelope.payload, canonical=canonical)
    if decoded.writer.fingerprint != envelope.schema_fingerprint:
        raise MalformedPayload("payload header disagrees with schema_fingerprint")
    if decoded.reader.subject != envelope.event_type:
        raise UnexpectedSchema(
            f"envelope says {envelope.event_type}, payload is {decoded.reader.subject}"
        )
    model = EVENT_MODELS.get(envelope.event_type)
    if model is None:  # a shared type or the envelope itself is not an event
        raise UnexpectedSchema(f"{envelope.event_type!r} is not an event type")
    try:
        body = model.model_validate(decoded.datum)
    except ValidationError as exc:
        raise InvalidEvent(f"{envelope.event_type}: {_first_error(exc)}") from None
    return body if envelope.resealed is None else with_resealed(body, envelope.resealed)


SEALED_PREFIX = "sealed_"  # sealed_identity is identity sealed to the hub's intake key


def sealed_fields(body: EventBody) -> list[tuple[str, Any]]:
    """The body's fields sealed to the hub's intake key that are set, by name."""
    return [
        (name, getattr(body, name))
        for name in type(body).model_fields
        if name.startswith(SEALED_PREFIX) and getattr(body, name) is not None
    ]


def with_resealed(body: EventBody, resealed: EncryptedField) -> EventBody:
    """The body as every reader of lead.events sees it: the field the agency sealed to the
    intake key replaced by the hub's re-encryption under the participant's data key, so
    nothing downstream ever meets an intake-sealed field (nor needs an intake key)."""
    sealed = sealed_fields(body)
    if len(sealed) != 1:
        raise InvalidEvent(f"resealed is set but the body has {len(sealed)} sealed fields")
    name = sealed[0][0]
    return body.model_copy(update={name: None, name.removeprefix(SEALED_PREFIX): resealed})


MAX_REPORTED_ERRORS = 100


def _first_error(exc: ValidationError) -> str:
    count = exc.error_count()
    if count > MAX_REPORTED_ERRORS:  # building every error's report would cost more than
        return f"{count} validation errors"  # the payload's own bound allows (a list bomb)
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "(record)"
    return f"{where}: {first['msg']}"


def cloudevents_headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    """CloudEvents 1.0 Kafka binary-mode attributes, so routers need not decode Avro: the
    set every record carries, with the event's time before ``content-type``."""
    headers = record_headers(str(envelope.event_id), envelope.event_type, envelope.source)
    time = envelope.occurred_at.astimezone(UTC).isoformat().encode()
    return [*headers[:-1], ("ce_time", time), headers[-1]]


def record_headers(
    record_id: str, record_type: str, source: str, content_type: str = CONTENT_TYPE
) -> list[tuple[str, bytes]]:
    """CloudEvents 1.0 binary-mode attributes for a record that is not an agency's event (a
    notice, an audit decision, a checkpoint): every record on the hub's topics reads as a
    CloudEvent, so an agency's router or a broker tool needs nothing of ours to sort it."""
    return [
        ("ce_specversion", CE_SPECVERSION.encode()),
        ("ce_id", record_id.encode()),
        ("ce_source", f"{CE_SOURCE_PREFIX}{source}".encode()),
        ("ce_type", f"{CE_TYPE_PREFIX}{record_type}".encode()),
        ("content-type", content_type.encode()),
    ]


def is_cloudevent(headers: Iterable[tuple[str, bytes]]) -> bool:
    """Whether Kafka headers make a valid CloudEvents 1.0 binary-mode event: the required
    attributes present and non-empty, version 1.0, a time (if any) in RFC 3339, and every
    header UTF-8 (the SDKs decode them all)."""
    found: dict[str, str] = {}
    for k, v in headers:
        try:
            found[k] = v.decode("utf-8")
        except UnicodeDecodeError:
            return False
    if found.get("ce_specversion") != CE_SPECVERSION:
        return False
    if not all(found.get(f"ce_{name}") for name in ("id", "source", "type")):
        return False
    if "ce_time" in found:
        try:
            datetime.fromisoformat(found["ce_time"])
        except ValueError:
            return False
    return True


def check_headers(
    headers: Iterable[tuple[str, bytes]], key: bytes | None, envelope: Envelope
) -> None:
    """Headers and key are unsigned hints: they must agree with the signed envelope."""
    expected = dict(cloudevents_headers(envelope))
    got: Mapping[str, bytes] = dict(headers)
    for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "content-type"):
        if got.get(name) != expected[name]:
            raise HeaderMismatch(f"header {name} missing or disagrees with the envelope")
    if key != envelope.participant_id.encode():
        raise HeaderMismatch("record key is not the envelope's participant_id")
