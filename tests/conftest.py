"""The test session: shared fixtures come from the plugin ``tests.support.fixtures``;
this file holds only what pytest wants from a conftest (hooks)."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["tests.support.fixtures"]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``pytest -n 3``: three long units, each on a worker of its own and in file order as
    one session would run it: the fault tests (which mostly wait for killed brokers and
    workers to come back), the other end-to-end tests, the integration tests; each
    unit-test module wherever there is room. Each unit shares one broker per worker. The
    three wait on brokers, workers and browsers much of the time, so on two cores a third
    worker fills what two leave idle. (xdist's own ``loadgroup`` cannot do it on pytest
    9.2: it renames ``item._nodeid``, which no longer names the item.) `make test` runs
    so."""
    from xdist.scheduler import LoadScopeScheduling

    class ByWhatTheyShare(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.endswith("/test_faults.py"):
                return "faults"
            if path.startswith(("tests/e2e/", "tests/integration/")):
                return path.split("/")[1]
            return path

    config.option.loadscopereorder = False  # in collection order: the three long units first
    return ByWhatTheyShare(config, log)
