"""The wire contract, stated once, so that agencies, the hub and its auditors read the same
bytes the same way, years apart: the Avro schemas and the codec over them, the signed
envelope, the event models (generated from the schemas), the encrypted fields, the topic
names and the evolution gate that keeps old events readable. No I/O."""

from typing import TYPE_CHECKING

from hub.surface import lazy_surface

__all__ = [
    "AGENCY_PLACEHOLDER",
    "AUDIT",
    "CE_TYPE_PREFIX",
    "CHECKPOINTS",
    "COMMAND",
    "ENCRYPTED",
    "EVENTS",
    "EVENT_MODELS",
    "HUB",
    "MAGIC",
    "MODULE_PATH",
    "NOTE_TEXT",
    "REJECTED",
    "SYSTEM_PARTICIPANT",
    "ChargesHeld",
    "Codec",
    "DataKeyStore",
    "EncryptedField",
    "Envelope",
    "ErasureBasis",
    "EventBody",
    "EventError",
    "Identity",
    "IntakeWindowExpired",
    "InvalidEvent",
    "Narrative",
    "NoticeAcknowledged",
    "ParticipantErased",
    "PlaintextType",
    "PolicyPublished",
    "Purpose",
    "Reason",
    "RecordsViewed",
    "SchemaRegistry",
    "SignatureError",
    "TopicSpec",
    "ViewKind",
    "check",
    "check_headers",
    "check_topics_file",
    "cloudevents_headers",
    "decode_body",
    "decode_envelope",
    "encode_envelope",
    "epoch_micros",
    "ingest_topic",
    "load_lock",
    "load_topic_specs",
    "models",
    "notify_topic",
    "record_headers",
    "release",
    "render",
    "seal_field",
    "sign_event",
    "verify",
    "write",
]

# Loaded name by name (hub.surface): the generator of the models (python -m hub.events.codegen)
# is how a missing or broken models module is written again, so importing this package must
# not import the models (tests/unit/events: test_codegen, test_rules).
if TYPE_CHECKING:
    from hub.events import models
    from hub.events.codec import MAGIC, Codec
    from hub.events.codegen import COMMAND, MODULE_PATH, render, write
    from hub.events.envelope import (
        CE_TYPE_PREFIX,
        NOTE_TEXT,
        SYSTEM_PARTICIPANT,
        Envelope,
        check_headers,
        cloudevents_headers,
        decode_body,
        decode_envelope,
        encode_envelope,
        epoch_micros,
        record_headers,
        sign_event,
        verify,
    )
    from hub.events.errors import EventError, InvalidEvent, Reason, SignatureError
    from hub.events.evolution import check, release
    from hub.events.fields import ENCRYPTED, DataKeyStore, seal_field
    from hub.events.models import (
        EVENT_MODELS,
        ChargesHeld,
        EncryptedField,
        ErasureBasis,
        EventBody,
        Identity,
        IntakeWindowExpired,
        Narrative,
        NoticeAcknowledged,
        ParticipantErased,
        PlaintextType,
        PolicyPublished,
        Purpose,
        RecordsViewed,
        ViewKind,
    )
    from hub.events.schemas import SchemaRegistry, load_lock
    from hub.events.topics import (
        AGENCY_PLACEHOLDER,
        AUDIT,
        CHECKPOINTS,
        EVENTS,
        HUB,
        REJECTED,
        TopicSpec,
        check_topics_file,
        ingest_topic,
        load_topic_specs,
        notify_topic,
    )
else:
    __getattr__ = lazy_surface(
        __name__,
        {
            "hub.events.codec": ("Codec", "MAGIC"),
            "hub.events.codegen": ("COMMAND", "MODULE_PATH", "render", "write"),
            "hub.events.envelope": (
                "CE_TYPE_PREFIX",
                "Envelope",
                "NOTE_TEXT",
                "SYSTEM_PARTICIPANT",
                "check_headers",
                "cloudevents_headers",
                "decode_body",
                "decode_envelope",
                "encode_envelope",
                "epoch_micros",
                "record_headers",
                "sign_event",
                "verify",
            ),
            "hub.events.errors": ("EventError", "InvalidEvent", "Reason", "SignatureError"),
            "hub.events.evolution": ("check", "release"),
            "hub.events.fields": ("DataKeyStore", "ENCRYPTED", "seal_field"),
            "hub.events.models": (
                "ChargesHeld",
                "EVENT_MODELS",
                "EncryptedField",
                "ErasureBasis",
                "EventBody",
                "Identity",
                "IntakeWindowExpired",
                "Narrative",
                "NoticeAcknowledged",
                "ParticipantErased",
                "PlaintextType",
                "PolicyPublished",
                "Purpose",
                "RecordsViewed",
                "ViewKind",
            ),
            "hub.events.schemas": ("SchemaRegistry", "load_lock"),
            "hub.events.topics": (
                "AGENCY_PLACEHOLDER",
                "AUDIT",
                "CHECKPOINTS",
                "EVENTS",
                "HUB",
                "REJECTED",
                "TopicSpec",
                "check_topics_file",
                "ingest_topic",
                "load_topic_specs",
                "notify_topic",
            ),
        },
    )
