"""docs/protocol.md is enough to publish and to read notices: an event built with
kafka-python, fastavro and cryptography only is accepted by the hub's own decoder and
verifier, and a notice the hub builds is verified and opened with fastavro, cryptography
and json only. The publishing example is quoted from this file, the notice-reading example
is run from the document, and the test vectors are parsed from the document, so none of
them can drift from what the hub does."""

# --- begin docs/protocol.md example ---
import base64
import hashlib
import io
import json
import struct
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
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
    **security: Any,  # your SASL/TLS settings, e.g. security_protocol="SASL_SSL", ...
) -> tuple[int, int]:
    """Send one record and wait for acks=all; return its (partition, offset), which its
    receipt names. On failure, send the SAME record again."""
    key, value, headers = record
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,  # the broker drops a batch retried after a network fault
        **security,
    )
    try:
        topic = f"lead.ingest.{agency}"
        sent = producer.send(topic, key=key, value=value, headers=headers).get(timeout=30)
        return sent.partition, sent.offset
    finally:
        producer.close()


# Identity and notes are sealed to the hub's intake key (section 16.2).
INTAKE_TAG = b"LEADHUB-INTAKE-V1\x00"
HPKE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


def current_intake_key(
    key_set: str, origin: str, hub_public: Ed25519PublicKey, now: datetime
) -> tuple[str, X25519PublicKey]:
    """The key to seal to now, from the hub's key set: a C2SP signed note that the hub's
    checkpoint key (name: the log's origin) must have signed."""
    text, _, signatures = key_set.partition("\n\n")
    raw_public = hub_public.public_bytes_raw()
    key_hash = hashlib.sha256(origin.encode() + b"\n\x01" + raw_public).digest()[:4]
    for line in signatures.splitlines():
        name, _, signature = line.removeprefix("\u2014 ").partition(" ")
        raw = base64.b64decode(signature)
        if name == origin and raw[:4] == key_hash:
            hub_public.verify(raw[4:], (text + "\n").encode())  # raises InvalidSignature
            break
    else:
        raise ValueError("the key set is not signed by the hub's key")
    lines = text.split("\n")
    if lines[:2] != [f"{origin}/intake", "leadhub intake keys v1"]:
        raise ValueError("not a LEAD Hub intake key set, version 1")
    for line in lines[2:]:  # newest first
        key_id, starts, ends, _destroyed_at, public = line.split(" ")
        if datetime.fromisoformat(starts) <= now < datetime.fromisoformat(ends):
            return key_id, X25519PublicKey.from_public_bytes(base64.b64decode(public))
    raise ValueError("no intake key is current: fetch the key set again")


def seal_to_hub(
    plaintext_type: str,
    plaintext: bytes,
    *,
    key_id: str,
    public: X25519PublicKey,
    participant_id: str,
    event_id: uuid.UUID,
) -> dict[str, Any]:
    """A types.SealedField: ``plaintext`` (the single-object encoding of a types.Identity or
    types.Narrative) sealed to the intake key, bound to this participant, type and event."""
    parts = (participant_id, plaintext_type, str(event_id), key_id)
    info = INTAKE_TAG + b"\x00".join(part.encode() for part in parts)
    return {
        "plaintext_type": plaintext_type,
        "key_id": key_id,
        "sealed": HPKE.encrypt(plaintext, public, info),  # 32-byte enc || ciphertext || tag
    }


# --- end docs/protocol.md example ---

import ast  # noqa: E402
import hmac  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402

import pytest  # noqa: E402
from cryptography.exceptions import InvalidSignature, InvalidTag  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import (  # noqa: E402
    X25519PrivateKey,
    X25519PublicKey,
)
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
    position = publish(servers, "sao", record)

    # Verifying: the hub's own decoding and verification code.
    from hub.crypto.signing import PublicKeys
    from hub.domain.agencies import AgencyRegistry
    from hub.events.envelope import check_headers, decode_body, decode_envelope, verify
    from hub.events.models import ChargesHeld

    got = read_back(servers, "lead.ingest.sao", event_id)
    assert (got.partition, got.offset) == position
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


def test_an_identity_sealed_by_hand_reaches_lead_events_under_a_data_key(
    broker: object, codec: Any, tmp_path: Path
) -> None:
    """An agency with only the document, the hub's key set and its own key refers a person:
    the hub opens the sealed identity, keeps it under the participant's data key, and the
    agency's signature still verifies on lead.events. Moved into another event, the same
    sealed identity is refused."""
    from hub.crypto import IntakeKeyring, PublicKeys, signed_key_set
    from hub.domain import Gatekeeper, LogClock, issue_participant_id
    from hub.domain.agencies import AgencyRegistry
    from hub.events import DataKeyStore, decode_body, decode_envelope, open_field, verify
    from hub.events.models import Identity, ReferralMade
    from hub.streams.handlers import IngestHandler

    # The hub: its intake keys, published as a signed note; a participant id it issued.
    origin, hub_key = "leadhub.example/audit", Ed25519PrivateKey.generate()
    keyring = IntakeKeyring(tmp_path / "intake", timedelta(days=7), timedelta(days=7))
    now = datetime.now(UTC)
    keyring.current(now)
    key_set = signed_key_set(origin, keyring.held(), hub_key)
    participant = issue_participant_id(lambda n: uuid.uuid4().bytes[:n])

    # The agency, by hand: the key to seal to, the identity sealed, the referral signed.
    servers = list(broker.bootstrap_servers)  # type: ignore[attr-defined]
    private_key, key_id = Ed25519PrivateKey.generate(), f"{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    intake_id, intake_public = current_intake_key(key_set, origin, hub_key.public_key(), now)
    identity = {
        "given_name": "Orsolya",
        "family_name": "Quennelby",
        "middle_name": None,
        "aliases": [],
        "date_of_birth": datetime(1987, 4, 9).date(),
        "local_record_numbers": [{"system": "bpd-rms", "value": "RMS-2026-0042"}],
    }
    plaintext = single_object(*load_schema(RELEASED, "types.Identity", 1), identity)
    body = {
        "door": "SOCIAL_CONTACT",
        "offence_category": "NONE",
        "catchment_area": "western",
        "officer_id": "ofc-4411",
        "referring_partner": None,
        "identity": None,
        "sealed_identity": None,
        "arrest_ref": None,
    }
    records = []
    for event_id, bound_to in ((uuid.uuid4(), None), (uuid.uuid4(), uuid.uuid4())):
        sealed = seal_to_hub(
            "IDENTITY",
            plaintext,
            key_id=intake_id,
            public=intake_public,
            participant_id=participant,
            event_id=bound_to or event_id,  # the second is sealed for another event
        )
        record = ingest_record(
            private_key,
            released=RELEASED,
            agency="bpd",
            key_id=key_id,
            event_type="referral_made",
            version=2,
            participant_id=participant,
            occurred_at=now,
            body={**body, "sealed_identity": sealed},
            event_id=event_id,
        )
        publish(servers, "bpd", record)
        records.append((event_id, read_back(servers, "lead.ingest.bpd", event_id)))

    # The hub's gatekeeper, on the records as Kafka delivered them.
    agencies = AgencyRegistry.load(ROOT / "deploy" / "agencies.yaml")
    keys = PublicKeys({("bpd", key_id): private_key.public_key()})
    datakeys = DataKeyStore(tmp_path / "datakeys")
    gate = IngestHandler(
        Gatekeeper(codec, agencies, keys, intake_keys=keyring), LogClock(), 6, datakeys
    )
    (good_id, good), (_, moved) = records
    (accepted,) = gate.handle(
        good.topic, good.partition, good.offset, good.key, good.value, good.headers
    )
    assert accepted.topic == "lead.events"
    envelope = decode_envelope(accepted.value, codec)
    verify(envelope, keys)  # the payload is exactly what the agency signed
    assert envelope.event_id == good_id and envelope.resealed is not None
    referral = decode_body(envelope, codec)
    assert isinstance(referral, ReferralMade) and referral.sealed_identity is None
    held = datakeys.get(participant)
    assert held is not None and referral.identity is not None
    opened = open_field(referral.identity, participant_id=participant, key=held[1], codec=codec)
    assert opened == Identity.model_validate(identity)
    assert b"Quennelby" not in accepted.value and b"Quennelby" not in good.value
    (refused,) = gate.handle(
        moved.topic, moved.partition, moved.offset, moved.key, moved.value, moved.headers
    )
    assert refused.topic == "lead.rejected"
    assert dict(refused.headers)["leadhub-reason"] == b"BAD_SEALED_FIELD"


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


def hub_headers(record_id: object, record_type: str) -> list[tuple[str, bytes]]:
    """Section 13: the CloudEvents set on the hub's own Avro records."""
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(record_id).encode()),
        ("ce_source", b"/leadhub/agencies/hub"),
        ("ce_type", f"org.leadhub.{record_type}".encode()),
        ("content-type", b"application/avro"),
    ]


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
    from hub.events.fields import open_field
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


def test_the_document_intake_vector(codec: Any) -> None:
    """A field sealed to the intake key: the plaintext and binding recomputed by hand, the
    sealed bytes opened by the RFC 9180 steps of section 12.3 and by the hub's gatekeeper
    code; sealed for another event, they do not open."""
    from hub.crypto import SealError, open_sealed
    from hub.crypto.intake import intake_info

    v = vector("test-vector:intake")
    private = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["intake_private_key"]))
    assert private.public_key().public_bytes_raw().hex() == v["intake_public_key"]
    plaintext = single_object(*load_schema(RELEASED, "types.Narrative", 1), {"text": v["text"]})
    assert plaintext.hex() == v["plaintext"]
    parts = (v["participant_id"], v["plaintext_type"], v["event_id"], v["key_id"])
    info = b"LEADHUB-INTAKE-V1\x00" + b"\x00".join(p.encode() for p in parts)
    assert info.hex() == v["info"] == intake_info(*parts).hex()
    sealed = bytes.fromhex(v["sealed"])
    assert hpke_open_rfc9180(sealed, private, info) == plaintext
    assert open_sealed(sealed, private, info) == plaintext
    other = intake_info(v["participant_id"], v["plaintext_type"], str(uuid.uuid4()), v["key_id"])
    with pytest.raises(SealError):
        open_sealed(sealed, private, other)


def test_the_document_receipt_vector() -> None:
    """A receipt checked as an agency would: its id, its signing input and the hub's
    signature recomputed by hand, its record decoded with fastavro alone."""
    v = vector("test-vector:receipt")
    hub_public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["hub_seed"])).public_key()
    place = f"{v['ingest_topic']}/{v['ingest_partition']}/{v['ingest_offset']}"
    namespace = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0005")
    assert str(uuid.uuid5(namespace, place)) == v["receipt_id"]
    record = read_single_object(bytes.fromhex(v["value"]), "receipt")
    fields = [
        v["receipt_id"],
        v["agency"],
        v["ingest_topic"],
        v["ingest_partition"],
        v["ingest_offset"],
        v["event_id"],
        v["participant_id"],
        v["status"],
        "",  # events_partition: null
        "",  # events_offset: null
        v["reason"],
        v["detail"],
        struct.pack(">q", int(v["decided_at"])),
        v["hub_key_id"],
    ]
    raw = [f if isinstance(f, bytes) else f.encode() for f in fields]
    signing = b"LEADHUB-RECEIPT-SIG-V1\x00" + b"".join(struct.pack(">I", len(f)) + f for f in raw)
    assert signing.hex() == v["signing_input"]
    hub_public.verify(bytes.fromhex(v["signature"]), signing)  # raises if it does not verify
    assert record["signature"].hex() == v["signature"]
    assert (record["status"], record["reason"], record["detail"]) == (
        "REJECTED",
        v["reason"],
        v["detail"],
    )
    assert record["events_offset"] is None and str(record["receipt_id"]) == v["receipt_id"]
    assert micros(record["decided_at"]) == int(v["decided_at"])
    with pytest.raises(InvalidSignature):
        hub_public.verify(bytes.fromhex(v["signature"]), signing.replace(b"REJECTED", b"ACCEPTED"))


def test_the_document_key_set_vector() -> None:
    """The key set checked and read by the document's own code (section 14)."""
    v = vector("test-vector:key-set")
    hub_public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["hub_seed"])).public_key()
    note = bytes.fromhex(v["note_hex"]).decode()
    now = datetime.fromisoformat(v["now"])
    key_id, public = current_intake_key(note, v["origin"], hub_public, now)
    newer = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["newer_private_key"]))
    assert (
        key_id == v["current_key_id"] == "ik-" + v["newer_starts"].replace("-", "").replace(":", "")
    )
    assert public.public_bytes_raw() == newer.public_key().public_bytes_raw()
    older_at = datetime.fromisoformat(v["older_starts"]) + timedelta(days=1)
    assert current_intake_key(note, v["origin"], hub_public, older_at)[0].startswith("ik-20261126")
    with pytest.raises(InvalidSignature):  # one changed byte of a key
        current_intake_key(note.replace("ik-20261203", "ik-20261204"), v["origin"], hub_public, now)
    with pytest.raises(ValueError, match="not signed by the hub"):
        other = Ed25519PrivateKey.generate().public_key()
        current_intake_key(note, v["origin"], other, now)


# --------------------------------------------------------------------------- notices


# What the document's notice reader may import: a recipient needs nothing else.
READER_LIBRARIES = {"io", "json", "struct", "uuid", "datetime", "pathlib", "typing"} | {
    "fastavro",
    "cryptography",
}


def doc_example(
    marker: str, libraries: frozenset[str] | set[str] = READER_LIBRARIES
) -> dict[str, Any]:
    """Run a Python block of the document in a fresh namespace, checking its imports."""
    code = fenced_after(marker, doc_text())
    imported: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= libraries, imported - libraries
    namespace: dict[str, Any] = {"__name__": f"protocol_md_{marker.replace(':', '_')}"}
    exec(compile(code, f"docs/protocol.md <!-- {marker} -->", "exec"), namespace)
    return namespace


def hpke_open_rfc9180(sealed: bytes, private_key: X25519PrivateKey, info: bytes) -> bytes:
    """RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, written
    out from the RFC: an independent check of what section 12.3 says `sealed` is."""

    def extract(salt: bytes, ikm: bytes) -> bytes:
        return hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()

    def expand(prk: bytes, info: bytes, length: int) -> bytes:
        out, block, counter = b"", b"", 1
        while len(out) < length:
            block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
            out, counter = out + block, counter + 1
        return out[:length]

    def labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
        return extract(salt, b"HPKE-v1" + suite + label + ikm)

    def labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, n: int) -> bytes:
        return expand(prk, struct.pack(">H", n) + b"HPKE-v1" + suite + label + info, n)

    enc, ciphertext = sealed[:32], sealed[32:]
    kem = b"KEM" + struct.pack(">H", 0x0020)
    dh = private_key.exchange(X25519PublicKey.from_public_bytes(enc))
    kem_context = enc + private_key.public_key().public_bytes_raw()
    eae_prk = labeled_extract(kem, b"", b"eae_prk", dh)
    shared_secret = labeled_expand(kem, eae_prk, b"shared_secret", kem_context, 32)
    suite = b"HPKE" + struct.pack(">HHH", 0x0020, 0x0001, 0x0002)
    context = (
        b"\x00"  # mode_base
        + labeled_extract(suite, b"", b"psk_id_hash", b"")
        + labeled_extract(suite, b"", b"info_hash", info)
    )
    secret = labeled_extract(suite, shared_secret, b"secret", b"")
    key = labeled_expand(suite, secret, b"key", context, 32)
    nonce = labeled_expand(suite, secret, b"base_nonce", context, 12)
    return AESGCM(key).decrypt(nonce, ciphertext, b"")


def test_the_document_ids_vector() -> None:
    from hub.domain.deadlines import EXPIRY_NAMESPACE, Hold
    from hub.domain.linkage.linker import LINKAGE_NAMESPACE, linkage_event_id
    from hub.domain.notices import NOTICE_NAMESPACE, notice_id
    from hub.domain.policy import POLICY_NAMESPACE
    from hub.domain.rejections import REJECTION_NAMESPACE

    v = vector("test-vector:ids")
    assert v["notice_namespace"] == str(NOTICE_NAMESPACE)
    assert v["expiry_namespace"] == str(EXPIRY_NAMESPACE)
    assert v["rejection_namespace"] == str(REJECTION_NAMESPACE)
    assert v["policy_namespace"] == str(POLICY_NAMESPACE)
    assert v["linkage_namespace"] == str(LINKAGE_NAMESPACE)
    event_id = uuid.UUID(v["event_id"])
    assert str(linkage_event_id(event_id)) == v["linkage_event_id"]
    assert str(notice_id(event_id, v["recipient"])) == v["notice_id"]
    hold = Hold(event_id, "P-7KQ2M9XR4TQF", "SAO-2026-000123", datetime(2026, 11, 17, tzinfo=UTC))
    assert str(hold.expiry_event_id) == v["expiry_event_id"]
    text = doc_text()  # the namespaces the prose gives are these
    for name in ("notice", "expiry", "rejection", "policy", "linkage"):
        assert f"uuid5(`{v[f'{name}_namespace']}`" in text, name


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def damm32(symbols: str) -> int:
    """Section 16.1 as written: r := alpha*r XOR value(d) over GF(2^5), x^5 + x^2 + 1."""
    r = 0
    for d in symbols:
        r <<= 1
        if r & 0b100000:
            r ^= 0b100101
        r ^= CROCKFORD.index(d)
    return r


def test_the_document_participant_id_vector() -> None:
    from hub.domain.participant_ids import is_participant_id

    v = vector("test-vector:participant-id")
    r = damm32(v["symbols"])
    alpha_r = (r << 1) ^ (0b100101 if r & 0b10000 else 0)
    assert CROCKFORD[alpha_r] == v["check_symbol"]
    assert v["participant_id"] == "P-" + v["symbols"] + v["check_symbol"]
    assert damm32(v["participant_id"][2:]) == 0 and is_participant_id(v["participant_id"])
    assert damm32(v["mistyped"][2:]) != 0 and not is_participant_id(v["mistyped"])
    assert v["mistyped_valid"] == "false"


def notice_vector_permit(v: dict[str, str], event: dict[str, str], codec: Any) -> tuple[Any, Any]:
    """The accepted event of 15.1 and the permit of 15.3, from the two vectors' values."""
    from hub.domain.policy import Decision
    from hub.events.envelope import Envelope, decode_body

    payload = bytes.fromhex(event["payload"])
    envelope = Envelope(
        event_id=uuid.UUID(event["event_id"]),
        event_type=event["event_type"],
        schema_fingerprint=payload[2:10],
        source=event["source"],
        key_id=event["key_id"],
        participant_id=event["participant_id"],
        occurred_at=datetime.fromisoformat(event["occurred_at"]),
        recorded_at=datetime.fromisoformat(v["recorded_at"]),
        correlation_id=uuid.UUID(event["correlation_id"]),
        payload=payload,
        signature=bytes.fromhex(event["signature"]),
    )
    body = decode_body(envelope, codec).model_dump()
    decision = Decision(
        event_id=envelope.event_id,
        recipient=v["recipient"],
        permit=True,
        policy_version=v["policy_version"],
        rule_id=v["rule_id"],
        purpose=v["purpose"],
        fields={name: body[name] for name in v["fields"].split()},
    )
    return envelope, decision


def test_the_document_notice_vector(codec: object) -> None:
    from hub.crypto.epochs import epoch_info, open_epoch_sealed
    from hub.crypto.sealing import SealingKey, open_sealed
    from hub.crypto.signing import PublicKeys
    from hub.domain.notices import NOTICE_AAD_TAG, Notice, content, notice_id, open_notice
    from hub.domain.policy import Policy
    from hub.events.codec import Codec

    assert isinstance(codec, Codec)
    v, event = vector("test-vector:notice"), vector("test-vector:signing")
    hub_private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["hub_seed"]))
    assert hub_private.public_key().public_bytes_raw().hex() == v["hub_public_key"]
    opd_private = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["opd_private_key"]))
    assert opd_private.public_key().public_bytes_raw().hex() == v["opd_public_key"]

    # Ids, the HPKE context of the epoch key and the AAD of the content.
    nid = notice_id(uuid.UUID(v["event_id"]), v["recipient"])
    assert str(nid) == v["notice_id"] == vector("test-vector:ids")["notice_id"]
    epoch_id, epoch_key = uuid.UUID(v["epoch_id"]), bytes.fromhex(v["epoch_key"])
    info = epoch_info(epoch_id)
    assert info == b"LEADHUB-EPOCH-V1\x00" + epoch_id.bytes and info.hex() == v["epoch_info"]
    aad = NOTICE_AAD_TAG + nid.bytes
    assert aad == b"LEADHUB-NOTICE-V2\x00" + nid.bytes and aad.hex() == v["aad"]

    # The wrapped key (one run of HPKE) opens to exactly the epoch key, with the hub's code
    # and with RFC 9180 written out by hand; the content under it is fixed: nonce, then
    # AES-256-GCM, and it opens to exactly the content.
    wrapped = bytes.fromhex(v["wrapped_key"])
    assert open_sealed(wrapped, opd_private, info) == epoch_key
    assert hpke_open_rfc9180(wrapped, opd_private, info) == epoch_key
    assert len(wrapped) == 32 + 32 + 16
    nonce, sealed = bytes.fromhex(v["nonce"]), bytes.fromhex(v["sealed"])
    assert sealed == nonce + AESGCM(epoch_key).encrypt(nonce, v["content"].encode(), aad)
    assert open_epoch_sealed(sealed, wrapped, epoch_id, opd_private, aad) == v["content"].encode()
    assert len(sealed) == 12 + len(v["content"].encode()) + 16

    # The content is what the hub seals for this event and this permit.
    occurred = datetime.fromisoformat(v["occurred_at"])
    recorded = datetime.fromisoformat(v["recorded_at"])
    envelope, decision = notice_vector_permit(v, event, codec)
    assert (envelope.event_id, envelope.occurred_at) == (uuid.UUID(v["event_id"]), occurred)
    policy = Policy(version=v["policy_version"], rules=())
    assert content(envelope, decision, policy) == v["content"].encode()

    # The signing input and the hub's (deterministic) signature.
    unsigned = Notice(
        notice_id=nid,
        recipient=v["recipient"],
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        participant_id=envelope.participant_id,
        occurred_at=occurred,
        recorded_at=recorded,
        policy_version=v["policy_version"],
        rule_id=v["rule_id"],
        consent_id=None if v["consent_id"] == "null" else uuid.UUID(v["consent_id"]),
        purpose=v["purpose"],
        recipient_key_id=v["recipient_key_id"],
        epoch_id=epoch_id,
        wrapped_key=wrapped,
        sealed=sealed,
        hub_key_id=v["hub_key_id"],
        signature=b"",
    )
    expected = b"".join(
        (
            bytes.fromhex(v["signing_input_head"]),
            wrapped,
            bytes.fromhex(v["signing_input_mid"]),
            sealed,
            bytes.fromhex(v["signing_input_tail"]),
        )
    )
    assert unsigned.signing_input() == expected
    assert hub_private.sign(expected).hex() == v["signature"]
    notice = unsigned.model_copy(update={"signature": bytes.fromhex(v["signature"])})
    hub_keys = {v["hub_key_id"]: hub_private.public_key()}
    sealing_keys = {v["recipient_key_id"]: opd_private}
    hub_public_keys = PublicKeys({("hub", v["hub_key_id"]): hub_private.public_key()})
    opd_key = SealingKey("opd", v["recipient_key_id"], opd_private)
    assert open_notice(notice, opd_key, hub_public_keys) == json.loads(v["content"])

    # The document's reader, on the record value the hub would send: fastavro,
    # cryptography and json only.
    reader = doc_example("example:notice")
    value = codec.encode("notice", notice.model_dump())
    got, opened = reader["open_notice"](value, RELEASED, hub_keys, sealing_keys)
    assert opened == json.loads(v["content"])
    assert got == notice.model_dump()
    names = [name for name in Notice.model_fields if name != "signature"]
    assert reader["notice_signing_input"](names, got) == expected

    # ... and it refuses what it must refuse.
    forged = notice.model_copy(update={"rule_id": "opd.something-else"})
    with pytest.raises(InvalidSignature):
        reader["open_notice"](
            codec.encode("notice", forged.model_dump()),
            RELEASED,
            hub_keys,
            sealing_keys,
        )
    with pytest.raises(ValueError, match="trailing"):
        reader["open_notice"](value + b"\x00", RELEASED, hub_keys, sealing_keys)
    stranger = {v["recipient_key_id"]: X25519PrivateKey.generate()}
    with pytest.raises(InvalidTag):
        reader["open_notice"](value, RELEASED, hub_keys, stranger)

    # A wrapped key or a sealed content changed on the way does not verify.
    for field in ("wrapped_key", "sealed"):
        moved = notice.model_copy(update={field: getattr(notice, field)[:-1] + b"\x00"})
        with pytest.raises(InvalidSignature):
            reader["open_notice"](
                codec.encode("notice", moved.model_dump()), RELEASED, hub_keys, sealing_keys
            )


def test_a_notice_written_as_v1_still_verifies_and_opens() -> None:
    """Notices written before epoch keys (schema v1: HPKE per notice, signed without the
    epoch fields) are on agencies' topics and in archives: both readers still open them."""
    from hub.crypto.sealing import SealingKey, seal
    from hub.crypto.signing import PublicKeys
    from hub.domain.notices import (
        NOTICE_INFO_TAG,
        Notice,
        notice_id,
        notice_signing_input,
        open_notice,
    )
    from hub.events.codec import Codec
    from hub.events.errors import SignatureError
    from hub.events.schemas import SchemaRegistry

    hub_private = Ed25519PrivateKey.generate()
    opd_private = X25519PrivateKey.generate()
    event_id = uuid.uuid4()
    nid = notice_id(event_id, "opd")
    sealed = seal(b'{"fields":{}}', opd_private.public_key(), NOTICE_INFO_TAG + nid.bytes)
    at = datetime(2026, 11, 3, 9, 15, tzinfo=UTC)
    facts: dict[str, Any] = {
        "notice_id": nid,
        "recipient": "opd",
        "event_id": event_id,
        "event_type": "charges_held",
        "participant_id": "P-7KQ2M9XR4TQF",
        "occurred_at": at,
        "recorded_at": at,
        "policy_version": "2026.11-1",
        "rule_id": "opd.client-hold-lifecycle",
        "consent_id": None,
        "purpose": "LEGAL_DEFENSE",
        "recipient_key_id": "20261101-5ea1ed00",
        "sealed": sealed,
        "hub_key_id": "20261101-a1b2c3d4",
    }
    facts["signature"] = hub_private.sign(notice_signing_input(facts))
    schema, fingerprint = load_schema(RELEASED, "notice", 1)
    value = single_object(schema, fingerprint, facts)

    reader = doc_example("example:notice")
    hub_keys = {"20261101-a1b2c3d4": hub_private.public_key()}
    got, opened = reader["open_notice"](
        value, RELEASED, hub_keys, {facts["recipient_key_id"]: opd_private}
    )
    assert opened == {"fields": {}} and "epoch_id" not in got

    codec = Codec(SchemaRegistry.load(ROOT / "schemas"))
    notice = Notice.model_validate(codec.decode(value, "notice").datum)
    assert notice.epoch_id is None and notice.wrapped_key is None
    public = PublicKeys({("hub", "20261101-a1b2c3d4"): hub_private.public_key()})
    key = SealingKey("opd", "20261101-5ea1ed00", opd_private)
    assert open_notice(notice, key, public) == {"fields": {}}
    with pytest.raises(SignatureError):
        open_notice(notice.model_copy(update={"rule_id": "x"}), key, public)


# --------------------------------------------------------------------------- what the hub writes


def read_single_object(value: bytes, subject: str) -> dict[str, Any]:
    """Decode a hub record by hand with the released version of its subject that its
    header names (lock.json lists them)."""
    lock = json.loads((RELEASED / "lock.json").read_text("utf-8"))
    (version,) = [v["version"] for v in lock[subject] if v["fingerprint"] == value[2:10].hex()]
    schema, fingerprint = load_schema(RELEASED, subject, version)
    assert value[:10] == b"\xc3\x01" + fingerprint
    buf = io.BytesIO(value[10:])
    datum = fastavro.schemaless_reader(buf, schema)
    assert buf.read() == b"" and isinstance(datum, dict)
    return datum


def test_the_records_the_hub_writes_are_as_documented(codec: object) -> None:
    from hub.crypto.epochs import EpochSealer
    from hub.crypto.sealing import SealingKey
    from hub.crypto.signing import PublicKeys, generate_key
    from hub.domain.agencies import AgencyRegistry
    from hub.domain.deadlines import EXPIRY_NAMESPACE
    from hub.domain.gatekeeper import Gatekeeper
    from hub.domain.notices import NOTICE_NAMESPACE
    from hub.domain.policy import PolicyBook, load_policy
    from hub.domain.processor import PartitionProcessor
    from hub.domain.rejections import REJECTION_NAMESPACE
    from hub.events.codec import Codec
    from hub.events.envelope import cloudevents_headers, encode_envelope, sign_event
    from hub.events.models import PolicyPublished
    from hub.streams.handlers import CanonicalHandler, IngestHandler

    assert isinstance(codec, Codec)
    agencies = AgencyRegistry.load(ROOT / "deploy" / "agencies.yaml")
    policy = load_policy(ROOT / "deploy" / "policy.yaml", agencies)
    hub = generate_key("hub", demo=True)
    sao_private = Ed25519PrivateKey.generate()
    sao_key_id = "20261103-0a1b2c3d"
    keys = PublicKeys(
        {("hub", hub.key_id): hub.public, ("sao", sao_key_id): sao_private.public_key()}
    )
    recipients = [a for a in agencies if a != "hub"]
    sealing = {
        a: SealingKey(a, f"20261101-{i:08x}", X25519PrivateKey.generate())
        for i, a in enumerate(recipients)
    }
    hub_keys = {hub.key_id: hub.public}
    now = {"t": datetime(2026, 11, 3, 9, 15, 2, 500_000, tzinfo=UTC)}
    ingest = IngestHandler(Gatekeeper(codec, agencies, keys), lambda env: now["t"], 6)
    canonical = CanonicalHandler(
        codec,
        PartitionProcessor(PolicyBook.of([policy]), recipients),
        EpochSealer({a: (k.key_id, k.public) for a, k in sealing.items()}),
        hub,
    )

    # 11.3: policy_published goes to every partition of lead.events.
    start = datetime(2026, 11, 1, tzinfo=UTC)
    published = sign_event(
        PolicyPublished(
            policy_version=policy.version, policy_sha256=policy.sha256, effective_at=start
        ),
        codec=codec,
        key=hub,
        participant_id="SYSTEM",
        occurred_at=start,
    )
    outs = ingest.handle(
        "lead.ingest.hub",
        0,
        0,
        b"SYSTEM",
        encode_envelope(published, codec),
        cloudevents_headers(published),
    )
    assert [(o.topic, o.partition, o.key) for o in outs] == [
        ("lead.events", p, b"SYSTEM") for p in range(6)
    ]
    assert len({(o.value, tuple(o.headers)) for o in outs}) == 1
    canonical.handle(outs[0].value)

    # 11.3: an event built by hand, accepted: key, headers, value; the signature still verifies.
    held_id = uuid.UUID("3f0b8c52-6a7e-4d21-9b43-5c8e1f2a7d90")
    deadline = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
    key, value, headers = ingest_record(
        sao_private,
        released=RELEASED,
        agency="sao",
        key_id=sao_key_id,
        event_type="charges_held",
        version=1,
        participant_id="P-7KQ2M9XR4TQF",
        occurred_at=datetime(2026, 11, 3, 9, 15, 0, 250_001, tzinfo=UTC),
        body={
            "case_ref": "SAO-2026-000123",
            "charge_category": "DRUG_POSSESSION",
            "referral_event_id": None,
            "held_at": datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
            "intake_deadline": deadline,
            "window_days": 14,
        },
        event_id=held_id,
    )
    [accepted] = ingest.handle("lead.ingest.sao", 2, 41, key, value, headers)
    assert (accepted.topic, accepted.key, accepted.partition) == ("lead.events", key, None)
    assert accepted.headers == [*headers, ("leadhub-origin", b"lead.ingest.sao/2/41")]
    original, stamped = (
        read_single_object(value, "envelope"),
        read_single_object(accepted.value, "envelope"),
    )
    assert stamped == {**original, "recorded_at": now["t"], "resealed": None}  # envelope v2
    facts = {
        k: stamped[k] for k in ("event_id", "event_type", "source", "key_id", "participant_id")
    }
    sao_private.public_key().verify(
        stamped["signature"],
        signing_input(
            **facts,
            occurred_at=stamped["occurred_at"],
            causation_id=stamped["causation_id"],
            correlation_id=stamped["correlation_id"],
            schema_fingerprint=stamped["schema_fingerprint"],
            payload=stamped["payload"],
        ),
    )

    # 11.4: dead letters keep the record whole and add the leadhub-* headers.
    [dead] = ingest.handle(
        "lead.ingest.bpd", 0, 3, key, value, [*headers, ("leadhub-reason", b"x")]
    )
    assert (dead.topic, dead.key, dead.value) == ("lead.rejected", key, value)
    assert dead.headers[: len(headers)] == headers
    ours = dead.headers[len(headers) :]
    assert [name for name, _ in ours] == [
        f"leadhub-{n}"
        for n in ("reason", "detail", "topic", "partition", "offset", "rejected-at", "id")
    ]
    got = {name: raw.decode() for name, raw in ours}
    assert got["leadhub-reason"] == "WRONG_TOPIC"
    assert (got["leadhub-topic"], got["leadhub-partition"], got["leadhub-offset"]) == (
        "lead.ingest.bpd",
        "0",
        "3",
    )
    assert datetime.fromisoformat(got["leadhub-rejected-at"]).utcoffset() == timedelta(0)
    assert got["leadhub-id"] == str(uuid.uuid5(REJECTION_NAMESPACE, "lead.ingest.bpd/0/3"))
    [refused_again] = ingest.handle("lead.ingest.bpd", 0, 3, key, value, headers)
    assert dict(refused_again.headers)["leadhub-id"] == got["leadhub-id"].encode()
    [again] = ingest.handle("lead.ingest.sao", 1, 9, key, value, headers)
    assert dict(again.headers)["leadhub-reason"] == b"DUPLICATE"
    assert (
        ingest.handle("lead.ingest.sao", 2, 41, key, value, headers) == []
    )  # the hub's own re-read

    # 12.1 and 13.2: one audit record for the event, a decision in it per candidate
    # recipient (each whole with the record's own fields); a notice per permit.
    outs = canonical.handle(accepted.value)
    [logged] = [o for o in outs if o.topic == "lead.audit"]
    record = read_single_object(logged.value, "audit_record")
    assert (logged.key, logged.headers) == (key, hub_headers(record["event_id"], "audit_record"))
    shared = {k: v for k, v in record.items() if k != "decisions"}
    audits = [{**shared, **d} for d in record["decisions"]]
    assert sorted(a["recipient"] for a in audits) == sorted(r for r in recipients if r != "sao")
    notices = [o for o in outs if o.topic.startswith("lead.notify.")]
    permits = {a["recipient"]: a for a in audits if a["permit"]}
    assert "opd" in permits and sorted(
        o.topic.removeprefix("lead.notify.") for o in notices
    ) == sorted(permits)
    reader = doc_example("example:notice")
    for out in notices:
        recipient = out.topic.removeprefix("lead.notify.")
        sealing_keys = {sealing[recipient].key_id: sealing[recipient].private}
        notice, opened = reader["open_notice"](out.value, RELEASED, hub_keys, sealing_keys)
        nid = uuid.uuid5(NOTICE_NAMESPACE, f"{held_id}/{recipient}")
        assert notice["notice_id"] == nid == permits[recipient]["decision_id"]
        assert (out.key, out.headers) == (key, hub_headers(nid, "notice"))
        assert (notice["recorded_at"], notice["recipient_key_id"]) == (
            now["t"],
            sealing[recipient].key_id,
        )
        assert sorted(opened["fields"]) == sorted(permits[recipient]["fields_disclosed"])
        assert opened["occurred_at"] == "2026-11-03T09:15:00.250001+00:00"
        assert permits[recipient]["decided_at"] == now["t"]
        assert b"SAO-2026-000123" not in out.value and b"SAO-2026-000123" not in b"".join(
            o.value for o in outs if o.topic == "lead.audit"
        )

    # 13.1: a later event on the partition, accepted after the deadline, lapses the hold.
    now["t"] = deadline + timedelta(hours=1)
    later = sign_event(
        PolicyPublished(policy_version="2026.12-1", policy_sha256="0" * 64, effective_at=now["t"]),
        codec=codec,
        key=hub,
        participant_id="SYSTEM",
        occurred_at=now["t"],
    )
    [*_, moved] = ingest.handle(
        "lead.ingest.hub",
        0,
        1,
        b"SYSTEM",
        encode_envelope(later, codec),
        cloudevents_headers(later),
    )
    lapse = canonical.handle(moved.value)[0]
    assert (lapse.topic, lapse.key) == ("lead.ingest.hub", key)
    expired = read_single_object(lapse.value, "envelope")
    assert expired["event_id"] == uuid.uuid5(EXPIRY_NAMESPACE, str(held_id))
    assert (expired["event_type"], expired["source"], expired["key_id"]) == (
        "intake_window_expired",
        "hub",
        hub.key_id,
    )
    assert (expired["participant_id"], expired["occurred_at"]) == ("P-7KQ2M9XR4TQF", deadline)
    assert expired["causation_id"] == held_id and expired["correlation_id"] is None
    assert expired["recorded_at"] is None
    assert read_single_object(expired["payload"], "intake_window_expired") == {
        "case_ref": "SAO-2026-000123",
        "held_event_id": held_id,
        "deadline": deadline,
    }
    hub.public.verify(
        expired["signature"],
        signing_input(
            **{
                k: expired[k]
                for k in ("event_id", "event_type", "source", "key_id", "participant_id")
            },
            occurred_at=expired["occurred_at"],
            causation_id=held_id,
            correlation_id=None,
            schema_fingerprint=expired["schema_fingerprint"],
            payload=expired["payload"],
        ),
    )
    assert [name for name, _ in lapse.headers] == [name for name, _ in headers]
    [lapse_accepted] = ingest.handle("lead.ingest.hub", 1, 0, lapse.key, lapse.value, lapse.headers)
    assert lapse_accepted.topic == "lead.events"
    [lapse_again] = ingest.handle("lead.ingest.hub", 1, 1, lapse.key, lapse.value, lapse.headers)
    assert dict(lapse_again.headers)["leadhub-reason"] == b"DUPLICATE"
