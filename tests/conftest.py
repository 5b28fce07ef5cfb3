"""The test session: shared fixtures come from the plugin ``tests.support.fixtures``;
this file holds only what pytest wants from a conftest (hooks)."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["tests.support.fixtures"]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``pytest -n 3`` (`make test`): three workers, each with a session broker of its own,
    on 2 cores, because most of a broker test's time is spent waiting (for a killed broker
    or worker to come back, a group to settle, a transaction marker): the fault tests on
    one worker, the other end-to-end tests on another, the integration tests on the third,
    each group in file order as one session would run it; each unit-test module wherever
    there is room. (xdist's own ``loadgroup`` cannot do it on pytest 9.2: it renames
    ``item._nodeid``, which no longer names the item.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByWhatTheyShare(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.endswith("/test_faults.py"):
                return "faults"
            for group in ("tests/e2e/", "tests/integration/"):
                if path.startswith(group):
                    return group
            return path

    config.option.loadscopereorder = False  # in collection order: the three long units first
    return ByWhatTheyShare(config, log)
