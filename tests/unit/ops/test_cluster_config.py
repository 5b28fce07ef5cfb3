"""deploy/cluster/ cannot run here (no container engine), so its invariants are checked as
data: three replicas and two in sync, SASL/SCRAM over TLS everywhere a client connects,
no secret written into a file, at least two hub workers, the shared data volume, and the
hub's config accepted by the hub's own Settings loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.config import Settings, load_settings
from hub.domain.agencies import AgencyRegistry
from hub.errors import ConfigError
from hub.log.acls import load_principals
from hub.log.kafka_cluster import replication_properties
from hub.log.kafka_dist import kafka_version
from tests.support.paths import DEPLOY

CLUSTER = DEPLOY / "cluster"
K8S = CLUSTER / "k8s"
PASSWORD_ENV = "LEADHUB_BROKER__SECURITY__SASL_PASSWORD"


def properties(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def k8s_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_documents() if d["kind"] == kind]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CLUSTER / "docker-compose.yaml").read_text())
    return data


def test_compose_runs_three_kraft_nodes_replicating_three_ways(compose: dict[str, Any]) -> None:
    kafkas = {n: s for n, s in compose["services"].items() if n.startswith("kafka-")}
    assert sorted(kafkas) == ["kafka-1", "kafka-2", "kafka-3"]
    assert {s["environment"]["NODE_ID"] for s in kafkas.values()} == {"1", "2", "3"}
    assert all(s["image"].startswith("apache/kafka:") for s in kafkas.values())
    props = properties(CLUSTER / "kafka" / "server.properties")
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"].count("@kafka-") == 3
    assert props["default.replication.factor"] == "3"
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["unclean.leader.election.enable"] == "false"
    assert props["auto.create.topics.enable"] == "false"


def test_the_cluster_runs_the_kafka_and_the_replication_the_tests_run(
    compose: dict[str, Any],
) -> None:
    """Kafka's version is the pom's (the embedded broker's), and every replication setting
    of the tests' three-node cluster (hub/log/kafka_cluster.py) is set alike here."""
    version = kafka_version()
    kafkas = [s for n, s in compose["services"].items() if n.startswith("kafka-")]
    assert {s["image"] for s in kafkas} == {f"apache/kafka:{version}"}
    (kafka,) = of_kind("Kafka")
    assert kafka["spec"]["kafka"]["version"] == version
    assert kafka["spec"]["kafka"]["metadataVersion"].startswith(version.rsplit(".", 1)[0] + "-")
    wanted = replication_properties(3)
    props = properties(CLUSTER / "kafka" / "server.properties")
    assert {k: props.get(k) for k in wanted} == wanted
    config = {k: str(v).lower() for k, v in kafka["spec"]["kafka"]["config"].items()}
    assert {k: config.get(k) for k in wanted} == wanted
    assert version in (CLUSTER / "README.md").read_text()


def test_compose_clients_use_scram_over_tls_and_deny_by_default() -> None:
    props = properties(CLUSTER / "kafka" / "server.properties")
    protocols = dict(p.split(":") for p in props["listener.security.protocol.map"].split(","))
    controller = props["controller.listener.names"]
    assert {n: p for n, p in protocols.items() if n != controller} == {
        "INTERNAL": "SASL_SSL",
        "CLIENTS": "SASL_SSL",
    }
    assert protocols[controller] == "SSL"
    assert props[f"listener.name.{controller.lower()}.ssl.client.auth"] == "required"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")


def test_compose_inlines_no_secret(compose: dict[str, Any]) -> None:
    text = (CLUSTER / "docker-compose.yaml").read_text()
    props = (CLUSTER / "kafka" / "server.properties").read_text()
    # every password is a reference: a FileConfigProvider lookup or a secret file's content
    for value in re.findall(r'password="([^"]*)"', props):
        assert value.startswith("${file:/run/secrets/"), value
    assert "ssl.keystore.password" not in props and "ssl.key.password" not in props
    assert all(set(s) == {"file"} for s in compose["secrets"].values())
    assert all(s["file"].startswith("./secrets/") for s in compose["secrets"].values())
    assert "secrets/" in (CLUSTER / ".gitignore").read_text().split()
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            assert "PASSWORD" not in name.upper() or not value, name
    assert PASSWORD_ENV in text  # set inside each container from /run/secrets, at start


def test_compose_runs_two_hub_workers_on_a_shared_volume(compose: dict[str, Any]) -> None:
    hub = compose["services"]["hub"]
    assert hub["deploy"]["replicas"] >= 2
    assert "leadhub-data:/var/lib/leadhub" in hub["volumes"]
    assert "leadhub-data" in compose["volumes"]
    assert "leadhub run -c /etc/leadhub/hub.yaml" in hub["command"][0]
    assert hub["depends_on"]["apply"]["condition"] == "service_completed_successfully"
    assert "leadhub apply" in compose["services"]["apply"]["command"][0]


def test_strimzi_kafka_replicates_three_ways_over_scram_tls() -> None:
    (pool,) = of_kind("KafkaNodePool")
    assert pool["spec"]["replicas"] == 3
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    (kafka,) = of_kind("Kafka")
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["allow.everyone.if.no.acl.found"] is False
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert listeners and all(
        li["tls"] is True and li["authentication"]["type"] == "scram-sha-512" for li in listeners
    )
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"


def test_every_principal_has_a_kafka_user() -> None:
    agencies = [a for a in AgencyRegistry.load(DEPLOY / "agencies.yaml") if a != "hub"]
    principals = load_principals(DEPLOY / "acls.yaml")
    wanted = {principals.hub.principal, *principals.auditors.principals}
    wanted |= {principals.agencies.principal_of(a) for a in agencies}
    wanted |= {principals.witnesses.principal_of(a) for a in principals.witnesses.agencies}
    users = {f"User:{u['metadata']['name']}" for u in of_kind("KafkaUser")}
    assert users == wanted | {"User:leadhub-admin"}
    assert all(u["spec"]["authentication"]["type"] == "scram-sha-512" for u in of_kind("KafkaUser"))
    assert all("authorization" not in u["spec"] for u in of_kind("KafkaUser"))  # apply's job


def test_k8s_inlines_no_secret_and_runs_two_workers() -> None:
    assert of_kind("Secret") == []  # referenced (Strimzi's, the operator's), never written here
    (workers,) = [d for d in of_kind("Deployment") if d["metadata"]["name"] == "leadhub"]
    assert workers["spec"]["replicas"] >= 2
    pod = workers["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env[PASSWORD_ENV]["valueFrom"]["secretKeyRef"] == {"name": "leadhub", "key": "password"}
    assert all("value" not in e for e in container["env"] if "PASSWORD" in e["name"])
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == "leadhub-data"
    assert volumes["keys"]["secret"]["secretName"] == "leadhub-keys"
    (pvc,) = of_kind("PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == "leadhub-data"
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]  # every worker mounts it
    (job,) = of_kind("Job")
    job_env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert all("valueFrom" in e for e in job_env if "PASSWORD" in e["name"])


def test_k8s_network_policies_deny_by_default() -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind("NetworkPolicy")}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    workers = policies["leadhub-workers"]
    assert workers["ingress"] == []
    ports = {p["port"] for rule in workers["egress"] for p in rule["ports"]}
    assert ports == {9093, 53}


def hub_config_texts() -> list[tuple[str, str]]:
    (cm,) = of_kind("ConfigMap")
    return [
        ("compose", (CLUSTER / "hub.yaml").read_text()),
        ("k8s", cm["data"]["hub.yaml"]),
    ]


@pytest.mark.parametrize(("where", "text"), hub_config_texts(), ids=["compose", "k8s"])
def test_hub_config_loads_with_the_hubs_own_settings(
    where: str, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    monkeypatch.setenv(PASSWORD_ENV, "not-a-real-password")
    settings: Settings = load_settings(path)
    broker = settings.broker
    assert not broker.is_embedded
    assert broker.replication_factor == 3
    assert broker.security.protocol == "SASL_SSL"
    assert broker.security.sasl_mechanism == "SCRAM-SHA-512"
    kwargs = broker.client_kwargs()
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_plain_username"] == "leadhub"
    assert kwargs["sasl_plain_password"] == "not-a-real-password"
    assert str(kwargs["ssl_cafile"]).startswith(("/run/secrets/", "/etc/leadhub/ca/"))
    if where == "compose":
        assert len(broker.bootstrap_servers) == 3
    # and without the password from the environment, the hub refuses to start
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(ConfigError, match="SASL needs"):
        load_settings(path)
