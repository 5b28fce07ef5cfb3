"""`leadhub apply` against a real (embedded) Kafka broker: on a secured broker (SASL_SSL,
StandardAuthorizer) it creates the topics and the ACLs deploy/ declares and a second apply
changes nothing; on a broker without an authorizer, or run as a principal that is not the
cluster's super user, it says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from hub.domain.agencies import AgencyRegistry
from hub.events.topics import load_topic_specs
from hub.log.acls import desired_acls, load_principals
from hub.log.broker import EmbeddedBroker
from hub.log.scram import BrokerSecurity
from hub.ops.cluster import _any_acl, _key_of
from hub.ops.plan import acl_key
from tests.support.paths import DEPLOY, ROOT

pytestmark = pytest.mark.integration


def leadhub(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LEADHUB_BROKER__")}
    full = {
        **base,
        "LEADHUB_DATA_DIR": str(tmp_path),
        "LEADHUB_LOG_LEVEL": "warning",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_apply_creates_topics_and_acls_then_is_a_no_op(tmp_path: Path) -> None:
    agencies = AgencyRegistry.load(DEPLOY / "agencies.yaml")
    specs = load_topic_specs(DEPLOY / "topics.yaml", agencies)
    wanted = {acl_key(g) for g in desired_acls(agencies, load_principals(DEPLOY / "acls.yaml"))}
    secured = BrokerSecurity(users=("leadhub",))
    with EmbeddedBroker(data_dir=tmp_path / "kafka", security=secured) as broker:
        where = ["--bootstrap-servers", broker.bootstrap_servers[0], "--timeout", "10"]
        admin_env = broker.client_env()

        dry = leadhub(tmp_path, "apply", *where, "--dry-run", env=admin_env)
        assert dry.returncode == 0, dry.stderr
        planned = dry.stdout.splitlines()
        assert sum(line.startswith("+ topic ") for line in planned) == len(specs)
        assert "+ acl User:bpd               WRITE    topic lead.ingest.bpd" in planned
        assert sum(line.startswith("+ acl ") for line in planned) == len(wanted)

        first = leadhub(tmp_path, "apply", *where, env=admin_env)
        assert first.returncode == 0, first.stderr
        lines = first.stdout.splitlines()
        assert sum(line.startswith("created topic ") for line in lines) == len(specs)
        assert f"created {len(wanted)} ACL(s)" in lines
        assert lines[-1] == f"topics: {len(specs)} change(s); acls: 1 change(s)"

        admin = KafkaAdminClient(
            bootstrap_servers=broker.bootstrap_servers, **broker.client_kwargs()
        )
        try:
            found = {t["name"]: t for t in admin.describe_topics([s.name for s in specs])}
            configs = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, "lead.events")], config_filter="all"
            )["topic"]["lead.events"]
            acls, error = admin.describe_acls(_any_acl())
        finally:
            admin.close()
        for s in specs:
            assert len(found[s.name]["partitions"]) == s.partitions
        assert configs["retention.ms"]["value"] == "-1"
        assert error.errno == 0
        assert {_key_of(a) for a in acls} == wanted  # exactly the matrix, nothing else

        second = leadhub(tmp_path, "apply", *where, env=admin_env)
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "topics: in step; acls: in step"
        check = leadhub(tmp_path, "apply", *where, "--dry-run", env=admin_env)
        assert check.stdout.strip() == "in step: nothing to create, change or remove"

        # the hub's own principal runs the hub, not the cluster: apply names what to do
        as_hub = leadhub(tmp_path, "apply", *where, env=broker.client_env("leadhub"))
        assert as_hub.returncode == 1
        assert as_hub.stderr.strip().count("\n") == 0, as_hub.stderr
        # (it may not read topic configs: it never claims configs it could not see are unset)
        assert "may not read the configs of topic" in as_hub.stderr, as_hub.stderr
        assert "run apply as the cluster's super user" in as_hub.stderr


def test_apply_on_a_broker_without_an_authorizer_says_so(tmp_path: Path) -> None:
    with EmbeddedBroker(log_file=tmp_path / "broker.log") as broker:
        where = ["--bootstrap-servers", broker.bootstrap_servers[0], "--timeout", "10"]
        first = leadhub(tmp_path, "apply", *where)
        assert first.returncode == 1
        assert first.stderr.strip().count("\n") == 0, first.stderr
        assert "ACLs not applied" in first.stderr and "SECURITY_DISABLED" in first.stderr
        again = leadhub(tmp_path, "apply", *where, "--skip-acls")
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == "topics: in step; ACLs skipped (--skip-acls)"


def test_apply_names_an_unreachable_broker(tmp_path: Path) -> None:
    result = leadhub(tmp_path, "apply", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("leadhub: cannot reach Kafka at 127.0.0.1:1")
    assert result.stderr.count("\n") == 1
