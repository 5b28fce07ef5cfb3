"""A real Kafka cluster on one machine: several combined broker+controller KRaft nodes.

Each node is an ``EmbeddedBroker`` (hub.log.broker) with a node id, a controller port and the
static voter set of all nodes; this module only composes them. What a cluster needs that a
lone node does not:

- one cluster id for every node (a node formatted with another id is refused by the quorum),
  and ports chosen once: both kept in ``<data_dir>/kafka/cluster.json``, so a node (or the
  whole cluster) started again finds its peers where the voter set says they are;
- nodes started together: a controller quorum of three needs two voters before any node's
  broker can register and answer, so no node may wait for another before it spawns;
- each node's JVM spawned from a thread that lives as long as the node. The kernel sends
  PR_SET_PDEATHSIG when the *thread* that forked the child exits, not the process, so a
  node started from a short-lived thread would be SIGTERMed as soon as that thread ended.
  Every node has one worker thread of its own that starts, kills and stops it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import structlog
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from hub.errors import BrokerError
from hub.log.broker import EmbeddedBroker
from hub.log.probe import free_port, new_cluster_id
from hub.log.scram import BrokerSecurity

log = structlog.get_logger(__name__)

LAYOUT_FILE = "cluster.json"
T = TypeVar("T")


def replication_properties(size: int) -> dict[str, str]:
    """Replication of the internal topics and the defaults of every other topic: three
    copies (or as many as there are nodes), of which an acks=all write needs two, so one
    node can die without losing or refusing a write; never an unclean leader."""
    rf = min(size, 3)
    min_isr = 2 if rf >= 3 else 1
    return {
        "offsets.topic.replication.factor": str(rf),
        "transaction.state.log.replication.factor": str(rf),
        "transaction.state.log.min.isr": str(min_isr),
        "share.coordinator.state.topic.replication.factor": str(rf),
        "share.coordinator.state.topic.min.isr": str(min_isr),
        "default.replication.factor": str(rf),
        "min.insync.replicas": str(min_isr),
        "unclean.leader.election.enable": "false",
    }


@dataclass(frozen=True)
class NodePorts:
    node_id: int
    port: int
    controller_port: int
    internal_port: int = 0  # a secured node's inter-broker listener (0: chosen at start)


@dataclass(frozen=True)
class Layout:
    """What every start of the cluster must agree on: its id and where each node listens."""

    cluster_id: str
    nodes: tuple[NodePorts, ...]

    def voters(self, host: str) -> str:
        return ",".join(f"{n.node_id}@{host}:{n.controller_port}" for n in self.nodes)

    @classmethod
    def load_or_choose(cls, path: Path, size: int, host: str) -> Layout:
        if path.exists():
            raw = json.loads(path.read_text(encoding="utf-8"))
            layout = cls(raw["cluster_id"], tuple(NodePorts(**n) for n in raw["nodes"]))
            if len(layout.nodes) != size:
                raise BrokerError(
                    f"{path} describes a cluster of {len(layout.nodes)} nodes, not {size}: "
                    "a cluster's size cannot change in place (remove its data to start anew)"
                )
            return layout
        ports: list[int] = []
        while len(ports) < 3 * size:
            ports.append(free_port(host, avoid=ports))
        layout = cls(
            new_cluster_id(),
            tuple(NodePorts(i + 1, *ports[3 * i : 3 * i + 3]) for i in range(size)),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {"cluster_id": layout.cluster_id, "nodes": [n.__dict__ for n in layout.nodes]},
                indent=2,
            ),
            encoding="utf-8",
        )
        return layout


class EmbeddedCluster:
    """``size`` Apache Kafka nodes owned by this process. Use as a context manager.

    Node ``n`` keeps its log and configuration in ``<data_dir>/kafka/node-<n>`` and its
    log4j output in ``<data_dir>/kafka/node-<n>/broker.log``. Without ``data_dir`` a
    temporary folder is used and removed at ``stop``.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        data_dir: Path | None = None,
        host: str = "127.0.0.1",
        heap_mb: int = 512,
        start_timeout_s: float = 120.0,
        properties: Mapping[str, str] | None = None,
        security: BrokerSecurity | None = None,
    ) -> None:
        if size < 1:
            raise BrokerError(f"a cluster needs at least one node, not {size}")
        self.size = size
        self.host = host
        self._owns_data = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="leadhub-cluster-"))
        self._start_timeout_s = start_timeout_s
        self.layout = Layout.load_or_choose(self.data_dir / "kafka" / LAYOUT_FILE, size, host)
        extra = {**replication_properties(size), **(properties or {})}
        # secured, every node serves the same CA's certificate and knows the same SCRAM users
        self.security = security
        self.security_dir = self.data_dir / "kafka" / "security"
        self.nodes: dict[int, EmbeddedBroker] = {
            n.node_id: EmbeddedBroker(
                host=host,
                port=n.port,
                data_dir=self.data_dir / "kafka" / f"node-{n.node_id}",
                start_timeout_s=start_timeout_s,
                heap_mb=heap_mb,
                properties=extra,
                node_id=n.node_id,
                controller_port=n.controller_port,
                voters=self.layout.voters(host),
                cluster_id=self.layout.cluster_id,
                security=security,
                security_dir=self.security_dir,
                internal_port=n.internal_port,
            )
            for n in self.layout.nodes
        }
        self._keepers: dict[int, ThreadPoolExecutor] = {}
        self.ready_s = 0.0  # seconds from the first spawn to every broker in the metadata

    @property
    def replication_factor(self) -> int:
        return min(self.size, 3)

    @property
    def bootstrap_servers(self) -> list[str]:
        return [f"{self.host}:{n.port}" for n in self.layout.nodes]

    def client_kwargs(self, user: str | None = None) -> dict[str, object]:
        """How to connect as ``user`` (the admin when None); see EmbeddedBroker."""
        return self.nodes[self.layout.nodes[0].node_id].client_kwargs(user)

    @property
    def formatted(self) -> bool:
        """Whether the latest start found every node's log empty (a brand-new cluster)."""
        return all(node.formatted for node in self.nodes.values())

    def pid(self, node_id: int) -> int | None:
        return self.nodes[node_id].pid

    def running(self) -> list[int]:
        return [i for i, node in self.nodes.items() if node.pid is not None]

    def start(self, node_id: int | None = None) -> EmbeddedCluster:
        """Start every node (``node_id`` None) or one node again; return once the cluster's
        metadata lists every running node as a broker."""
        began = time.monotonic()
        targets = list(self.nodes) if node_id is None else [node_id]
        if self.security is not None:  # made once, here, before nodes start side by side
            next(iter(self.nodes.values())).prepare_security()
        futures = [self._on(i, self.nodes[i].start) for i in targets]
        try:
            for future in futures:
                future.result()
            self._wait_brokers(set(self.running()), began + self._start_timeout_s)
        except BaseException:
            if node_id is None:
                self.stop()
            raise
        self.ready_s = time.monotonic() - began
        log.info(
            "cluster_started",
            nodes=targets,
            bootstrap=",".join(self.bootstrap_servers),
            ready_s=round(self.ready_s, 2),
        )
        return self

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a crash or a pulled plug would; its data stays."""
        self._on(node_id, self.nodes[node_id].kill).result()

    def stop(self) -> None:
        """Stop every node at once: one at a time, the last ones would have no quorum to
        approve their controlled shutdown, and would wait for it until killed."""
        for future in [self._on(i, node.stop) for i, node in self.nodes.items()]:
            future.result()
        for keeper in self._keepers.values():
            keeper.shutdown(wait=True)
        self._keepers.clear()
        if self._owns_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _on(self, node_id: int, call: Callable[[], T]) -> Future[T]:
        """Run ``call`` on the node's own long-lived thread (see the module doc)."""
        keeper = self._keepers.get(node_id)
        if keeper is None:
            keeper = ThreadPoolExecutor(1, thread_name_prefix=f"kafka-node-{node_id}")
            self._keepers[node_id] = keeper
        return keeper.submit(call)

    def _wait_brokers(self, expected: set[int], deadline: float) -> None:
        seen: set[int] = set()
        while time.monotonic() < deadline:
            try:
                with self.admin() as admin:
                    seen = {b["broker_id"] for b in admin.describe_cluster()["brokers"]}
            except KafkaError:
                seen = set()
            if expected <= seen:
                return
            time.sleep(0.2)
        raise BrokerError(
            f"the cluster's metadata lists brokers {sorted(seen)}, not {sorted(expected)}, "
            f"(see {self.data_dir / 'kafka'}/node-*/broker.log)"
        )

    @contextmanager
    def admin(self, timeout_s: float = 10.0) -> Iterator[Any]:
        """A kafka-python admin client bootstrapped from every node (any live one will do)."""
        admin = KafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers,
            request_timeout_ms=int(timeout_s * 1000),
            **{**self.client_kwargs(), "client_id": "leadhub-cluster"},
        )
        try:
            yield admin
        finally:
            admin.close()

    def partitions(self, topic: str) -> dict[int, dict[str, Any]]:
        """Each partition of ``topic``: its leader, replicas and in-sync replicas."""
        with self.admin() as admin:
            (described,) = admin.describe_topics([topic])
        return {
            p["partition_index"]: {
                "leader": p["leader_id"],
                "replicas": list(p["replica_nodes"]),
                "isr": list(p["isr_nodes"]),
            }
            for p in described["partitions"]
        }

    def leader_of(self, topic: str, partition: int) -> int:
        """The node id that leads ``topic``'s ``partition`` now (-1: none, mid-election)."""
        leader: int = self.partitions(topic)[partition]["leader"]
        return leader

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
