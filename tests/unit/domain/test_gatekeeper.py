"""The gatekeeper refuses every kind of bad input with its reason, and never raises."""

from __future__ import annotations

import functools
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.crypto.signing import PublicKeys, SigningKey, generate_key
from hub.domain import issue_participant_id
from hub.domain.agencies import AgencyRegistry
from hub.domain.gatekeeper import Accepted, Gatekeeper, LogClock, Rejected
from hub.events.codec import MAGIC, Codec
from hub.events.envelope import (
    Envelope,
    cloudevents_headers,
    encode_envelope,
    sign_event,
    signing_input,
)
from hub.events.errors import Reason
from hub.events.models import ChargesHeld, LinkBasis, OffenceCategory, ParticipantsLinked
from hub.events.schemas import SchemaRegistry
from producers.samples import sample_event
from tests.support.fakes import fake_seal
from tests.support.paths import DEPLOY, SCHEMAS

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
PARTICIPANT = issue_participant_id(random.Random(34).randbytes)


@pytest.fixture(scope="module")
def gate(codec: Codec, agencies: AgencyRegistry, public_keys: PublicKeys) -> Gatekeeper:
    return Gatekeeper(codec, agencies, public_keys)


def record(env: Envelope, codec: Codec) -> dict[str, Any]:
    return {
        "value": encode_envelope(env, codec),
        "key": env.participant_id.encode(),
        "headers": cloudevents_headers(env),
    }


def signed(codec: Codec, key: SigningKey, event_type: str = "charges_held") -> Envelope:
    body = sample_event(event_type, random.Random(5), fake_seal)
    return sign_event(body, codec=codec, key=key, participant_id=PARTICIPANT, occurred_at=NOW)


def admit(
    gate: Gatekeeper, agency: str, rec: dict[str, Any], seen: set[uuid.UUID] | None = None
) -> Accepted | Rejected:
    return gate.admit(
        topic_agency=agency, clock=lambda env: NOW + timedelta(seconds=1), seen=seen or set(), **rec
    )


def test_a_good_event_is_accepted_and_stamped(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env = signed(codec, agency_keys["sao"])
    result = admit(gate, "sao", record(env, codec))
    assert isinstance(result, Accepted)
    assert result.envelope.recorded_at == NOW + timedelta(seconds=1)
    assert result.envelope.model_copy(update={"recorded_at": None}) == env
    assert result.body.event_type == "charges_held"


def reason(result: Accepted | Rejected) -> Reason:
    assert isinstance(result, Rejected), result
    return result.reason


def test_duplicates(gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]) -> None:
    env = signed(codec, agency_keys["sao"])
    assert reason(admit(gate, "sao", record(env, codec), {env.event_id})) is Reason.DUPLICATE


def test_wrong_topic(gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]) -> None:
    env = signed(codec, agency_keys["sao"])
    assert reason(admit(gate, "bpd", record(env, codec))) is Reason.WRONG_TOPIC


def test_type_not_allowed(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    """Police may not announce that charges are held; only the prosecutor may."""
    env = signed(codec, agency_keys["bpd"])
    assert reason(admit(gate, "bpd", record(env, codec))) is Reason.TYPE_NOT_ALLOWED


def test_unknown_agency(gate: Gatekeeper, codec: Codec) -> None:
    env = signed(codec, generate_key("fbi", demo=True))
    assert reason(admit(gate, "bpd", record(env, codec))) is Reason.UNKNOWN_AGENCY


def test_bad_and_missing_signatures(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env = signed(codec, agency_keys["sao"])
    forged = env.model_copy(update={"signature": agency_keys["bpd"].sign(env.signing_input())})
    assert reason(admit(gate, "sao", record(forged, codec))) is Reason.BAD_SIGNATURE
    unsigned = env.model_copy(update={"signature": b""})
    assert reason(admit(gate, "sao", record(unsigned, codec))) is Reason.MISSING_SIGNATURE
    stranger = signed(codec, generate_key("sao", demo=True))
    assert reason(admit(gate, "sao", record(stranger, codec))) is Reason.BAD_SIGNATURE


@pytest.mark.parametrize("mistyped", ["swap", "symbol", "lower", "SYSTEM", "P-GATE000001"])
def test_an_id_the_hub_did_not_issue_is_refused_before_the_signature(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey], mistyped: str
) -> None:
    """Two neighbours swapped, one symbol wrong, lower case, the hub's own ``SYSTEM``, an
    id of another form: each refused as INVALID_PARTICIPANT_ID, with no id in the detail,
    even under a valid signature (the check comes before it)."""
    pid = {
        "swap": PARTICIPANT[:5] + PARTICIPANT[6] + PARTICIPANT[5] + PARTICIPANT[7:],
        "symbol": PARTICIPANT[:-1] + ("0" if PARTICIPANT[-1] != "0" else "1"),
        "lower": PARTICIPANT.lower(),
    }.get(mistyped, mistyped)
    body = sample_event("charges_held", random.Random(5), fake_seal)
    env = sign_event(body, codec=codec, key=agency_keys["sao"], participant_id=pid, occurred_at=NOW)
    result = admit(gate, "sao", record(env, codec))
    assert pid != PARTICIPANT and isinstance(result, Rejected), result
    assert result.reason is Reason.INVALID_PARTICIPANT_ID and pid not in result.detail


def test_recorded_at_must_be_null_on_ingest(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env = signed(codec, agency_keys["sao"]).model_copy(update={"recorded_at": NOW})
    assert reason(admit(gate, "sao", record(env, codec))) is Reason.INVALID_EVENT


def test_headers_and_key_must_agree(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env = signed(codec, agency_keys["sao"])
    rec = record(env, codec)
    assert reason(admit(gate, "sao", {**rec, "key": b"P-OTHER"})) is Reason.HEADER_MISMATCH
    assert reason(admit(gate, "sao", {**rec, "headers": []})) is Reason.HEADER_MISMATCH


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Reason.MALFORMED),
        (b"", Reason.MALFORMED),
        (b"garbage", Reason.MALFORMED),
        (MAGIC + b"\x00" * 8 + b"\x00", Reason.UNKNOWN_SCHEMA),
        (b"\xc3\x01" + b"\x01" * 300_000, Reason.OVERSIZED),
    ],
)
def test_bad_bytes(gate: Gatekeeper, value: bytes | None, expected: Reason) -> None:
    rec = {"value": value, "key": PARTICIPANT.encode(), "headers": []}
    assert reason(admit(gate, "sao", rec)) is expected


def test_an_unreleased_schema_is_refused(
    codec: Codec,
    agencies: AgencyRegistry,
    public_keys: PublicKeys,
    agency_keys: dict[str, SigningKey],
) -> None:
    """The same bytes, with a registry that has released nothing."""
    heads_only = SchemaRegistry({s.subject: s for s in codec.registry}, writers=[])
    gate = Gatekeeper(Codec(heads_only), agencies, public_keys)
    env = signed(codec, agency_keys["sao"])
    assert reason(admit(gate, "sao", record(env, codec))) is Reason.UNRELEASED_SCHEMA


def test_an_invalid_body_is_refused(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    """Avro-valid but semantically wrong: the deadline before the hold."""
    body = sample_event("charges_held", random.Random(5), fake_seal).model_dump()
    body["intake_deadline"] = body["held_at"] - timedelta(days=1)
    payload = codec.encode("charges_held", body)
    key = agency_keys["sao"]
    facts: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "event_type": "charges_held",
        "source": "sao",
        "key_id": key.key_id,
        "participant_id": PARTICIPANT,
        "occurred_at": NOW,
        "causation_id": None,
        "correlation_id": None,
        "schema_fingerprint": payload[2:10],
        "payload": payload,
    }
    env = Envelope(**facts, signature=key.sign(signing_input(**facts)))
    result = admit(gate, "sao", record(env, codec))
    assert reason(result) is Reason.INVALID_EVENT
    assert "intake_deadline" in result.detail  # type: ignore[union-attr]


_ANY_GATE = Gatekeeper(
    Codec(SchemaRegistry.load(SCHEMAS)),
    AgencyRegistry.load(DEPLOY / "agencies.yaml"),
    PublicKeys({}),
)


@functools.cache
def _keyless_gate() -> Gatekeeper:
    """Built once: hypothesis's examples share it (a fixture would be function-scoped)."""
    codec = Codec(SchemaRegistry.load(SCHEMAS))
    return Gatekeeper(codec, AgencyRegistry.load(DEPLOY / "agencies.yaml"), PublicKeys({}))


@settings(max_examples=300, deadline=None)
@given(
    value=st.binary(max_size=400),
    key=st.binary(max_size=20),
    headers=st.lists(st.tuples(st.text(max_size=12), st.binary(max_size=20)), max_size=6),
)
def test_never_raises_on_anything(
    value: bytes, key: bytes, headers: list[tuple[str, bytes]]
) -> None:
    result = _keyless_gate().admit(
        topic_agency="bpd", value=value, key=key, headers=headers, clock=LogClock(), seen=set()
    )
    assert isinstance(result, Rejected)


def test_a_hold_must_use_the_sites_intake_window(
    codec: Codec,
    agencies: AgencyRegistry,
    public_keys: PublicKeys,
    agency_keys: dict[str, SigningKey],
) -> None:
    held = NOW - timedelta(hours=1)
    body = ChargesHeld(
        case_ref="HOLD-9",
        charge_category=OffenceCategory.DRUG_POSSESSION,
        held_at=held,
        intake_deadline=held + timedelta(days=30),
        window_days=30,
    )
    env = sign_event(
        body, codec=codec, key=agency_keys["sao"], participant_id=PARTICIPANT, occurred_at=NOW
    )
    fourteen = Gatekeeper(codec, agencies, public_keys, intake_window_days=14)
    result = admit(fourteen, "sao", record(env, codec))
    assert reason(result) is Reason.INVALID_EVENT and "14 days" in result.detail  # type: ignore[union-attr]
    thirty = Gatekeeper(codec, agencies, public_keys, intake_window_days=30)
    assert isinstance(admit(thirty, "sao", record(env, codec)), Accepted)
    early = body.model_copy(update={"intake_deadline": held + timedelta(days=29)})
    env = sign_event(
        early, codec=codec, key=agency_keys["sao"], participant_id=PARTICIPANT, occurred_at=NOW
    )
    assert reason(admit(thirty, "sao", record(env, codec))) is Reason.INVALID_EVENT


def test_a_hold_at_the_end_of_the_calendar_is_refused_not_raised(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    """Found by the decoder fuzzer: held_at + window overflowed the date range."""
    held = datetime(9999, 12, 25, tzinfo=UTC)
    body = ChargesHeld(
        case_ref="HOLD-1",
        charge_category=OffenceCategory.DRUG_POSSESSION,
        held_at=held,
        intake_deadline=held + timedelta(days=1),
        window_days=14,
    )
    env = sign_event(
        body, codec=codec, key=agency_keys["sao"], participant_id=PARTICIPANT, occurred_at=NOW
    )
    result = admit(gate, "sao", record(env, codec))
    assert isinstance(result, Rejected) and result.reason is Reason.INVALID_EVENT


def test_a_list_of_a_quarter_million_bad_items_is_refused_cheaply(
    gate: Gatekeeper, codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    """Found by the decoder fuzzer: reporting every one of 260,000 validation errors took
    over a second and 300 MB; the report now stops counting details past a hundred."""
    import tracemalloc

    sample = sample_event("consent_revoked", random.Random(1), fake_seal)
    data = {**sample.model_dump(), "scope": "RECIPIENTS", "recipients": [""] * 260_000}
    payload = codec.encode("consent_revoked", data)
    env = sign_event(
        sample, codec=codec, key=agency_keys["cm"], participant_id=PARTICIPANT, occurred_at=NOW
    )
    facts = env.model_dump() | {"payload": payload}
    unsigned = Envelope.model_validate({**facts, "signature": b""})
    bomb = unsigned.model_copy(
        update={"signature": agency_keys["cm"].sign(unsigned.signing_input())}
    )
    tracemalloc.start()
    try:
        result = admit(gate, "cm", record(bomb, codec))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(result, Rejected) and result.reason is Reason.INVALID_EVENT
    assert "260000 validation errors" in result.detail
    assert peak < 64 * 2**20


def test_a_batch_checked_on_threads_is_admitted_as_one_by_one(
    codec: Codec,
    agencies: AgencyRegistry,
    public_keys: PublicKeys,
    agency_keys: dict[str, SigningKey],
) -> None:
    """The worker screens a batch, checks its signatures on other threads, then finishes it
    in order: the outcome must be exactly that of handling each record in turn, a repeat
    inside the batch and a forgery included."""
    from concurrent.futures import ThreadPoolExecutor

    from hub.streams.handlers import IngestHandler

    good = [signed(codec, agency_keys["sao"]) for _ in range(20)]
    forged = good[3].model_copy(
        update={"event_id": uuid.uuid4(), "signature": agency_keys["bpd"].sign(b"x")}
    )
    batch = [*good[:10], forged, good[4], *good[10:], good[0]]
    records = [("lead.ingest.sao", 0, i, record(env, codec)) for i, env in enumerate(batch)]
    records.append(
        ("lead.ingest.sao", 0, len(records), {"value": b"\xc3\x01junk", "key": None, "headers": []})
    )

    def handler() -> IngestHandler:
        return IngestHandler(Gatekeeper(codec, agencies, public_keys), LogClock(), 6)

    one_by_one = handler()
    expected = [
        one_by_one.handle(t, p, o, r["key"], r["value"], r["headers"]) for t, p, o, r in records
    ]
    batched = handler()
    pending = [
        batched.screen(t, p, o, r["key"], r["value"], r["headers"]) for t, p, o, r in records
    ]
    with ThreadPoolExecutor(4) as pool:
        checked = list(pool.map(batched.check_signature, pending))
    got = [batched.finish(p, c) for p, c in zip(pending, checked, strict=True)]

    def shape(outs: list[Any]) -> list[tuple[str, bytes | None, bytes, str | None]]:
        return [(o.topic, o.key, o.value, o.id) for o in outs]

    assert [shape(o) for o in got] == [shape(o) for o in expected]
    assert batched.counts == one_by_one.counts
    assert batched.counts["rejected.DUPLICATE"] == 2
    assert batched.counts["rejected.BAD_SIGNATURE"] == 1
    assert batched.counts["accepted.charges_held"] == 20


@pytest.mark.parametrize(
    ("source", "basis", "other", "accepted"),
    [
        ("hub", "AUTOMATIC", "another", True),
        ("cm", "CONFIRMED", "another", True),
        ("cm", "AUTOMATIC", "another", False),  # only the hub's score links without asking
        ("hub", "CONFIRMED", "another", False),  # only a person confirms
        ("cm", "CONFIRMED", "itself", False),
        ("cm", "CONFIRMED", "P-NOTANID0000", False),
    ],
)
def test_who_may_link_and_to_whom(
    gate: Gatekeeper,
    codec: Codec,
    agency_keys: dict[str, SigningKey],
    source: str,
    basis: str,
    other: str,
    accepted: bool,
) -> None:
    linked = {
        "another": issue_participant_id(random.Random(35).randbytes),
        "itself": PARTICIPANT,
    }.get(other, other)
    body = ParticipantsLinked(
        linked_participant_id=linked,
        basis=LinkBasis(basis),
        weight=21.5,
        levels=["given=exact", "dob=swapped"],
        token_kinds=["gd"],
    )
    env = sign_event(
        body, codec=codec, key=agency_keys[source], participant_id=PARTICIPANT, occurred_at=NOW
    )
    result = admit(gate, source, record(env, codec))
    assert isinstance(result, Accepted) == accepted, result
    if not accepted:
        assert reason(result) is Reason.INVALID_EVENT
