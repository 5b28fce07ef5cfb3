"""The schema gate: compatible changes pass, breaking ones fail, history cannot be edited,
and events written with a released version stay readable after the schema moves on."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from hub.events.codec import Codec
from hub.events.evolution import Status, check, release
from hub.events.schemas import SchemaRegistry
from tests.support.paths import SCHEMAS


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    """A private copy of schemas/ with every subject released as it stands."""
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, copy, ignore=shutil.ignore_patterns("released"))
    release(copy)
    return copy


def _edit(schemas: Path, event_type: str, change: Any) -> None:
    path = schemas / "events" / f"{event_type}.avsc"
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw, indent=2))


def _status(schemas: Path, subject: str) -> Status:
    return next(r.status for r in check(schemas) if r.subject == subject)


def test_the_repository_passes_its_own_gate() -> None:
    reports = check(SCHEMAS)
    assert reports and all(r.ok for r in reports), [r for r in reports if not r.ok]


def test_a_fresh_release_is_unchanged(schemas: Path) -> None:
    assert {r.status for r in check(schemas)} == {Status.UNCHANGED}


def test_adding_an_optional_field_is_compatible(schemas: Path) -> None:
    _edit(
        schemas,
        "housed",
        lambda raw: raw["fields"].append(
            {"name": "move_in_ward", "type": ["null", "string"], "default": None, "doc": "ward"}
        ),
    )
    assert _status(schemas, "housed") is Status.COMPATIBLE
    assert release(schemas) == ["housed v2"]
    assert _status(schemas, "housed") is Status.UNCHANGED


def test_adding_a_required_field_is_incompatible(schemas: Path) -> None:
    _edit(
        schemas,
        "housed",
        lambda raw: raw["fields"].append({"name": "move_in_ward", "type": "string", "doc": "ward"}),
    )
    report = next(r for r in check(schemas) if r.subject == "housed")
    assert report.status is Status.INCOMPATIBLE and not report.ok
    assert "move_in_ward" in report.detail
    with pytest.raises(ValueError, match="housed: incompatible"):
        release(schemas)


def test_removing_an_enum_symbol_is_incompatible(schemas: Path) -> None:
    def drop_symbol(raw: dict[str, Any]) -> None:
        for field in raw["fields"]:
            if isinstance(field["type"], dict) and field["type"].get("type") == "enum":
                field["type"]["symbols"].pop()
                return
        raise AssertionError("housed has no enum field")

    _edit(schemas, "housed", drop_symbol)
    assert _status(schemas, "housed") is Status.INCOMPATIBLE


def test_a_removed_event_type_fails(schemas: Path) -> None:
    (schemas / "events" / "housed.avsc").unlink()
    assert _status(schemas, "housed") is Status.REMOVED


def test_an_edited_release_is_detected(schemas: Path) -> None:
    frozen = schemas / "released" / "housed" / "v1.avsc"
    raw = json.loads(frozen.read_text())
    raw["fields"] = raw["fields"][:-1]
    frozen.write_text(json.dumps(raw))
    assert _status(schemas, "housed") is Status.TAMPERED


def test_old_writers_stay_readable_after_a_compatible_change(schemas: Path) -> None:
    from producers.samples import sample_event
    from tests.support.fakes import fake_seal

    old = Codec(SchemaRegistry.load(schemas))
    body = sample_event("housed", random.Random(1), fake_seal)
    written_with_v1 = old.encode("housed", body.model_dump())
    _edit(
        schemas,
        "housed",
        lambda raw: raw["fields"].append(
            {"name": "move_in_ward", "type": ["null", "string"], "default": None, "doc": "ward"}
        ),
    )
    release(schemas)
    new = Codec(SchemaRegistry.load(schemas))
    decoded = new.decode(written_with_v1, "housed")
    assert decoded.writer.version == 1
    assert decoded.datum["move_in_ward"] is None
    assert decoded.datum == {**body.model_dump(), "move_in_ward": None}
