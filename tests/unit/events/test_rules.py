"""hub.events.rules, the hand-written half of the models: every rule it offers is attached to
its generated model and runs, it names only real enum symbols, and it never imports the
generated module at runtime (that module imports it)."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from enum import StrEnum
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from hub.events import models as m
from hub.events import rules
from hub.events.codegen import hooks_of, snake
from tests.support.fakes import fake_seal
from tests.support.paths import ROOT
from tests.support.records import sample_records

SOURCE = inspect.getsource(rules)
MODELS: dict[str, type[BaseModel]] = {
    snake(name): model
    for name, model in vars(m).items()
    if isinstance(model, type) and issubclass(model, BaseModel)
}
RULES = sorted(h for h in hooks_of(rules) if not h.endswith("Methods"))


RECORDS = sample_records(fake_seal)


def test_importing_the_rules_does_not_import_the_models() -> None:
    probe = "import sys, hub.events.rules; print('hub.events.models' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def _imported(node: ast.AST) -> set[str]:
    """The modules an import statement imports (relative ones resolved in hub.events)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = "hub.events" if node.level else ""
    module = ".".join(p for p in (base, node.module or "") if p)
    return {module} | {f"{module}.{alias.name}" for alias in node.names}


def test_the_rules_name_the_models_only_for_the_type_checker() -> None:
    """import-linter ignores rules -> models because of this; keep it true."""
    tree = ast.parse(SOURCE)
    guarded = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    imports = [node for node in ast.walk(tree) if "hub.events.models" in _imported(node)]
    assert imports, "the rules are typed against the models"
    assert all(id(node) in guarded for node in imports)


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_is_attached_to_its_model_and_runs(
    rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MODELS[rule]
    datum = RECORDS[model.__name__]
    model.model_validate(datum)
    seen: list[Any] = []

    def refuse(body: Any) -> None:
        seen.append(body)
        raise ValueError("refused by the patched rule")

    monkeypatch.setattr(rules, rule, refuse)
    with pytest.raises(ValidationError, match="refused by the patched rule"):
        model.model_validate(datum)
    assert len(seen) == 1 and type(seen[0]) is model


def test_method_classes_become_bases_of_their_models() -> None:
    assert issubclass(m.EncryptedField, rules.EncryptedFieldMethods)
    narrative = m.EncryptedField.model_validate(
        RECORDS["EncryptedField"] | {"plaintext_type": "NARRATIVE"}
    )
    narrative.require(m.PlaintextType.NARRATIVE, "note")
    with pytest.raises(ValueError, match="note must be sealed with plaintext_type IDENTITY"):
        narrative.require(m.PlaintextType.IDENTITY, "note")


def test_the_symbols_the_rules_compare_with_exist() -> None:
    """The rules cannot import the enums, so they compare with symbols: a misspelt one would
    silently never match."""
    symbols = {
        member.value
        for enum in vars(m).values()
        if isinstance(enum, type) and issubclass(enum, StrEnum) and enum is not StrEnum
        for member in enum
    }
    quoted = {
        node.value
        for node in ast.walk(ast.parse(SOURCE))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.isupper()
        and " " not in node.value
    }
    assert {"ARREST_DIVERSION", "NONE", "SUD_TREATMENT", "NARRATIVE"} <= quoted
    assert quoted <= symbols


def test_the_bases_and_part2_elements_are_the_models_own() -> None:
    assert m.AvroRecord is rules.AvroRecord and m.EventBody is rules.EventBody
    assert m.PART2_ELEMENTS is rules.PART2_ELEMENTS
    assert all(issubclass(model, m.EventBody) for model in m.EVENT_MODELS.values())


@pytest.mark.parametrize(
    ("levels", "kinds"),
    [
        (["given=Robert"], ["gd"]),  # a value where a level goes
        (["given=exact", "given=typo"], ["gd"]),  # a field twice
        (["dob=exact"], ["gd", "gd"]),
        (["dob=exact"], ["3f9a"]),  # a token, not a kind
    ],
)
def test_a_links_evidence_names_levels_and_kinds_never_values(
    levels: list[str], kinds: list[str]
) -> None:
    with pytest.raises(ValidationError):
        m.MatchSuspected(linked_participant_id="P-X", weight=13.0, levels=levels, token_kinds=kinds)
    good = m.MatchSuspected(
        linked_participant_id="P-X", weight=13.0, levels=["dob=swapped"], token_kinds=["gd"]
    )
    assert good.levels == ["dob=swapped"]
