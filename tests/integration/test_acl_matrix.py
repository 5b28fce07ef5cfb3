"""The whole ACL matrix, proved on a real Kafka broker secured like production.

One secured embedded broker (SASL_SSL + SCRAM-SHA-512 for clients, mutual TLS for its own
listeners, StandardAuthorizer denying whatever no ACL allows) for the module; `leadhub
apply` (the operator's code path, as a subprocess run as the cluster's admin) puts the ACLs
of deploy/ on it. Then every principal of deploy/acls.yaml, and a SCRAM user no ACL names,
tries every operation on every topic and group: exactly the cells hub/log/acls.py allows
succeed, and every other one fails with an authorization error (not a timeout, not
another error: a test that passes because a request never arrived proves nothing).

Each principal's clients are made once and reused for all its cells, and every topic
holds a record before the matrix runs, so that an allowed fetch answers at once.
"""

from __future__ import annotations

import functools
import gc
import os
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import (
    AuthorizationError,
    CoordinatorNotAvailableError,
    KafkaError,
    SaslAuthenticationFailedError,
    for_code,
)
from kafka.protocol.consumer import FetchRequest
from kafka.structs import OffsetAndMetadata

from hub.domain.agencies import AgencyRegistry
from hub.events.topics import AUDIT, CHECKPOINTS, EVENTS, REJECTED, load_topic_specs, notify_topic
from hub.log.acls import desired_acls, load_principals, scram_users
from hub.log.broker import EmbeddedBroker
from hub.log.local_ca import broker_tls
from hub.log.probe import kafka_api_versions
from hub.log.scram import BrokerSecurity
from tests.support.paths import DEPLOY, ROOT

pytestmark = pytest.mark.integration

AGENCIES = sorted(AgencyRegistry.load(DEPLOY / "agencies.yaml"))
PRINCIPALS = load_principals(DEPLOY / "acls.yaml")
GRANTS = desired_acls(AGENCIES, PRINCIPALS)
STRANGER = "stranger"  # authenticates, and no ACL names it: deny by default
USERS = [*scram_users(GRANTS), STRANGER]
TOPICS = [s.name for s in load_topic_specs(DEPLOY / "topics.yaml", AGENCIES)]
GROUPS = sorted({g.name for g in GRANTS if g.resource_type == "GROUP"} | {"lead.agency.other"})
TIMEOUT_MS = 10_000


def allowed(user: str, resource_type: str, name: str, operation: str) -> bool:
    """What hub/log/acls.py grants (READ and WRITE imply DESCRIBE on Kafka, and acls.py
    grants DESCRIBE explicitly wherever it grants either)."""
    return any(
        g.principal == f"User:{user}"
        and g.resource_type == resource_type
        and g.name == name
        and g.operation == operation
        for g in GRANTS
    )


def readable(user: str) -> list[str]:
    return [t for t in TOPICS if allowed(user, "TOPIC", t, "READ")]


@dataclass
class Clients:
    """One principal's clients, reused for every cell of its row."""

    producer: Any
    admin: Any

    def close(self) -> None:
        self.producer.close(timeout=2)
        self.admin.close()


def _run_apply(broker: EmbeddedBroker, data_dir: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LEADHUB_BROKER__")}
    env = {
        **base,
        **broker.client_env(),
        "LEADHUB_DATA_DIR": str(data_dir),
        "LEADHUB_LOG_LEVEL": "warning",
    }
    argv = ["apply", "--bootstrap-servers", broker.bootstrap_servers[0], "--timeout", "20"]
    return subprocess.run(
        [sys.executable, "-m", "hub", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    folder = tmp_path_factory.mktemp("acl-matrix")
    with EmbeddedBroker(
        data_dir=folder / "kafka", security=BrokerSecurity(users=tuple(USERS))
    ) as b:
        applied = _run_apply(b, folder)
        assert applied.returncode == 0, applied.stderr
        assert f"created {len(GRANTS)} ACL(s)" in applied.stdout.splitlines()
        seed = KafkaProducer(bootstrap_servers=b.bootstrap_servers, acks="all", **b.client_kwargs())
        try:
            for t in TOPICS:
                seed.send(t, b"seed", partition=0)
            seed.flush(timeout=30)
        finally:
            seed.close()
        _warm_group_coordinator(b)
        yield b


def _warm_group_coordinator(b: EmbeddedBroker) -> None:
    """The first FindCoordinator creates __consumer_offsets and answers
    COORDINATOR_NOT_AVAILABLE meanwhile: have the admin wait that out, so that a group
    cell of the matrix is decided by its ACL alone."""
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap_servers, **b.client_kwargs())
    offsets = {TopicPartition(EVENTS, 0): OffsetAndMetadata(0, "", None)}
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                admin.alter_group_offsets("lead.warm-up", offsets)
                return
            except CoordinatorNotAvailableError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        admin.close()


def _clients(broker: EmbeddedBroker, user: str) -> Clients:
    kwargs: dict[str, Any] = {
        "bootstrap_servers": broker.bootstrap_servers,
        "request_timeout_ms": TIMEOUT_MS,
        **broker.client_kwargs(user),
    }
    return Clients(
        producer=KafkaProducer(
            acks=1, enable_idempotence=False, retries=0, max_block_ms=TIMEOUT_MS, **kwargs
        ),
        admin=KafkaAdminClient(**kwargs),
    )


@pytest.fixture(scope="module")
def clients(broker: EmbeddedBroker) -> Iterator[dict[str, Clients]]:
    made = {u: _clients(broker, u) for u in USERS}
    try:
        yield made
    finally:
        for c in made.values():
            c.close()


def outcome(attempt: Callable[[], object]) -> bool:
    """True when the request succeeded, False when the broker refused it as unauthorized;
    any other failure is the test's own failure, not a cell of the matrix."""
    try:
        attempt()
    except AuthorizationError:
        return False
    return True


def _produce(c: Clients, topic: str) -> None:
    c.producer.send(topic, b"probe", partition=0).get(timeout=TIMEOUT_MS / 1000)


def _fetch(c: Clients, topic: str) -> None:
    """A Fetch request of its own, on the principal's admin connection: kafka-python's
    consumer only logs a topic it may not describe (and never sends the Fetch), so the
    broker's answer is read here. Version 12 is the last that names topics (13 on use
    topic ids, which a principal that may not describe the topic cannot learn)."""
    part = FetchRequest.FetchTopic.FetchPartition(
        partition=0, current_leader_epoch=-1, fetch_offset=0, log_start_offset=-1,
        partition_max_bytes=1 << 16,
    )  # fmt: skip
    request = FetchRequest(
        replica_id=-1, max_wait_ms=0, min_bytes=0, max_bytes=1 << 16, isolation_level=0,
        session_id=0, session_epoch=-1, topics=[FetchRequest.FetchTopic(topic=topic,
        partitions=[part])], forgotten_topics_data=[], rack_id="", version=12,
    )  # fmt: skip
    manager = c.admin._manager

    async def send() -> Any:
        return await manager.send(request, node_id=broker_node(c))

    response = manager.run(send)
    if response.error_code:
        raise for_code(response.error_code)()
    (answer,) = response.responses[0].partitions
    if answer.error_code:
        raise for_code(answer.error_code)()
    assert answer.high_watermark >= 1 and answer.records, f"{topic} lost its seed record"


def broker_node(c: Clients) -> int:
    return int(c.admin._manager.least_loaded_node())


@dataclass(frozen=True)
class Cell:
    user: str
    operation: str
    resource: str


@pytest.fixture(scope="module")
def topic_matrix(clients: dict[str, Clients]) -> dict[Cell, bool]:
    """Every principal × every topic × produce, fetch, describe: what the broker did."""
    seen: dict[Cell, bool] = {}
    for user, c in clients.items():
        for topic in TOPICS:
            seen[Cell(user, "WRITE", topic)] = outcome(functools.partial(_produce, c, topic))
            seen[Cell(user, "READ", topic)] = outcome(functools.partial(_fetch, c, topic))
            seen[Cell(user, "DESCRIBE", topic)] = outcome(functools.partial(_describe, c, topic))
    return seen


def _describe(c: Clients, topic: str) -> None:
    (found,) = c.admin.describe_topics([topic])
    if found["error_code"]:
        raise for_code(found["error_code"])()


def _mismatches(seen: dict[Cell, bool], resource_type: str) -> list[str]:
    wrong = []
    for cell, ok in sorted(seen.items(), key=lambda kv: (kv[0].user, kv[0].resource)):
        expected = allowed(cell.user, resource_type, cell.resource, cell.operation)
        if ok != expected:
            said = "allows" if expected else "does not allow"
            did = "allowed" if ok else "refused"
            where = f"{cell.user} {cell.operation} {cell.resource}"
            wrong.append(f"{where}: broker {did}, acls.py {said}")
    return wrong


def test_every_topic_cell_is_exactly_what_acls_py_allows(topic_matrix: dict[Cell, bool]) -> None:
    assert len(topic_matrix) == len(USERS) * len(TOPICS) * 3
    assert _mismatches(topic_matrix, "TOPIC") == []
    # the matrix is not vacuous: both answers occur, for each operation
    for op in ("WRITE", "READ", "DESCRIBE"):
        answers = {ok for cell, ok in topic_matrix.items() if cell.operation == op}
        assert answers == {True, False}, op


def test_the_named_rules_hold(topic_matrix: dict[Cell, bool]) -> None:
    """The rules DESIGN.md states, spelled out (the matrix above implies them)."""
    agencies = [a for a in AGENCIES if a != "hub"]
    for a in agencies:
        for other in agencies:
            if other != a:  # no agency reads another's notices
                assert not topic_matrix[Cell(a, "READ", notify_topic(other))], (a, other)
        assert topic_matrix[Cell(a, "READ", notify_topic(a))]
        assert topic_matrix[Cell(a, "READ", f"lead.receipts.{a}")]
        for other in agencies:  # nor another's receipts
            assert topic_matrix[Cell(a, "READ", f"lead.receipts.{other}")] == (other == a)
        assert topic_matrix[Cell(a, "WRITE", f"lead.ingest.{a}")]
        for forbidden in (EVENTS, AUDIT, REJECTED):
            assert not topic_matrix[Cell(a, "READ", forbidden)], (a, forbidden)
        assert not topic_matrix[Cell(a, "WRITE", EVENTS)], a
    for topic in TOPICS:  # the auditor reads but never writes
        assert not topic_matrix[Cell("auditor", "WRITE", topic)], topic
    for topic in (EVENTS, AUDIT, CHECKPOINTS):
        assert topic_matrix[Cell("auditor", "READ", topic)], topic
    assert not any(ok for cell, ok in topic_matrix.items() if cell.user == STRANGER)


def test_nobody_but_the_admin_creates_or_deletes_topics(
    broker: EmbeddedBroker, clients: dict[str, Clients]
) -> None:
    refused: dict[str, bool] = {}
    for user, c in clients.items():
        probe = f"lead.probe.{user}"
        create = functools.partial(c.admin.create_topics, [NewTopic(probe, 1, 1)])
        refused[f"{user} create {probe}"] = not outcome(create)
        for topic in TOPICS:
            delete = functools.partial(c.admin.delete_topics, [topic])
            refused[f"{user} delete {topic}"] = not outcome(delete)
    assert [what for what, no in refused.items() if not no] == []
    # the refusals are the authorizer's: the super user may do both
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers, **broker.client_kwargs())
    try:
        admin.create_topics([NewTopic("lead.probe.admin", 1, 1)])
        admin.delete_topics(["lead.probe.admin"])
    finally:
        admin.close()


def test_offsets_commit_only_in_the_principals_own_group(clients: dict[str, Clients]) -> None:
    """Committing offsets in a group (the topic is one the user may read, so that the
    group's ACL is the only question)."""
    seen: dict[Cell, bool] = {}
    for user, c in clients.items():
        topic = (readable(user) or [EVENTS])[0]
        offsets = {TopicPartition(topic, 0): OffsetAndMetadata(1, "", None)}
        for group in GROUPS:
            seen[Cell(user, "READ", group)] = outcome(functools.partial(_commit, c, group, offsets))
    wrong = [
        f"{cell.user} commit in {cell.resource}: {'allowed' if ok else 'refused'}"
        for cell, ok in seen.items()
        if ok != (allowed(cell.user, "GROUP", cell.resource, "READ") and bool(readable(cell.user)))
    ]
    assert wrong == []
    assert any(seen.values()) and not all(seen.values())


def _commit(c: Clients, group: str, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
    result = c.admin.alter_group_offsets(group, offsets)
    for error in result.values():
        if error is not None and getattr(error, "errno", 0):
            raise error()


def test_only_the_hub_may_use_its_transactional_ids(broker: EmbeddedBroker) -> None:
    """The worker's steps are transactions under ids ``leadhub-...`` (one per input
    partition): InitProducerId with such an id succeeds for the hub's principal only, and
    an id outside that prefix is refused to everyone, the hub included."""
    hub = PRINCIPALS.hub.principal.removeprefix("User:")
    for user in USERS:
        for transactional_id, allowed in (
            (f"{PRINCIPALS.hub.group}-lead.events-0", user == hub),
            (f"lead.tx.{user}", False),
        ):
            producer = KafkaProducer(
                bootstrap_servers=broker.bootstrap_servers,
                transactional_id=transactional_id,
                max_block_ms=TIMEOUT_MS,
                request_timeout_ms=TIMEOUT_MS,
                **broker.client_kwargs(user),
            )
            try:
                assert outcome(producer.init_transactions) is allowed, (user, transactional_id)
            finally:
                producer.close(timeout=2)


def test_idempotent_producers_need_no_cluster_grant(broker: EmbeddedBroker) -> None:
    """Every principal that may write a topic gets a producer id for an idempotent producer
    (WRITE on a topic implies IDEMPOTENT_WRITE, KIP-679); so acls.py needs no cluster ACL."""
    for user in USERS:
        writable = [t for t in TOPICS if allowed(user, "TOPIC", t, "WRITE")]
        if not writable:
            continue
        producer = KafkaProducer(
            bootstrap_servers=broker.bootstrap_servers,
            enable_idempotence=True,
            acks="all",
            max_block_ms=TIMEOUT_MS,
            request_timeout_ms=TIMEOUT_MS,
            **broker.client_kwargs(user),
        )
        try:
            producer.send(writable[0], b"idempotent", partition=0).get(timeout=TIMEOUT_MS / 1000)
        finally:
            producer.close(timeout=2)


def _connects(broker: EmbeddedBroker, **overrides: Any) -> bool:
    """Whether a kafka-python client with these settings gets as far as listing topics."""
    kwargs: dict[str, Any] = {**broker.client_kwargs("bpd"), **overrides}
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=broker.bootstrap_servers,
            request_timeout_ms=1500,
            bootstrap_timeout_ms=1500,
            **kwargs,
        )
    except (SaslAuthenticationFailedError, KafkaError):
        # kafka-python 3.0.12 leaves the refused connection's socket for the garbage
        # collector when its constructor fails: collect it here, inside the test that
        # expects it (pytest turns a ResourceWarning at session end into an error)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        return False
    try:
        admin.list_topics()
    finally:
        admin.close()
    return True


def test_authentication_is_required(broker: EmbeddedBroker, tmp_path: Path) -> None:
    assert _connects(broker)  # the control: the same client, right credentials
    assert not _connects(broker, sasl_plain_password="not-" + broker.password("bpd"))
    assert not _connects(broker, sasl_plain_username="nobody")
    # plaintext, and SASL without TLS, to the SASL_SSL port
    assert not _connects(broker, security_protocol="PLAINTEXT")
    assert not _connects(broker, security_protocol="SASL_PLAINTEXT")
    assert not kafka_api_versions(broker.host, broker.port, timeout=2)
    # a client that trusts another CA does not accept the broker's certificate
    other = broker_tls(tmp_path / "other-ca")
    assert not _connects(broker, ssl_cafile=str(other.ca_cert))


def test_the_brokers_own_listeners_admit_only_its_certificate(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The inter-broker and controller listeners carry super-user rights, so they require
    a client certificate of the hub's CA: TLS alone, or another CA's certificate, is cut off."""
    assert broker.tls is not None
    tls = broker.tls
    other = broker_tls(tmp_path / "other-ca")
    for port in (broker.internal_port, broker.controller_port):
        bare = ssl.create_default_context(cafile=str(tls.ca_cert))
        assert not kafka_api_versions(broker.host, port, timeout=3, tls=bare), port
        forged = ssl.create_default_context(cafile=str(tls.ca_cert))
        forged.load_cert_chain(str(other.chain), str(other.key))
        assert not kafka_api_versions(broker.host, port, timeout=3, tls=forged), port
        own = ssl.create_default_context(cafile=str(tls.ca_cert))
        own.load_cert_chain(str(tls.chain), str(tls.key))
        assert kafka_api_versions(broker.host, port, timeout=3, tls=own), port
        assert not kafka_api_versions(broker.host, port, timeout=2), port  # plaintext
