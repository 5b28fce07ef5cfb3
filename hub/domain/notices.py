"""From a permit to a sealed, signed notice.

The notice id is uuid5 of (event id, recipient): the same disclosure always has the same
id, so a recipient that reads its topic again (or an auditor comparing a replay) can
tell it from another, and a hub restored from its archive recognises what it already
sent. The content, sealed to the recipient, is canonical JSON of the projected
fields: minimum necessary, readable by any agency system without an Avro toolchain.
"""

from __future__ import annotations

import base64
import json
import struct
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.crypto import (
    EpochSealer,
    PublicKeys,
    SealError,
    SealingKey,
    SigningKey,
    open_epoch_sealed,
    open_sealed,
)
from hub.domain.policy import Decision, Policy
from hub.events import Envelope, SignatureError, epoch_micros

NOTICE_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0001")
NOTICE_SIGNING_TAG = b"LEADHUB-NOTICE-SIG-V1\x00"
NOTICE_INFO_TAG = b"LEADHUB-NOTICE-V1\x00"  # v1: HPKE info of a notice sealed on its own
NOTICE_AAD_TAG = b"LEADHUB-NOTICE-V2\x00"  # v2: AES-GCM associated data under an epoch key


@lru_cache(maxsize=1024)  # asked for by the audit record and by the notice of one decision
def notice_id(event_id: uuid.UUID, recipient: str) -> uuid.UUID:
    return uuid.uuid5(NOTICE_NAMESPACE, f"{event_id}/{recipient}")


def acknowledgement_id(notice: uuid.UUID) -> uuid.UUID:
    """The event id of a notice's acknowledgement through the pages: one per notice, so a
    second click is a repeat, not a second acknowledgement."""
    return uuid.uuid5(NOTICE_NAMESPACE, f"acknowledged/{notice}")


class Notice(BaseModel):
    """Mirrors schemas/notice.avsc."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice_id: uuid.UUID
    recipient: str
    event_id: uuid.UUID
    event_type: str
    participant_id: str
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    policy_version: str
    rule_id: str
    consent_id: uuid.UUID | None = None
    purpose: str
    recipient_key_id: str
    epoch_id: uuid.UUID | None = None
    wrapped_key: bytes | None = None
    sealed: bytes
    hub_key_id: str
    signature: Annotated[bytes, Field(max_length=64)]

    def signing_input(self) -> bytes:
        return notice_signing_input(self.model_dump(exclude={"signature"}))


SIGNED_FIELDS = tuple(name for name in Notice.model_fields if name != "signature")
EPOCH_FIELDS = ("epoch_id", "wrapped_key")
V1_SIGNED_FIELDS = tuple(name for name in SIGNED_FIELDS if name not in EPOCH_FIELDS)


def notice_signing_input(facts: Mapping[str, Any]) -> bytes:
    """A notice without an epoch (written as v1) was signed without the epoch fields."""
    names = SIGNED_FIELDS if facts.get("epoch_id") is not None else V1_SIGNED_FIELDS
    return length_prefixed(NOTICE_SIGNING_TAG, names, facts)


def length_prefixed(tag: bytes, names: tuple[str, ...], facts: Mapping[str, Any]) -> bytes:
    """What the hub signs of a record it writes (a notice, a receipt): ``tag``, then every
    field but the signature, in the schema's order, each as a big-endian uint32 length and
    its bytes: a time as 8 bytes of big-endian microseconds, bytes as they are, null as
    nothing, anything else as its text (an enum its symbol, a number in decimal)."""
    parts: list[bytes] = []
    for name in names:
        value = facts[name]
        if isinstance(value, datetime):
            raw = struct.pack(">q", epoch_micros(value))
        elif isinstance(value, bytes):
            raw = value
        elif isinstance(value, Enum):
            raw = str(value.value).encode()
        else:
            raw = b"" if value is None else str(value).encode()
        parts.append(struct.pack(">I", len(raw)) + raw)
    return tag + b"".join(parts)


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def erased_field(plaintext_type: Any) -> dict[str, Any]:
    """How a disclosed encrypted field reads once its participant's data key is destroyed
    (docs/protocol.md, 12.3): in a notice, and on the pages."""
    return {"plaintext_type": plaintext_type, "erased": True}


def content(envelope: Envelope, decision: Decision, policy: Policy) -> bytes:
    """The sealed part: the projected fields and the notices' texts, canonical JSON."""
    doc = {
        "event_id": str(envelope.event_id),
        "event_type": envelope.event_type,
        "participant_id": envelope.participant_id,
        "occurred_at": jsonable(envelope.occurred_at),
        "fields": jsonable(decision.fields),
        "notices": {n: policy.notices[n] for n in decision.notices},
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build_notice(
    envelope: Envelope,
    decision: Decision,
    policy: Policy,
    sealer: EpochSealer,
    hub_key: SigningKey,
) -> Notice:
    if not decision.permit or decision.rule_id is None or decision.purpose is None:
        raise ValueError("only a permit becomes a notice")
    if envelope.recorded_at is None:
        raise ValueError("only an accepted (stamped) event is disclosed")
    nid = notice_id(envelope.event_id, decision.recipient)
    sealed = sealer.seal(
        decision.recipient,
        content(envelope, decision, policy),
        NOTICE_AAD_TAG + nid.bytes,
        envelope.recorded_at.timestamp(),
    )
    facts: dict[str, Any] = {
        "notice_id": nid,
        "recipient": decision.recipient,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "participant_id": envelope.participant_id,
        "occurred_at": envelope.occurred_at,
        "recorded_at": envelope.recorded_at,
        "policy_version": policy.version,
        "rule_id": decision.rule_id,
        "consent_id": decision.consent_id,
        "purpose": decision.purpose,
        "recipient_key_id": sealed.recipient_key_id,
        "epoch_id": sealed.epoch_id,
        "wrapped_key": sealed.wrapped_key,
        "sealed": sealed.sealed,
        "hub_key_id": hub_key.key_id,
    }
    # every value is already of its field's type: no validation pass on the hot path
    return Notice.model_construct(**facts, signature=hub_key.sign(notice_signing_input(facts)))


def open_notice(notice: Notice, key: SealingKey, hub_keys: PublicKeys) -> dict[str, Any]:
    """What a recipient does: check the hub's signature, then open the content (under its
    epoch key, or, in a notice written as v1, with HPKE on its own)."""
    if not hub_keys.verify("hub", notice.hub_key_id, notice.signature, notice.signing_input()):
        raise SignatureError("notice is not signed by the hub")
    nid = notice.notice_id.bytes
    if notice.epoch_id is None:
        plain = open_sealed(notice.sealed, key.private, NOTICE_INFO_TAG + nid)
    elif notice.wrapped_key is None:
        raise SealError("notice names an epoch but carries no wrapped key")
    else:
        plain = open_epoch_sealed(
            notice.sealed, notice.wrapped_key, notice.epoch_id, key.private, NOTICE_AAD_TAG + nid
        )
    opened: dict[str, Any] = json.loads(plain)
    return opened
