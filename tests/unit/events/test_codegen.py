"""hub.events.codegen maps each Avro construct to the model the hub validates with.

A table of constructs and the annotations they become; a property over random schemas
(every datum a schema admits validates with the generated model, keeps its shape and
round-trips through fastavro); the constraint attributes enforced at run time; rules
attached by name and run; refusals of what the generator cannot map; docstrings that
wrap and escape; and output that ruff leaves as it is.
"""

from __future__ import annotations

import ast
import copy
import io
import itertools
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from hub.events import codegen, rules
from hub.events.codegen import docstring, generate
from tests.support.paths import ROOT
from tests.support.strategies import avro_values

NS = "org.test"
UUID_T = {"type": "string", "logicalType": "uuid"}
TS_T = {"type": "long", "logicalType": "timestamp-micros"}
DATE_T = {"type": "int", "logicalType": "date"}


def record(*fields: dict[str, Any], name: str = "Thing", **attrs: Any) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "namespace": NS,
        "doc": "A thing.",
        "fields": list(fields),
        **attrs,
    }


def fld(name: str, avro: Any, **attrs: Any) -> dict[str, Any]:
    optional = {"default": None} if isinstance(avro, list) else {}
    return {"name": name, "type": avro, **optional, "doc": f"The {name}.", **attrs}


def event(event_type: str, order: int, *fields: dict[str, Any]) -> dict[str, Any]:
    name = "".join(p.capitalize() for p in event_type.split("_"))
    attrs = {"leadhub.event_type": event_type, "leadhub.category": "system", "leadhub.order": order}
    return record(*fields, name=name, **attrs)


def load(source: str) -> types.ModuleType:
    """Run generated source as a module of its own."""
    module = types.ModuleType("generated")
    exec(compile(source, "<generated>", "exec", dont_inherit=True), module.__dict__)
    return module


def annotation_of(source: str, field: str) -> str:
    return next(line.strip() for line in source.splitlines() if line.startswith(f"    {field}:"))


# --------------------------------------------------------------------------- the table

MAPPING = [
    ("string", "x: str"),
    ({"type": "string"}, "x: str"),
    ("int", "x: int"),
    ("long", "x: int"),
    ("boolean", "x: bool"),
    ("bytes", "x: bytes"),
    ("float", "x: float"),
    ("double", "x: float"),
    (UUID_T, "x: UUID"),
    (TS_T, "x: AwareDatetime"),
    (DATE_T, "x: dt.date"),
    (["null", "string"], "x: str | None = None"),
    (["null", DATE_T], "x: dt.date | None = None"),
    ({"type": "array", "items": "string"}, "x: list[str]"),
    ({"type": "array", "items": {"type": "array", "items": UUID_T}}, "x: list[list[UUID]]"),
    (["null", {"type": "array", "items": TS_T}], "x: list[AwareDatetime] | None = None"),
    ({"type": "map", "values": "long"}, "x: dict[str, int]"),
    ({"type": "enum", "name": "Colour", "symbols": ["RED", "GREEN"]}, "x: Colour"),
    ({"type": "fixed", "name": "Quad", "size": 4}, "x: Quad"),
    (record(fld("y", "int"), name="Inner"), "x: Inner"),
    (["null", record(fld("y", "int"), name="Inner")], "x: Inner | None = None"),
]


@pytest.mark.parametrize(("avro", "expected"), MAPPING, ids=[e for _, e in MAPPING])
def test_maps_each_avro_construct(avro: Any, expected: str) -> None:
    assert annotation_of(generate([record(fld("x", avro))], []), "x") == expected


CONSTRAINED = [
    ("string", {"min_length": 1}, None, "x: Id"),
    (
        "string",
        {"min_length": 2, "max_length": 5},
        None,
        "x: Annotated[str, Field(min_length=2, max_length=5)]",
    ),
    ("int", {"ge": 1, "le": 60}, None, "x: Annotated[int, Field(ge=1, le=60)]"),
    ("long", {"gt": 0, "lt": 9}, None, "x: Annotated[int, Field(gt=0, lt=9)]"),
    ("bytes", {"min_length": 16}, None, "x: Annotated[bytes, Field(min_length=16)]"),
    (["null", "string"], {"min_length": 1}, None, "x: Id | None = None"),
    (["null", "int"], {"ge": 0}, None, "x: Annotated[int, Field(ge=0)] | None = None"),
    ({"type": "array", "items": "string"}, None, {"min_length": 1}, "x: list[Id]"),
    (
        {"type": "array", "items": "int"},
        {"min_length": 1},
        {"le": 3},
        "x: Annotated[list[Annotated[int, Field(le=3)]], Field(min_length=1)]",
    ),
]


@pytest.mark.parametrize(
    ("avro", "value", "items", "expected"), CONSTRAINED, ids=[c[-1] for c in CONSTRAINED]
)
def test_maps_constraint_attributes(avro: Any, value: Any, items: Any, expected: str) -> None:
    attrs = {
        k: v for k, v in (("leadhub.constraints", value), ("leadhub.item_constraints", items)) if v
    }
    assert annotation_of(generate([record(fld("x", avro, **attrs))], []), "x") == expected


def test_named_types_are_defined_once_before_use_with_their_docs() -> None:
    colour = {"type": "enum", "name": "Colour", "doc": "A colour.", "symbols": ["RED", "GREEN"]}
    quad = {"type": "fixed", "name": "Quad", "doc": "Four bytes.", "size": 4}
    source = generate([record(fld("a", colour), fld("b", quad), fld("c", f"{NS}.Colour"))], [])
    assert (
        'class Colour(StrEnum):\n    """A colour."""\n\n    RED = "RED"\n    GREEN = "GREEN"'
        in source
    )
    assert 'Quad = Annotated[bytes, Field(min_length=4, max_length=4)]\n"""Four bytes."""' in source
    assert source.count("class Colour(") == 1 and annotation_of(source, "c") == "c: Colour"
    assert source.index("class Colour(") < source.index("Quad =") < source.index("class Thing(")
    assert (
        'class Thing(AvroRecord):\n    """A thing."""\n\n    a: Colour\n    """The a."""' in source
    )


def test_events_get_their_class_variables_and_registry_order() -> None:
    source = generate([], [event("second_thing", 2, fld("x", "int")), event("first_thing", 1)])
    head = [
        "class SecondThing(EventBody):",
        '    """A thing."""',
        "",
        '    event_type: ClassVar[str] = "second_thing"',
        '    category: ClassVar[str] = "system"',
        "",
        "    x: int",
    ]
    assert "\n".join(head) in source
    registry = next(
        node.value
        for node in ast.parse(source).body
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "EVENT_MODELS"
    )
    assert isinstance(registry, ast.Dict)
    assert [ast.literal_eval(k) for k in registry.keys if k] == ["first_thing", "second_thing"]
    assert [ast.unparse(v) for v in registry.values] == ["FirstThing", "SecondThing"]


def test_generated_models_enforce_what_they_declare() -> None:
    source = generate(
        [
            record(
                fld("ident", "string", **{"leadhub.constraints": {"min_length": 1}}),
                fld("days", "int", **{"leadhub.constraints": {"ge": 1, "le": 60}}),
                fld(
                    "names",
                    {"type": "array", "items": "string"},
                    **{"leadhub.item_constraints": {"min_length": 1}},
                ),
                fld("nonce", {"type": "fixed", "name": "Nonce", "size": 12}),
                fld("when", TS_T),
                fld("maybe", ["null", "string"]),
            )
        ],
        [],
    )
    thing = load(source).SHARED_TYPES[f"{NS}.Thing"]
    good = {
        "ident": "a",
        "days": 60,
        "names": ["b"],
        "nonce": bytes(12),
        "when": "2025-01-01T00:00:00Z",
    }
    assert thing.model_validate(good).maybe is None
    bad = [
        ("ident", ""),
        ("days", 0),
        ("days", 61),
        ("names", [""]),
        ("nonce", bytes(11)),
        ("nonce", bytes(13)),
        ("when", "2025-01-01T00:00:00"),  # naive: AwareDatetime refuses it
    ]
    for name, value in bad:
        with pytest.raises(ValidationError):
            thing.model_validate({**good, name: value})
    with pytest.raises(ValidationError, match="Extra inputs"):
        thing.model_validate({**good, "surprise": 1})
    with pytest.raises(ValidationError, match="frozen"):
        thing.model_validate(good).days = 2  # type: ignore[misc]


# --------------------------------------------------------------------------- random schemas

_LEAVES = st.sampled_from(
    ["string", "int", "long", "boolean", "bytes", "float", "double", UUID_T, TS_T, DATE_T]
)
_ENUMS = st.lists(st.sampled_from(["A", "B", "C_D", "E1"]), min_size=1, unique=True).map(
    lambda symbols: {"type": "enum", "name": "?", "symbols": symbols}
)
_FIXED = st.integers(1, 16).map(lambda size: {"type": "fixed", "name": "?", "size": size})


def _fields(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    one = st.one_of(inner, inner.map(lambda t: ["null", t]))
    return st.lists(one, min_size=1, max_size=4)


def _named(schema: Any, numbers: Iterator[int]) -> Any:
    """Give every named type and field a distinct name (Avro wants them unique)."""
    if isinstance(schema, list):
        return [_named(branch, numbers) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "name" in out:
        out["name"] = f"T{next(numbers)}"
    if out["type"] == "record":
        out["fields"] = [fld(f"f{i}", _named(t, numbers)) for i, t in enumerate(out["fields"])]
    for key in ("items", "values"):
        if key in out:
            out[key] = _named(out[key], numbers)
    return out


_TYPES = st.recursive(
    st.one_of(_LEAVES, _ENUMS, _FIXED),
    lambda inner: st.one_of(
        inner.map(lambda t: {"type": "array", "items": t}),
        inner.map(lambda t: {"type": "map", "values": t}),
        _fields(inner).map(lambda fs: {"type": "record", "name": "?", "fields": fs}),
    ),
    max_leaves=8,
)
_ROOTS = _fields(_TYPES).map(
    lambda fs: {
        **_named({"type": "record", "name": "?", "fields": fs}, itertools.count()),
        "namespace": NS,
    }
)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_datum_a_schema_admits_fits_its_generated_model(data: st.DataObject) -> None:
    schema = data.draw(_ROOTS)
    model: type[BaseModel] = load(generate([schema], [])).SHARED_TYPES[f"{NS}.{schema['name']}"]
    fields = model.model_fields
    assert list(fields) == [f["name"] for f in schema["fields"]]
    for f in schema["fields"]:
        assert fields[f["name"]].is_required() is not isinstance(f["type"], list)
    datum = data.draw(avro_values(copy.deepcopy(schema)))
    body = model.model_validate(datum)
    assert body.model_dump() == datum
    buf = io.BytesIO()
    parsed = parse_schema(copy.deepcopy(schema))
    schemaless_writer(buf, parsed, body.model_dump())
    buf.seek(0)
    assert model.model_validate(schemaless_reader(buf, parsed, None)) == body
    with pytest.raises(ValidationError):
        model.model_validate({**datum, "not_in_schema": 1})


# --------------------------------------------------------------------------- rules


def test_rules_are_attached_by_name_and_run(monkeypatch: pytest.MonkeyPatch) -> None:
    source = generate([record(fld("x", "int"))], [], hooks={"thing", "ThingMethods"})
    assert "class Thing(rules.ThingMethods, AvroRecord):" in source
    validator = [
        '    @model_validator(mode="after")',
        "    def _rules(self) -> Self:",
        "        rules.thing(self)",
        "        return self",
    ]
    assert "\n".join(validator) in source

    class ThingMethods:
        def twice(self) -> int:
            return 2 * self.x  # type: ignore[attr-defined,no-any-return]

    def thing(body: Any) -> None:
        if body.x < 0:
            raise ValueError("x must not be negative")

    monkeypatch.setattr(rules, "ThingMethods", ThingMethods, raising=False)
    monkeypatch.setattr(rules, "thing", thing, raising=False)
    model = load(source).SHARED_TYPES[f"{NS}.Thing"]
    assert model.model_validate({"x": 2}).twice() == 4
    with pytest.raises(ValidationError, match="must not be negative"):
        model.model_validate({"x": -1})


def test_an_unused_rule_is_an_error_not_a_rule_that_never_runs() -> None:
    with pytest.raises(ValueError, match="no record has that name"):
        generate([record(fld("x", "int"))], [], hooks={"thingy"})


def test_hooks_are_the_public_functions_and_method_classes_of_the_rules() -> None:
    hooks = codegen.hooks_of(rules)
    assert {"referral_made", "charges_held", "EncryptedFieldMethods"} <= hooks
    assert not hooks & {"AvroRecord", "EventBody", "PART2_ELEMENTS", "_require_unique"}


REFUSED = [
    ([fld("x", ["string", "null"])], "\\['null', T\\]"),
    ([fld("x", ["null", "string", "int"])], "\\['null', T\\]"),
    ([{"name": "x", "type": ["null", "int"], "doc": "x"}], "default null"),
    ([{"name": "x", "type": "int", "default": 1, "doc": "x"}], "may have a default"),
    ([fld("x", "string", **{"leadhub.constraints": {"pattern": "a"}})], "unknown constraint"),
    ([fld("x", "int", **{"leadhub.constraints": {"ge": "1"}})], "must be an integer"),
    ([fld("x", "int", **{"leadhub.constraints": {}})], "non-empty object"),
    ([fld("x", DATE_T, **{"leadhub.constraints": {"ge": 1}})], "constraints apply to"),
    ([fld("x", "string", **{"leadhub.item_constraints": {"ge": 1}})], "only for arrays"),
    ([fld("x", {"type": "long", "logicalType": "time-micros"})], "unsupported logical type"),
    ([fld("x", f"{NS}.Nowhere")], "unknown type"),
    ([fld("x", {"type": "enum", "name": "E", "symbols": ["None"]})], "cannot name"),
    ([fld("class", "int")], "cannot use"),
    (
        [fld("x", record(name="A")), fld("y", record(name="A", namespace="org.other"))],
        "two named types",
    ),
]


@pytest.mark.parametrize(("fields", "message"), REFUSED, ids=[r[1] for r in REFUSED])
def test_refuses_what_it_cannot_map(fields: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate([record(*fields)], [])


def test_every_event_needs_its_own_order() -> None:
    with pytest.raises(ValueError, match=r"leadhub\.order"):
        generate([], [event("a_thing", 1), event("b_thing", 1)])
    unordered = event("a_thing", 1)
    del unordered["leadhub.order"]
    with pytest.raises(ValueError, match=r"leadhub\.order"):
        generate([], [unordered])


# --------------------------------------------------------------------------- text


@settings(max_examples=300, deadline=None)
@example("a" * 44 + " " + "b" * 46)  # one character too many for a one-line docstring
@example('"""quoted" \\ backslash"')
@given(
    st.lists(
        st.text(st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=14),
        max_size=60,
    ).map(" ".join)
)
def test_docstrings_wrap_to_the_line_and_keep_the_text(text: str) -> None:
    lines = docstring(text, "    ")
    assert all(len(line) <= codegen.LINE for line in lines if " " in line.strip())
    value = ast.literal_eval("\n".join(lines).strip())
    assert value.split() == text.split()


def test_the_output_is_ruff_formatted_and_clean(tmp_path: Path) -> None:
    """The checked-in module is checked by make lint; this covers every construct."""
    source = generate(
        [
            {
                **record(*(fld(f"x{i}", avro) for i, (avro, _) in enumerate(MAPPING))),
                "doc": '"Everything", quoted: a doc that starts and ends with a "quote"',
            }
        ],
        [event("some_thing", 1, fld("y", "int", **{"leadhub.constraints": {"ge": 1}}))],
        hooks={"some_thing"},
    )
    target = ROOT / "hub" / "events" / "models.py"  # so that ruff applies the project's rules
    ruff = Path(sys.executable).with_name("ruff")
    for command in (["format", "--check", "--diff"], ["check"]):
        result = subprocess.run(
            [str(ruff), *command, "--stdin-filename", str(target), "-"],
            input=source,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_generator_runs_without_the_models() -> None:
    """``leadhub`` imports the models, so when models.py is missing or broken only
    ``python -m hub.events.codegen`` can write it: it must not need them."""
    probe = (
        "import sys; from pathlib import Path; sys.modules['hub.events.models'] = None\n"
        "from hub.events.codegen import MODULE_PATH, render\n"
        "print(render(Path('schemas')) == MODULE_PATH.read_text(encoding='utf-8'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "True", result.stderr
