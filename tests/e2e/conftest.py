"""End-to-end: the hub worker as its own process on a broker of its own (outputs are
checked whole, so no other test may write to these topics), with a seeded LEAD scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hub.config import load_settings
from hub.domain.policy import policy_event_id
from hub.events.codec import Codec
from hub.log.probe import free_port
from producers.demo import EventsWatcher, start_worker
from tests.support.hubs import Hub, WebHub, hub_on_a_broker, wait_for_http
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
    port = free_port("127.0.0.1")
    config = data / "hub.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(data),
                "keys_dir": str(data / "keys"),
                "web": {"enabled": True, "port": port, "verdict_timeout_s": 20},
                "streams": {"tracing": "console"},  # spans as JSON lines in worker.log
            }
        ),
        encoding="utf-8",
    )
    with hub_on_a_broker(load_settings(config), codec) as h:
        watcher = h.watcher()
        try:
            h.workers.append(start_worker(h.settings, h.bootstrap, config))
            watcher.wait_for({str(policy_event_id(h.policy))}, lambda: h.worker, timeout_s=90)
            scenario = h.scenario(seed=77, participants=12)
            h.publish(scenario, watcher)
            expected = len(scenario.publications) + 1 + scenario.truth["holds.lapsed"]
            outputs = h.outputs(expected, watcher)
            base = f"http://127.0.0.1:{port}"
            wait_for_http(f"{base}/healthz", h)
            yield WebHub(h, base, config, scenario, outputs)
        finally:
            watcher.stop()


@pytest.fixture
def proxied(tmp_path: Path, codec: Codec) -> Iterator[Rig]:
    with rigged(tmp_path, codec, proxied=True) as rig:
        yield rig


@pytest.fixture
def direct(tmp_path: Path, codec: Codec) -> Iterator[Rig]:
    with rigged(tmp_path, codec, proxied=False) as rig:
        yield rig
