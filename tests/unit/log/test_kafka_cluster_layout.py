"""What a cluster must agree on before any node starts (no JVM here): one cluster id and
ports chosen once and kept, replication that never asks for more copies than nodes, and
every node told the same voter set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.config import load_settings
from hub.errors import BrokerError
from hub.log.kafka_cluster import LAYOUT_FILE, EmbeddedCluster, Layout, replication_properties
from hub.log.scram import BrokerSecurity


def test_the_layout_is_chosen_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "kafka" / LAYOUT_FILE
    first = Layout.load_or_choose(path, 3, "127.0.0.1")
    ports = [p for n in first.nodes for p in (n.port, n.controller_port, n.internal_port)]
    assert len(set(ports)) == 9 and [n.node_id for n in first.nodes] == [1, 2, 3]
    assert Layout.load_or_choose(path, 3, "127.0.0.1") == first
    assert json.loads(path.read_text())["cluster_id"] == first.cluster_id
    with pytest.raises(BrokerError, match="cluster of 3 nodes, not 5"):
        Layout.load_or_choose(path, 5, "127.0.0.1")


def test_every_node_gets_the_same_voters_and_cluster_id(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(3, data_dir=tmp_path)
    voters = cluster.layout.voters("127.0.0.1")
    assert voters.count("@127.0.0.1:") == 3
    for node_id, node in cluster.nodes.items():
        assert node.node_id == node_id
        assert node.data_dir == tmp_path / "kafka" / f"node-{node_id}"
        assert node._voters == voters and node._cluster_id == cluster.layout.cluster_id
    assert cluster.bootstrap_servers == [f"127.0.0.1:{n.port}" for n in cluster.layout.nodes]
    assert cluster.running() == []


def test_a_secured_clusters_nodes_share_one_ca_and_one_set_of_users(tmp_path: Path) -> None:
    """Each node serves a certificate of the same CA (the nodes' mutual TLS and every
    client's trust need one) and holds the same SCRAM users, all kept in one place that the
    hub's processes read their credentials from, as for a single node."""
    cluster = EmbeddedCluster(3, data_dir=tmp_path, security=BrokerSecurity(users=("leadhub",)))
    first = next(iter(cluster.nodes.values()))
    first.prepare_security()
    for node_id, node in cluster.nodes.items():
        assert node.security_dir == tmp_path / "kafka" / "security"
        node.prepare_security()
        assert node.tls == first.tls and node.password("leadhub") == first.password("leadhub")
        assert node.internal_port == cluster.layout.nodes[node_id - 1].internal_port
    assert cluster.client_kwargs("leadhub")["sasl_plain_username"] == "leadhub"
    assert cluster.client_kwargs()["ssl_cafile"] == str(first.tls.ca_cert)  # type: ignore[union-attr]


def test_an_older_layout_without_internal_ports_still_loads(tmp_path: Path) -> None:
    path = tmp_path / LAYOUT_FILE
    nodes = [{"node_id": 1, "port": 9092, "controller_port": 9093}]
    path.write_text(json.dumps({"cluster_id": "abc", "nodes": nodes}))
    assert Layout.load_or_choose(path, 1, "127.0.0.1").nodes[0].internal_port == 0


def test_replication_never_exceeds_the_nodes() -> None:
    three = replication_properties(3)
    assert three["default.replication.factor"] == "3" and three["min.insync.replicas"] == "2"
    assert three["transaction.state.log.min.isr"] == "2"
    assert three["unclean.leader.election.enable"] == "false"
    assert replication_properties(5)["offsets.topic.replication.factor"] == "3"
    one = replication_properties(1)
    assert one["default.replication.factor"] == "1" and one["min.insync.replicas"] == "1"
    with pytest.raises(BrokerError):
        EmbeddedCluster(0)


def test_nodes_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().broker.embedded.nodes == 1
    monkeypatch.setenv("LEADHUB_BROKER__EMBEDDED__NODES", "3")
    assert load_settings().broker.embedded.nodes == 3
