"""Reading a cluster's topics and ACLs, and changing them, through the Kafka admin API.

The thin I/O half of `leadhub plan` / `apply`; what to change is decided in hub.ops.plan.
Clusters differ in what they let apply do: one without an authorizer refuses ACL requests
with SECURITY_DISABLED, a broker that does not implement them times out or answers with an
unsupported version, and a principal that is not the cluster's super user is refused with
CLUSTER_AUTHORIZATION_FAILED (or TOPIC_AUTHORIZATION_FAILED for topics). Every such
failure becomes one sentence saying which request failed and why, and topics are managed
whatever happens to ACLs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import structlog
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ConfigResource,
    ConfigResourceType,
    KafkaAdminClient,
    NewPartitions,
    NewTopic,
    ResourcePattern,
    ResourcePatternFilter,
)
from kafka.admin import ResourceType as KafkaResourceType
from kafka.errors import (
    AuthorizationError,
    ClusterAuthorizationFailedError,
    IncompatibleBrokerVersion,
    KafkaError,
    KafkaTimeoutError,
    RequestTimedOutError,
    SecurityDisabledError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)

from hub.errors import BrokerError
from hub.events import TopicSpec
from hub.ops.plan import MANAGED_PREFIX, AclKey, Diff, Observed, ObservedTopic

log = structlog.get_logger(__name__)


class AclsUnavailable(BrokerError):
    """The broker cannot list or change ACLs; the message says which request and why."""


@contextmanager
def admin_client(
    bootstrap_servers: Sequence[str], client_kwargs: Mapping[str, object], timeout_s: float
) -> Iterator[Any]:
    """An admin client whose own logging is muted until it is closed: its errors reach the
    caller as exceptions and are reported once, in one line (a connection it drops after a
    refused request is logged from its I/O thread, even while it closes)."""
    with _quiet_client():
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=list(bootstrap_servers),
                request_timeout_ms=int(timeout_s * 1000),
                bootstrap_timeout_ms=int(timeout_s * 1000),
                **client_kwargs,
            )
        except KafkaError as exc:
            servers = ",".join(bootstrap_servers)
            raise BrokerError(f"cannot reach Kafka at {servers}: {exc}") from None
        try:
            yield admin
        finally:
            admin.close()


@contextmanager
def _quiet_client() -> Iterator[None]:
    """kafka-python logs a broker's refusal as a traceback and three lines of connection
    errors; apply reports it itself, in one sentence."""
    client = logging.getLogger("kafka")
    level = client.level
    client.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        client.setLevel(level)


def why_acls_failed(request: str, exc: Exception, timeout_s: float) -> str:
    """One sentence an operator can act on, for each way a broker turns ACLs down."""
    if isinstance(exc, (RequestTimedOutError, KafkaTimeoutError)):
        return f"the broker gave no usable answer to {request} within {timeout_s:g} s"
    if isinstance(exc, IncompatibleBrokerVersion):
        return f"the broker does not implement {request}"
    if isinstance(exc, SecurityDisabledError):
        return f"the broker has no authorizer configured ({request}: SECURITY_DISABLED)"
    if isinstance(exc, ClusterAuthorizationFailedError):
        return (
            f"this principal may not {request} (CLUSTER_AUTHORIZATION_FAILED): "
            "run apply as the cluster's super user"
        )
    return f"{request} failed: {type(exc).__name__}: {exc}"


def _any_acl() -> Any:
    return ACLFilter(
        principal=None,
        host=None,
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(
            KafkaResourceType.ANY, None, ACLResourcePatternType.ANY
        ),
    )


def _key_of(acl: Any) -> AclKey:
    pattern = acl.resource_pattern
    return (
        str(acl.principal),
        str(acl.host),
        pattern.resource_type.name,
        pattern.pattern_type.name,
        str(pattern.resource_name),
        acl.operation.name,
        acl.permission_type.name,
    )


def _acl_of(key: AclKey) -> Any:
    principal, host, rtype, pattern, name, op, permission = key
    return ACL(
        principal=principal,
        host=host,
        operation=ACLOperation[op],
        permission_type=ACLPermissionType[permission],
        resource_pattern=ResourcePattern(
            KafkaResourceType[rtype], name, ACLResourcePatternType[pattern]
        ),
    )


def observe(admin: Any, declared: Sequence[str], timeout_s: float) -> Observed:
    """The topics (lead.* and declared ones) and ACLs the cluster holds now."""
    names = sorted(
        {n for n in admin.list_topics() if n.startswith(MANAGED_PREFIX) or n in declared}
    )
    topics: dict[str, ObservedTopic] = {}
    configs = _configs(admin, [n for n in names if n in declared])
    for t in admin.describe_topics(names) if names else []:
        partitions = t["partitions"]
        replicas = max((len(p["replica_nodes"]) for p in partitions), default=0)
        topics[t["name"]] = ObservedTopic(
            name=t["name"],
            partitions=len(partitions),
            replication_factor=replicas,
            configs=configs.get(t["name"]),
        )
    try:
        acls, error = admin.describe_acls(_any_acl())
        if error.errno != 0:
            raise error()
        return Observed(topics, {_key_of(a) for a in acls})
    except (KafkaError, AttributeError) as exc:
        return Observed(topics, None, why_acls_failed("DescribeAcls", exc, timeout_s))


def _configs(admin: Any, names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Every topic config the broker reports ('all': a default equal to what deploy/
    asks for is in step, and need not be set again)."""
    if not names:
        return {}
    found = admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, n) for n in names], config_filter="all"
    )
    by_topic: dict[str, dict[str, Any]] = found.get("topic", {})
    # kafka-python drops each resource's error code; a topic always has configs under
    # "all", so none at all is the authorizer's refusal (DESCRIBE_CONFIGS), not a fact
    refused = sorted(n for n in names if not by_topic.get(n))
    if refused:
        raise BrokerError(
            f"this principal may not read the configs of topic {refused[0]} "
            f"({len(refused)} topic(s) refused): run apply as the cluster's super user"
        )
    return {
        name: {k: str(v["value"]) for k, v in entries.items() if v.get("value") is not None}
        for name, entries in by_topic.items()
    }


def apply_topics(admin: Any, d: Diff) -> list[str]:
    """Create, grow and reconfigure topics; return what was done, one line each.

    A principal the cluster does not let manage topics (an authorizer's answer, not a
    bug) is told so in one sentence, with what to do about it."""
    try:
        return _apply_topics(admin, d)
    except AuthorizationError as exc:
        raise BrokerError(
            f"this principal may not manage topics ({exc.message}): "
            "run apply as the cluster's super user"
        ) from None


def _apply_topics(admin: Any, d: Diff) -> list[str]:
    done: list[str] = []
    ready: dict[str, int] = {}  # what must be led before the topics are usable
    for spec in d.create_topics:
        topic = NewTopic(
            spec.name, spec.partitions, spec.replication_factor, topic_configs=spec.configs
        )
        try:
            admin.create_topics([topic])
            done.append(f"created topic {spec.name}")
            ready[spec.name] = spec.partitions
        except TopicAlreadyExistsError:
            done.append(f"topic {spec.name} appeared meanwhile (left as it is)")
            ready[spec.name] = 1
    if d.grow_partitions:
        try:
            admin.create_partitions(
                {n: NewPartitions(w) for n, (_, w) in d.grow_partitions.items()}
            )
        except IncompatibleBrokerVersion:
            raise BrokerError("the broker does not implement CreatePartitions") from None
        done += [f"grew topic {n} to {w} partitions" for n, (_, w) in d.grow_partitions.items()]
        ready.update({n: w for n, (_, w) in d.grow_partitions.items()})
    _wait_ready(admin, ready)
    if d.alter_configs:
        answers = admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, n, configs={k: w for k, (_, w) in c.items()}
                )
                for n, c in sorted(d.alter_configs.items())
            ],
            incremental=True,  # set only the keys deploy/ names; others keep their values
            raise_on_unknown=False,
        )
        failed = {n: a for n, a in answers.get("topic", {}).items() if a != "OK"}
        if failed:
            name, answer = sorted(failed.items())[0]
            raise BrokerError(f"the broker refused configs of topic {name}: {answer}")
        done += [f"set {len(c)} config(s) on topic {n}" for n, c in sorted(d.alter_configs.items())]
    return done


def apply_acls(admin: Any, d: Diff, timeout_s: float) -> list[str]:
    """Create the missing ACLs and delete the stray ones, or raise AclsUnavailable."""
    if d.acls_problem:
        raise AclsUnavailable(d.acls_problem)
    done: list[str] = []
    if d.create_acls:
        try:
            result = admin.create_acls([_acl_of(k) for k in d.create_acls])
        except KafkaError as exc:
            raise AclsUnavailable(why_acls_failed("CreateAcls", exc, timeout_s)) from None
        if result["failed"]:
            first = result["failed"][0]
            raise AclsUnavailable(
                why_acls_failed("CreateAcls", first() if isinstance(first, type) else first,
                                timeout_s)
            )  # fmt: skip
        done.append(f"created {len(result['succeeded'])} ACL(s)")
    if d.delete_acls:
        try:
            admin.delete_acls([_acl_of(k) for k in d.delete_acls])
        except KafkaError as exc:
            raise AclsUnavailable(why_acls_failed("DeleteAcls", exc, timeout_s)) from None
        done.append(f"deleted {len(d.delete_acls)} ACL(s)")
    return done


def _wait_ready(admin: Any, partitions: Mapping[str, int], timeout_s: float = 30.0) -> None:
    """Until each topic has (at least) its partitions, every one with a leader: Kafka
    answers a CreateTopics or CreatePartitions before every broker's metadata has them, and
    a client started then would find the topic missing, or with no partitions yet."""
    if not partitions:
        return
    deadline = time.monotonic() + timeout_s
    while True:
        described = {t["name"]: t for t in admin.describe_topics(sorted(partitions))}
        waiting = sorted(
            name
            for name, want in partitions.items()
            if name not in described
            or len(described[name]["partitions"]) < want
            or any(p["leader_id"] < 0 for p in described[name]["partitions"])
        )
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise BrokerError(f"topics without a leader after {timeout_s:.0f} s: {waiting}")
        time.sleep(0.1)


def ensure_topics(
    bootstrap_servers: list[str], specs: list[TopicSpec], client_kwargs: Mapping[str, object]
) -> list[str]:
    """Create the topics the broker lacks; return their names. Existing topics are left as
    they are (a partition count cannot shrink, and growing it would re-key participants)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kwargs)
    except KafkaError as exc:
        raise BrokerError(f"cannot reach Kafka at {','.join(bootstrap_servers)}: {exc}") from None
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: list[str] = []
        for spec in missing:
            topic = NewTopic(
                spec.name, spec.partitions, spec.replication_factor, topic_configs=spec.configs
            )
            try:
                admin.create_topics([topic])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass  # another worker created it between our listing and our request
            except TopicAuthorizationFailedError:
                raise BrokerError(
                    f"topic {spec.name} is missing, and this principal may not create it "
                    "(on a secured cluster `leadhub apply` creates the topics)"
                ) from None
        # one that appeared meanwhile has whatever partitions its creator gave it
        _wait_ready(admin, {s.name: s.partitions if s.name in created else 1 for s in missing})
        log.info("topics_ensured", created=len(created), existing=len(specs) - len(missing))
        return created
    finally:
        admin.close()
