"""A package's public surface, loaded name by name (PEP 562), for the packages that cannot
afford to import all their modules at once.

Code outside a package of hub/ imports only what that package's ``__init__`` exports
(docs/architecture.md). The ``__init__`` of an upper layer (cli, streams, report, audit)
simply imports its modules. A package that the start-up of a command touches but needs only a
few modules of, or whose modules pull in a large library that most of its importers never
use, instead imports its names under ``TYPE_CHECKING`` (for mypy and for a reader) and, at
run time, hands the same names to ``lazy_surface``: then ``from hub.log import client_kwargs``
loads ``hub.log.access`` and nothing else, exactly as ``from hub.log.access import
client_kwargs`` did. tests/unit/test_package_surfaces.py checks that the two lists agree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_surface(package: str, surface: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``, given its surface (module -> names): a name
    comes from its module, imported the first time the name is asked for and then kept on the
    package. A submodule exported as itself needs no entry: the import system finds it."""
    module_of = {name: module for module, names in surface.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in module_of:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module_of[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
