"""End-to-end: the hub worker as its own process on a broker of its own (outputs are
checked whole, so no other test may write to these topics), with a seeded LEAD scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import load_settings
from hub.domain.policy import policy_event_id
from hub.events.codec import Codec
from producers.demo import EventsWatcher
from tests.support.hubs import Hub, WebHub, hub_on_a_broker, serving_hub
from tests.support.rigs import Rig, rigged


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, codec: Codec) -> Iterator[Hub]:
    data = tmp_path_factory.mktemp("e2e")
    with hub_on_a_broker(load_settings(data_dir=data, keys_dir=data / "keys"), codec) as h:
        yield h


@pytest.fixture(scope="module")
def watcher(hub: Hub) -> Iterator[EventsWatcher]:
    w = hub.watcher()
    hub.start_worker()
    w.wait_for({str(policy_event_id(hub.policy))}, lambda: hub.worker, timeout_s=90)
    yield w
    w.stop()


@pytest.fixture(scope="package")
def web_hub(tmp_path_factory: pytest.TempPathFactory, codec: Codec) -> Iterator[WebHub]:
    data = tmp_path_factory.mktemp("web")
    # spans as JSON lines in worker.log
    with serving_hub(
        data, codec, web={"verdict_timeout_s": 20}, streams={"tracing": "console"}
    ) as (h, watcher, base, config):
        scenario = h.scenario(seed=77, participants=12)
        h.publish(scenario, watcher)
        outputs = h.outputs(scenario.expected_on_log(), watcher)
        yield WebHub(h, base, config, scenario, outputs)


@pytest.fixture
def proxied(tmp_path: Path, codec: Codec) -> Iterator[Rig]:
    with rigged(tmp_path, codec, proxied=True) as rig:
        yield rig


@pytest.fixture
def direct(tmp_path: Path, codec: Codec) -> Iterator[Rig]:
    with rigged(tmp_path, codec, proxied=False) as rig:
        yield rig
