"""Why an event is refused. Every reason is a stable, machine-readable code: it goes on the
dead-letter topic, into metrics and into docs/protocol.md, so codes are never renamed."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    MALFORMED = "MALFORMED"  # bytes are not the Avro they claim to be
    UNKNOWN_SCHEMA = "UNKNOWN_SCHEMA"  # fingerprint names no schema the hub knows
    OVERSIZED = "OVERSIZED"  # larger than limits.max_event_bytes
    UNEXPECTED_SCHEMA = "UNEXPECTED_SCHEMA"  # a known schema, but not the one this place takes
    INVALID_EVENT = "INVALID_EVENT"  # decodes, but breaks a semantic rule of the event type
    MISSING_SIGNATURE = "MISSING_SIGNATURE"
    BAD_SIGNATURE = "BAD_SIGNATURE"  # also: unknown key, wrong key, tampered bytes
    UNKNOWN_AGENCY = "UNKNOWN_AGENCY"
    TYPE_NOT_ALLOWED = "TYPE_NOT_ALLOWED"  # the source agency may not emit this event type
    HEADER_MISMATCH = "HEADER_MISMATCH"  # CloudEvents headers or key disagree with the envelope
    DUPLICATE = "DUPLICATE"  # an event id the hub has already accepted
    WRONG_TOPIC = "WRONG_TOPIC"  # source agency is not the owner of the ingest topic
    UNRELEASED_SCHEMA = "UNRELEASED_SCHEMA"  # written with a schema not yet released
    INVALID_PARTICIPANT_ID = "INVALID_PARTICIPANT_ID"  # not an id the hub issues (check symbol)
    BAD_SEALED_FIELD = "BAD_SEALED_FIELD"  # a field sealed to an intake key does not open


class EventError(Exception):
    """Base of every refusal of input; carries its reason code and a one-line detail
    that never quotes payload contents."""

    reason: Reason = Reason.MALFORMED

    def __init__(self, detail: str, reason: Reason | None = None) -> None:
        super().__init__(detail)
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.args[0]}"


class MalformedPayload(EventError):
    reason = Reason.MALFORMED


class UnknownSchema(EventError):
    reason = Reason.UNKNOWN_SCHEMA


class OversizedPayload(EventError):
    reason = Reason.OVERSIZED


class UnexpectedSchema(EventError):
    reason = Reason.UNEXPECTED_SCHEMA


class InvalidEvent(EventError):
    reason = Reason.INVALID_EVENT


class SignatureError(EventError):
    reason = Reason.BAD_SIGNATURE


class HeaderMismatch(EventError):
    reason = Reason.HEADER_MISMATCH
