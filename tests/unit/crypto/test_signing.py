"""Agency signatures: what verifies, and every way a forger or a tamperer fails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.crypto.signing import (
    DEMO_WARNING,
    PublicKeys,
    SigningKey,
    generate_key,
    load_signing_key,
    write_key,
)
from hub.errors import DeploymentError
from hub.events.codec import Codec
from hub.events.envelope import (
    Envelope,
    check_headers,
    cloudevents_headers,
    decode_body,
    decode_envelope,
    encode_envelope,
    sign_event,
    signing_input,
    verify,
)
from hub.events.errors import EventError, HeaderMismatch, Reason, SignatureError
from hub.events.models import ChargesHeld, Narrative, OffenceCategory

NOW = datetime(2026, 11, 3, 14, 30, 15, 123456, tzinfo=UTC)


def _held() -> ChargesHeld:
    return ChargesHeld(
        case_ref="HOLD-0001",
        charge_category=OffenceCategory.DRUG_POSSESSION,
        held_at=NOW,
        intake_deadline=NOW + timedelta(days=14),
        window_days=14,
    )


@pytest.fixture
def envelope(codec: Codec, agency_keys: dict[str, SigningKey]) -> Envelope:
    return sign_event(
        _held(),
        codec=codec,
        key=agency_keys["sao"],
        participant_id="P-TEST000001",
        occurred_at=NOW,
        causation_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
    )


def test_a_sealed_event_verifies_and_round_trips(
    envelope: Envelope, codec: Codec, public_keys: PublicKeys
) -> None:
    verify(envelope, public_keys)
    again = decode_envelope(encode_envelope(envelope, codec), codec)
    assert again == envelope
    verify(again, public_keys)
    assert decode_body(again, codec) == _held()


TAMPERS: dict[str, Any] = {
    "event_id": uuid.uuid4(),
    "event_type": "charges_declined",
    "source": "bpd",
    "key_id": "other-key",
    "participant_id": "P-TEST000002",
    "occurred_at": NOW + timedelta(microseconds=1),
    "causation_id": None,
    "correlation_id": uuid.uuid4(),
    "schema_fingerprint": b"\x00" * 8,
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_changing_any_signed_fact_breaks_the_signature(
    envelope: Envelope, public_keys: PublicKeys, field: str
) -> None:
    tampered = envelope.model_copy(update={field: TAMPERS[field]})
    with pytest.raises(SignatureError) as err:
        verify(tampered, public_keys)
    assert err.value.reason is Reason.BAD_SIGNATURE


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_flipped_payload_bit_breaks_the_signature(
    envelope: Envelope, public_keys: PublicKeys, data: st.DataObject
) -> None:
    bit = data.draw(st.integers(0, len(envelope.payload) * 8 - 1))
    payload = bytearray(envelope.payload)
    payload[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(SignatureError):
        verify(envelope.model_copy(update={"payload": bytes(payload)}), public_keys)


def test_recorded_at_is_not_signed(envelope: Envelope, public_keys: PublicKeys) -> None:
    """The hub stamps recorded_at on acceptance; that must not invalidate the signature."""
    verify(envelope.model_copy(update={"recorded_at": NOW + timedelta(seconds=3)}), public_keys)


def test_forgery_with_another_key_under_the_same_key_id(
    envelope: Envelope, codec: Codec, public_keys: PublicKeys
) -> None:
    forger = SigningKey("sao", envelope.key_id, generate_key("sao", demo=True).private)
    forged = sign_event(
        _held(), codec=codec, key=forger, participant_id="P-TEST000001", occurred_at=NOW
    )
    with pytest.raises(SignatureError):
        verify(forged, public_keys)


def test_another_agency_cannot_sign_as_the_source(
    envelope: Envelope, agency_keys: dict[str, SigningKey], public_keys: PublicKeys
) -> None:
    bpd = agency_keys["bpd"]
    signature = bpd.sign(envelope.signing_input())
    with pytest.raises(SignatureError):
        verify(envelope.model_copy(update={"signature": signature}), public_keys)


def test_missing_signature(envelope: Envelope, public_keys: PublicKeys) -> None:
    with pytest.raises(SignatureError) as err:
        verify(envelope.model_copy(update={"signature": b""}), public_keys)
    assert err.value.reason is Reason.MISSING_SIGNATURE


@pytest.mark.parametrize("signature", [b"\x00" * 64, b"\x01" * 63, b"\x02" * 65])
def test_garbage_signatures(envelope: Envelope, public_keys: PublicKeys, signature: bytes) -> None:
    with pytest.raises(SignatureError):
        verify(envelope.model_copy(update={"signature": signature}), public_keys)


def test_unknown_key(envelope: Envelope) -> None:
    with pytest.raises(SignatureError, match="no key"):
        verify(envelope, PublicKeys({}))


def test_headers_agree_with_the_envelope(envelope: Envelope) -> None:
    headers = cloudevents_headers(envelope)
    names = [h for h, _ in headers]
    assert names[:4] == ["ce_specversion", "ce_id", "ce_source", "ce_type"]
    assert dict(headers)["content-type"] == b"application/avro"
    check_headers(headers, envelope.participant_id.encode(), envelope)


@pytest.mark.parametrize(
    "header", ["ce_id", "ce_source", "ce_type", "ce_specversion", "content-type"]
)
def test_a_lying_or_missing_header_is_refused(envelope: Envelope, header: str) -> None:
    lying = [(h, b"x" if h == header else v) for h, v in cloudevents_headers(envelope)]
    missing = [(h, v) for h, v in cloudevents_headers(envelope) if h != header]
    for headers in (lying, missing):
        with pytest.raises(HeaderMismatch):
            check_headers(headers, envelope.participant_id.encode(), envelope)


def test_record_key_must_be_the_participant(envelope: Envelope) -> None:
    with pytest.raises(HeaderMismatch):
        check_headers(cloudevents_headers(envelope), b"P-SOMEONEELSE", envelope)


def test_key_files_round_trip_and_demo_keys_say_so(tmp_path: Path) -> None:
    key = generate_key("cm", demo=True)
    pub, priv = write_key(key, tmp_path)
    assert pub.read_bytes().startswith(DEMO_WARNING.encode())
    assert priv.stat().st_mode & 0o777 == 0o600
    loaded = load_signing_key(tmp_path, "cm")
    assert loaded.key_id == key.key_id and loaded.is_demo
    keys = PublicKeys.load(tmp_path)
    message = b"signed bytes"
    assert keys.verify("cm", key.key_id, loaded.sign(message), message)
    assert not keys.verify("cm", key.key_id, loaded.sign(message), message + b"!")


def test_a_missing_private_key_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="no private key for agency 'tx'"):
        load_signing_key(tmp_path, "tx")


@pytest.mark.parametrize("not_an_event", ["types.Narrative", "types.Identity", "envelope"])
def test_a_non_event_subject_is_refused_not_crashed(
    codec: Codec, agency_keys: dict[str, SigningKey], not_an_event: str
) -> None:
    """The envelope claims a shared type as its event type and carries that type's bytes."""
    payload = codec.encode("types.Narrative", Narrative(text="x").model_dump())
    key = agency_keys["cm"]
    facts: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "event_type": not_an_event,
        "source": "cm",
        "key_id": key.key_id,
        "participant_id": "P-TEST000001",
        "occurred_at": NOW,
        "causation_id": None,
        "correlation_id": None,
        "schema_fingerprint": payload[2:10],
        "payload": payload,
    }
    envelope = Envelope(**facts, signature=key.sign(signing_input(**facts)))
    with pytest.raises(EventError):
        decode_body(envelope, codec)
