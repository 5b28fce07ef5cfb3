"""Writes ``hub/events/models.py`` from ``schemas/``: the schemas are the contract, the
models only their shadow, so nothing about a field is typed twice.

``generate`` is pure (schemas in, source text out, already in ``ruff format`` style so that
``leadhub schemas check`` compares without running ruff). Enums become ``StrEnum``s, records
frozen, closed models, fields keep schema order and their doc as an attribute docstring.
What Avro cannot say comes from custom attributes, which the Parsing Canonical Form drops,
so they change no fingerprint and no byte on the wire: a field's ``leadhub.constraints``
(pydantic ``Field`` bounds on its value, e.g. ``{"ge": 1, "le": 60}``; ``{"min_length": 1}``
on a string is written ``Id``) and ``leadhub.item_constraints`` (the same on each item of
an array); an event's ``leadhub.event_type``, ``leadhub.category`` and ``leadhub.order``
(its place in ``EVENT_MODELS``, which policy tables and samples follow). The rules that are
not types stay hand-written in ``hub.events.rules``, attached by name (see that module).
"""

from __future__ import annotations

import keyword
import re
import sys
import textwrap
import types
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import DeploymentError
from hub.events import rules
from hub.events.schemas import load_raw

MODULE_PATH = Path(__file__).with_name("models.py")
COMMAND = "leadhub schemas generate"
CONSTRAINTS = "leadhub.constraints"
ITEM_CONSTRAINTS = "leadhub.item_constraints"
ORDER = "leadhub.order"
EVENT_TYPE = "leadhub.event_type"
CATEGORY = "leadhub.category"
BOUNDS = ("min_length", "max_length", "ge", "gt", "le", "lt")
LINE = 100  # ruff's line-length in pyproject.toml

PRIMITIVES = {"string": "str", "bytes": "bytes", "boolean": "bool", "int": "int", "long": "int"}
PRIMITIVES |= {"float": "float", "double": "float"}
LOGICAL = {
    ("string", "uuid"): "UUID",
    ("long", "timestamp-micros"): "AwareDatetime",
    ("int", "date"): "dt.date",
}
_BOUNDED = ("str", "bytes", "int", "float")
HEADER = '''"""Pydantic models of the Avro event bodies and shared types in ``schemas/``.

GENERATED from schemas/types/*.avsc and schemas/events/*.avsc by ``{command}``
(hub/events/codegen.py): do not edit. Change the schemas, or hub/events/rules.py for the
rules that are not types, and run the command again (``python -m hub.events.codegen`` if
this module cannot be imported); ``leadhub schemas check`` fails while this file differs
from what the generator writes.

Mapping: string -> str, uuid -> UUID, timestamp-micros -> AwareDatetime, date -> dt.date,
int/long -> int, boolean -> bool, bytes -> bytes, fixed(n) -> bytes of length n,
enum -> StrEnum of the same name and symbols, record -> frozen model of the same name,
array -> list, ["null", T] -> ``T | None = None``; a field's ``leadhub.constraints`` and
``leadhub.item_constraints`` become pydantic ``Field`` bounds.
"""
'''

ID_ALIAS = '''Id = Annotated[str, Field(min_length=1)]
"""An id (agency, staff, program, key, opaque reference): a string whose schema says
``"leadhub.constraints": {"min_length": 1}``, since empty ids would match nothing."""'''


def snake(name: str) -> str:
    """``Part2Consent`` -> ``part2_consent``: the name of a record's rule in hub.events.rules."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def docstring(text: str, indent: str) -> list[str]:
    """A docstring wrapped to the line length, closing quotes on its last line."""
    text = " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = textwrap.wrap(
        text, LINE - len(indent) - 6, break_long_words=False, break_on_hyphens=False
    ) or [""]
    # a quote against the opening or closing ones reads badly (or ends the string): ruff
    # puts a space between them, and so does this
    lines[0] = ('""" ' if lines[0].startswith('"') else '"""') + lines[0]
    lines[-1] += ' """' if lines[-1].endswith('"') and lines[-1] != '"""' else '"""'
    return [indent + line for line in lines]


def _constrained(annotation: str, spec: Any, where: str) -> str:
    """``annotation`` with the bounds of ``spec`` (``{"ge": 1, "le": 60}`` ->
    ``Annotated[int, Field(ge=1, le=60)]``); what it cannot mean is refused, not ignored."""
    if spec is None:
        return annotation
    if not isinstance(spec, dict) or not spec:
        raise ValueError(f"{where}: constraints must be a non-empty object")
    for key, value in spec.items():
        if key not in BOUNDS:
            raise ValueError(f"{where}: unknown constraint {key!r} (known: {', '.join(BOUNDS)})")
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{where}: constraint {key} must be an integer")
    if annotation not in _BOUNDED and not annotation.startswith(("list[", "dict[")):
        raise ValueError(f"{where}: constraints apply to strings, bytes, numbers and arrays")
    if annotation == "str" and spec == {"min_length": 1}:
        return "Id"
    return f"Annotated[{annotation}, Field({', '.join(f'{k}={v}' for k, v in spec.items())})]"


def _full(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


@dataclass
class _Module:
    """The module being written: its definitions so far, in the order Python needs them."""

    shared: Mapping[str, Mapping[str, Any]]
    hooks: Collection[str]
    blocks: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # Avro full name -> class name
    enums: list[str] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    used_hooks: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)  # names that need an import

    def resolve(self, name: str, namespace: str | None, where: str) -> str:
        for candidate in (_full(name, namespace), name):
            if candidate in self.names:
                return self.names[candidate]
            if candidate in self.shared:
                return self.define(self.shared[candidate], None, where)
        raise ValueError(f"{where}: unknown type {name!r}")

    def annotation(self, schema: Any, namespace: str | None, where: str) -> str:
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return PRIMITIVES[schema]
            return self.resolve(schema, namespace, where)
        if isinstance(schema, list):
            raise ValueError(f"{where}: only a field's type may be a union, and only ['null', T]")
        kind = schema.get("type")
        if "logicalType" in schema:
            key = (kind, schema["logicalType"])
            if key not in LOGICAL:
                raise ValueError(f"{where}: unsupported logical type {key}")
            self.uses.add(LOGICAL[key].split(".")[0])
            return LOGICAL[key]
        if kind in PRIMITIVES:
            return PRIMITIVES[kind]
        if kind == "array":
            return f"list[{self.annotation(schema['items'], namespace, where + '[]')}]"
        if kind == "map":
            return f"dict[str, {self.annotation(schema['values'], namespace, where + '{}')}]"
        if kind in ("record", "enum", "fixed"):
            return self.define(schema, namespace, where)
        raise ValueError(f"{where}: unsupported Avro type {kind!r}")

    def define(self, schema: Mapping[str, Any], namespace: str | None, where: str) -> str:
        """Write a named type (after whatever it needs) and return its Python name."""
        name = str(schema["name"])
        namespace = schema.get("namespace", namespace)
        full = _full(name, namespace)
        short = name.rsplit(".", 1)[-1]
        if full in self.names:
            return self.names[full]
        if short in self.names.values():
            raise ValueError(f"{where}: two named types are called {short}")
        self.names[full] = short
        doc = docstring(str(schema.get("doc", "")), "    ") if schema.get("doc") else []
        kind = schema["type"]
        if kind == "enum":
            bad = [s for s in schema["symbols"] if keyword.iskeyword(s) or s.startswith("_")]
            if bad:
                raise ValueError(f"{where}: enum {short} has symbols Python cannot name: {bad}")
            body = [f'    {s} = "{s}"' for s in schema["symbols"]] or ["    pass"]
            self.blocks.append(
                "\n".join([f"class {short}(StrEnum):", *doc, *([""] if doc else []), *body])
            )
            self.enums.append(full)
        elif kind == "fixed":
            size = int(schema["size"])
            alias = f"{short} = Annotated[bytes, Field(min_length={size}, max_length={size})]"
            self.blocks.append("\n".join([alias, *(line.strip() for line in doc)]))
        else:
            self.blocks.append(self._record(schema, short, namespace, doc, where))
            self.records.append(full)
        return short

    def _record(
        self, schema: Mapping[str, Any], short: str, namespace: str | None, doc: list[str], at: str
    ) -> str:
        lines: list[str] = []
        for f in schema["fields"]:
            lines += self._field(f, namespace, f"{at}.{f['name']}")
        is_event = EVENT_TYPE in schema
        bases = ["EventBody" if is_event else "AvroRecord"]
        if f"{short}Methods" in self.hooks:
            bases.insert(0, f"rules.{short}Methods")
            self.used_hooks.add(f"{short}Methods")
            self.uses.add("rules")
        head = [f"class {short}({', '.join(bases)}):", *doc, *([""] if doc else [])]
        if is_event:
            self.uses.add("ClassVar")
            head += [
                f'    event_type: ClassVar[str] = "{schema[EVENT_TYPE]}"',
                f'    category: ClassVar[str] = "{schema[CATEGORY]}"',
                "",
            ]
        rule = snake(short)
        tail: list[str] = []
        if rule in self.hooks:
            self.used_hooks.add(rule)
            self.uses |= {"rules", "Self", "model_validator"}
            tail = [
                "",
                '    @model_validator(mode="after")',
                "    def _rules(self) -> Self:",
                f"        rules.{rule}(self)",
                "        return self",
            ]
        return "\n".join(head + (lines or ["    pass"]) + tail)

    def _field(self, f: Mapping[str, Any], namespace: str | None, where: str) -> list[str]:
        if keyword.iskeyword(f["name"]) or f["name"].startswith("_"):
            raise ValueError(f"{where}: a field name Python cannot use")
        avro = f["type"]
        optional = isinstance(avro, list)
        if optional:
            if len(avro) != 2 or avro[0] != "null" or f.get("default", ...) is not None:
                raise ValueError(f"{where}: a union must be ['null', T] with default null")
            avro = avro[1]
        elif "default" in f:
            raise ValueError(f"{where}: only optional (['null', T]) fields may have a default")
        annotation = self.annotation(avro, namespace, where)
        items = f.get(ITEM_CONSTRAINTS)
        if items is not None:
            if not annotation.startswith("list["):
                raise ValueError(f"{where}: {ITEM_CONSTRAINTS} is only for arrays")
            annotation = f"list[{_constrained(annotation[5:-1], items, where + '[]')}]"
        annotation = _constrained(annotation, f.get(CONSTRAINTS), where)
        line = f"    {f['name']}: {annotation}" + (" | None = None" if optional else "")
        doc = docstring(str(f["doc"]), "    ") if f.get("doc") else []
        return [line, *doc]


def _ordered_events(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    places = [schema.get(ORDER) for schema in events]
    if not all(isinstance(p, int) for p in places) or len(set(places)) != len(places):
        raise ValueError(f"every event schema needs its own integer {ORDER}: {places}")
    return sorted(events, key=lambda schema: int(schema[ORDER]))


def _imports(uses: Collection[str]) -> list[str]:
    """Only what the module uses (Annotated, Field and StrEnum it always does), grouped and
    sorted as ruff's isort wants them."""

    def some(*names: str) -> str:
        return ", ".join(n for n in names if n in uses or n in ("Annotated", "Field"))

    std = ["import datetime as dt"] if "dt" in uses else []
    std += [
        "from enum import StrEnum",
        f"from typing import {some('Annotated', 'ClassVar', 'Self')}",
    ]
    std += ["from uuid import UUID"] if "UUID" in uses else []
    own = ["from hub.events import rules"] if "rules" in uses else []
    own.append("from hub.events.rules import PART2_ELEMENTS, AvroRecord, EventBody")
    third = f"from pydantic import {some('AwareDatetime', 'Field', 'model_validator')}"
    return [*std, "", third, "", *own]


def _all(names: Sequence[str]) -> list[str]:
    """``__all__`` in ruff's order (RUF022): CONSTANTS, then Classes, then the rest."""

    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    return ["__all__ = [", *(f'    "{n}",' for n in sorted(names, key=key)), "]"]


def generate(
    shared: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    hooks: Collection[str] = (),
) -> str:
    """The models module for these shared types (``schemas/types``) and event schemas
    (``schemas/events``); ``hooks`` are the rule functions and method classes that
    hub.events.rules offers (an unused one is an error: its rule would silently not run)."""
    by_name = {_full(str(schema["name"]), schema.get("namespace")): schema for schema in shared}
    module = _Module(shared=by_name, hooks=hooks)
    for full, schema in by_name.items():
        module.define(schema, None, full)
    event_classes: dict[str, str] = {}
    for schema in _ordered_events(events):
        if schema.get("type") != "record" or EVENT_TYPE not in schema or CATEGORY not in schema:
            raise ValueError(f"{schema.get('name')}: an event is a record with {EVENT_TYPE}")
        event_classes[str(schema[EVENT_TYPE])] = module.define(schema, None, schema[EVENT_TYPE])
    unused = sorted(set(hooks) - module.used_hooks)
    if unused:
        raise ValueError(f"hub.events.rules offers {unused} but no record has that name")
    shared_records = sorted(f for f in by_name if f in module.records)
    shared_enums = sorted(f for f in by_name if f in module.enums)
    registries = [
        "EVENT_MODELS: dict[str, type[EventBody]] = {",
        *(f'    "{event_type}": {cls},' for event_type, cls in event_classes.items()),
        "}",
        f'"""Event type -> body model, one per ``schemas/events/*.avsc``, by {ORDER}."""',
        "",
        "SHARED_TYPES: dict[str, type[AvroRecord] | type[StrEnum]] = {",
        *(f'    "{f}": {module.names[f]},' for f in shared_records + shared_enums),
        "}",
        '"""Avro full name -> model or enum, one per ``schemas/types/<Name>.avsc``."""',
    ]
    public = ["AvroRecord", "EventBody", "PART2_ELEMENTS", "Id", *module.names.values()]
    body = "\n\n\n".join([ID_ALIAS, *module.blocks, "\n".join(registries)])
    parts = [
        HEADER.format(command=COMMAND),
        "\n".join(_imports(module.uses)),
        "\n".join(_all([*public, "EVENT_MODELS", "SHARED_TYPES"])),
        body,
    ]
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"


# --------------------------------------------------------------------------- I/O


def hooks_of(module: types.ModuleType) -> frozenset[str]:
    """The public functions and ``*Methods`` classes a rules module defines."""
    return frozenset(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
        and (isinstance(value, types.FunctionType) or name.endswith("Methods"))
    )


def write(schemas_dir: Path) -> bool:
    """Write the models module for this schemas folder; False if it was already that."""
    text = render(schemas_dir)
    if MODULE_PATH.is_file() and MODULE_PATH.read_text(encoding="utf-8") == text:
        return False
    MODULE_PATH.write_text(text, encoding="utf-8")
    return True


def render(schemas_dir: Path) -> str:
    """What ``leadhub schemas generate`` writes for this schemas folder."""
    shared, events = load_raw(schemas_dir)
    try:
        return generate(shared, events, hooks_of(rules))
    except (ValueError, KeyError, TypeError) as exc:
        raise DeploymentError(f"{schemas_dir}: cannot generate the models: {exc}") from None


if __name__ == "__main__":
    # ``leadhub`` itself imports the models: when models.py is missing or broken, this
    # regenerates it (python -m hub.events.codegen [SCHEMAS_DIR]) without them.
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")
    print(f"{MODULE_PATH}: {'written' if write(folder) else 'up to date'}")
