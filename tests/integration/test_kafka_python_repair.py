"""kafka-python keeps its view of the cluster current after any failed metadata refresh.

Its one metadata refresh loop ended on the first failure that was not a ``KafkaError``
(a connection reset while a new connection was set up reaches it bare), and nothing
started it again: the client kept reading from a dead leader for as long as it lived.
hub.log.kafka_python repairs that; these tests fail the next refresh exactly that way on
a real client of the real broker and check the client still learns what changed."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from hub.log.broker import EmbeddedBroker

pytestmark = pytest.mark.integration


def _fail_once(cluster: object, failure: Exception) -> list[int]:
    """The client's next metadata request fails with ``failure``, bare."""
    calls: list[int] = []
    original = cluster.metadata_request  # type: ignore[attr-defined]

    def metadata_request() -> object:
        calls.append(1)
        if len(calls) == 1:
            raise failure
        return original()

    cluster.metadata_request = metadata_request  # type: ignore[attr-defined]
    return calls


@pytest.mark.parametrize(
    "failure",
    [ConnectionResetError(104, "Connection reset by peer"), ValueError("not a network fault")],
    ids=["reset", "other"],
)
def test_a_bare_failure_does_not_end_the_metadata_refresh(
    broker: EmbeddedBroker, failure: Exception
) -> None:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap_servers, enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    try:
        assert consumer.topics()  # bootstrapped, the refresh loop running
        cluster = consumer._cluster
        calls = _fail_once(cluster, failure)
        cluster.request_update()
        deadline = time.monotonic() + 10
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(calls) >= 2, "the refresh after the reset never came"
        # and the client still learns of a topic made after it
        topic = f"repair-{uuid.uuid4().hex[:8]}"
        admin.create_topics([NewTopic(topic, 2, 1)])
        deadline = time.monotonic() + 20
        while consumer.partitions_for_topic(topic) != {0, 1}:
            assert time.monotonic() < deadline, "the new topic never showed"
            time.sleep(0.2)
    finally:
        consumer.close()
        admin.close()
