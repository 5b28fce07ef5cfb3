"""A real cluster under the hub: two hub workers on three Kafka nodes (replication 3, min
ISR 2) while a seeded LEAD scenario flows, and mid-stream the node that leads the busiest
lead.events partition is SIGKILLed. The stream must go on through the leader elections
(every producer uses acks=all and retries), no notice may be lost, and the auditor's replay
and proofs, read from Kafka, must hold. Each step of the hub is a transaction and every
producer is idempotent, so a ``read_committed`` reader finds no notice, decision or event
twice either."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from hub.audit.auditor import Auditor, read_log
from hub.config import load_settings
from hub.context import HubContext
from hub.domain.policy import policy_event_id
from hub.events.codec import Codec
from hub.events.topics import AUDIT, EVENTS, notify_topic
from hub.log.kafka_cluster import EmbeddedCluster
from producers.demo import wait_for_checkpoint
from tests.support.fixtures import REFUSED_SOCKETS_LEAK
from tests.support.hubs import RECIPIENTS, check_outputs, hub_on_a_cluster, replay
from tests.support.offsets import end_offsets
from tests.support.paths import ROOT
from tests.support.rigs import (
    EVENTS_PARTITIONS,
    Rig,
    accepted_once,
    assignments,
    consented,
    diagnose,
    wait_for,
    wait_joined,
)

pytestmark = [pytest.mark.integration, *REFUSED_SOCKETS_LEAK]

SEED, PARTICIPANTS = 6174, 40
AUDIT_CLI = [sys.executable, "-m", "hub", "audit"]


@pytest.fixture(scope="module")
def on_cluster(
    tmp_path_factory: pytest.TempPathFactory, codec: Codec
) -> Iterator[tuple[Rig, EmbeddedCluster]]:
    data = tmp_path_factory.mktemp("failover")
    settings = load_settings(data_dir=data, keys_dir=data / "keys")
    with hub_on_a_cluster(settings, codec) as (hub, cluster):
        print(f"cluster of 3 ready in {cluster.ready_s:.1f} s")
        watcher = hub.watcher()
        try:
            hub.start_worker()
            watcher.wait_for({str(policy_event_id(hub.policy))}, lambda: hub.worker, timeout_s=90)
            yield Rig(hub, watcher, None), cluster
        finally:
            watcher.stop()


def _longest_stall(samples: list[tuple[float, int]]) -> float:
    """The longest time lead.events did not grow, from (time, distinct events) samples."""
    longest, since, count = 0.0, samples[0][0], samples[0][1]
    for at, seen in samples[1:]:
        if seen > count:
            longest, since, count = max(longest, at - since), at, seen
    return max(longest, samples[-1][0] - since)


@pytest.mark.timeout(900)
def test_a_killed_partition_leader_loses_no_notice(
    on_cluster: tuple[Rig, EmbeddedCluster],
) -> None:
    rig, cluster = on_cluster
    hub = rig.hub
    began = time.monotonic()
    first = hub.worker
    wait_joined(rig.log, first, timeout_s=90)
    second = hub.start_worker()

    def shared() -> bool:
        now = assignments(rig.log)
        a, b = now.get(first.pid, set()), now.get(second.pid, set())
        return bool(a) and bool(b) and not a & b and a | b == set(range(EVENTS_PARTITIONS))

    wait_for(shared, 90, "the two workers split lead.events")
    scenario = hub.scenario(seed=SEED, participants=PARTICIPANTS)
    total = scenario.expected_on_log()
    killed: dict[str, Any] = {}
    errors: list[BaseException] = []
    publishing = threading.Event()
    publishing.set()

    def kill_the_busiest_leader() -> None:
        """Once a third of the story is in, SIGKILL the leader of the lead.events partition
        holding the most events, and watch lead.events until it grows again."""
        try:
            wait_for(
                lambda: len(rig.watcher.seen) > len(scenario.publications) // 3,
                300,
                "a third of the story is in",
            )
            counts = end_offsets(hub.bootstrap, EVENTS, EVENTS_PARTITIONS, hub.kwargs())
            busiest = max(counts, key=lambda p: counts[p])
            victim = cluster.leader_of(EVENTS, busiest)
            led = [p for p, d in cluster.partitions(EVENTS).items() if d["leader"] == victim]
            at_kill = len(rig.watcher.seen)
            samples = [(time.monotonic(), at_kill)]
            cluster.kill(victim)
            while publishing.is_set() and len(rig.watcher.seen) < at_kill + 50:
                time.sleep(0.02)
                samples.append((time.monotonic(), len(rig.watcher.seen)))
                assert samples[-1][0] - samples[0][0] < 120, "lead.events stalled for 2 min"
            new_leader = cluster.leader_of(EVENTS, busiest)
            killed.update(
                node=victim,
                partition=busiest,
                events_there=counts[busiest],
                led=led,
                at_event=at_kill,
                stall_s=_longest_stall(samples),
                new_leader=new_leader,
            )
        except BaseException as e:
            errors.append(e)

    killer = threading.Thread(target=kill_the_busiest_leader, daemon=True)
    killer.start()
    try:
        hub.publish(scenario, rig.watcher)
    finally:
        publishing.clear()
        killer.join(150)
    assert not killer.is_alive()
    if errors:
        raise errors[0]
    assert killed["new_leader"] not in (killed["node"], -1)
    assert first.poll() is None and second.poll() is None, "both workers rode it out"
    topics = rig.outputs(total, timeout_s=300)
    try:
        sent = check_outputs(hub, scenario, topics)
        accepted_once(hub, topics)
        named = consented(hub, topics)
    except AssertionError:
        print(diagnose(rig, topics))
        raise

    # per recipient topic: every permit is there once (lost = 0, duplicated = 0)
    permits = {k for k, d in replay(topics[EVENTS], hub.codec, hub.policy).items() if d.permit}
    lost = permits - {(str(n.event_id), n.recipient) for n in sent}
    assert not lost
    repeats: dict[str, int] = {}
    for agency in RECIPIENTS:
        ids = Counter(
            str(hub.codec.decode(r.value, "notice").datum["notice_id"])
            for r in topics[notify_topic(agency)]
        )
        repeats[agency] = sum(c - 1 for c in ids.values())
    duplicated = sum(repeats.values())
    assert duplicated == 0, repeats

    # the auditor, from Kafka: replay reproduces lead.audit, and every proof verifies
    wait_for_checkpoint(
        hub.bootstrap,
        len(topics[AUDIT]),
        lambda: hub.worker,
        timeout_s=120,
        client_kwargs=hub.kwargs(),
    )
    settings = hub.settings
    auditor = Auditor(HubContext(settings), read_log(settings, "kafka", hub.bootstrap))
    findings, summary = auditor.replay_findings()
    assert findings == []
    assert summary["decisions_derived"] == summary["decisions_logged"] > 500
    check = auditor.log_check()
    assert check.mismatch is None and check.problems == []
    assert check.inclusion_proofs == summary["audit_records"] > 100  # one per event decided
    assert check.latest is not None and check.latest.checkpoint.size == len(auditor.log.audit)
    env = {
        **os.environ,
        "LEADHUB_DATA_DIR": str(settings.data_dir),
        "LEADHUB_KEYS_DIR": str(settings.keys_dir),
    }
    servers = ",".join(hub.bootstrap)
    for command in ("replay", "verify"):
        done = subprocess.run(
            [*AUDIT_CLI, command, "--source", "kafka", "--bootstrap-servers", servers],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        # no agency ran a witness here: verify says so, and that it could not check it
        unchecked = [ln for ln in done.stdout.splitlines() if "NOT CHECKED" in ln]
        assert (done.returncode, len(unchecked)) == ((0, 0) if command == "replay" else (2, 2)), (
            f"audit {command}: {done.stdout}{done.stderr}"
        )
        assert all(ln.startswith(("witnesses", "result")) for ln in unchecked), unchecked

    cluster.start(killed["node"])  # back, so no client keeps knocking at a closed port
    print(
        f"\nkilled node {killed['node']} (leader of lead.events partitions {killed['led']}, "
        f"the busiest, {killed['partition']}, had {killed['events_there']} events) at event "
        f"{killed['at_event']}; new leader {killed['new_leader']}; lead.events stalled "
        f"{killed['stall_s']:.1f} s\n{len(scenario.publications)} published, "
        f"{len(topics[EVENTS])} on lead.events, {len(sent)} notices "
        f"sent, {len(permits)} permits, 0 lost, {duplicated} duplicated {repeats}, "
        f"{named} naming a consent; audit: {summary}; "
        f"{time.monotonic() - began:.0f} s in all"
    )
