"""An agency publishes a signed event through the real broker; it comes back intact."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumers.tail import describe
from hub.crypto.signing import PublicKeys, SigningKey
from hub.events.codec import Codec
from hub.events.envelope import check_headers, decode_body, decode_envelope, verify
from hub.events.fields import DataKeyStore, open_field, seal_field
from hub.events.models import Identity, Narrative, ReferralMade
from hub.log.reading import read_topics
from producers.samples import sample_event
from producers.sdk import Publisher

pytestmark = pytest.mark.integration


def test_signed_event_round_trip(
    broker: object,
    codec: Codec,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
    tmp_path: Path,
) -> None:
    servers = broker.bootstrap_servers  # type: ignore[attr-defined]
    participant = f"P-{uuid.uuid4().hex[:10].upper()}"
    key_id, key = DataKeyStore(tmp_path).get_or_create(participant)

    def seal(plain: Identity | Narrative) -> object:
        return seal_field(plain, participant_id=participant, key_id=key_id, key=key, codec=codec)

    body = sample_event("referral_made", random.Random(11), seal)  # type: ignore[arg-type]
    assert isinstance(body, ReferralMade)
    occurred = datetime(2026, 11, 3, 9, 15, 0, 250_001, tzinfo=UTC)
    with Publisher(key=agency_keys["bpd"], codec=codec, bootstrap_servers=servers) as pub:
        sent = pub.publish(body, participant_id=participant, occurred_at=occurred)

    records = [
        r for r in read_topics(servers, ["lead.ingest.bpd"]) if r.key == participant.encode()
    ]
    assert len(records) == 1
    record = records[0]
    headers = dict(record.headers)
    assert headers["ce_id"] == str(sent.event_id).encode()
    assert headers["ce_type"] == b"org.leadhub.referral_made"
    assert headers["ce_source"] == b"/leadhub/agencies/bpd"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/avro"

    envelope = decode_envelope(record.value, codec)
    check_headers(record.headers, record.key, envelope)
    verify(envelope, public_keys)
    assert envelope == sent
    assert envelope.occurred_at == occurred
    received = decode_body(envelope, codec)
    assert received == body
    assert isinstance(received, ReferralMade)
    assert open_field(received.identity, participant_id=participant, key=key, codec=codec)

    shown = describe(record, codec, public_keys)
    assert shown.ok and shown.body["identity"] == "<encrypted>"


def test_async_publisher(
    broker: object, codec: Codec, agency_keys: dict[str, SigningKey], public_keys: PublicKeys
) -> None:
    import asyncio

    from producers.sdk import AsyncPublisher

    servers = broker.bootstrap_servers  # type: ignore[attr-defined]
    participant = f"P-{uuid.uuid4().hex[:10].upper()}"
    body = sample_event("shelter_entered", random.Random(4), _no_seal)

    async def go() -> object:
        async with AsyncPublisher(
            key=agency_keys["hsg"], codec=codec, bootstrap_servers=servers
        ) as pub:
            return await pub.publish(
                body, participant_id=participant, occurred_at=datetime.now(UTC)
            )

    sent = asyncio.run(go())
    found = [r for r in read_topics(servers, ["lead.ingest.hsg"]) if r.key == participant.encode()]
    assert len(found) == 1
    envelope = decode_envelope(found[0].value, codec)
    verify(envelope, public_keys)
    assert envelope == sent and decode_body(envelope, codec) == body


def _no_seal(plain: object) -> object:
    raise AssertionError("shelter_entered has no sealed field")
