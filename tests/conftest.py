"""The test session: shared fixtures come from the plugin ``tests.support.fixtures``;
this file holds only what pytest wants from a conftest (hooks)."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["tests.support.fixtures"]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``pytest -n 2``: the fault tests, which mostly wait for killed brokers and workers to
    come back, on one worker; every other test that starts a broker on the other, in file
    order, as one session would run them; each unit-test module wherever there is room.
    (xdist's own ``loadgroup`` cannot do it on pytest 9.2: it renames ``item._nodeid``,
    which no longer names the item.) `make test` runs so."""
    from xdist.scheduler import LoadScopeScheduling

    class ByWhatTheyShare(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.startswith(("tests/e2e/", "tests/integration/")):
                return "faults" if path.endswith("/test_faults.py") else "broker"
            return path

    config.option.loadscopereorder = False  # in collection order: the two long units first
    return ByWhatTheyShare(config, log)
