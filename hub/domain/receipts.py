"""The hub's answer to each record an agency puts on its ingest topic: a signed receipt on
``lead.receipts.<agency>``, which only that agency may read.

Without it an agency publishing over Kafka cannot learn that the hub refused an event: it
may not read ``lead.rejected`` (which holds every agency's records whole). A receipt says
accepted (and where the event is on ``lead.events``) or rejected (the reason code and the
gatekeeper's one-line detail, which never quotes the payload), and carries no personal
data. Its id is uuid5 of the ingest record's position, so there is one receipt per record
however often the hub decides it. Pure: the stream jobs write what these functions build.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.crypto import PublicKeys, SigningKey
from hub.domain.notices import length_prefixed
from hub.domain.rejections import Rejection
from hub.events import Envelope

RECEIPT_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0005")
RECEIPT_SIGNING_TAG = b"LEADHUB-RECEIPT-SIG-V1\x00"


class ReceiptStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class Receipt(BaseModel):
    """Mirrors schemas/receipt.avsc."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receipt_id: uuid.UUID
    agency: str
    ingest_topic: str
    ingest_partition: int
    ingest_offset: int
    event_id: uuid.UUID | None = None
    participant_id: str | None = None
    status: ReceiptStatus
    events_partition: int | None = None
    events_offset: int | None = None
    reason: str | None = None
    detail: str | None = None
    decided_at: AwareDatetime
    hub_key_id: str
    signature: Annotated[bytes, Field(max_length=64)] = b""

    def signing_input(self) -> bytes:
        return length_prefixed(RECEIPT_SIGNING_TAG, SIGNED_FIELDS, dict(self))

    def signed(self, hub_key: SigningKey) -> Receipt:
        unsigned = self.model_copy(update={"hub_key_id": hub_key.key_id, "signature": b""})
        return unsigned.model_copy(update={"signature": hub_key.sign(unsigned.signing_input())})

    def verifies(self, hub_keys: PublicKeys) -> bool:
        return hub_keys.verify("hub", self.hub_key_id, self.signature, self.signing_input())


SIGNED_FIELDS = tuple(name for name in Receipt.model_fields if name != "signature")


def receipt_id(topic: str, partition: int, offset: int) -> uuid.UUID:
    return uuid.uuid5(RECEIPT_NAMESPACE, f"{topic}/{partition}/{offset}")


def parse_origin(origin: str) -> tuple[str, int, int]:
    """``<topic>/<partition>/<offset>`` (the leadhub-origin header) as its three parts."""
    topic, partition, offset = origin.rsplit("/", 2)
    return topic, int(partition), int(offset)


def _receipt(
    place: tuple[str, int, int], envelope: Envelope | None, hub_key: SigningKey, **outcome: Any
) -> Receipt:
    """A receipt for the ingest record at ``place`` (topic, partition, offset), signed."""
    topic, partition, offset = place
    return Receipt(
        receipt_id=receipt_id(topic, partition, offset),
        agency=topic.removeprefix("lead.ingest."),
        ingest_topic=topic,
        ingest_partition=partition,
        ingest_offset=offset,
        event_id=envelope.event_id if envelope else None,
        participant_id=envelope.participant_id if envelope else None,
        hub_key_id=hub_key.key_id,
        **outcome,
    ).signed(hub_key)


def accepted(
    origin: str, envelope: Envelope, events_partition: int, events_offset: int, hub_key: SigningKey
) -> Receipt:
    """The receipt of an event the gatekeeper admitted, once it is on lead.events."""
    assert envelope.recorded_at is not None  # stamped by the gatekeeper
    return _receipt(
        parse_origin(origin),
        envelope,
        hub_key,
        status=ReceiptStatus.ACCEPTED,
        events_partition=events_partition,
        events_offset=events_offset,
        decided_at=envelope.recorded_at,
    )


def rejected(rejection: Rejection, envelope: Envelope | None, hub_key: SigningKey) -> Receipt:
    """The receipt of a record the gatekeeper refused; ``envelope`` if it decoded."""
    return _receipt(
        (rejection.topic, rejection.partition, rejection.offset),
        envelope,
        hub_key,
        status=ReceiptStatus.REJECTED,
        reason=rejection.reason.value,
        detail=rejection.detail,
        decided_at=rejection.rejected_at,
    )
