"""The Avro schemas in schemas/ are the contract; hub.events.models must mirror them.

For every event schema: same field names in the same order, each Avro type mapped to
the model annotation (records, arrays, unions, enums and logical types, recursively),
optional iff ``["null", T]`` with default null, and the event type and category
attributes equal to the model's ClassVars. Also: one model per schema file, a doc on
every field, no repeated item that can encode to zero bytes, and synthetic samples of
every type that validate against both the model and the schema.
"""

import datetime as dt
import io
import json
import random
import types
import typing
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import annotated_types
import pytest
from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import UnknownType, parse_schema
from fastavro.validation import validate
from pydantic import AwareDatetime, BaseModel, ValidationError
from pydantic.fields import FieldInfo

from hub.events import models as m
from producers.samples import SAMPLE_TYPES, sample_event
from tests.support.paths import SCHEMAS

EVENT_FILES = sorted((SCHEMAS / "events").glob("*.avsc"))
TYPE_FILES = sorted((SCHEMAS / "types").glob("*.avsc"))
TYPES_NS = "org.leadhub.types"
EVENTS_NS = "org.leadhub.events"

PRIMITIVES: dict[str, type] = {
    "string": str,
    "int": int,
    "long": int,
    "boolean": bool,
    "bytes": bytes,
    "float": float,
    "double": float,
}
LOGICAL: dict[tuple[str, str], Any] = {
    ("string", "uuid"): uuid.UUID,
    ("long", "timestamp-micros"): AwareDatetime,
    ("int", "date"): dt.date,
}


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


# --------------------------------------------------------------------------- type mapping


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    """Strip Annotated[...] layers, collecting constraints (also those inside Field())."""
    found = list(metadata)
    while typing.get_origin(annotation) is Annotated:
        found.extend(annotation.__metadata__)
        annotation = typing.get_args(annotation)[0]
    flat: list[Any] = []
    for item in found:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, flat


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _check_type(
    avro: Any, annotation: Any, metadata: list[Any], named: dict[str, Any], where: str
) -> None:
    annotation, metadata = _unwrap(annotation, metadata)
    if isinstance(avro, str) and avro in named:
        avro = named[avro]
    if isinstance(avro, str):
        assert avro in PRIMITIVES, f"{where}: unsupported Avro type {avro!r}"
        assert annotation is PRIMITIVES[avro], f"{where}: {avro} must be {PRIMITIVES[avro]}"
        return
    if isinstance(avro, list):
        assert len(avro) == 2 and avro[0] == "null", f"{where}: only ['null', T] unions"
        assert _is_union(annotation), f"{where}: union must be T | None"
        args = typing.get_args(annotation)
        assert len(args) == 2 and type(None) in args, f"{where}: union must be T | None"
        inner = next(a for a in args if a is not type(None))
        _check_type(avro[1], inner, [], named, where)
        return
    kind = avro["type"]
    if "logicalType" in avro:
        key = (kind, avro["logicalType"])
        assert key in LOGICAL, f"{where}: unsupported logical type {key}"
        assert annotation is LOGICAL[key], f"{where}: {key} must be {LOGICAL[key]}"
        return
    if kind in PRIMITIVES:
        _check_type(kind, annotation, metadata, named, where)
    elif kind == "array":
        assert typing.get_origin(annotation) is list, f"{where}: array must be list[T]"
        _check_type(avro["items"], typing.get_args(annotation)[0], [], named, f"{where}[]")
    elif kind == "map":
        assert typing.get_origin(annotation) is dict, f"{where}: map must be dict[str, T]"
        key_type, value_type = typing.get_args(annotation)
        assert key_type is str, f"{where}: map keys are str"
        _check_type(avro["values"], value_type, [], named, f"{where}{{}}")
    elif kind == "fixed":
        size = avro["size"]
        assert annotation is bytes, f"{where}: fixed must be bytes"
        assert annotated_types.MinLen(size) in metadata, f"{where}: fixed needs min_length={size}"
        assert annotated_types.MaxLen(size) in metadata, f"{where}: fixed needs max_length={size}"
    elif kind == "enum":
        _check_enum(avro, annotation, where)
    elif kind == "record":
        _check_record(avro, annotation, named, where)
    else:
        pytest.fail(f"{where}: unsupported Avro type {kind!r}")


def _check_shared(avro: dict[str, Any], annotation: Any, where: str) -> None:
    full = _full_name(avro)
    if full in m.SHARED_TYPES:
        assert annotation is m.SHARED_TYPES[full], f"{where}: must be SHARED_TYPES[{full!r}]"


def _check_enum(avro: dict[str, Any], annotation: Any, where: str) -> None:
    assert isinstance(annotation, type) and issubclass(annotation, StrEnum), (
        f"{where}: enum must be a StrEnum"
    )
    short = _full_name(avro).rsplit(".", 1)[-1]
    assert annotation.__name__ == short, f"{where}: enum class must be named {short}"
    assert [e.value for e in annotation] == avro["symbols"], f"{where}: symbols differ"
    assert [e.name for e in annotation] == avro["symbols"], f"{where}: member names differ"
    _check_shared(avro, annotation, where)


def _check_record(avro: dict[str, Any], model: Any, named: dict[str, Any], where: str) -> None:
    assert isinstance(model, type) and issubclass(model, BaseModel), f"{where}: needs a model"
    short = _full_name(avro).rsplit(".", 1)[-1]
    assert model.__name__ == short, f"{where}: model class must be named {short}"
    assert model.model_config.get("frozen") is True, f"{where}: model must be frozen"
    assert model.model_config.get("extra") == "forbid", f"{where}: model must forbid extras"
    _check_shared(avro, model, where)
    fields = model.model_fields
    assert list(fields) == [f["name"] for f in avro["fields"]], f"{where}: field names/order"
    for avro_field in avro["fields"]:
        name = avro_field["name"]
        info = fields[name]
        here = f"{where}.{name}"
        if isinstance(avro_field["type"], list):
            assert "default" in avro_field and avro_field["default"] is None, (
                f"{here}: optional Avro field needs default null"
            )
            assert not info.is_required() and info.default is None, f"{here}: needs = None"
        else:
            assert "default" not in avro_field, f"{here}: only optional fields have defaults"
            assert info.is_required(), f"{here}: must be required"
        _check_type(avro_field["type"], info.annotation, list(info.metadata), named, here)


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


def test_one_model_per_event_schema() -> None:
    assert len(EVENT_FILES) == 26
    assert sorted(m.EVENT_MODELS) == [p.stem for p in EVENT_FILES]
    assert list(m.EVENT_MODELS) == SAMPLE_TYPES


def test_one_shared_type_per_types_file() -> None:
    assert sorted(m.SHARED_TYPES) == sorted(TYPES_PARSED)
    for name in TYPES_PARSED:
        assert name.startswith(f"{TYPES_NS}.")


@pytest.mark.parametrize("name", sorted(TYPES_PARSED))
def test_shared_type_matches_model(name: str) -> None:
    parsed = TYPES_PARSED[name]
    model = m.SHARED_TYPES[name]
    if parsed["type"] == "enum":
        _check_enum(parsed, model, name)
    else:
        _check_record(parsed, model, TYPES_NAMED, name)


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.stem for p in EVENT_FILES])
def test_event_model_matches_schema(path: Path) -> None:
    raw = _load(path)
    parsed, named = _parse_event(path)
    event_type = path.stem
    model = m.EVENT_MODELS[event_type]
    assert raw["type"] == "record"
    assert raw.get("namespace") == EVENTS_NS
    assert raw["name"] == "".join(p.capitalize() for p in event_type.split("_"))
    assert raw["leadhub.event_type"] == event_type == model.event_type
    assert raw["leadhub.category"] == model.category
    assert model.category.upper() in [c.value for c in m.DataCategory]
    assert issubclass(model, m.EventBody)
    _check_record(parsed, model, named, event_type)


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
