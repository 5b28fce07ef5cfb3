"""The Avro schemas in schemas/ are the contract; hub.events.models is generated from them.

The checked-in module is exactly what the generator writes, one model per schema file,
every record and field documented, no repeated item that can encode to zero bytes,
synthetic samples of every type that validate against both the model and the schema,
the constraints of the schemas' ``leadhub.constraints`` attributes enforced, and the
semantic rules of hub.events.rules refusing what they should.
"""

import ast
import datetime as dt
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import UnknownType, parse_schema
from fastavro.validation import validate
from pydantic import ValidationError

from hub.events import models as m
from hub.events.codegen import COMMAND, CONSTRAINTS, ITEM_CONSTRAINTS, MODULE_PATH, ORDER, render
from producers.samples import SAMPLE_TYPES, sample_event
from tests.support.paths import SCHEMAS
from tests.support.records import sample_records

EVENT_FILES = sorted((SCHEMAS / "events").glob("*.avsc"))
TYPE_FILES = sorted((SCHEMAS / "types").glob("*.avsc"))
TYPES_NS = "org.leadhub.types"
EVENTS_NS = "org.leadhub.events"


def _full_name(schema: dict[str, Any]) -> str:
    name = str(schema["name"])
    ns = schema.get("namespace")
    return f"{ns}.{name}" if ns and "." not in name else name


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _parse_types() -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse schemas/types, in whatever order their references need."""
    named: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    pending = {_full_name(raw): raw for raw in map(_load, TYPE_FILES)}
    while pending:
        progressed = False
        for name, raw in list(pending.items()):
            try:
                parsed[name] = parse_schema(raw, named_schemas=named)
            except UnknownType:
                continue
            del pending[name]
            progressed = True
        assert progressed, f"unresolvable references among types: {sorted(pending)}"
    return named, parsed


TYPES_NAMED, TYPES_PARSED = _parse_types()


def _parse_event(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    named = dict(TYPES_NAMED)
    return parse_schema(_load(path), named_schemas=named), named


# --------------------------------------------------------------------------- zero-byte items


def can_encode_to_zero_bytes(schema: Any, named: dict[str, Any]) -> bool:
    """True if some value of ``schema`` has an empty binary encoding."""
    if isinstance(schema, str):
        if schema == "null":
            return True
        return schema in named and can_encode_to_zero_bytes(named[schema], named)
    if isinstance(schema, list):
        return False  # a union always writes its branch index
    kind = schema["type"]
    if kind == "record":
        return all(can_encode_to_zero_bytes(f["type"], named) for f in schema["fields"])
    if kind == "fixed":
        return int(schema["size"]) == 0
    if isinstance(kind, dict | list):
        return can_encode_to_zero_bytes(kind, named)
    return bool(kind == "null")


def zero_byte_repetitions(schema: Any, named: dict[str, Any], where: str = "$") -> list[str]:
    if isinstance(schema, str):
        return []
    if isinstance(schema, list):
        return [p for i, s in enumerate(schema) for p in zero_byte_repetitions(s, named, where)]
    kind = schema["type"]
    if kind == "record":
        return [
            p
            for f in schema["fields"]
            for p in zero_byte_repetitions(f["type"], named, f"{where}.{f['name']}")
        ]
    if kind in ("array", "map"):
        inner = schema["items"] if kind == "array" else schema["values"]
        here = [where] if can_encode_to_zero_bytes(inner, named) else []
        return here + zero_byte_repetitions(inner, named, f"{where}[]")
    if isinstance(kind, dict | list):
        return zero_byte_repetitions(kind, named, where)
    return []


# --------------------------------------------------------------------------- tests


def test_the_checked_in_module_is_what_the_generator_writes() -> None:
    assert Path(m.__file__) == MODULE_PATH
    assert MODULE_PATH.read_text(encoding="utf-8") == render(SCHEMAS), f"run {COMMAND}"


def test_the_module_says_it_is_generated_and_how() -> None:
    docstring = ast.get_docstring(ast.parse(MODULE_PATH.read_text(encoding="utf-8"))) or ""
    assert "GENERATED from schemas/" in docstring and "do not edit" in docstring
    assert COMMAND in docstring


def test_one_model_per_event_schema_in_schema_order() -> None:
    assert len(EVENT_FILES) == 33
    raws = {p.stem: _load(p) for p in EVENT_FILES}
    assert sorted(m.EVENT_MODELS) == sorted(raws)
    assert list(m.EVENT_MODELS) == sorted(raws, key=lambda t: raws[t][ORDER])
    for event_type, model in m.EVENT_MODELS.items():
        raw = raws[event_type]
        assert raw["type"] == "record" and raw.get("namespace") == EVENTS_NS
        assert (
            raw["name"] == model.__name__ == "".join(p.capitalize() for p in event_type.split("_"))
        )
        assert raw["leadhub.event_type"] == event_type == model.event_type
        assert raw["leadhub.category"] == model.category
        assert model.category.upper() in [c.value for c in m.DataCategory]
        assert issubclass(model, m.EventBody)
        assert list(model.model_fields) == [f["name"] for f in raw["fields"]]


def test_one_shared_type_per_types_file() -> None:
    assert sorted(m.SHARED_TYPES) == sorted(TYPES_PARSED)
    for name, model in m.SHARED_TYPES.items():
        assert name.startswith(f"{TYPES_NS}.") and model.__name__ == name.rsplit(".", 1)[-1]


def _docless(schema: Any, where: str) -> list[str]:
    """Records without a doc and fields without a non-empty doc, in raw schema JSON."""
    if isinstance(schema, list):
        return [p for s in schema for p in _docless(s, where)]
    if not isinstance(schema, dict):
        return []
    found: list[str] = []
    kind = schema.get("type")
    if kind == "record":
        if not str(schema.get("doc", "")).strip():
            found.append(where)
        for f in schema["fields"]:
            here = f"{where}.{f['name']}"
            if not str(f.get("doc", "")).strip():
                found.append(here)
            found += _docless(f["type"], here)
    elif kind == "array":
        found += _docless(schema["items"], f"{where}[]")
    elif kind == "map":
        found += _docless(schema["values"], f"{where}{{}}")
    elif isinstance(kind, dict | list):
        found += _docless(kind, where)
    return found


@pytest.mark.parametrize("path", EVENT_FILES + TYPE_FILES, ids=lambda p: p.stem)
def test_every_record_and_field_has_a_doc(path: Path) -> None:
    assert _docless(_load(path), path.stem) == []


@pytest.mark.parametrize("path", EVENT_FILES + TYPE_FILES, ids=lambda p: p.stem)
def test_no_repeated_item_can_encode_to_zero_bytes(path: Path) -> None:
    if path.parent.name == "events":
        parsed, named = _parse_event(path)
    else:
        parsed, named = TYPES_PARSED[_full_name(_load(path))], TYPES_NAMED
    assert zero_byte_repetitions(parsed, named) == []


@pytest.mark.parametrize(
    "items",
    [
        "null",
        {"type": "record", "name": "Empty", "fields": []},
        {"type": "fixed", "name": "Nothing", "size": 0},
        {
            "type": "record",
            "name": "AllNull",
            "fields": [
                {"name": "a", "type": "null"},
                {"name": "b", "type": {"type": "record", "name": "E2", "fields": []}},
            ],
        },
    ],
)
def test_zero_byte_check_catches_bombs(items: Any) -> None:
    named: dict[str, Any] = {}
    parsed = parse_schema({"type": "array", "items": items}, named_schemas=named)
    assert zero_byte_repetitions(parsed, named) == ["$"]


# --------------------------------------------------------------------------- samples


class FakeSeal:
    """Stands in for field encryption: checks the plaintext against its schema and
    returns a fixed EncryptedField of the matching plaintext type."""

    def __init__(self) -> None:
        self.sealed: list[m.Identity | m.Narrative] = []

    def __call__(self, plaintext: m.Identity | m.Narrative) -> m.EncryptedField:
        identity = isinstance(plaintext, m.Identity)
        schema = TYPES_PARSED[f"{TYPES_NS}.{'Identity' if identity else 'Narrative'}"]
        validate(plaintext.model_dump(), schema, raise_errors=True)
        self.sealed.append(plaintext)
        return m.EncryptedField(
            plaintext_type=m.PlaintextType.IDENTITY if identity else m.PlaintextType.NARRATIVE,
            key_id="dk-test",
            nonce=bytes(12),
            ciphertext=bytes(range(32)),
        )


SEEDS = range(12)
RECORDS = sample_records(FakeSeal())


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_samples_validate_against_model_and_schema(event_type: str) -> None:
    parsed, _ = _parse_event(SCHEMAS / "events" / f"{event_type}.avsc")
    model = m.EVENT_MODELS[event_type]
    for seed in SEEDS:
        body = sample_event(event_type, random.Random(seed), FakeSeal())
        assert type(body) is model
        datum = body.model_dump()
        assert model.model_validate(datum) == body
        assert validate(datum, parsed, raise_errors=True)
        buf = io.BytesIO()
        schemaless_writer(buf, parsed, datum)
        buf.seek(0)
        assert model.model_validate(schemaless_reader(buf, parsed, None)) == body
        again = sample_event(event_type, random.Random(seed), FakeSeal())
        assert again == body, "samples must be deterministic for a given rng"


def test_samples_seal_identity_and_notes() -> None:
    seal = FakeSeal()
    for seed in SEEDS:
        sample_event("referral_made", random.Random(seed), seal)
        sample_event("case_contact_logged", random.Random(seed), seal)
    assert any(isinstance(p, m.Identity) for p in seal.sealed)
    assert any(isinstance(p, m.Narrative) for p in seal.sealed)


def test_sample_event_rejects_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        sample_event("no_such_event", random.Random(0), FakeSeal())


# --------------------------------------------------------------------------- semantic rules


def _sample(event_type: str, **changes: Any) -> dict[str, Any]:
    body = sample_event(event_type, random.Random(1), FakeSeal())
    return {**body.model_dump(), **changes}


T0 = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
NARRATIVE = m.EncryptedField(
    plaintext_type=m.PlaintextType.NARRATIVE, key_id="k", nonce=bytes(12), ciphertext=bytes(16)
)


@pytest.mark.parametrize(
    ("event_type", "changes", "message"),
    [
        ("referral_made", {"identity": NARRATIVE}, "plaintext_type IDENTITY"),
        ("referral_made", {"door": "COMMUNITY", "referring_partner": None}, "referring_partner"),
        ("consent_granted", {"effective_at": T0, "expires_at": T0}, "after effective_at"),
        ("consent_granted", {"recipients": []}, "recipients must not be empty"),
        ("consent_granted", {"recipients": ["cm", "cm"]}, "must not repeat"),
        ("consent_granted", {"effective_at": dt.datetime(2025, 1, 1)}, "timezone"),
        ("consent_revoked", {"scope": "ALL", "recipients": ["bpd"]}, "empty when scope is ALL"),
        (
            "charges_held",
            {"held_at": T0, "intake_deadline": T0 - dt.timedelta(days=1)},
            "after held_at",
        ),
        ("charges_held", {"window_days": 0}, "greater than or equal to 1"),
        ("charges_held", {"window_days": 61}, "less than or equal to 60"),
        ("charges_held", {"charge_category": "NONE"}, "other than NONE"),
        ("case_contact_logged", {"duration_minutes": -1}, "greater than or equal to 0"),
        ("case_contact_logged", {"domains": ["LEGAL", "LEGAL"]}, "must not repeat"),
        (
            "eligibility_decided",
            {"eligible": True, "criteria_failed": ["UNDER_18"]},
            "empty if and only if eligible",
        ),
        ("status_changed", {"status": "ACTIVE", "reason": "IN_CUSTODY"}, "cannot make"),
        ("policy_published", {"policy_sha256": "not-hex"}, "64 lowercase hex"),
        ("participant_erased", {"key_id": ""}, "at least 1 character"),
        ("notice_acknowledged", {"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_semantic_rules_reject(event_type: str, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        m.EVENT_MODELS[event_type].model_validate(_sample(event_type, **changes))


def test_part2_consent_needs_every_element() -> None:
    samples = [sample_event("consent_granted", random.Random(s), FakeSeal()) for s in SEEDS]
    with_part2 = [b for b in samples if isinstance(b, m.ConsentGranted) and b.part2 is not None]
    assert with_part2, "some seed must produce a Part 2 consent"
    datum = with_part2[0].model_dump()
    with pytest.raises(ValidationError, match="SUD_TREATMENT"):
        m.ConsentGranted.model_validate({**datum, "part2": None})
    for element in ("patient_acknowledged", "revocation_right_stated", "signed"):
        with pytest.raises(ValidationError, match=element):
            m.Part2Consent.model_validate({**datum["part2"], element: False})
    stranger = {**datum["part2"], "recipients_named": ["stranger"]}
    with pytest.raises(ValidationError, match="not in recipients"):
        m.ConsentGranted.model_validate({**datum, "part2": stranger})
    lock = {"regulation": "42 CFR 2.35", "justice_agency": "sao", "locked_until_event": "never"}
    with pytest.raises(ValidationError, match="not an event type"):
        m.ConsentGranted.model_validate({**datum, "criminal_justice_lock": lock})


# --------------------------------------------------------------------------- constraints


def _declared(schema: Any, record: str = "") -> Iterator[tuple[str, str, str, Any, Any]]:
    """(record, field, attribute, spec, Avro type the spec bounds) of every constraint
    attribute in a raw schema, nested records included."""
    if isinstance(schema, list):
        for branch in schema:
            yield from _declared(branch, record)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "array":
        yield from _declared(schema["items"], record)
    if schema.get("type") != "record":
        return
    for f in schema["fields"]:
        bounded = f["type"][1] if isinstance(f["type"], list) else f["type"]
        if CONSTRAINTS in f:
            yield schema["name"], f["name"], CONSTRAINTS, f[CONSTRAINTS], bounded
        if ITEM_CONSTRAINTS in f:
            yield schema["name"], f["name"], ITEM_CONSTRAINTS, f[ITEM_CONSTRAINTS], bounded["items"]
        yield from _declared(f["type"], schema["name"])


DECLARED = [d for path in EVENT_FILES + TYPE_FILES for d in _declared(_load(path))]


def _probes(key: str, bound: int, avro: Any) -> tuple[Any, Any, str]:
    """A value just outside ``key=bound``, one just inside, and pydantic's error type."""
    kind = avro if isinstance(avro, str) else avro["type"]
    if key in ("min_length", "max_length"):
        if kind not in ("string", "bytes"):
            pytest.fail(f"no probe for {key} on {kind}: extend this test")
        make = (lambda n: "x" * n) if kind == "string" else bytes
        short = key == "min_length"
        outside, inside = (bound - 1, bound) if short else (bound + 1, bound)
        suffix = "too_short" if short else "too_long"
        return make(outside), make(inside), f"{'string' if kind == 'string' else 'bytes'}_{suffix}"
    step = {"ge": -1, "gt": 0, "le": 1, "lt": 0}[key]
    inside = {"ge": bound, "gt": bound + 1, "le": bound, "lt": bound - 1}[key]
    error = {"ge": "greater_than_equal", "gt": "greater_than", "le": "less_than_equal"}
    return bound + step, inside, error.get(key, "less_than")


def test_every_schema_constraint_is_declared_where_expected() -> None:
    """The attributes exist (so the test below has something to prove) and include the
    ones the issue named: ids, the charge window and the dispatch target."""
    found = {(r, f, json.dumps(spec)) for r, f, _, spec, _ in DECLARED}
    assert ("ChargesHeld", "window_days", '{"ge": 1, "le": 60}') in found
    assert ("CaseManagerDispatched", "response_target_minutes", '{"ge": 1, "le": 1440}') in found
    assert ("EncryptedField", "key_id", '{"min_length": 1}') in found
    assert len(DECLARED) >= 40


@pytest.mark.parametrize(
    ("record", "field", "attribute", "spec", "avro"),
    DECLARED,
    ids=[f"{d[0]}.{d[1]}" + ("[]" if d[2] == ITEM_CONSTRAINTS else "") for d in DECLARED],
)
def test_schema_constraints_are_enforced(
    record: str, field: str, attribute: str, spec: dict[str, int], avro: Any
) -> None:
    """Just outside each bound the model refuses the field, with the bound's own error;
    just inside, the field itself is accepted (a rule may still object to the record)."""
    model = getattr(m, record)
    datum = RECORDS[record]
    items = attribute == ITEM_CONSTRAINTS
    where = (field, 0) if items else (field,)
    for key, bound in spec.items():
        outside, inside, error = _probes(key, bound, avro)
        with pytest.raises(ValidationError) as refused:
            model.model_validate({**datum, field: [outside] if items else outside})
        assert any(e["loc"] == where and e["type"] == error for e in refused.value.errors())
        try:
            model.model_validate({**datum, field: [inside] if items else inside})
        except ValidationError as exc:
            assert all(e["loc"][: len(where)] != where for e in exc.errors()), exc
