"""The embedded broker: answers the Kafka protocol, has the hub's topics, leaves no orphan."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from hub.config import load_settings
from hub.domain.agencies import AgencyRegistry
from hub.errors import BrokerError
from hub.events.topics import TopicSpec, load_topic_specs
from hub.log.broker import EmbeddedBroker
from hub.log.probe import kafka_api_versions
from hub.ops.cluster import ensure_topics
from hub.ops.opening import open_broker
from tests.support.paths import DEPLOY, ROOT
from tests.support.processes import alive, ca_of, wait_gone

pytestmark = pytest.mark.integration


def test_session_broker_has_every_declared_topic(
    broker: EmbeddedBroker, agencies: AgencyRegistry
) -> None:
    assert kafka_api_versions(broker.host, broker.port)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    try:
        topics = set(admin.list_topics())
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
    finally:
        admin.close()
    specs = load_topic_specs(DEPLOY / "topics.yaml", agencies)
    assert {s.name for s in specs} <= topics
    assert {"lead.events", "lead.audit", "lead.ingest.sao", "lead.notify.opd"} <= topics
    for spec in specs:
        assert described[spec.name] == spec.partitions


def test_stop_ends_the_process_and_frees_the_port(tmp_path: Path) -> None:
    b = EmbeddedBroker(log_file=tmp_path / "b.log").start()
    pid = b.pid
    assert pid is not None and alive(pid)
    b.stop()
    assert wait_gone(pid)
    assert not kafka_api_versions(b.host, b.port, timeout=0.2)
    b.stop()  # idempotent


@pytest.mark.usefixtures("ctrl_c_reaches_children")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_no_orphan_when_the_parent_dies(tmp_path: Path, how: signal.Signals) -> None:
    """Whatever kills the hub (a crash, SIGTERM, Ctrl-C), its broker goes too."""
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from hub import logs
        from hub.log.broker import EmbeddedBroker
        logs.configure("warning")
        with EmbeddedBroker(data_dir=Path(sys.argv[1])) as b:
            print(b.pid, flush=True)
            time.sleep(60)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    broker_pid = int(parent.stdout.readline())
    assert alive(broker_pid)
    parent.send_signal(how)
    parent.wait(10)
    parent.stdout.close()
    assert wait_gone(broker_pid), f"broker {broker_pid} outlived its parent ({how.name})"


def test_a_broker_started_from_a_thread_outlives_the_thread(tmp_path: Path) -> None:
    """The kernel's parent-death signal follows the thread that forked: a broker started
    from a thread that then returns (a supervisor's, a fault injector's) must live on."""
    broker = EmbeddedBroker(log_file=tmp_path / "b.log")
    starter = threading.Thread(target=broker.start)
    starter.start()
    starter.join(90)
    try:
        assert broker.pid is not None
        time.sleep(1.0)  # a SIGTERM would have arrived as the thread ended
        assert alive(broker.pid) and kafka_api_versions(broker.host, broker.port, timeout=2)
    finally:
        broker.stop()


def test_a_broker_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    broken = EmbeddedBroker(data_dir=tmp_path / "a", properties={"num.io.threads": "many"})
    with pytest.raises(BrokerError, match=r"failed: Invalid value many for .*num\.io\.threads"):
        broken.start()
    assert broken.pid is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = EmbeddedBroker(port=port, data_dir=tmp_path / "b", start_timeout_s=30)
        with pytest.raises(BrokerError, match=r"exited with code \d+ .*see .*broker\.log"):
            busy.start()


def test_acknowledged_records_survive_a_killed_broker(tmp_path: Path) -> None:
    """acks=all, then SIGKILL the broker JVM mid-stream: started again on the same log,
    every acknowledged record is there, in order, and the stream goes on."""
    broker = EmbeddedBroker(data_dir=tmp_path / "kafka")
    broker.start()
    try:
        ensure_topics(broker.bootstrap_servers, [_one_topic()], {})
        acknowledged = _produce(broker, range(500))
        pid = broker.pid
        assert pid is not None
        broker.kill()
        assert wait_gone(pid, 5)
        broker.start()
        assert not broker.formatted
        acknowledged += _produce(broker, range(500, 600))
        assert _consume(broker, len(acknowledged)) == acknowledged
    finally:
        broker.stop()
    assert (tmp_path / "kafka" / "log" / "meta.properties").exists()  # its data stays


def _one_topic() -> TopicSpec:
    return TopicSpec(name="durable.test", partitions=1, replication_factor=1, configs={})


def _produce(broker: EmbeddedBroker, numbers: range) -> list[bytes]:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=5)
    try:
        futures = [(producer.send("durable.test", f"r{n}".encode()), n) for n in numbers]
        producer.flush()
        return [f"r{n}".encode() for f, n in futures if f.get(timeout=10).offset >= 0]
    finally:
        producer.close()


def _consume(broker: EmbeddedBroker, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(
        "durable.test",
        bootstrap_servers=broker.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    try:
        got: list[bytes] = []
        for record in consumer:
            got.append(record.value)
            if len(got) >= expected:
                break
        return got
    finally:
        consumer.close()


def test_external_cluster_mode_starts_nothing_and_ensures_topics(
    broker: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topics = tmp_path / "topics.yaml"
    topics.write_text(
        "version: 1\nreplication_factor: 1\ntopics:\n"
        "  - {name: lead.extra.test, partitions: 2, key: participant_id, doc: test}\n"
    )
    started: list[EmbeddedBroker] = []

    def record_start(self: EmbeddedBroker) -> EmbeddedBroker:
        started.append(self)
        return self

    monkeypatch.setattr(EmbeddedBroker, "start", record_start)
    settings = load_settings(
        topics_file=topics,
        data_dir=tmp_path,
        broker={"bootstrap_servers": broker.bootstrap_servers},
    )
    with open_broker(settings, ["bpd"]) as servers:
        assert servers == broker.bootstrap_servers
    assert started == []
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    try:
        assert "lead.extra.test" in admin.list_topics()
    finally:
        admin.close()


def test_embedded_mode_via_settings(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        agencies_file=DEPLOY / "agencies.yaml",
        topics_file=DEPLOY / "topics.yaml",
        audit={"archive": False},  # the archive (signed by the hub) has its own tests
    )
    with open_broker(settings, AgencyRegistry.load(DEPLOY / "agencies.yaml")) as servers:
        host, port = servers[0].rsplit(":", 1)
        # secured by default: TLS from the hub's own CA, nothing in plaintext
        assert kafka_api_versions(host, int(port), tls=ca_of(tmp_path))
        assert not kafka_api_versions(host, int(port), timeout=0.5)
    assert not kafka_api_versions(host, int(port), timeout=0.2, tls=ca_of(tmp_path))
    assert (tmp_path / "broker.log").exists()
    assert (tmp_path / "kafka" / "log" / "meta.properties").exists()  # durable under data_dir


def test_a_cluster_id_that_begins_with_a_dash_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A random KRaft id is URL-safe base64, so one in 64 begins with "-", which the
    storage tool's argument parser once took for a flag (a CI run failed on it)."""
    import hub.log.broker

    monkeypatch.setattr(hub.log.broker, "new_cluster_id", lambda: "-AbCdEfGhIjKlMnOpQrStU")
    with EmbeddedBroker(data_dir=tmp_path / "kafka") as broker:
        assert broker.formatted and kafka_api_versions(broker.host, broker.port)
