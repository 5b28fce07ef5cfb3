"""The schema registry: the Avro contract in schemas/, parsed once, indexed by fingerprint.

Layout (docs/protocol.md): ``envelope.avsc``; ``events/<event_type>.avsc`` (one per event
type, referring to shared named types by full name); ``types/<Name>.avsc``; and
``released/<subject>/v<N>.avsc`` with ``released/lock.json``, the frozen, fully expanded
versions agencies may still be writing. Every released and current version is readable:
the writer's schema is found by fingerprint and resolved to the current reader schema.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from hub.errors import DeploymentError

ENVELOPE = "envelope"
EVENT_TYPE_ATTR = "leadhub.event_type"
CATEGORY_ATTR = "leadhub.category"
LOCK_FILE = "lock.json"
TYPE_PREFIX = "types."

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def fingerprint64(expanded: Any) -> bytes:
    """CRC-64-AVRO of the Parsing Canonical Form, in the little-endian byte order that the
    single-object encoding puts on the wire (fastavro's hex string is already in that order)."""
    canonical = to_parsing_canonical_form(expanded)
    return bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


@dataclass(frozen=True)
class SchemaVersion:
    """One schema as a writer may have used it. ``version`` is None for the unreleased head."""

    subject: str
    version: int | None
    expanded: dict[str, Any] = field(repr=False)
    fingerprint: bytes
    parsed: Any = field(repr=False, compare=False)

    @property
    def full_name(self) -> str:
        ns = self.expanded.get("namespace")
        name = str(self.expanded["name"])
        return f"{ns}.{name}" if ns and "." not in name else name

    @property
    def event_type(self) -> str | None:
        value = self.expanded.get(EVENT_TYPE_ATTR)
        return str(value) if value is not None else None

    @property
    def category(self) -> str | None:
        value = self.expanded.get(CATEGORY_ATTR)
        return str(value) if value is not None else None


def _version(subject: str, version: int | None, expanded: dict[str, Any]) -> SchemaVersion:
    problems = zero_size_repetitions(expanded)
    if problems:
        raise DeploymentError(
            f"schema {subject}: repeated items that can encode to zero bytes at {problems[0]} "
            "(an allocation bomb: a few bytes would decode to millions of items)"
        )
    return SchemaVersion(
        subject=subject,
        version=version,
        expanded=expanded,
        fingerprint=fingerprint64(expanded),
        parsed=parse_schema(copy.deepcopy(expanded)),
    )


def expand(schema: Any, types: Mapping[str, Any], defined: set[str] | None = None) -> Any:
    """Inline shared named types at their first use, so each subject is self-contained and
    its fingerprint covers everything a reader needs."""
    defined = set() if defined is None else defined
    if isinstance(schema, str):
        if schema in types and schema not in defined:
            defined.add(schema)
            return expand(copy.deepcopy(types[schema]), types, defined)
        return schema
    if isinstance(schema, list):
        return [expand(branch, types, defined) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if out.get("type") in ("record", "error", "enum", "fixed") and "name" in out:
        ns = out.get("namespace")
        name = str(out["name"])
        defined.add(f"{ns}.{name}" if ns and "." not in name else name)
    if out.get("type") in ("record", "error"):
        out["fields"] = [
            {**f, "type": expand(f["type"], types, defined)} for f in out.get("fields", [])
        ]
    elif out.get("type") == "array":
        out["items"] = expand(out["items"], types, defined)
    elif out.get("type") == "map":
        out["values"] = expand(out["values"], types, defined)
    elif isinstance(out.get("type"), dict | list | str) and out["type"] not in _PRIMITIVES:
        out["type"] = expand(out["type"], types, defined)
    return out


def zero_size_repetitions(schema: Any, path: str = "$") -> list[str]:
    """Paths of arrays and maps whose items can be encoded in zero bytes."""
    found: list[str] = []
    named: dict[str, Any] = {}

    def can_be_empty(s: Any, seen: frozenset[str]) -> bool:
        if isinstance(s, str):
            if s == "null":
                return True
            if s in named and s not in seen:
                return can_be_empty(named[s], seen | {s})
            return False
        if isinstance(s, list):
            return False  # a union always writes its branch index
        t = s.get("type")
        if t in ("record", "error"):
            return all(can_be_empty(f["type"], seen) for f in s.get("fields", []))
        if t == "fixed":
            return int(s.get("size", 0)) == 0
        if isinstance(t, dict | list):
            return can_be_empty(t, seen)
        return bool(t == "null")

    def walk(s: Any, where: str) -> None:
        if isinstance(s, list):
            for i, branch in enumerate(s):
                walk(branch, f"{where}[{i}]")
            return
        if not isinstance(s, dict):
            return
        t = s.get("type")
        if t in ("record", "error", "enum", "fixed") and "name" in s:
            ns = s.get("namespace")
            name = str(s["name"])
            named[f"{ns}.{name}" if ns and "." not in name else name] = s
            named[name] = s
        if t in ("record", "error"):
            for f in s.get("fields", []):
                walk(f["type"], f"{where}.{f['name']}")
        elif t in ("array", "map"):
            inner = s["items"] if t == "array" else s["values"]
            if can_be_empty(inner, frozenset()):
                found.append(where)
            walk(inner, f"{where}[]")
        elif isinstance(t, dict | list):
            walk(t, where)

    walk(schema, path)
    return found


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DeploymentError(f"{path}: cannot read schema: {exc}") from None


def load_current(schemas_dir: Path) -> dict[str, dict[str, Any]]:
    """The head of every subject, expanded: {"envelope": ..., "<event_type>": ...}."""
    types: dict[str, Any] = {}
    for path in sorted((schemas_dir / "types").glob("*.avsc")):
        raw = _read_json(path)
        ns = raw.get("namespace")
        types[f"{ns}.{raw['name']}" if ns else raw["name"]] = raw
    if not (schemas_dir / f"{ENVELOPE}.avsc").is_file():
        raise DeploymentError(f"{schemas_dir}: no {ENVELOPE}.avsc (is this the schemas folder?)")
    # Top-level records are the hub's own: the envelope, notices, audit decisions.
    subjects: dict[str, dict[str, Any]] = {
        path.stem: expand(_read_json(path), types) for path in sorted(schemas_dir.glob("*.avsc"))
    }
    for full_name, raw in types.items():
        if raw.get("type") == "record":
            subjects[type_subject(full_name)] = expand(raw, types)
    for path in sorted((schemas_dir / "events").glob("*.avsc")):
        raw = _read_json(path)
        if raw.get(EVENT_TYPE_ATTR) != path.stem:
            raise DeploymentError(f"{path}: {EVENT_TYPE_ATTR} must be {path.stem!r}")
        subjects[path.stem] = expand(raw, types)
    return subjects


def load_raw(schemas_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The shared types and event schemas as written (unexpanded), in file-name order: what
    the models are generated from (hub.events.codegen)."""
    events = [_read_json(p) for p in sorted((schemas_dir / "events").glob("*.avsc"))]
    if not events:
        raise DeploymentError(f"{schemas_dir}: no events/*.avsc (is this the schemas folder?)")
    return [_read_json(p) for p in sorted((schemas_dir / "types").glob("*.avsc"))], events


def type_subject(full_name: str) -> str:
    """Shared record types are subjects too (their evolution is checked like events')."""
    return f"{TYPE_PREFIX}{full_name.rsplit('.', 1)[-1]}"


def load_lock(schemas_dir: Path) -> dict[str, list[dict[str, Any]]]:
    path = schemas_dir / "released" / LOCK_FILE
    if not path.exists():
        return {}
    data: dict[str, list[dict[str, Any]]] = _read_json(path)
    return data


def released_path(schemas_dir: Path, subject: str, version: int) -> Path:
    return schemas_dir / "released" / subject / f"v{version}.avsc"


class SchemaRegistry:
    """Every schema the hub can read, by subject (head) and by fingerprint (any version)."""

    def __init__(self, heads: dict[str, SchemaVersion], writers: list[SchemaVersion]) -> None:
        self._heads = heads
        # A released version wins over an identical head, so decoding reports its version.
        self._by_fp: dict[bytes, SchemaVersion] = {v.fingerprint: v for v in heads.values()}
        self._by_fp.update({v.fingerprint: v for v in writers})
        self._released = frozenset(v.fingerprint for v in writers)

    @classmethod
    def load(cls, schemas_dir: Path) -> SchemaRegistry:
        heads = {s: _version(s, None, e) for s, e in load_current(schemas_dir).items()}
        writers = [
            _version(
                subject,
                int(entry["version"]),
                _read_json(released_path(schemas_dir, subject, int(entry["version"]))),
            )
            for subject, entries in load_lock(schemas_dir).items()
            for entry in entries
        ]
        return cls(heads, writers)

    def head(self, subject: str) -> SchemaVersion:
        try:
            return self._heads[subject]
        except KeyError:
            raise DeploymentError(f"no schema for {subject!r}") from None

    def writer(self, fp: bytes) -> SchemaVersion | None:
        return self._by_fp.get(fp)

    def is_released(self, fp: bytes) -> bool:
        """Agencies may publish only with released schemas: an unreleased head can still
        change, and what was written with it would become unreadable."""
        return fp in self._released

    @property
    def event_types(self) -> list[str]:
        return [s for s, v in self._heads.items() if v.event_type is not None]

    def __iter__(self) -> Iterator[SchemaVersion]:
        return iter(self._heads.values())
