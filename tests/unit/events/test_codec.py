"""The codec: every subject round-trips, and every kind of bad byte is a typed error."""

from __future__ import annotations

import contextlib
import io
import random
import tracemalloc
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import DeploymentError
from hub.events.codec import MAGIC, Codec
from hub.events.errors import (
    EventError,
    MalformedPayload,
    OversizedPayload,
    Reason,
    UnexpectedSchema,
    UnknownSchema,
)
from hub.events.models import (
    EVENT_MODELS,
)
from hub.events.schemas import SchemaRegistry, _version, zero_size_repetitions
from producers.samples import sample_event
from tests.support.fakes import fake_seal
from tests.support.paths import SCHEMAS
from tests.support.strategies import avro_values

SUBJECTS = sorted(SchemaRegistry.load(SCHEMAS)._heads)


def _zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@pytest.mark.parametrize("subject", SUBJECTS)
def test_every_subject_round_trips(subject: str, codec: Codec) -> None:
    schema = codec.registry.head(subject)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(avro_values(schema.expanded))
    def round_trip(datum: dict[str, Any]) -> None:
        data = codec.encode(subject, datum)
        assert data[:2] == MAGIC and data[2:10] == schema.fingerprint
        decoded = codec.decode(data, subject)
        assert decoded.writer.subject == subject
        assert decoded.datum == datum

    round_trip()


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32))
def test_every_event_model_round_trips(event_type: str, seed: int, codec: Codec) -> None:
    """Semantically valid bodies (the simulator's, from any seed) survive model -> Avro ->
    model unchanged, sealed fields included."""
    body = sample_event(event_type, random.Random(seed), fake_seal)
    decoded = codec.decode(codec.encode(event_type, body.model_dump()), event_type)
    assert EVENT_MODELS[event_type].model_validate(decoded.datum) == body


def test_unknown_fingerprint(codec: Codec) -> None:
    with pytest.raises(UnknownSchema) as err:
        codec.decode(MAGIC + b"\x00" * 8 + b"\x02")
    assert err.value.reason is Reason.UNKNOWN_SCHEMA


@pytest.mark.parametrize("data", [b"", b"\xc3", b"\xc3\x01\x00", b"PK\x03\x04" + b"\x00" * 20])
def test_not_single_object(codec: Codec, data: bytes) -> None:
    with pytest.raises(MalformedPayload):
        codec.decode(data)


def _valid_referral(codec: Codec) -> bytes:
    body = sample_event("referral_made", random.Random(7), fake_seal)
    return codec.encode("referral_made", body.model_dump())


def test_every_truncation_is_malformed(codec: Codec) -> None:
    data = _valid_referral(codec)
    for cut in range(len(data)):
        with pytest.raises(EventError):
            codec.decode(data[:cut])


def test_trailing_bytes_are_malformed(codec: Codec) -> None:
    with pytest.raises(MalformedPayload, match="trailing"):
        codec.decode(_valid_referral(codec) + b"\x00")


def test_wrong_subject_is_refused(codec: Codec) -> None:
    with pytest.raises(UnexpectedSchema):
        codec.decode(_valid_referral(codec), "charges_held")


def test_oversized_is_refused_before_decoding(registry: SchemaRegistry) -> None:
    small = Codec(registry, max_bytes=1024)
    with pytest.raises(OversizedPayload) as err:
        small.decode(MAGIC + registry.head("referral_made").fingerprint + b"\x00" * 2000)
    assert err.value.reason is Reason.OVERSIZED


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SUBJECTS), st.binary(max_size=200))
def test_random_bytes_never_escape_as_other_errors(subject: str, tail: bytes) -> None:
    """Whatever follows a valid header either decodes to a record or is a typed EventError."""
    codec = _CODEC
    data = MAGIC + codec.registry.head(subject).fingerprint + tail
    with contextlib.suppress(EventError):
        assert isinstance(codec.decode(data).datum, dict)


_CODEC = Codec(SchemaRegistry.load(SCHEMAS))


def test_huge_array_count_is_bounded_by_the_bytes(codec: Codec) -> None:
    """A count of 10^9 consent recipients in a few bytes fails fast and allocates little:
    each item costs at least one byte, so a count cannot outrun the payload."""
    schema = codec.registry.head("consent_granted")
    first = schema.expanded["fields"][0]
    assert first["type"] == {"type": "string", "logicalType": "uuid"}, "test assumes uuid first"
    bomb = MAGIC + schema.fingerprint + _zigzag(36) + b"0" * 36 + _zigzag(10**9) + b"\x02" * 8
    tracemalloc.start()
    with pytest.raises(MalformedPayload):
        codec.decode(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 5_000_000


EMPTY_RECORD_ARRAY = {
    "type": "record",
    "name": "Bomb",
    "fields": [
        {
            "name": "xs",
            "type": {"type": "array", "items": {"type": "record", "name": "E", "fields": []}},
        }
    ],
}


def test_zero_size_items_are_an_allocation_bomb_in_plain_fastavro() -> None:
    """Why the registry refuses such schemas: 5 bytes become 10^6 items (kept small here)."""
    parsed = fastavro.parse_schema(EMPTY_RECORD_ARRAY)
    out = fastavro.schemaless_reader(io.BytesIO(_zigzag(10**6) + b"\x00"), parsed, None)
    assert len(out["xs"]) == 10**6


@pytest.mark.parametrize(
    "items",
    [
        "null",
        {"type": "record", "name": "E", "fields": []},
        {"type": "record", "name": "N", "fields": [{"name": "a", "type": "null"}]},
        {"type": "fixed", "name": "F0", "size": 0},
    ],
)
def test_registry_refuses_zero_size_repeated_items(items: Any) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "xs", "type": {"type": "array", "items": items}}],
    }
    assert zero_size_repetitions(schema) == ["$.xs"]
    with pytest.raises(DeploymentError, match="allocation bomb"):
        _version("bomb", None, schema)


def test_items_of_at_least_one_byte_are_allowed() -> None:
    for items in [
        "int",
        "string",
        ["null", "int"],
        {"type": "enum", "name": "E1", "symbols": ["A"]},
    ]:
        schema = {"type": "array", "items": items}
        assert zero_size_repetitions(schema) == []


def test_no_shipped_schema_repeats_zero_size_items(registry: SchemaRegistry) -> None:
    for schema in registry:
        assert zero_size_repetitions(schema.expanded) == [], schema.subject


def test_only_the_canonical_spelling_of_a_datum_is_accepted(codec: Codec) -> None:
    """Found by the decoder fuzzer: Avro readers take a negative enum or union index as
    counted from the end, and overlong varints; each would be a second spelling of a
    signed meaning."""
    datum = {"status": "ACTIVE", "reason": "INTAKE_COMPLETED", "days_since_last_contact": None}
    data = codec.encode("status_changed", datum)
    assert codec.decode(data, "status_changed").datum["status"] == "ACTIVE"
    negative_enum = data[:10] + b"\x01" + data[11:]  # zigzag -1: "the last symbol"
    overlong = data[:10] + b"\x80\x00" + data[11:]  # index 0 in two bytes
    for spelling in (negative_enum, overlong):
        with pytest.raises(EventError) as caught:
            codec.decode(spelling, "status_changed")
        assert caught.value.reason is Reason.MALFORMED
