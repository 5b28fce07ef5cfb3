"""docs/protocol.md is enough to publish: an event built with kafka-python, fastavro and
cryptography only is accepted by the hub's own decoder and verifier. The document's
example is quoted from this file and its test vectors are parsed from the document,
so neither can drift from what the hub does."""

# --- begin docs/protocol.md example ---
import io
import json
import struct
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kafka import KafkaProducer

SIGNING_TAG = b"LEADHUB-EVENT-SIG-V1\x00"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def load_schema(released: Path, subject: str, version: int) -> tuple[Any, bytes]:
    """A frozen, fully expanded writer schema and its 8-byte fingerprint in wire order."""
    schema = json.loads((released / subject / f"v{version}.avsc").read_text("utf-8"))
    canonical = fastavro.schema.to_parsing_canonical_form(schema)
    fingerprint = bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))
    return fastavro.parse_schema(schema), fingerprint


def single_object(schema: Any, fingerprint: bytes, datum: dict[str, Any]) -> bytes:
    """Avro single-object encoding: C3 01, the fingerprint, then the Avro binary datum."""
    buf = io.BytesIO()
    buf.write(b"\xc3\x01" + fingerprint)
    fastavro.schemaless_writer(buf, schema, datum)
    return buf.getvalue()


def micros(t: datetime) -> int:
    """timestamp-micros of an aware datetime, in exact integer arithmetic."""
    d = t - EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


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
    fields = [
        str(event_id).encode(),  # canonical lowercase 8-4-4-4-12
        event_type.encode(),
        source.encode(),
        key_id.encode(),
        participant_id.encode(),
        struct.pack(">q", micros(occurred_at)),
        str(causation_id).encode() if causation_id else b"",
        str(correlation_id).encode() if correlation_id else b"",
        schema_fingerprint,  # the 8 raw bytes
        payload,  # the exact single-object bytes that go in the envelope
    ]
    return SIGNING_TAG + b"".join(struct.pack(">I", len(f)) + f for f in fields)


def ingest_record(
    private_key: Ed25519PrivateKey,
    *,
    released: Path,
    agency: str,
    key_id: str,
    event_type: str,
    version: int,
    participant_id: str,
    occurred_at: datetime,
    body: dict[str, Any],
    event_id: uuid.UUID,
    causation_id: uuid.UUID | None = None,
    correlation_id: uuid.UUID | None = None,
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of one record for lead.ingest.<agency>."""
    body_schema, body_fp = load_schema(released, event_type, version)
    payload = single_object(body_schema, body_fp, body)
    facts: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "source": agency,
        "key_id": key_id,
        "participant_id": participant_id,
        "occurred_at": occurred_at,
        "causation_id": causation_id,
        "correlation_id": correlation_id,
        "schema_fingerprint": body_fp,
        "payload": payload,
    }
    signature = private_key.sign(signing_input(**facts))  # 64 bytes
    envelope = {
        **facts,
        "event_id": str(event_id),
        "causation_id": str(causation_id) if causation_id else None,
        "correlation_id": str(correlation_id) if correlation_id else None,
        "recorded_at": None,  # the hub sets it
        "signature": signature,
    }
    envelope_schema, envelope_fp = load_schema(released, "envelope", 1)
    value = single_object(envelope_schema, envelope_fp, envelope)
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(event_id).encode()),
        ("ce_source", f"/leadhub/agencies/{agency}".encode()),
        ("ce_type", f"org.leadhub.{event_type}".encode()),
        ("ce_time", occurred_at.astimezone(UTC).isoformat().encode()),
        ("content-type", b"application/avro"),
    ]
    return participant_id.encode(), value, headers


def publish(
    bootstrap_servers: list[str],
    agency: str,
    record: tuple[bytes, bytes, list[tuple[str, bytes]]],
) -> None:
    """Send one record and wait for acks=all. On failure, send the SAME record again."""
    key, value, headers = record
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=False,  # the hub drops duplicate event ids instead
        max_in_flight_requests_per_connection=1,  # retries keep a participant's order
    )
    try:
        topic = f"lead.ingest.{agency}"
        producer.send(topic, key=key, value=value, headers=headers).get(timeout=30)
    finally:
        producer.close()


# --- end docs/protocol.md example ---

import re  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402
from kafka.consumer.fetcher import ConsumerRecord  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "schemas" / "released"
DOC = ROOT / "docs" / "protocol.md"
EXAMPLE_BEGIN = "# --- begin docs/protocol.md example ---"
EXAMPLE_END = "# --- end docs/protocol.md example ---"


def read_back(servers: list[str], topic: str, event_id: uuid.UUID) -> ConsumerRecord:
    """The record whose ce_id is this event id, read from the start of every partition."""
    consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic)
        assert partitions, f"no topic {topic}"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=250).values():
                for record in records:
                    if dict(record.headers).get("ce_id") == str(event_id).encode():
                        return record
    finally:
        consumer.close()
    raise AssertionError(f"event {event_id} not found on {topic}")


def test_an_event_built_by_hand_is_accepted_by_the_hub(broker: object, codec: object) -> None:
    # Publishing: only kafka-python, fastavro, cryptography and the stdlib (above).
    servers = list(broker.bootstrap_servers)  # type: ignore[attr-defined]
    private_key = Ed25519PrivateKey.generate()
    key_id = f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"
    participant = f"P-{uuid.uuid4().hex[:10].upper()}"
    event_id, referral, workflow = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    occurred = datetime(2026, 11, 3, 9, 15, 0, 250_001, tzinfo=UTC)
    body = {
        "case_ref": "SAO-2026-000123",
        "charge_category": "DRUG_POSSESSION",
        "referral_event_id": str(referral),
        "held_at": datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
        "intake_deadline": datetime(2026, 11, 17, 9, 0, tzinfo=UTC),
        "window_days": 14,
    }
    record = ingest_record(
        private_key,
        released=RELEASED,
        agency="sao",
        key_id=key_id,
        event_type="charges_held",
        version=1,
        participant_id=participant,
        occurred_at=occurred,
        body=body,
        event_id=event_id,
        correlation_id=workflow,
    )
    publish(servers, "sao", record)

    # Verifying: the hub's own decoding and verification code.
    from hub.agencies import AgencyRegistry
    from hub.crypto.signing import PublicKeys
    from hub.events.envelope import check_headers, decode_body, decode_envelope, verify
    from hub.events.models import ChargesHeld

    got = read_back(servers, "lead.ingest.sao", event_id)
    assert got.key == participant.encode()
    assert got.value == record[1]
    envelope = decode_envelope(got.value, codec)  # type: ignore[arg-type]
    check_headers(got.headers, got.key, envelope)
    verify(envelope, PublicKeys({("sao", key_id): private_key.public_key()}))
    assert AgencyRegistry.load(ROOT / "deploy" / "agencies.yaml").may_emit("sao", "charges_held")
    assert envelope.event_id == event_id
    assert (envelope.event_type, envelope.source, envelope.key_id) == (
        "charges_held",
        "sao",
        key_id,
    )
    assert envelope.participant_id == participant
    assert envelope.occurred_at == occurred
    assert envelope.recorded_at is None
    assert envelope.causation_id is None
    assert envelope.correlation_id == workflow
    assert envelope.schema_fingerprint.hex() == "9d7e0862fba930cc"  # released/lock.json
    received = decode_body(envelope, codec)  # type: ignore[arg-type]
    assert isinstance(received, ChargesHeld)
    assert received.model_dump() == {**body, "referral_event_id": referral}


# --------------------------------------------------------------------------- the document


def doc_text() -> str:
    return DOC.read_text("utf-8")


def fenced_after(marker: str, text: str) -> str:
    """The body of the first fenced code block after an HTML-comment marker."""
    found = re.search(re.escape(f"<!-- {marker} -->") + r"\s*```[a-z]*\n(.*?)\n```", text, re.S)
    assert found, f"docs/protocol.md has no fenced block after <!-- {marker} -->"
    return found.group(1)


def vector(marker: str) -> dict[str, str]:
    """``name  value`` lines; an indented line continues the previous value."""
    values: dict[str, str] = {}
    name = ""
    for line in fenced_after(marker, doc_text()).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace():
            values[name] += line.strip()
        else:
            name, _, value = line.partition(" ")
            values[name] = value.strip()
    return values


def test_the_document_quotes_this_example_verbatim() -> None:
    source = Path(__file__).read_text("utf-8")
    begin = source.index(EXAMPLE_BEGIN) + len(EXAMPLE_BEGIN)
    example = source[begin : source.index(EXAMPLE_END)].strip()
    assert fenced_after("example:publish", doc_text()).strip() == example


def test_the_document_signing_vector(codec: object) -> None:
    from hub.crypto.signing import PublicKeys
    from hub.events import envelope as hub_envelope

    v = vector("test-vector:signing")
    private_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["seed"]))
    assert private_key.public_key().public_bytes_raw().hex() == v["public_key"]

    schema, fingerprint = load_schema(RELEASED, v["event_type"], int(v["version"]))
    assert fingerprint.hex() == v["schema_fingerprint"]
    payload = single_object(schema, fingerprint, json.loads(v["body"]))
    assert payload.hex() == v["payload"]
    decoded = codec.decode(payload, v["event_type"])  # type: ignore[attr-defined]
    assert codec.encode(v["event_type"], decoded.datum) == payload  # type: ignore[attr-defined]

    occurred = datetime.fromisoformat(v["occurred_at"])
    assert micros(occurred) == int(v["occurred_at_micros"])
    facts: dict[str, Any] = {
        "event_id": uuid.UUID(v["event_id"]),
        "event_type": v["event_type"],
        "source": v["source"],
        "key_id": v["key_id"],
        "participant_id": v["participant_id"],
        "occurred_at": occurred,
        "causation_id": None if v["causation_id"] == "null" else uuid.UUID(v["causation_id"]),
        "correlation_id": uuid.UUID(v["correlation_id"]),
        "schema_fingerprint": fingerprint,
        "payload": payload,
    }
    expected = hub_envelope.signing_input(**facts)
    assert expected.hex() == v["signing_input"]
    assert signing_input(**facts) == expected
    assert private_key.sign(expected).hex() == v["signature"]  # Ed25519 is deterministic
    keys = PublicKeys({(v["source"], v["key_id"]): private_key.public_key()})
    assert keys.verify(v["source"], v["key_id"], bytes.fromhex(v["signature"]), expected)


def test_the_document_encrypted_field_vector(codec: object) -> None:
    from hub.crypto.fields import open_field
    from hub.events.models import EncryptedField, Narrative, PlaintextType

    v = vector("test-vector:field")
    schema, fingerprint = load_schema(RELEASED, "types.Narrative", 1)
    plaintext = single_object(schema, fingerprint, {"text": v["text"]})
    assert plaintext.hex() == v["plaintext"]
    aad = b"LEADHUB-FIELD-V1\x00" + b"\x00".join(
        [v["participant_id"].encode(), v["plaintext_type"].encode(), v["key_id"].encode()]
    )
    assert aad.hex() == v["aad"]
    key, nonce = bytes.fromhex(v["data_key"]), bytes.fromhex(v["nonce"])
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, aad)
    assert ciphertext.hex() == v["ciphertext"]
    field = EncryptedField(
        plaintext_type=PlaintextType(v["plaintext_type"]),
        key_id=v["key_id"],
        nonce=nonce,
        ciphertext=ciphertext,
    )
    opened = open_field(field, participant_id=v["participant_id"], key=key, codec=codec)  # type: ignore[arg-type]
    assert opened == Narrative(text=v["text"])
