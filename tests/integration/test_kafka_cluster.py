"""A real three-node Kafka cluster on loopback: replicated, it rides out a killed leader,
keeps its ports and its data across a restart, and leaves no JVM behind its parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from hub.config import load_settings
from hub.log.access import client_kwargs
from hub.log.kafka_cluster import LAYOUT_FILE, EmbeddedCluster
from tests.support.fixtures import REFUSED_SOCKETS_LEAK
from tests.support.paths import ROOT
from tests.support.processes import alive, broker_children, wait_gone

pytestmark = [pytest.mark.integration, *REFUSED_SOCKETS_LEAK]


def _create(cluster: EmbeddedCluster, topic: str, partitions: int) -> None:
    """A topic with the cluster's default replication (-1), as `leadhub up` does not ask."""
    with cluster.admin() as admin:
        admin.create_topics([NewTopic(topic, partitions, -1)])
    _until(lambda: _led(cluster.partitions(topic), partitions), 30)


def _led(described: dict[int, dict[str, Any]], partitions: int) -> bool:
    """Every partition is known and has a leader. Just after the create the metadata may list
    none of them, and ``all()`` of nothing is true: count them too."""
    return len(described) == partitions and all(p["leader"] >= 0 for p in described.values())


def _until(condition: Callable[[], bool], timeout_s: float) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout_s, f"not within {timeout_s} s"
        time.sleep(0.1)
    return time.monotonic() - start


def _read_all(cluster: EmbeddedCluster, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap_servers, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(cluster.partitions(topic))]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        values: list[bytes] = []
        deadline = time.monotonic() + 60
        while len(values) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values += [r.value for r in records]
        return values
    finally:
        consumer.close()


def test_three_brokers_replicate_with_two_in_sync_needed(kafka_cluster: EmbeddedCluster) -> None:
    with kafka_cluster.admin() as admin:
        brokers = admin.describe_cluster()["brokers"]
    assert sorted(b["broker_id"] for b in brokers) == [1, 2, 3]
    _create(kafka_cluster, "replicated", 3)
    for p in kafka_cluster.partitions("replicated").values():
        assert sorted(p["replicas"]) == [1, 2, 3] and sorted(p["isr"]) == [1, 2, 3]
    for node in kafka_cluster.nodes.values():
        config = (node.data_dir / "server.properties").read_text()
        assert "min.insync.replicas=2\n" in config
        assert "offsets.topic.replication.factor=3\n" in config
        assert "transaction.state.log.min.isr=2\n" in config
    print(f"cluster ready in {kafka_cluster.ready_s:.1f} s")


def test_acks_all_rides_out_a_killed_leader(kafka_cluster: EmbeddedCluster) -> None:
    """SIGKILL the leader of a partition mid-stream: the producer (acks=all, idempotent, as
    the real broker allows) retries through the election, and every acknowledged record is
    in the log exactly once; the node comes back and catches up into the ISR."""
    _create(kafka_cluster, "failover", 1)
    victim = kafka_cluster.leader_of("failover", 0)
    producer = KafkaProducer(
        bootstrap_servers=kafka_cluster.bootstrap_servers, acks="all", linger_ms=2
    )
    acked: list[bytes] = []
    slowest = 0.0
    try:
        for i in range(3000):
            if i == 1000:
                kafka_cluster.kill(victim)
            began = time.monotonic()
            producer.send("failover", f"r{i}".encode()).get(60)
            slowest = max(slowest, time.monotonic() - began)
            acked.append(f"r{i}".encode())
    finally:
        producer.close()
    new_leader = kafka_cluster.leader_of("failover", 0)
    assert new_leader not in (victim, -1)
    assert _read_all(kafka_cluster, "failover", len(acked)) == acked
    kafka_cluster.start(victim)
    back = _until(lambda: len(kafka_cluster.partitions("failover")[0]["isr"]) == 3, 60)
    print(
        f"leader {victim} killed: {len(acked)} acked, none lost or repeated; the longest send "
        f"waited {slowest:.1f} s; node {victim} back in the ISR {back:.1f} s after its restart"
    )


def test_a_restart_keeps_the_ports_and_the_log(kafka_cluster: EmbeddedCluster) -> None:
    _create(kafka_cluster, "kept", 1)
    producer = KafkaProducer(bootstrap_servers=kafka_cluster.bootstrap_servers, acks="all")
    for i in range(100):
        producer.send("kept", f"k{i}".encode())
    producer.flush(30)
    producer.close()
    layout = json.loads((kafka_cluster.data_dir / "kafka" / LAYOUT_FILE).read_text())
    before = list(kafka_cluster.bootstrap_servers)
    kafka_cluster.stop()
    assert kafka_cluster.running() == []
    again = EmbeddedCluster(3, data_dir=kafka_cluster.data_dir)
    assert again.bootstrap_servers == before
    again.start()
    try:
        assert not again.formatted
        assert json.loads((again.data_dir / "kafka" / LAYOUT_FILE).read_text()) == layout
        assert _read_all(again, "kept", 100) == [f"k{i}".encode() for i in range(100)]
        print(f"restarted in {again.ready_s:.1f} s")
    finally:
        again.stop()
    kafka_cluster.start()  # the fixture's own cluster, for whatever runs after


def test_no_jvm_outlives_its_parent(tmp_path: Path) -> None:
    """SIGKILL the Python process that owns a running cluster: every node's JVM goes too
    (each was forked from a thread that lives as long as the process)."""
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from hub import logs
        from hub.log.kafka_cluster import EmbeddedCluster
        logs.configure("warning")
        with EmbeddedCluster(3, data_dir=Path(sys.argv[1])) as c:
            print(" ".join(str(c.pid(n)) for n in c.nodes), flush=True)
            time.sleep(120)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 3 and all(alive(p) for p in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    parent.stdout.close()
    gone = [wait_gone(p, 30) for p in pids]
    assert all(gone), f"JVMs {pids} outlived their parent: {gone}"


@pytest.mark.usefixtures("ctrl_c_reaches_children")
def test_up_with_three_brokers_replicates_the_hub_topics(tmp_path: Path) -> None:
    """`leadhub up --brokers 3`: three nodes, every hub topic with three replicas; Ctrl-C
    stops them all."""
    env = {**os.environ, "LEADHUB_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "up", "--brokers", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        assert line.startswith("broker ready at 127.0.0.1:"), line
        servers = json.loads((tmp_path / "broker.json").read_text())["bootstrap_servers"]
        assert len(servers) == 3
        children = broker_children(proc.pid)
        assert len(children) == 3
        as_hub = client_kwargs(load_settings(data_dir=tmp_path))  # secured like one node
        with KafkaAdminClient(bootstrap_servers=servers, **as_hub) as admin:
            described = {t["name"]: t["partitions"] for t in admin.describe_topics()}
        for topic in ("lead.events", "lead.audit", "lead.notify.sao", "lead.ingest.bpd"):
            assert {len(p["replica_nodes"]) for p in described[topic]} == {3}, topic
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert all(wait_gone(pid) for pid in children)
