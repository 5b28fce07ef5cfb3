"""Decoder fuzzing: hostile bytes for every schema never crash, hang or balloon.

The hub decodes bytes it does not control (every lead.ingest.* record, every payload inside
an envelope), so the decoders carry a resource guarantee, not just a correctness one: for
every subject in the registry, mutated and random bytes either decode to a record or are
refused with an ``EventError`` carrying a ``Reason``; no other exception escapes; and no
single decode takes 1 s or allocates 64 MB. That includes the classic allocation bomb: a
length prefix that claims ~10^9 items or bytes inside an otherwise valid payload.

Time is measured on an untraced run and memory on a second, ``tracemalloc``-traced run:
tracing slows allocation-heavy code about tenfold, and the 1 s bound is about the decoder,
not the tracer. Time is this process's CPU time, not the wall clock: the bound is there to
catch a decoder that works without bound (a bomb), never a machine busy with other work.
Both runs must reach the same outcome (decoding is deterministic).
"""

from __future__ import annotations

import copy
import functools
import io
import random
import time
import tracemalloc
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any, TypeVar

import fastavro
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from hub.crypto.signing import PublicKeys, SigningKey
from hub.domain import issue_participant_id
from hub.domain.agencies import AgencyRegistry
from hub.domain.gatekeeper import Accepted, Gatekeeper, Rejected
from hub.events.codec import HEADER_BYTES, MAGIC, Codec, Decoded
from hub.events.envelope import (
    Envelope,
    cloudevents_headers,
    decode_body,
    decode_envelope,
    encode_envelope,
    signing_input,
)
from hub.events.errors import EventError, Reason
from hub.events.models import (
    EVENT_MODELS,
    ChargesHeld,
    EventBody,
)
from hub.events.schemas import ENVELOPE, SchemaRegistry, SchemaVersion, fingerprint64
from producers.samples import sample_event
from tests.support.fakes import fake_seal
from tests.support.paths import SCHEMAS
from tests.support.strategies import avro_values

T = TypeVar("T")

# A hang must fail this file long before the suite-wide 300 s timeout.
pytestmark = pytest.mark.timeout(120)

# CPU seconds of the decoding thread: the bound catches a super-linear blow-up (a bomb costs
# tens of seconds), with room for a slow machine. Thread time, because process time also
# counts other threads (session fixtures' Kafka clients) and failed a run at 1.10 s.
MAX_SECONDS = 3.0
MAX_ALLOCATED = 64 * 1024 * 1024
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
PARTICIPANT = issue_participant_id(random.Random(71).randbytes)
INTAKE_WINDOW_DAYS = 14  # the Gatekeeper default, which the ``gate`` fixture uses

_REGISTRY = SchemaRegistry.load(SCHEMAS)
SUBJECTS = sorted(v.subject for v in _REGISTRY)
EVENT_TYPES = sorted(EVENT_MODELS)
KNOWN_FINGERPRINTS = sorted(v.fingerprint for v in _REGISTRY)

BOMB_REASONS = frozenset({Reason.MALFORMED, Reason.OVERSIZED})

# Varints a hostile writer would pick: sign and width edges, and the ~10^9 bomb claims.
INTERESTING_LONGS = (
    0,
    1,
    -1,
    63,
    64,
    127,
    128,
    2**31 - 1,
    -(2**31),
    10**9,
    -(10**9),
    2**62,
    2**63 - 1,
    -(2**63),
)
# Length/count claims planted by the bomb tests. A negative array or map count is legal
# Avro (a block whose byte size follows); a negative string or bytes length is not.
BOMB_CLAIMS = (10**9, -(10**9), 2**31 - 1, 2**63 - 1)

# Fuzz settings: no per-example deadline (the bounds below are asserted per example
# instead), and no health check failing a run because some generated inputs are slow or
# overrun hypothesis's buffer (mutations of big payloads are both, by design).
FUZZ = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


# --------------------------------------------------------------------------- bounds


@dataclass(frozen=True)
class Measured:
    """What one call did: its result (or the EventError it raised) and what it cost."""

    outcome: Any
    seconds: float
    peak_bytes: int


def _call(call: Callable[[], T]) -> T | EventError:
    """Run ``call``; an EventError is an outcome, any other exception fails the test."""
    try:
        return call()
    except EventError as exc:
        return exc


def _fingerprint_of(outcome: object) -> tuple[str, object]:
    """A comparable summary, so a traced and an untraced run can be checked to agree."""
    if isinstance(outcome, EventError):
        return ("refused", outcome.reason)
    return ("ok", outcome)


def tally(outcome: object) -> None:
    """Label a hypothesis example by its outcome (see --hypothesis-show-statistics), so a
    fuzz run shows it reached the reader and did not just bounce off the header."""
    if isinstance(outcome, EventError | Rejected):
        event(f"refused {outcome.reason.value}")
    else:
        event(f"decoded {type(outcome).__name__}")


def bounded(
    call: Callable[[], T],
    what: str = "",
    *,
    max_seconds: float = MAX_SECONDS,
    max_allocated: int = MAX_ALLOCATED,
) -> T | EventError:
    """Run ``call`` untraced for time and traced for peak memory; assert both bounds.

    Raises AssertionError (with ``what`` for context) if either bound is broken or the two
    runs disagree; returns the outcome of the untraced run."""
    started = time.thread_time()
    first = _call(call)
    seconds = time.thread_time() - started

    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        second = _call(call)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    measured = Measured(first, seconds, peak - baseline)
    assert measured.seconds < max_seconds, f"{what}: decode took {measured.seconds:.2f} s"
    assert measured.peak_bytes < max_allocated, (
        f"{what}: decode allocated {measured.peak_bytes / 2**20:.1f} MiB"
    )
    assert _fingerprint_of(first) == _fingerprint_of(second), f"{what}: nondeterministic"
    return first


def assert_refusal(outcome: object, allowed: frozenset[Reason], what: str = "") -> EventError:
    """An EventError with one of the ``allowed`` reasons and a one-line, non-empty detail
    (details go on the dead-letter topic and into logs)."""
    assert isinstance(outcome, EventError), f"{what}: expected a refusal, got {outcome!r}"
    assert isinstance(outcome.reason, Reason)
    assert outcome.reason in allowed, f"{what}: {outcome}"
    detail = str(outcome.args[0])
    assert detail and "\n" not in detail
    assert str(outcome).startswith(f"{outcome.reason.value}: ")
    return outcome


def header_verdict(codec: Codec, data: bytes, subject: str | None) -> Reason | None:
    """The refusal the header alone decides (size, magic, fingerprint), or None if the
    bytes reach the Avro reader. An oracle for the codec's cheap checks."""
    if len(data) > codec.max_bytes:
        return Reason.OVERSIZED
    if len(data) < HEADER_BYTES or data[:2] != MAGIC:
        return Reason.MALFORMED
    writer = codec.registry.writer(bytes(data[2:HEADER_BYTES]))
    if writer is None:
        return Reason.UNKNOWN_SCHEMA
    if subject is not None and writer.subject != subject:
        return Reason.UNEXPECTED_SCHEMA
    return None


# --------------------------------------------------------------------------- Avro helpers


def zigzag(n: int) -> bytes:
    """Avro's long encoding: zigzag, then little-endian base-128 varint."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z & ~0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def read_long(data: bytes, at: int) -> tuple[int, int]:
    """The Avro long at ``at`` and the offset just past it."""
    z = shift = 0
    while True:
        byte = data[at]
        at += 1
        z |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (z >> 1) ^ -(z & 1), at


def with_claim(data: bytes, at: int, claim: int) -> bytes:
    """``data`` with the length or count prefix at ``at`` replaced by ``claim``."""
    _, end = read_long(data, at)
    return data[:at] + zigzag(claim) + data[end:]


def named_types(schema: Any) -> dict[str, Any]:
    """Every named type an expanded schema defines, by short and full name."""
    found: dict[str, Any] = {}

    def walk(s: Any) -> None:
        if isinstance(s, list):
            for branch in s:
                walk(branch)
            return
        if not isinstance(s, dict):
            return
        if s.get("type") in ("record", "enum", "fixed") and "name" in s:
            found[s["name"]] = s
            if s.get("namespace"):
                found[f"{s['namespace']}.{s['name']}"] = s
        for f in s.get("fields", []):
            walk(f["type"])
        for key in ("items", "values", "type"):
            if isinstance(s.get(key), dict | list):
                walk(s[key])

    walk(schema)
    return found


def example_value(schema: Any, named: Mapping[str, Any], *, full: bool) -> Any:
    """A value the schema admits. ``full``: one item in every array and map and a few
    bytes in every string, so each length prefix has something real behind it. Not full:
    the smallest encoding (empty arrays and strings, null branches)."""
    if isinstance(schema, list):
        if not full and "null" in schema:
            return None
        branch = next((b for b in schema if b != "null"), "null")
        return example_value(branch, named, full=full)
    if isinstance(schema, str):
        if schema in named:
            return example_value(named[schema], named, full=full)
        primitives: dict[str, Any] = {
            "null": None,
            "boolean": full,
            "int": 7 if full else 0,
            "long": 7 if full else 0,
            "float": 7.0 if full else 0.0,
            "double": 7.0 if full else 0.0,
            "bytes": b"lead" if full else b"",
            "string": "lead" if full else "",
        }
        return primitives[schema]
    logical = schema.get("logicalType")
    if logical == "uuid":
        return uuid.UUID(int=1)
    if logical == "timestamp-micros":
        return NOW
    if logical == "date":
        return NOW.date()
    kind = schema["type"]
    if kind == "record":
        return {f["name"]: example_value(f["type"], named, full=full) for f in schema["fields"]}
    if kind == "enum":
        return schema["symbols"][0]
    if kind == "fixed":
        return b"\x01" * int(schema["size"])
    if kind == "array":
        return [example_value(schema["items"], named, full=full)] if full else []
    if kind == "map":
        return {"k": example_value(schema["values"], named, full=full)} if full else {}
    return example_value(kind, named, full=full)


def prefix_kind(field_type: Any) -> str | None:
    """'array', 'map', 'string' or 'bytes' if a field's encoding starts with a length or
    count prefix (unions start with a branch index instead and are not bomb sites)."""
    if isinstance(field_type, str):
        return field_type if field_type in ("string", "bytes") else None
    if isinstance(field_type, dict) and field_type.get("type") in (
        "array",
        "map",
        "string",
        "bytes",
    ):
        return str(field_type["type"])
    return None


def bomb_sites(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, kind) of every top-level field that starts with a length or count."""
    sites = [(f["name"], prefix_kind(f["type"])) for f in schema["fields"]]
    return [(name, kind) for name, kind in sites if kind is not None]


def field_offset(schema: Mapping[str, Any], datum: Mapping[str, Any], name: str) -> int:
    """Where field ``name`` starts in the Avro body of ``datum``: the length of the
    encoding of the fields before it (a record is its fields, concatenated)."""
    fields = schema["fields"]
    index = next(i for i, f in enumerate(fields) if f["name"] == name)
    before = {**schema, "fields": fields[:index]}
    buf = io.BytesIO()
    fastavro.schemaless_writer(
        buf,
        fastavro.parse_schema(copy.deepcopy(before)),
        {f["name"]: datum[f["name"]] for f in fields[:index]},
    )
    return len(buf.getvalue())


def encoded_length(value: Any) -> int:
    """What the length or count prefix of ``value`` says (as fastavro writes it)."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, uuid.UUID):
        return len(str(value))
    return len(value)


# --------------------------------------------------------------------------- events


def sample_body(event_type: str, seed: int) -> EventBody:
    """A valid synthetic body the gatekeeper accepts: a hold is aligned to the site's
    intake window (samples draw 7, 14 or 30 days; the site enforces its own)."""
    body = sample_event(event_type, Random(seed), fake_seal)
    if isinstance(body, ChargesHeld):
        body = body.model_copy(
            update={
                "window_days": INTAKE_WINDOW_DAYS,
                "intake_deadline": body.held_at + timedelta(days=INTAKE_WINDOW_DAYS),
            }
        )
    return body


def emitter(agencies: AgencyRegistry, event_type: str) -> str:
    """The first agency allowed to emit ``event_type`` (the hub emits its own types)."""
    return next(a for a in agencies if agencies.may_emit(a, event_type))


@dataclass(frozen=True)
class Record:
    """An ingest record as the gatekeeper sees it, with the envelope it was built from."""

    agency: str
    envelope: Envelope
    value: bytes
    key: bytes
    headers: list[tuple[str, bytes]]


def signed_record(
    codec: Codec, key: SigningKey, event_type: str, payload: bytes, event_id: uuid.UUID
) -> Record:
    """Sign ``payload`` as is (no re-encoding), exactly as a hostile but authentic agency
    could: the gatekeeper must then survive decoding whatever the payload holds."""
    facts: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "source": key.agency,
        "key_id": key.key_id,
        "participant_id": PARTICIPANT,
        "occurred_at": NOW,
        "causation_id": None,
        "correlation_id": None,
        "schema_fingerprint": payload[2:HEADER_BYTES].ljust(8, b"\x00"),
        "payload": payload,
    }
    envelope = Envelope(**facts, signature=key.sign(signing_input(**facts)))
    return Record(
        agency=key.agency,
        envelope=envelope,
        value=encode_envelope(envelope, codec),
        key=PARTICIPANT.encode(),
        headers=cloudevents_headers(envelope),
    )


def admit(gate: Gatekeeper, record: Record, value: bytes | None = None) -> Accepted | Rejected:
    """The full ingest path for ``record`` (or for other bytes under its key and headers)."""
    return gate.admit(
        topic_agency=record.agency,
        value=record.value if value is None else value,
        key=record.key,
        headers=record.headers,
        clock=lambda envelope: NOW + timedelta(seconds=1),
        seen=set(),
    )


@pytest.fixture(scope="module")
def gate(codec: Codec, agencies: AgencyRegistry, public_keys: PublicKeys) -> Gatekeeper:
    return Gatekeeper(codec, agencies, public_keys, intake_window_days=INTAKE_WINDOW_DAYS)


# --------------------------------------------------------------------------- strategies


MUTATIONS = ("flip", "insert", "delete", "truncate", "splice", "repeat", "varint")


@st.composite
def mutated(draw: st.DrawFn, data: bytes, max_growth: int = 300_000) -> bytes:
    """1-4 mutations of ``data``: byte flips, insertions, deletions, truncations, splices
    of random bytes, repeated chunks (up to ``max_growth`` bytes, past the size limit) and
    hostile varints. Nine times in ten the 10-byte header is spared, so the damage reaches
    the Avro reader instead of stopping at the fingerprint lookup."""
    out = bytearray(data)
    floor = 0 if draw(st.integers(0, 9)) == 0 else HEADER_BYTES
    for op in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4)):
        at = draw(st.integers(min(floor, len(out)), len(out)))
        span = draw(st.integers(1, 32))
        if op == "flip" and at < len(out):
            out[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif op == "delete":
            del out[at : at + span]
        elif op == "truncate":
            del out[at:]
        elif op == "splice":
            out[at : at + span] = draw(st.binary(max_size=32))
        elif op == "repeat":
            chunk = bytes(out[at : at + span]) or b"\x00"
            out[at:at] = chunk * draw(st.integers(1, max(1, max_growth // len(chunk))))
        elif op == "varint":
            out[at : at + draw(st.integers(0, 3))] = zigzag(
                draw(st.sampled_from(INTERESTING_LONGS))
            )
    return bytes(out)


def valid_payloads(
    codec: Codec, subject: str, agencies: AgencyRegistry, keys: Mapping[str, SigningKey]
) -> st.SearchStrategy[bytes]:
    """Valid single-object bytes of ``subject``: realistic samples and arbitrary
    schema-valid data for event types, a signed envelope around a sample for the
    envelope, and arbitrary schema-valid data for the hub's own records and shared types."""
    if subject == ENVELOPE:
        return st.builds(
            functools.partial(sealed_sample, codec, agencies, keys),
            st.sampled_from(EVENT_TYPES),
            st.integers(0, 2**32),
        ).map(lambda record: record.value)
    schema = codec.registry.head(subject)
    anything = avro_values(schema.expanded).map(functools.partial(codec.encode, subject))
    if subject in EVENT_MODELS:
        samples = st.integers(0, 2**32).map(
            lambda seed: codec.encode(subject, sample_body(subject, seed).model_dump())
        )
        return st.one_of(samples, anything)
    return anything


def sealed_sample(
    codec: Codec,
    agencies: AgencyRegistry,
    keys: Mapping[str, SigningKey],
    event_type: str,
    seed: int,
) -> Record:
    """A sample event, encoded and signed by an agency that may emit it."""
    payload = codec.encode(event_type, sample_body(event_type, seed).model_dump())
    event_id = uuid.UUID(int=Random(seed).getrandbits(128), version=4)
    return signed_record(codec, keys[emitter(agencies, event_type)], event_type, payload, event_id)


def records(
    codec: Codec, agencies: AgencyRegistry, keys: Mapping[str, SigningKey]
) -> st.SearchStrategy[Record]:
    """Lawful ingest records of every event type."""
    return st.builds(
        functools.partial(sealed_sample, codec, agencies, keys),
        st.sampled_from(EVENT_TYPES),
        st.integers(0, 2**32),
    )


ENVELOPE_FINGERPRINT = _REGISTRY.head(ENVELOPE).fingerprint


def hostile_values(original: bytes) -> st.SearchStrategy[bytes]:
    """Bytes an attacker could put in a record value: noise; noise behind the envelope's
    real header (so it reaches the Avro reader); noise behind any known header; and
    mutations of a real signed envelope."""
    noise = st.binary(max_size=512)
    return st.one_of(
        noise,
        noise.map(lambda tail: MAGIC + ENVELOPE_FINGERPRINT + tail),
        st.tuples(st.sampled_from(KNOWN_FINGERPRINTS), noise).map(
            lambda parts: MAGIC + parts[0] + parts[1]
        ),
        mutated(original),
    )


def items_that_fit(
    codec: Codec,
    subject: str,
    base: dict[str, Any],
    field: str,
    item: Any,
    limit: int | None = None,
) -> int:
    """How many copies of ``item`` fit in ``field`` without passing ``limit`` bytes (by
    default the codec's size limit)."""
    limit = codec.max_bytes if limit is None else limit
    empty = len(codec.encode(subject, {**base, field: []}))
    one = len(codec.encode(subject, {**base, field: [item]}))
    per_item = len(codec.encode(subject, {**base, field: [item, item]})) - one
    return (limit - empty - 4) // per_item


def smallest_valid_item(event_type: str, field: str) -> Any:
    """An item of ``field`` that the event's model accepts, with every string in it cut to
    one character where the model still accepts that: the most items per byte that a
    lawful body can carry, so a full-size body is the honest worst case."""
    model = EVENT_MODELS[event_type]
    for seed in range(500):
        body = sample_body(event_type, seed).model_dump()
        if body[field]:
            break
    else:
        raise AssertionError(f"no sample of {event_type} has a non-empty {field}")
    item = body[field][0]
    if isinstance(item, dict):
        for name, value in item.items():
            shorter = {**item, name: "x"}
            if isinstance(value, str) and _accepts(model, {**body, field: [shorter]}):
                item = shorter
    return item


def _accepts(model: type[EventBody], datum: dict[str, Any]) -> bool:
    try:
        model.model_validate(datum)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return False
    return True


def refuse_every_bomb(codec: Codec, subject: str, datum: dict[str, Any]) -> int:
    """Plant every bomb claim at every length or count prefix of ``datum``'s top-level
    fields; each must be refused, fast and small. Returns how many bombs were planted."""
    schema = codec.registry.head(subject).expanded
    data = codec.encode(subject, datum)
    planted = 0
    for field, kind in bomb_sites(schema):
        at = HEADER_BYTES + field_offset(schema, datum, field)
        # The bomb goes exactly where the real prefix was, in an otherwise valid payload.
        assert read_long(data, at) == (encoded_length(datum[field]), at + 1), (subject, field)
        for claim in BOMB_CLAIMS:
            bomb = with_claim(data, at, claim)
            what = f"{subject}.{field} ({kind}) claiming {claim}"
            outcome = bounded(functools.partial(codec.decode, bomb, subject), what)
            assert_refusal(outcome, BOMB_REASONS, what)
            planted += 1
    return planted


BOMB_SUBJECTS = [s for s in SUBJECTS if bomb_sites(_REGISTRY.head(s).expanded)]
FILL_SITES = [
    (s, f)
    for s in SUBJECTS
    for f, kind in bomb_sites(_REGISTRY.head(s).expanded)
    if kind in ("array", "map")
]
TYPED_FILL_SITES = [(s, f) for s, f in FILL_SITES if s in EVENT_MODELS]

# No shipped schema has a map, so maps get a subject of their own in a registry of one.
MAP_SUBJECT = "fuzz.maps"
MAP_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Maps",
    "namespace": "org.leadhub.fuzz",
    "fields": [
        {"name": "labels", "type": {"type": "map", "values": "string"}},
        {"name": "counts", "type": {"type": "map", "values": "long"}},
        {"name": "note", "type": "string"},
    ],
}


@pytest.fixture(scope="module")
def map_codec() -> Codec:
    version = SchemaVersion(
        subject=MAP_SUBJECT,
        version=1,
        expanded=MAP_SCHEMA,
        fingerprint=fingerprint64(MAP_SCHEMA),
        parsed=fastavro.parse_schema(copy.deepcopy(MAP_SCHEMA)),
    )
    return Codec(SchemaRegistry({MAP_SUBJECT: version}, writers=[version]))


def _spin(seconds: float) -> None:
    """Work (not sleep) for ``seconds`` of CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_the_bounds_catch_what_they_claim_to(codec: Codec) -> None:
    """The harness itself: a call over its time or memory budget fails the bound, and an
    EventError is an outcome while any other exception escapes (a crash is a failure)."""
    with pytest.raises(AssertionError, match="took"):
        bounded(functools.partial(_spin, 0.05), max_seconds=0.01)
    with pytest.raises(AssertionError, match="allocated"):
        bounded(functools.partial(bytearray, 2 * 2**20), max_allocated=2**20)
    refusal = bounded(functools.partial(codec.decode, b"junk"))
    assert assert_refusal(refusal, frozenset({Reason.MALFORMED})).reason is Reason.MALFORMED
    with pytest.raises(ZeroDivisionError):
        bounded(functools.partial(divmod, 1, 0))


# --------------------------------------------------------------------------- 1. mutations


@pytest.mark.parametrize("subject", SUBJECTS)
@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_mutated_payloads_decode_or_are_refused(
    subject: str,
    data: st.DataObject,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
) -> None:
    """Every subject: a valid payload, mutated, either decodes to a value of the schema or
    is refused with the reason its header decides (MALFORMED once it reaches the reader);
    never another exception, never over 1 s or 64 MB."""
    original = data.draw(valid_payloads(codec, subject, agencies, agency_keys), label="original")
    assert codec.decode(original, subject).writer.subject == subject  # a real starting point
    hostile = data.draw(mutated(original), label="hostile")
    outcome = bounded(functools.partial(codec.decode, hostile, subject), subject)
    tally(outcome)
    verdict = header_verdict(codec, hostile, subject)
    if isinstance(outcome, Decoded):
        assert verdict is None
        assert outcome.writer.subject == subject
        assert isinstance(outcome.datum, dict)
        # Whatever decodes is a value of the schema: it re-encodes and reads back the same.
        assert codec.decode(codec.encode(subject, outcome.datum), subject).datum == outcome.datum
    elif verdict is None:
        assert_refusal(outcome, frozenset({Reason.MALFORMED}), subject)
    else:
        assert_refusal(outcome, frozenset({verdict}), subject)


# --------------------------------------------------------------------------- 2. random bytes


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_random_bytes_through_decode_envelope(
    data: st.DataObject,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
) -> None:
    """decode_envelope on noise, noise behind real headers and mutated signed envelopes:
    an Envelope (the rare lucky decode is still a typed, validated result) or a refusal
    with a reason; the header alone decides the reason when it is wrong."""
    record = data.draw(records(codec, agencies, agency_keys), label="record")
    value = data.draw(hostile_values(record.value), label="value")
    outcome = bounded(functools.partial(decode_envelope, value, codec), "decode_envelope")
    tally(outcome)
    verdict = header_verdict(codec, value, ENVELOPE)
    if isinstance(outcome, Envelope):
        assert verdict is None
        assert outcome.event_type and len(outcome.schema_fingerprint) == 8
    elif verdict is None:
        assert_refusal(outcome, frozenset({Reason.MALFORMED, Reason.INVALID_EVENT}))
    else:
        assert_refusal(outcome, frozenset({verdict}))


@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_random_and_mutated_records_through_the_gatekeeper(
    data: st.DataObject,
    gate: Gatekeeper,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
) -> None:
    """The full ingest path on hostile record values (with the lawful record's key and
    headers, so nothing stops the bytes early): always a verdict, never an exception, and
    nothing but the authentic event itself is ever accepted."""
    record = data.draw(records(codec, agencies, agency_keys), label="record")
    lawful = admit(gate, record)
    assert isinstance(lawful, Accepted), lawful  # the unmutated record gets in
    value = data.draw(hostile_values(record.value), label="value")
    result = bounded(functools.partial(admit, gate, record, value), "admit")
    tally(result)
    if isinstance(result, Accepted):
        # Same signed facts and body (an overlong varint may re-spell the same envelope).
        assert result.envelope == lawful.envelope
        assert result.body == lawful.body
        return
    assert isinstance(result, Rejected), result
    assert isinstance(result.reason, Reason)
    assert result.detail and "\n" not in result.detail
    verdict = header_verdict(codec, value, ENVELOPE)
    if verdict is not None:
        assert result.reason is verdict, result


@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_mutated_bodies_signed_by_their_agency_through_the_gatekeeper(
    data: st.DataObject,
    gate: Gatekeeper,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
) -> None:
    """A signature proves who sent a payload, not that it is well formed: mutated bodies,
    and Avro-valid bodies that break the event's rules, signed by the very agency that may
    emit them, reach decode_body and still end in a verdict with a body-level reason,
    within the bounds."""
    lawful = data.draw(records(codec, agencies, agency_keys), label="lawful")
    envelope = lawful.envelope
    schema = codec.registry.head(envelope.event_type).expanded
    arbitrary = avro_values(schema).map(functools.partial(codec.encode, envelope.event_type))
    payload = data.draw(st.one_of(mutated(envelope.payload), arbitrary), label="payload")
    assume(len(payload) < codec.max_bytes - 1024)  # room for the envelope around it
    key = agency_keys[lawful.agency]
    record = signed_record(codec, key, envelope.event_type, payload, envelope.event_id)
    result = bounded(functools.partial(admit, gate, record), envelope.event_type)
    tally(result)
    if isinstance(result, Accepted):
        assert result.envelope.payload == payload
        assert result.body.event_type == envelope.event_type
        return
    assert isinstance(result, Rejected), result
    assert result.detail and "\n" not in result.detail
    assert result.reason in {
        Reason.MALFORMED,
        Reason.UNKNOWN_SCHEMA,
        Reason.UNEXPECTED_SCHEMA,
        Reason.INVALID_EVENT,
        Reason.BAD_SIGNATURE,  # a payload too short to hold the fingerprint it was signed with
    }, result
    if len(payload) >= HEADER_BYTES and payload[:2] != MAGIC:
        assert result.reason is Reason.MALFORMED, result


# --------------------------------------------------------------------------- 3. bombs


@pytest.mark.parametrize("subject", BOMB_SUBJECTS)
def test_length_prefix_bombs_are_refused_fast(subject: str, codec: Codec) -> None:
    """The known allocation bomb, at every array, string and bytes prefix of every
    subject: ~10^9 (and 2^63 - 1, and negative) claimed in a few bytes of an otherwise
    valid payload is refused as MALFORMED within the bounds, never trusted."""
    schema = codec.registry.head(subject).expanded
    datum = example_value(schema, named_types(schema), full=True)
    sites = bomb_sites(schema)
    assert refuse_every_bomb(codec, subject, datum) == len(sites) * len(BOMB_CLAIMS)


def test_map_bombs_are_refused_fast(map_codec: Codec) -> None:
    """Maps are bombed like arrays (no shipped schema has one yet, so a registry of one
    stands in): the codec's bound does not depend on what the schemas happen to use."""
    datum = {"labels": {"a": "x"}, "counts": {"b": 1}, "note": "ok"}
    assert map_codec.decode(map_codec.encode(MAP_SUBJECT, datum), MAP_SUBJECT).datum == datum
    assert refuse_every_bomb(map_codec, MAP_SUBJECT, datum) == 3 * len(BOMB_CLAIMS)


@pytest.mark.parametrize("event_type", [s for s in BOMB_SUBJECTS if s in EVENT_MODELS])
def test_a_bomb_in_a_signed_body_is_rejected_by_the_gatekeeper(
    event_type: str,
    gate: Gatekeeper,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
) -> None:
    """The bomb inside the payload of a valid, correctly signed envelope: the envelope
    decodes (its payload is opaque bytes), and the gatekeeper rejects the body MALFORMED."""
    body = sample_body(event_type, 3).model_dump()
    payload = codec.encode(event_type, body)
    schema = codec.registry.head(event_type).expanded
    key = agency_keys[emitter(agencies, event_type)]
    for field, _ in bomb_sites(schema):
        at = HEADER_BYTES + field_offset(schema, body, field)
        assert read_long(payload, at)[0] == encoded_length(body[field]), field
        for claim in BOMB_CLAIMS:
            bomb = with_claim(payload, at, claim)
            record = signed_record(codec, key, event_type, bomb, uuid.UUID(int=claim % 2**128))
            assert decode_envelope(record.value, codec).payload == bomb
            result = bounded(functools.partial(admit, gate, record), f"{event_type}.{field}")
            assert isinstance(result, Rejected), result
            assert result.reason in BOMB_REASONS, result


def test_a_bomb_in_the_envelope_is_rejected_by_the_gatekeeper(
    gate: Gatekeeper,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
) -> None:
    """The bomb in the envelope itself (event_type, payload, signature, ...) of a real
    signed record: rejected MALFORMED by the gatekeeper before anything else is read."""
    record = sealed_sample(codec, agencies, agency_keys, "consent_granted", 11)
    assert isinstance(admit(gate, record), Accepted)
    schema = codec.registry.head(ENVELOPE).expanded
    datum = record.envelope.model_dump()
    sites = bomb_sites(schema)
    assert {"payload", "signature", "event_type"} <= {field for field, _ in sites}
    for field, _ in sites:
        at = HEADER_BYTES + field_offset(schema, datum, field)
        assert read_long(record.value, at)[0] == encoded_length(datum[field]), field
        for claim in BOMB_CLAIMS:
            value = with_claim(record.value, at, claim)
            result = bounded(functools.partial(admit, gate, record, value), f"envelope.{field}")
            assert isinstance(result, Rejected), result
            assert result.reason in BOMB_REASONS, result


@pytest.mark.stress
@pytest.mark.parametrize(("subject", "field"), FILL_SITES, ids=[f"{s}.{f}" for s, f in FILL_SITES])
def test_a_full_size_payload_of_the_smallest_items_stays_bounded(
    subject: str, field: str, codec: Codec
) -> None:
    """The honest worst case behind the bomb: a payload at the size limit, all of it the
    smallest items an array admits (the most objects per byte), decodes within bounds."""
    schema = codec.registry.head(subject).expanded
    named = named_types(schema)
    base = example_value(schema, named, full=False)
    items = next(f["type"]["items"] for f in schema["fields"] if f["name"] == field)
    item = example_value(items, named, full=False)
    count = items_that_fit(codec, subject, base, field, item)
    data = codec.encode(subject, {**base, field: [item] * count})
    assert codec.max_bytes * 0.99 < len(data) <= codec.max_bytes
    outcome = bounded(functools.partial(codec.decode, data, subject), f"{subject}.{field}")
    assert isinstance(outcome, Decoded), outcome
    assert len(outcome.datum[field]) == count


@pytest.mark.stress
def test_a_full_size_map_of_distinct_keys_stays_bounded(map_codec: Codec) -> None:
    """Maps at the size limit, every entry a distinct short key (so none collapse)."""
    entries: dict[str, str] = {}
    size = 64  # header, counts, note and block framing, generously
    while size < map_codec.max_bytes:
        key = f"{len(entries):x}"
        entries[key] = ""
        size += 1 + len(key) + 1  # key length, key, empty value's length
    del entries[key]
    data = map_codec.encode(MAP_SUBJECT, {"labels": entries, "counts": {}, "note": ""})
    assert map_codec.max_bytes * 0.9 < len(data) <= map_codec.max_bytes
    outcome = bounded(functools.partial(map_codec.decode, data, MAP_SUBJECT), "map")
    assert isinstance(outcome, Decoded), outcome
    assert outcome.datum["labels"] == entries


@pytest.mark.stress
@pytest.mark.parametrize(
    ("event_type", "field"), TYPED_FILL_SITES, ids=[f"{s}.{f}" for s, f in TYPED_FILL_SITES]
)
def test_a_full_size_typed_body_stays_bounded(
    event_type: str,
    field: str,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
) -> None:
    """decode_body, pydantic models included, on a body at the size limit whose list is
    one valid item repeated: a typed body (or INVALID_EVENT for a list that must not
    repeat), within the bounds."""
    body = sample_body(event_type, 0).model_dump()
    item = smallest_valid_item(event_type, field)
    room = codec.max_bytes - 1024  # the envelope around the payload must fit too
    count = items_that_fit(codec, event_type, body, field, item, limit=room)
    payload = codec.encode(event_type, {**body, field: [item] * count})
    assert room * 0.99 < len(payload) <= room
    key = agency_keys[emitter(agencies, event_type)]
    record = signed_record(codec, key, event_type, payload, uuid.UUID(int=count))
    outcome = bounded(
        functools.partial(decode_body, record.envelope, codec), f"{event_type}.{field}"
    )
    if isinstance(outcome, EventBody):
        assert len(getattr(outcome, field)) == count
    else:
        assert_refusal(outcome, frozenset({Reason.INVALID_EVENT}), f"{event_type}.{field}")
