"""The test session: shared fixtures come from the plugin ``tests.support.fixtures``;
this file holds only what pytest wants from a conftest (hooks)."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["tests.support.fixtures"]
# on a worker apart: the fault tests and the runbook (they start brokers of their own)
APART = ("/test_faults.py", "/test_runbook.py")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``pytest -n 2``: on one worker the fault tests, which mostly wait for killed brokers
    and workers to come back, then the runbook's commands (both start brokers of their own);
    every other test that starts a broker on the other, in file order, as one session would
    run them; each unit-test module wherever there is room. (The runbook used to run last
    on the other worker, the one that carries every other broker test.) xdist's own
    ``loadgroup`` cannot do it on pytest 9.2: it renames ``item._nodeid``, which no longer
    names the item. `make test` runs so."""
    from xdist.scheduler import LoadScopeScheduling

    class ByWhatTheyShare(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.startswith(("tests/e2e/", "tests/integration/")):
                return "apart" if path.endswith(APART) else "broker"
            return path

    config.option.loadscopereorder = False  # in collection order: the two long units first
    return ByWhatTheyShare(config, log)
