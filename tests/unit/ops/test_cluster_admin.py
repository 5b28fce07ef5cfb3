"""hub.ops.cluster against a stand-in admin client: how each way a broker turns ACLs down becomes
one sentence, and that ACLs survive the round trip to kafka-python's types unchanged.
(The real broker is in tests/integration/test_cluster_apply.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import (
    ClusterAuthorizationFailedError,
    IncompatibleBrokerVersion,
    RequestTimedOutError,
    SecurityDisabledError,
)

from hub.errors import BrokerError
from hub.ops.cluster import (
    AclsUnavailable,
    _acl_of,
    _key_of,
    apply_acls,
    apply_topics,
    observe,
    why_acls_failed,
)
from hub.ops.plan import AclKey, Diff

KEY: AclKey = ("User:bpd", "*", "TOPIC", "LITERAL", "lead.ingest.bpd", "WRITE", "ALLOW")
DENY: AclKey = ("User:x", "10.0.0.1", "GROUP", "PREFIXED", "lead.", "ALL", "DENY")


class FakeAdmin:
    def __init__(
        self, *, create: Any = None, describe: Any = None, configs_visible: bool = True
    ) -> None:
        self.create = create
        self.describe = describe
        self.configs_visible = configs_visible
        self.created: list[Any] = []

    def list_topics(self) -> list[str]:
        return ["lead.events", "__consumer_offsets", "other"]

    def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        replicas = {"replica_nodes": [1, 2, 3]}
        return [{"name": n, "partitions": [replicas] * 6} for n in names]

    def describe_configs(self, resources: list[Any], config_filter: str) -> dict[str, Any]:
        assert config_filter == "all"
        # kafka-python's answer to a resource the authorizer refused: no configs, no error
        seen = {"retention.ms": {"value": "-1"}} if self.configs_visible else {}
        return {"topic": {r.name: seen for r in resources}}

    def alter_configs(self, resources: list[Any], **_: Any) -> dict[str, Any]:
        return {"topic": {r.name: "[Error 29] TopicAuthorizationFailedError" for r in resources}}

    def describe_acls(self, _filter: Any) -> Any:
        if isinstance(self.describe, Exception):
            raise self.describe
        return self.describe

    def create_acls(self, acls: list[Any]) -> Any:
        if isinstance(self.create, Exception):
            raise self.create
        self.created += acls
        return self.create or {"succeeded": acls, "failed": []}


@pytest.mark.parametrize("key", [KEY, DENY])
def test_acls_round_trip_through_kafka_types(key: AclKey) -> None:
    assert _key_of(_acl_of(key)) == key


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (RequestTimedOutError("x"), "gave no usable answer to CreateAcls within 2 s"),
        (IncompatibleBrokerVersion("x"), "does not implement CreateAcls"),
        (SecurityDisabledError("x"), "no authorizer configured"),
        (ClusterAuthorizationFailedError("x"), "may not CreateAcls"),
    ],
)
def test_each_refusal_is_one_sentence(exc: Exception, says: str) -> None:
    assert says in why_acls_failed("CreateAcls", exc, 2.0)
    with pytest.raises(AclsUnavailable, match=says):
        apply_acls(FakeAdmin(create=exc), Diff(create_acls=[KEY]), 2.0)


def test_a_refused_acl_in_the_result_is_reported() -> None:
    admin = FakeAdmin(create={"succeeded": [], "failed": [SecurityDisabledError]})
    with pytest.raises(AclsUnavailable, match="no authorizer"):
        apply_acls(admin, Diff(create_acls=[KEY]), 2.0)


def test_created_acls_are_counted() -> None:
    admin = FakeAdmin()
    assert apply_acls(admin, Diff(create_acls=[KEY]), 2.0) == ["created 1 ACL(s)"]
    assert [_key_of(a) for a in admin.created] == [KEY]
    assert apply_acls(admin, Diff(), 2.0) == []


def test_observe_reads_managed_topics_and_acls() -> None:
    no_error = type("NoError", (), {"errno": 0})
    admin = FakeAdmin(describe=([_acl_of(KEY)], no_error))
    seen = observe(admin, ["lead.events", "lead.audit"], 2.0)
    assert list(seen.topics) == ["lead.events"]  # neither other teams' nor internal topics
    topic = seen.topics["lead.events"]
    assert (topic.partitions, topic.replication_factor) == (6, 3)
    assert topic.configs == {"retention.ms": "-1"}
    assert seen.acls == {KEY} and seen.acls_problem is None
    refused = observe(FakeAdmin(describe=SecurityDisabledError("x")), ["lead.events"], 2.0)
    assert refused.acls is None
    assert refused.acls_problem is not None and "DescribeAcls" in refused.acls_problem


def test_configs_the_principal_may_not_read_are_a_refusal_not_unset() -> None:
    """Configs kafka-python returns empty (its way of passing on DESCRIBE_CONFIGS refused)
    never become a plan to set them."""
    with pytest.raises(BrokerError, match=r"may not read the configs of topic lead\.events"):
        observe(FakeAdmin(configs_visible=False), ["lead.events"], 2.0)


def test_refused_config_changes_are_an_error_not_done() -> None:
    d = Diff(alter_configs={"lead.events": {"retention.ms": ("604800000", "-1")}})
    with pytest.raises(BrokerError, match=r"refused configs of topic lead\.events"):
        apply_topics(FakeAdmin(), d)
