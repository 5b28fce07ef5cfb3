"""`leadhub apply` against a real (embedded) broker: topics created as declared, a second
apply changes nothing, and a broker without usable ACL APIs is named in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from hub.agencies import AgencyRegistry
from hub.broker import EmbeddedBroker
from hub.topics import load_topic_specs
from tests.conftest import DEPLOY, ROOT

pytestmark = pytest.mark.integration


def leadhub(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEADHUB_DATA_DIR": str(tmp_path), "LEADHUB_LOG_LEVEL": "warning"}
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_apply_creates_topics_then_is_a_no_op(tmp_path: Path) -> None:
    specs = load_topic_specs(DEPLOY / "topics.yaml", AgencyRegistry.load(DEPLOY / "agencies.yaml"))
    with EmbeddedBroker(log_file=tmp_path / "broker.log") as broker:
        where = ["--bootstrap-servers", broker.bootstrap_servers[0], "--timeout", "2"]

        dry = leadhub(tmp_path, "apply", *where, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        planned = dry.stdout.splitlines()
        assert sum(line.startswith("+ topic ") for line in planned) == len(specs)
        assert "+ acl User:bpd               WRITE    topic lead.ingest.bpd" in planned

        first = leadhub(tmp_path, "apply", *where)
        # Tansu 0.6 lists no ACLs and answers CreateAcls with nothing kafka-python can read:
        # apply says so in one line, and has managed the topics all the same
        assert first.returncode == 1
        assert first.stderr.strip().count("\n") == 0, first.stderr
        assert "ACLs not applied" in first.stderr and "CreateAcls" in first.stderr
        assert f"topics: {len(specs)} change(s)" in first.stderr
        assert sum(line.startswith("created topic ") for line in first.stdout.splitlines()) == len(
            specs
        )

        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
        try:
            found = {t["name"]: t for t in admin.describe_topics([s.name for s in specs])}
            configs = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, "lead.events")], config_filter="all"
            )["topic"]["lead.events"]
        finally:
            admin.close()
        for s in specs:
            assert len(found[s.name]["partitions"]) == s.partitions
        assert configs["retention.ms"]["value"] == "-1"

        again = leadhub(tmp_path, "apply", *where, "--skip-acls")
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == "topics: in step; ACLs skipped (--skip-acls)"
        check = leadhub(tmp_path, "apply", *where, "--skip-acls", "--dry-run")
        assert check.stdout.strip() == "in step: nothing to create, change or remove"

        second = leadhub(tmp_path, "apply", *where)
        assert second.returncode == 1 and second.stdout == ""
        assert "topics: in step; ACLs not applied" in second.stderr


def test_apply_names_an_unreachable_broker(tmp_path: Path) -> None:
    result = leadhub(tmp_path, "apply", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("leadhub: cannot reach Kafka at 127.0.0.1:1")
    assert result.stderr.count("\n") == 1
