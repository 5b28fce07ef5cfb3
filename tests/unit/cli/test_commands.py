"""The command line: usage mistakes and hub errors are one line on stderr, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.commands import leadhub_here as leadhub
from tests.support.paths import ROOT


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["frobnicate"], "No such command"),
        (["schemas", "check", "--bogus"], "No such option"),
        (["demo", "--participants", "0"], "participants"),
        (["keys", "generate"], "--agency"),
        (
            ["keys", "generate", "--agency", "nobody", "--keys-dir", "/tmp/x"],
            "unknown agency 'nobody'",
        ),
        (["tail", "lead.events", "--config", "does-not-exist.yaml"], "file not found"),
        (["schemas", "list", "--schemas-dir", "/nonexistent"], "no envelope.avsc"),
        (["audit", "verify", "--source", "tape"], "--source must be archive or kafka"),
        (["audit", "verify", "-c", "deploy/demo.yaml", "--format", "xml"], "--format must be"),
        (["audit", "timeline", "-p", "P-7KQ2M9XR4TQF", "--as-of", "yesterday"], "not an ISO 8601"),
        (["audit", "disclosures", "-p", "P-7KQ2M9XR4QTF"], "'P-7KQ2M9XR4QTF' is not a participant"),
        (["audit", "prove"], "exactly one of --decision or --since"),
        (
            ["webhook", "sao", "--url", "http://sao.example/h", "--secret-file", "/dev/null"],
            "must be https://",
        ),
        (
            ["webhook", "sao", "--url", "https://sao.example/h", "--secret-file", "/dev/null"],
            "at least 16 bytes",
        ),
        (["digest", "nobody", "-c", "deploy/demo.yaml"], "unknown agency 'nobody'"),
        (["erase", "-p", "p-7kq2-m9xr-4tqf", "--basis", "WHIM", "--authorised-by", "a"], "--basis"),
        (["erase", "-p", "P-1", "--basis", "EXPUNGEMENT", "--authorised-by", "a"], "'P-1' is not"),
    ],
)
def test_bad_arguments_give_one_line(args: list[str], expected: str) -> None:
    result = leadhub(*args)
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leadhub: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_schemas_list_shows_every_event_type() -> None:
    result = leadhub("schemas", "list")
    assert result.returncode == 0, result.stderr
    assert "referral_made" in result.stdout and "treatment_admitted" in result.stdout
    assert "sud_treatment" in result.stdout


def test_schemas_check_passes_on_the_repository() -> None:
    result = leadhub("schemas", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all BACKWARD compatible" in result.stdout


def test_schemas_check_names_the_command_when_the_models_are_stale(tmp_path: Path) -> None:
    """A schema change the models do not reflect yet: one line, naming the fix."""
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", schemas)
    housed = schemas / "events" / "housed.avsc"
    housed.write_text(housed.read_text().replace("Kind of housing.", "Kind of home."))
    result = leadhub("schemas", "check", "--schemas-dir", str(schemas))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "models.py differs" in lines[0], result.stderr
    assert lines[0].endswith("run leadhub schemas generate")


def test_help_works() -> None:
    result = leadhub("--help")
    assert result.returncode == 0
    assert "demo" in result.stdout and "tail" in result.stdout


def test_policy_check_and_explain() -> None:
    checked = leadhub("policy", "check")
    assert checked.returncode == 0, checked.stderr
    assert "rules" in checked.stdout and "OK" in checked.stdout
    for fmt, marker in [("text", "legend:"), ("markdown", "| event |"), ("html", "<table>")]:
        result = leadhub("policy", "explain", "--format", fmt)
        assert result.returncode == 0, result.stderr
        assert marker in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["policy", "explain", "--format", "pdf"], "--format"),
        (["policy", "check", "--file", "/nonexistent/policy.yaml"], "cannot read policy file"),
    ],
)
def test_policy_command_errors_are_one_line(args: list[str], expected: str) -> None:
    result = leadhub(*args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and expected in lines[0], result.stderr


def test_policy_check_names_the_bad_field(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    text = (ROOT / "deploy" / "policy.yaml").read_text()
    bad.write_text(text.replace("[intake_at]", "[intake_at, favourite_colour]", 1))
    result = leadhub("policy", "check", "--file", str(bad))
    assert result.returncode == 1
    assert "has no field 'favourite_colour'" in result.stderr
