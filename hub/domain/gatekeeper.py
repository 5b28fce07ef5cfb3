"""The gatekeeper's decision: is this ingest record a lawful, well-formed event?

Pure: bytes, headers, the registries and the set of ids already accepted in; an
``Accepted`` (the envelope, stamped with the hub's time, and its typed body) or a
``Rejected`` (a reason code and a one-line detail) out. It never raises on input, so the
stream agent that feeds it cannot be stopped by any record. The order of the checks is
part of the protocol (docs/protocol.md): cheap and unauthenticated first, the signature
before the body is trusted, duplicates last but for the sealed field (an accepted event's
opened then, so a retry of a bad event is still refused for what is wrong with it), which
is opened only for an event not yet accepted: its intake key may be gone since.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.crypto import PublicKeys
from hub.domain import participant_ids
from hub.domain.agencies import AgencyRegistry
from hub.events import (
    HUB,
    SYSTEM_PARTICIPANT,
    ChargesHeld,
    ClockTicked,
    Codec,
    Envelope,
    EventBody,
    EventError,
    FieldDecryptError,
    Identity,
    InvalidEvent,
    Narrative,
    ParticipantsLinked,
    Reason,
    check_headers,
    decode_body,
    decode_envelope,
    open_for_intake,
    sealed_fields,
    verify,
)

Clock = Callable[[Envelope], datetime]


def wall_clock(envelope: Envelope) -> datetime:
    """Production: recorded_at is when the hub accepted the event."""
    return datetime.now(UTC)


@dataclass
class LogClock:
    """Simulation and tests: the hub's time is the latest occurred_at it has accepted, so
    a scenario on a simulated calendar is stamped, decided and lapsed on that calendar."""

    now: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    def __call__(self, envelope: Envelope) -> datetime:
        self.now = max(self.now, envelope.occurred_at)
        return self.now


class IntakeKeys(Protocol):
    """The hub's intake private keys by key id (hub.crypto.intake.IntakeKeyring)."""

    def private(self, key_id: str) -> X25519PrivateKey | None: ...


class NoIntakeKeys:
    """A gatekeeper that holds no intake key refuses every sealed field."""

    def private(self, key_id: str) -> X25519PrivateKey | None:
        return None


@dataclass(frozen=True)
class Accepted:
    envelope: Envelope  # recorded_at stamped: this is what goes to lead.events
    body: EventBody
    # What the agency sealed to the intake key, opened: the hub re-encrypts it under the
    # participant's data key (envelope.resealed) before the event reaches lead.events.
    opened: Identity | Narrative | None = None


@dataclass(frozen=True)
class Screened:
    envelope: Envelope  # passed every check before the signature


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    detail: str
    # the record's envelope, if it decoded as one (for its receipt; unverified before the
    # signature check)
    envelope: Envelope | None = None


class Gatekeeper:
    def __init__(
        self,
        codec: Codec,
        agencies: AgencyRegistry,
        keys: PublicKeys,
        intake_window_days: int = 14,
        intake_keys: IntakeKeys | None = None,
        events_partitions: int | None = None,
    ) -> None:
        self.codec = codec
        self.events_partitions = events_partitions  # a clock tick names one of them
        self.agencies = agencies
        self.keys = keys
        self.intake_window = timedelta(days=intake_window_days)
        self.intake_keys = intake_keys or NoIntakeKeys()

    def admit(
        self,
        *,
        topic_agency: str,
        value: bytes | None,
        key: bytes | None,
        headers: Iterable[tuple[str, bytes]],
        clock: Clock,
        seen: Container[UUID],
    ) -> Accepted | Rejected:
        screened = self.screen(topic_agency=topic_agency, value=value, key=key, headers=headers)
        if isinstance(screened, Rejected):
            return screened
        return self.conclude(screened, self.check_signature(screened), clock=clock, seen=seen)

    # ``admit`` in three steps, for a stream agent that checks a batch's signatures on
    # other threads (Ed25519 verification releases the GIL) while its loop does other work:
    # ``screen`` every record, ``check_signature`` each screened one (thread-safe: it reads
    # only the key registry), then ``conclude`` them in their log order.

    def screen(
        self,
        *,
        topic_agency: str,
        value: bytes | None,
        key: bytes | None,
        headers: Iterable[tuple[str, bytes]],
    ) -> Screened | Rejected:
        """The checks that come before the signature."""
        try:
            return self._screen(topic_agency, value, key, list(headers))
        except EventError as exc:
            return Rejected(exc.reason, str(exc.args[0]))

    def check_signature(self, screened: Screened) -> Rejected | None:
        try:
            verify(screened.envelope, self.keys)
        except EventError as exc:
            return Rejected(exc.reason, str(exc.args[0]))
        return None

    def conclude(
        self,
        screened: Screened,
        signature: Rejected | None,
        *,
        clock: Clock,
        seen: Container[UUID],
    ) -> Accepted | Rejected:
        """The checks that come after the signature, given its outcome."""
        if signature is not None:
            return replace(signature, envelope=screened.envelope)
        try:
            return self._conclude(screened.envelope, clock, seen)
        except EventError as exc:
            return Rejected(exc.reason, str(exc.args[0]), screened.envelope)

    def _screen(
        self,
        topic_agency: str,
        value: bytes | None,
        key: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> Screened | Rejected:
        if not value:
            return Rejected(Reason.MALFORMED, "record has no value")
        envelope = decode_envelope(value, self.codec)
        try:
            self._route(envelope, topic_agency, value, key, headers)
        except EventError as exc:
            return Rejected(exc.reason, str(exc.args[0]), envelope)
        return Screened(envelope)

    def _route(
        self,
        envelope: Envelope,
        topic_agency: str,
        value: bytes,
        key: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        """The checks of a decoded envelope before its signature; raises the first failing."""
        for fp, what in ((value[2:10], "envelope"), (envelope.schema_fingerprint, "payload")):
            registry = self.codec.registry
            if registry.writer(bytes(fp)) is not None and not registry.is_released(bytes(fp)):
                raise EventError(f"{what} schema {bytes(fp).hex()}", Reason.UNRELEASED_SCHEMA)
        check_headers(headers, key, envelope)
        if envelope.source not in self.agencies:
            raise EventError(f"no agency {envelope.source!r}", Reason.UNKNOWN_AGENCY)
        if envelope.source != topic_agency:
            raise EventError(
                f"{envelope.source} published on {topic_agency}'s topic", Reason.WRONG_TOPIC
            )
        if not self.agencies.may_emit(envelope.source, envelope.event_type):
            raise EventError(
                f"{envelope.source} may not emit {envelope.event_type}", Reason.TYPE_NOT_ALLOWED
            )
        if not participant_ids.is_participant_id(envelope.participant_id) and (
            envelope.participant_id,
            envelope.source,
        ) != (SYSTEM_PARTICIPANT, HUB):
            raise EventError(
                "participant_id is not an id the hub issued (its check symbol fails: mistyped?)",
                Reason.INVALID_PARTICIPANT_ID,
            )
        if envelope.recorded_at is not None or envelope.resealed is not None:
            raise InvalidEvent("recorded_at and resealed are set by the hub: null on ingest")

    def _conclude(
        self, envelope: Envelope, clock: Clock, seen: Container[UUID]
    ) -> Accepted | Rejected:
        body = decode_body(envelope, self.codec)
        if isinstance(body, ChargesHeld) and (
            body.window_days != self.intake_window.days
            or body.intake_deadline != _plus(body.held_at, self.intake_window)
        ):
            raise InvalidEvent(
                f"charges_held: the site's intake window is {self.intake_window.days} days "
                "from held_at"
            )
        linked = getattr(body, "linked_participant_id", None)
        if linked is not None and (
            linked == envelope.participant_id or not participant_ids.is_participant_id(linked)
        ):
            raise InvalidEvent(
                f"{envelope.event_type}: linked_participant_id must be another id the hub issued"
            )
        if isinstance(body, ParticipantsLinked) and (body.basis == "AUTOMATIC") != (
            envelope.source == HUB
        ):
            raise InvalidEvent(
                "participants_linked: basis AUTOMATIC is the hub's own; an agency confirms "
                "(CONFIRMED)"
            )
        partitions = self.events_partitions
        if isinstance(body, ClockTicked) and partitions and body.partition >= partitions:
            raise InvalidEvent(f"clock_ticked: lead.events has no partition {body.partition}")
        if envelope.event_id in seen:  # its sealed field opened when it was accepted
            detail = f"event {envelope.event_id} was already accepted"
            return Rejected(Reason.DUPLICATE, detail, envelope)
        opened = self._open_sealed(envelope, body)
        stamped = envelope.model_copy(update={"recorded_at": clock(envelope)})
        return Accepted(stamped, body, opened)

    def _open_sealed(self, envelope: Envelope, body: EventBody) -> Identity | Narrative | None:
        """Open the field sealed to an intake key, if the body has one (at most one: the
        event types' rules allow a field or its sealed twin, and one such field per type)."""
        for name, field in sealed_fields(body):
            private = self.intake_keys.private(field.key_id)
            if private is None:
                raise EventError(
                    f"{name}: the hub holds no intake key {field.key_id!r} (unknown, or "
                    "destroyed after its epoch): seal to a key of the published set",
                    Reason.BAD_SEALED_FIELD,
                )
            try:
                return open_for_intake(
                    field,
                    participant_id=envelope.participant_id,
                    event_id=str(envelope.event_id),
                    private=private,
                    codec=self.codec,
                )
            except FieldDecryptError as exc:
                raise EventError(f"{name}: {exc}", Reason.BAD_SEALED_FIELD) from None
            except (EventError, ValueError):  # undecodable, or breaks the plaintext's rules
                kind = field.plaintext_type.lower()
                raise EventError(
                    f"{name}: opens, but is not a valid {kind}", Reason.BAD_SEALED_FIELD
                ) from None
        return None


def _plus(moment: datetime, span: timedelta) -> datetime | None:
    """``moment + span``, or None past the calendar's end (which no deadline equals)."""
    try:
        return moment + span
    except OverflowError:
        return None
