"""Each package of hub/ has a public surface, exported from its ``__init__``, and code outside
the package imports only from it (docs/architecture.md): no import reaches into another
package's modules, and each ``__all__`` is exactly what the code outside the package
imports, so nothing is reached around and no unused export creeps in.

Read from the source (ast), not by importing it: a second or so would go to FastAPI,
matplotlib and faust, and an import cycle would show up as a crash instead of a line here.
The tests themselves (tests/) may import the modules they are about, so they are not read.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.support.paths import ROOT

TREES = ("hub", "producers", "consumers", "bench")
PACKAGES = sorted(
    f"hub.{path.parent.name}" for path in (ROOT / "hub").glob("*/__init__.py")
)  # hub.domain.policy belongs to hub.domain; hub/config.py and the like are modules

# Deep imports that stay, each with its reason: (importing module, imported module) -> why.
# None is needed today: the packages whose modules would pull a large library into importers
# that do not use it (hub.web: FastAPI, Jinja, Prometheus) or slow the start-up of a command
# (hub.crypto, hub.domain, hub.events, hub.log, hub.ops) load name by name (hub.surface), so
# a function that defers ``from hub.web import create_asgi`` loads FastAPI only when it runs.
DEEP_IMPORTS: dict[tuple[str, str], str] = {}

# Exported although no code outside the package imports it, each with its reason.
EXTRA_EXPORTS: dict[str, set[str]] = {
    # the marker `leadhub up` leaves in the data directory, by which other commands find the
    # running broker; the end-to-end tests read it too (tests/e2e/test_audit.py)
    "hub.cli": {"BROKER_FILE"},
}


@dataclass(frozen=True)
class Import:
    """One ``import`` or ``from ... import`` of a hub package, where it is written."""

    path: Path
    line: int
    module: str  # the module the statement imports from (or imports)
    names: tuple[str, ...]  # the names a ``from`` import binds; () for ``import a.b``

    @property
    def package(self) -> str:
        return ".".join(self.module.split(".")[:2])

    @property
    def importer(self) -> str:
        return _module_name(self.path)

    @property
    def from_inside(self) -> bool:
        """Written in the package it imports from (its modules, subpackages, ``__init__``)."""
        return self.importer == self.package or self.importer.startswith(self.package + ".")

    def __str__(self) -> str:
        where = f"{self.path.relative_to(ROOT)}:{self.line}"
        if not self.names:
            return f"{where}: import {self.module}"
        return f"{where}: from {self.module} import {', '.join(self.names)}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    package = ".".join(parts[:2])
    return package if parts[0] == "hub" and package in PACKAGES else None


def _imports(path: Path) -> Iterator[Import]:
    """Every import of a hub package in one file, at any depth (functions, TYPE_CHECKING)."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _package_of(alias.name):
                    yield Import(path, node.lineno, alias.name, ())
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from the package ``level - 1`` above this one
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            if _package_of(module):
                yield Import(path, node.lineno, module, tuple(a.name for a in node.names))


@cache
def _all_imports() -> tuple[Import, ...]:
    return tuple(
        found
        for tree in TREES
        for path in sorted((ROOT / tree).rglob("*.py"))
        for found in _imports(path)
    )


def _submodules(package: str) -> set[str]:
    folder = ROOT / package.replace(".", "/")
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"} | {
        p.parent.name for p in folder.glob("*/__init__.py")
    }


def _init(package: str) -> ast.Module:
    path = ROOT / package.replace(".", "/") / "__init__.py"
    return ast.parse(path.read_text(encoding="utf-8"))


def _dunder_all(package: str) -> list[str]:
    for node in _init(package).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return value
    return []


def _lazy(package: str) -> tuple[dict[str, str], dict[str, str]] | None:
    """For a package that loads name by name (hub.surface): name -> module as its
    ``TYPE_CHECKING`` imports say, and as the surface handed to ``lazy_surface`` says."""
    for node in _init(package).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            typed = {
                alias.name: f"{stmt.module}.{alias.name}" if stmt.module == package else stmt.module
                for stmt in node.body
                if isinstance(stmt, ast.ImportFrom) and stmt.module
                for alias in stmt.names
            }
            calls = [
                call
                for call in ast.walk(ast.Module(body=node.orelse, type_ignores=[]))
                if isinstance(call, ast.Call) and ast.unparse(call.func) == "lazy_surface"
            ]
            assert len(calls) == 1, f"{package}: TYPE_CHECKING without lazy_surface(...) after it"
            surface: dict[str, tuple[str, ...]] = ast.literal_eval(calls[0].args[1])
            loaded = {name: module for module, names in surface.items() for name in names}
            # a submodule exported as itself is found by the import system, not the surface
            loaded |= {n: m for n, m in typed.items() if m == f"{package}.{n}"}
            return typed, loaded
    return None


def test_no_code_reaches_into_another_package() -> None:
    """``from hub.log import read_topics``, never ``from hub.log.reading import ...``."""
    deep = [
        imp
        for imp in _all_imports()
        if imp.module != imp.package
        and not imp.from_inside
        and (imp.importer, imp.module) not in DEEP_IMPORTS
    ]
    assert not deep, "import these from the package instead:\n" + "\n".join(map(str, deep))


def test_no_package_imports_its_own_surface() -> None:
    """Inside a package, modules import each other by module path: through the package's own
    ``__init__`` they would depend on the order it imports them in (an import cycle)."""
    own = [
        imp
        for imp in _all_imports()
        if imp.module == imp.package
        and imp.from_inside
        and imp.importer != imp.package  # the package's own __init__ makes the surface
        and not set(imp.names) <= _submodules(imp.package)
    ]
    assert not own, "import these from their modules:\n" + "\n".join(map(str, own))


def test_each_package_exports_exactly_what_is_imported_from_it() -> None:
    used: dict[str, set[str]] = defaultdict(set)
    for imp in _all_imports():
        if imp.module == imp.package and not imp.from_inside:
            used[imp.package] |= set(imp.names)
    wrong = {}
    for package in PACKAGES:
        exported = set(_dunder_all(package))
        wanted = used[package] | EXTRA_EXPORTS.get(package, set())
        if exported != wanted:
            wrong[package] = {
                "unused exports": sorted(exported - wanted),
                "imported but not exported": sorted(wanted - exported),
            }
    assert not wrong, wrong


def test_a_package_loaded_name_by_name_loads_each_name_from_its_module() -> None:
    """What mypy reads (the ``TYPE_CHECKING`` imports) and what runs (the surface handed to
    ``lazy_surface``) must be the same names from the same modules; and no exported name may
    be a submodule's name, since importing the submodule would then replace it."""
    lazy = {package: found for package in PACKAGES if (found := _lazy(package))}
    assert "hub.events" in lazy, "hub/events/__init__.py is not read as loading name by name"
    for package, (typed, loaded) in lazy.items():
        assert typed == loaded, package
        assert set(typed) == set(_dunder_all(package)), package
        shadowed = {
            name
            for name in typed
            if name in _submodules(package) and typed[name] != f"{package}.{name}"
        }
        assert not shadowed, (package, shadowed)
