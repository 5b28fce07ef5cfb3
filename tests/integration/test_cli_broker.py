"""`leadhub up` and `leadhub tail` as an operator runs them, against real brokers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.crypto.signing import SigningKey, write_key
from hub.events.codec import Codec
from hub.log.broker import EmbeddedBroker
from hub.log.probe import kafka_api_versions
from producers.samples import sample_event
from producers.sdk import Publisher
from tests.support.fakes import fake_seal
from tests.support.paths import ROOT
from tests.support.processes import broker_children, ca_of, wait_gone

pytestmark = pytest.mark.integration


@pytest.mark.usefixtures("ctrl_c_reaches_children")
def test_up_runs_until_ctrl_c_and_leaves_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "LEADHUB_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("broker ready at 127.0.0.1:"), line
    host, port = line.split()[3].rstrip(";").rsplit(":", 1)
    assert kafka_api_versions(host, int(port), tls=ca_of(tmp_path))
    assert (tmp_path / "broker.json").exists()
    children = broker_children(proc.pid)
    assert len(children) == 1
    proc.send_signal(signal.SIGINT)
    assert proc.wait(15) == 0
    proc.stdout.close()
    assert wait_gone(children[0])
    assert not (tmp_path / "broker.json").exists()


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the broker JVM, the archiver, multiprocessing's helpers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [c for c, p in parents.items() if p in frontier]
        found += children
        frontier = children
    return found


@pytest.mark.usefixtures("ctrl_c_reaches_children")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_cleanly_on_a_service_managers_signal(
    tmp_path: Path, how: signal.Signals
) -> None:
    """systemd and Kubernetes send SIGTERM, a person Ctrl-C: either way `leadhub run` stops
    its worker, its archiver and its broker within 10 s, leaves no child, and exits 0."""
    from hub.config import load_settings
    from hub.domain.agencies import AgencyRegistry
    from producers.demo import demo_keys

    settings = load_settings(data_dir=tmp_path, keys_dir=tmp_path / "keys")
    demo_keys(settings, AgencyRegistry.load(settings.agencies_file))
    env = {
        **os.environ,
        "LEADHUB_DATA_DIR": str(tmp_path),
        "LEADHUB_KEYS_DIR": str(tmp_path / "keys"),
    }
    out = (tmp_path / "run.out").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "run"], cwd=ROOT, env=env, stdout=out, stderr=out
    )
    try:
        deadline = time.monotonic() + 90
        while b"partition_resumed" not in (tmp_path / "run.out").read_bytes():
            assert proc.poll() is None, (tmp_path / "run.out").read_text()[-2000:]
            assert time.monotonic() < deadline, "the worker never took its partitions"
            time.sleep(0.2)
        children = _descendants(proc.pid)
        assert broker_children(proc.pid), "no broker JVM under `leadhub run`"
        sent = time.monotonic()
        proc.send_signal(how)
        assert proc.wait(10) == 0
        assert time.monotonic() - sent < 10
        assert all(wait_gone(c, 5) for c in children), "a child outlived `leadhub run`"
    finally:
        if proc.poll() is None:
            proc.kill()
        out.close()


def test_tail_decodes_and_verifies(
    broker: EmbeddedBroker, codec: Codec, agency_keys: dict[str, SigningKey], tmp_path: Path
) -> None:
    key = agency_keys["hsg"]
    write_key(key, tmp_path / "keys")
    participant = f"P-{uuid.uuid4().hex[:10].upper()}"
    body = sample_event("housed", random.Random(3), fake_seal)
    with Publisher(key=key, codec=codec, bootstrap_servers=broker.bootstrap_servers) as pub:
        sent = pub.publish(body, participant_id=participant, occurred_at=datetime.now(UTC))
    env = {**os.environ, "LEADHUB_KEYS_DIR": str(tmp_path / "keys")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "tail",
            "lead.ingest.hsg",
            "--json",
            "--bootstrap-servers",
            broker.bootstrap_servers[0],
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    mine = [r for r in rows if r["event_id"] == str(sent.event_id)]
    assert len(mine) == 1
    row = mine[0]
    assert row["ok"] and row["event_type"] == "housed" and row["source"] == "hsg"
    assert row["headers"]["ce_type"] == "org.leadhub.housed"
    assert row["body"]["housing_type"] == body.housing_type.value
