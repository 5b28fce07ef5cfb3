"""Scale-out: two hub workers share the partitions of one broker; when one is killed the
other takes its partitions over, and nothing is lost, repeated past deduplication, or
disclosed without consent."""

from __future__ import annotations

import random
import threading

import pytest

from producers.bad_input import add_bad_input
from producers.simulator import plan
from tests.support.fakes import fake_seal
from tests.support.rigs import (
    EVENTS_PARTITIONS,
    Rig,
    assignments,
    checked_after_crashes,
    publish_until,
    wait_for,
    wait_joined,
)

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
def test_two_workers_share_the_work_and_the_survivor_takes_over(direct: Rig) -> None:
    rig, hub = direct, direct.hub
    first = hub.worker
    wait_joined(rig.log, first, timeout_s=60)
    second = hub.start_worker()

    def shared() -> bool:
        now = assignments(rig.log)
        a, b = now.get(first.pid, set()), now.get(second.pid, set())
        return bool(a) and bool(b) and not a & b and a | b == set(range(EVENTS_PARTITIONS))

    wait_for(shared, 60, "the two workers split lead.events")
    split = assignments(rig.log)
    scenario = plan(4711, 60, lambda pid, event_id: fake_seal, span_days=150)
    add_bad_input(scenario, random.Random(4711), hub.codec, hub.keys)
    killed = threading.Event()

    def kill_first() -> None:
        wait_for(lambda: len(rig.watcher.seen) > 150, 120, "a part of the story is in")
        first.kill()
        first.wait(10)
        killed.set()

    killer = threading.Thread(target=kill_first, daemon=True)
    killer.start()
    published = publish_until(rig, scenario, killed.is_set)
    killer.join(30)
    assert first.returncode == -9 and second.poll() is None
    wait_for(
        lambda: assignments(rig.log).get(second.pid) == set(range(EVENTS_PARTITIONS)),
        60,
        "the survivor takes every partition",
    )
    topics = rig.outputs(published.expected_on_log(), timeout_s=120)
    sent, named = checked_after_crashes(rig, published, topics)
    # both did work: each worker's partitions carried events before the kill
    by_partition = {r.partition for r in topics["lead.events"][:250]}
    assert by_partition & split[first.pid] and by_partition & split[second.pid]
    repeats = len(sent) - len({n.notice_id for n in sent})
    print(
        f"split {split}; {len(published.publications)} events; {len(sent)} notices "
        f"({repeats} repeats after the kill, {named} naming a consent)"
    )
