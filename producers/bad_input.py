"""Bad input for a synthetic scenario: every kind the gatekeeper must refuse (a forged
signature, a type the agency may not emit, bytes that are not Avro, an unknown schema, a
truncated envelope, a repeat), each with the reason code the hub must give."""

from __future__ import annotations

import random

from hub.crypto import SigningKey, generate_key
from hub.events import (
    MAGIC,
    Codec,
    Envelope,
    Reason,
    cloudevents_headers,
    encode_envelope,
    ingest_topic,
    sign_event,
)
from hub.events import models as m
from producers.samples import sample_event
from producers.simulator import BadRecord, Planned, Scenario


def add_bad_input(
    scenario: Scenario,
    rng: random.Random,
    codec: Codec,
    keys: dict[str, SigningKey],
    share: float = 0.02,
) -> None:
    """Every kind of bad input, about ``share`` of the publications, each with the reason
    the hub must give. Repeats are of the earliest 2% of events: send the bad input once
    at least those have been accepted."""
    forger = generate_key("sao", demo=True)
    # The bad input may be sent mid-stream; a repeat must repeat something already sent, or
    # it would arrive first and be accepted (and, on a log clock, jump time ahead).
    earliest = scenario.publications[: max(1, len(scenario.publications) // 50)]
    for i in range(max(6, int(len(scenario.publications) * share))):
        p = rng.choice(earliest if i % 6 == 5 else scenario.publications)
        topic, key = ingest_topic(p.agency), p.participant_id.encode()
        envelope = _seal(p, keys[p.agency], codec)
        headers = cloudevents_headers(envelope)
        kind = i % 6
        if kind == 0:  # signed by a stranger under the agency's key id
            forged = _seal(p, SigningKey(p.agency, keys[p.agency].key_id, forger.private), codec)
            value, expected = encode_envelope(forged, codec), Reason.BAD_SIGNATURE
        elif kind == 1:  # police announcing a held charge: only the prosecutor may
            body = sample_event("charges_held", rng, _no_seal)
            wrong = sign_event(
                body,
                codec=codec,
                key=keys["bpd"],
                participant_id=p.participant_id,
                occurred_at=p.occurred_at,
            )
            topic, headers = ingest_topic("bpd"), cloudevents_headers(wrong)
            value, expected = encode_envelope(wrong, codec), Reason.TYPE_NOT_ALLOWED
        elif kind == 2:  # bytes that are not Avro at all
            value, headers, expected = b"\x00garbage" + rng.randbytes(20), [], Reason.MALFORMED
        elif kind == 3:  # a payload naming a schema nobody has
            value, headers = MAGIC + rng.randbytes(8) + b"\x00", []
            expected = Reason.UNKNOWN_SCHEMA
        elif kind == 4:  # a truncated envelope
            value, expected = encode_envelope(envelope, codec)[:60], Reason.MALFORMED
        else:  # a good event published a second time (same event id)
            value, expected = encode_envelope(envelope, codec), Reason.DUPLICATE
        scenario.bad.append(BadRecord(topic, key, value, headers, expected))
        scenario.truth[f"rejected.{expected.value}"] += 1


def _no_seal(plain: m.Identity | m.Narrative) -> m.EncryptedField:
    raise AssertionError("this bad event has no sealed field")


def _seal(p: Planned, key: SigningKey, codec: Codec) -> Envelope:
    return sign_event(
        p.body,
        codec=codec,
        key=key,
        participant_id=p.participant_id,
        occurred_at=p.occurred_at,
        event_id=p.event_id,
        causation_id=p.causation_id,
        correlation_id=p.correlation_id,
    )
