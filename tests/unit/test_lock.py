"""requirements.lock is what every install runs: each dependency pyproject.toml declares is
pinned there at a version it allows, every pin carries hashes, and the environment running
these tests holds exactly those versions (so `make` installed from the lock, not around it).
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.paths import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\;]+)")


def _pins() -> dict[str, tuple[Version, int]]:
    """Name -> (version, how many hashes) for each pin of the lock."""
    pins: dict[str, tuple[Version, int]] = {}
    name = None
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        found = PIN.match(line)
        if found:
            name = canonicalize_name(found[1])
            pins[name] = (Version(found[2]), 0)
        elif name is not None and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + extras["dev"]]


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned: make lock"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is outside {requirement.specifier}: make lock"
        )


def test_every_pin_has_hashes() -> None:
    pins = _pins()
    assert len(pins) > 50
    assert [n for n, (_, hashes) in pins.items() if hashes == 0] == []


def test_this_environment_is_the_lock() -> None:
    pins = _pins()
    installed = {
        canonicalize_name(d.metadata["Name"]): Version(d.version)
        for d in metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) in pins
    }
    assert {n: v for n, (v, _) in pins.items() if installed.get(n) != v} == {}
