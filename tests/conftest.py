"""The test session: shared fixtures come from the plugin ``tests.support.fixtures``;
this file holds only what pytest wants from a conftest (hooks)."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["tests.support.fixtures"]


BROKER_TESTS = ("tests/e2e/", "tests/integration/")
FAULTS = "tests/e2e/test_faults.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fault tests first, then the other tests that start a broker, then the unit
    tests, each in file order: the order ``make test``'s scheduler hands them out in."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return 0 if path == FAULTS else 1 if path.startswith(BROKER_TESTS) else 2

    items.sort(key=rank)  # stable: file order within each rank


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``pytest -n 2``: a module at a time to whichever worker is free, the fault tests
    first. One worker runs the fault tests (about 13 minutes, mostly waiting for killed
    brokers and workers to come back) while the other works through the modules that start
    a broker; then both share what is left, the unit-test modules last, to even out the
    end. Each worker starts its own session broker. (Before, every broker test ran on one
    worker in a row: about 1,170 s against the fault tests' 810 s.) xdist's own
    ``loadgroup`` cannot group on pytest 9.2: it renames ``item._nodeid``, which no longer
    names the item. `make test` runs so."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid.split("::", 1)[0]

    config.option.loadscopereorder = False  # in collection order: the fault tests first
    return ByModule(config, log)
