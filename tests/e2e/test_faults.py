"""Faults end to end: the real worker on a broker of its own, while a seeded scenario
flows, through a network that lags, resets and goes silent, and killed with SIGKILL again
and again. Whatever happens, nothing may be lost and nothing disclosed without consent:
the outputs are checked as in test_lead_story (notices are exactly the permits of the
auditor's from-scratch replay), read ``read_committed`` with no deduplication: each step of
the worker is one Kafka transaction, so a crash leaves all of its outputs or none."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from typing import Literal

import pytest

from hub.events.topics import AUDIT
from producers.bad_input import add_bad_input
from producers.simulator import plan
from tests.support.fakes import fake_seal
from tests.support.hubs import check_outputs
from tests.support.rigs import (
    Rig,
    accepted_once,
    checked_after_crashes,
    consented,
    diagnose,
    publish_until,
    wait_for,
    wait_joined,
)

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"


@pytest.mark.timeout(180)
def test_the_worker_rides_out_latency_resets_and_blackholes(proxied: Rig) -> None:
    """Latency of 50-200 ms, a reset of every connection, a 4 s blackhole that resumes
    and a 3 s one that ends in resets (both longer than the group session), while the
    worker handles a scenario: the same worker recovers by itself and nothing is lost."""
    rig, hub, proxy = proxied, proxied.hub, proxied.proxy
    assert proxy is not None
    scenario = hub.scenario(seed=2718, participants=30)
    expected = scenario.expected_on_log()
    total = len(expected)
    rng = random.Random(2718)
    survived: list[str] = []
    errors: list[BaseException] = []
    abort = threading.Event()  # the publisher failed: stop injecting

    def seen() -> int:
        return len(rig.watcher.seen)

    def flowing_again(what: str) -> float:
        """Until the worker has accepted more events (or has nothing left to accept)."""
        base = seen()
        return wait_for(lambda: seen() >= min(base + 5, total) or abort.is_set(), 45, what)

    def inject() -> None:
        try:
            wait_for(lambda: seen() >= total // 5 or abort.is_set(), 60, "the scenario flows")
            base, start = seen(), time.monotonic()
            while time.monotonic() - start < 4.0 and not abort.is_set():
                proxy.set_latency(rng.uniform(50, 200))
                abort.wait(0.5)  # a new latency every half second
            proxy.set_latency(0)
            survived.append(f"latency 50-200 ms for 4 s from event {base}: {seen() - base} more")
            reset = proxy.reset_all()
            assert reset > 0, "the worker had connections to reset"
            took = flowing_again("flowing after a reset")
            survived.append(f"reset of {reset} connections: flowing again in {took:.1f} s")
            blackholes: list[tuple[float, Literal["resume", "reset"]]] = [
                (4.0, "resume"),
                (3.0, "reset"),
            ]
            for seconds, then in blackholes:
                base = seen()
                proxy.blackhole(seconds, then).result(seconds + 5)
                during = seen() - base
                took = flowing_again(f"flowing after a {seconds} s blackhole")
                survived.append(
                    f"{seconds} s blackhole from event {base} ({during} accepted meanwhile), "
                    f"then {then}: flowing in {took:.1f} s"
                )
            survived.append(f"faults over at event {seen()} of {total}")
        except BaseException as e:
            errors.append(e)
        finally:
            proxy.clear()

    injector = threading.Thread(target=inject, daemon=True)
    injector.start()
    try:
        hub.publish(scenario, rig.watcher)
    except BaseException:
        abort.set()
        raise
    finally:
        injector.join(90)
        proxy.clear()
    assert not injector.is_alive()
    if errors:
        raise errors[0]
    topics = rig.outputs(expected, timeout_s=60)
    assert len(hub.workers) == 1 and hub.worker.poll() is None, "the worker never gave up"
    try:
        sent = check_outputs(hub, scenario, topics)
        accepted_once(hub, topics)
        named = consented(hub, topics)
    except AssertionError:
        print(diagnose(rig, topics))
        raise
    print(
        f"faults survived: {survived}; {len(sent)} notices, none twice ({named} naming a "
        f"consent); proxy {proxy.stats}; {time.monotonic() - rig.started:.0f} s"
    )


KILLS = 50


@pytest.mark.timeout(900)
def test_fifty_worker_sigkills_at_random_points_lose_nothing_and_repeat_nothing(
    direct: Rig,
) -> None:
    """SIGKILL the worker again and again, at a random moment 0.5-3 s after it joined
    its group, while a scenario flows; its replacement is started when it joins, so that
    the replacement's start (seconds) overlaps the victim's last moments. Read
    ``read_committed`` with no deduplication: nothing is missing and nothing is there
    twice, decisions equal a from-scratch replay, and every consent a notice relies on was
    granted to its recipient and not revoked."""
    rig, hub = direct, direct.hub
    rng = random.Random(31337)
    # a long calendar, stopped after the last kill: it must not run out before that
    scenario = plan(31337, 250, lambda pid, event_id: fake_seal, span_days=720)
    add_bad_input(scenario, random.Random(31337), hub.codec, hub.keys)
    # pid, s it took to join, s after it joined, events seen
    kills: list[tuple[int, float, float, int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def killer() -> None:
        try:
            while len(kills) < KILLS and not done.is_set():
                victim = hub.worker
                join_s = wait_joined(rig.log, victim, timeout_s=60)
                hub.start_worker()
                delay = rng.uniform(0.5, 3.0)
                if done.wait(delay):
                    return
                victim.kill()
                victim.wait(10)
                kills.append((victim.pid, round(join_s, 2), round(delay, 2), len(rig.watcher.seen)))
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        published = publish_until(rig, scenario, lambda: len(kills) >= KILLS or bool(errors))
    finally:
        done.set()
        thread.join(30)
    if errors:
        raise errors[0]
    took = time.monotonic() - rig.started
    assert len(kills) >= KILLS, f"{len(kills)} kills"
    assert sum(1 for w in hub.workers if w.returncode == -9) == len(kills)
    topics = rig.outputs(published.expected_on_log(), timeout_s=90)
    sent, named = checked_after_crashes(rig, published, topics)
    print(
        f"{len(kills)} worker kills (pid, s to join, s after join, events seen): {kills}; "
        f"{len(published.publications)} events published in {took:.0f} s; {len(sent)} "
        f"notices, none twice; {len(topics[AUDIT])} audit records, none twice; {named} notices "
        f"naming a consent; {time.monotonic() - rig.started:.0f} s"
    )


BROKER_KILLS = 50


@pytest.mark.timeout(900)
def test_fifty_broker_sigkills_at_random_points_lose_nothing_and_repeat_nothing(
    direct: Rig,
) -> None:
    """SIGKILL the broker JVM again and again while a scenario flows, each time at a
    random moment 0.3-2 s after the hub accepted events again since the last restart:
    every record the broker acknowledged (acks=all) is on its log after the restart, and
    a ``read_committed`` reader finds nothing missing and nothing twice. A worker that
    exits is started again, as its service manager would, and counted."""
    rig, hub = direct, direct.hub
    broker = rig.broker
    assert broker is not None
    rng = random.Random(4711)
    scenario = plan(4711, 250, lambda pid, event_id: fake_seal, span_days=720)
    add_bad_input(scenario, random.Random(4711), hub.codec, hub.keys)
    # s after the hub accepted again, s for the broker to be ready, s until the hub accepted
    kills: list[tuple[float, float, float]] = []
    restarts: list[tuple[int | None, int]] = []  # the worker's exit code, kills before
    errors: list[BaseException] = []
    done = threading.Event()

    def killer() -> None:
        try:
            wait_for(lambda: len(rig.watcher.seen) > 20 or done.is_set(), 60, "the scenario flows")
            while len(kills) < BROKER_KILLS and not done.is_set():
                delay = rng.uniform(0.3, 2.0)
                if done.wait(delay):
                    return
                broker.kill()
                broker.start()
                # the next kill lands mid-stream: once the hub has accepted more since the
                # restart (a kill storm before anyone reconnects would test nothing more)
                seen = len(rig.watcher.seen)
                recovered = wait_for(
                    lambda: len(rig.watcher.seen) > seen or done.is_set(),  # noqa: B023
                    90,
                    f"the hub accepting events after broker restart {len(kills) + 1}",
                )
                kills.append((round(delay, 2), round(broker.ready_s, 2), round(recovered, 1)))
        except BaseException as e:
            errors.append(e)

    def supervised() -> subprocess.Popen[bytes]:
        """The current worker, started again if it exited: the service manager's part."""
        if hub.worker.poll() is not None:
            restarts.append((hub.worker.returncode, len(kills)))
            hub.start_worker()
        return hub.worker

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        published = publish_until(
            rig, scenario, lambda: len(kills) >= BROKER_KILLS or bool(errors), worker=supervised
        )
    finally:
        done.set()
        thread.join(60)
    if errors:
        raise errors[0]
    took = time.monotonic() - rig.started
    assert len(kills) >= BROKER_KILLS, f"{len(kills)} kills"
    topics = rig.outputs(published.expected_on_log(), timeout_s=120)
    sent, _named = checked_after_crashes(rig, published, topics)
    print(
        f"{len(kills)} broker kills (s after progress, s to ready, s to progress): {kills}; "
        f"worker restarts (exit code, after kill): {restarts}; "
        f"{len(published.publications)} events published in {took:.0f} s; {len(sent)} "
        f"notices, none twice; {len(topics[AUDIT])} audit records, none twice; "
        f"{time.monotonic() - rig.started:.0f} s"
    )
