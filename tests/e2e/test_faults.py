"""Faults end to end: the real worker on a broker of its own, while a seeded scenario
flows, through a network that lags, resets and goes silent, and killed with SIGKILL again
and again. Whatever happens, nothing may be lost and nothing disclosed without consent:
the outputs are checked as in test_lead_story (notices are exactly the permits of the
auditor's from-scratch replay), read ``read_committed`` with no deduplication: each step of
the worker is one Kafka transaction, so a crash leaves all of its outputs or none."""

from __future__ import annotations

import contextlib
import os
import pickle
import random
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import pytest

from hub.config import load_settings
from hub.domain.agencies import AgencyRegistry
from hub.domain.policy import load_policy, policy_event_id
from hub.events.codec import Codec
from hub.events.envelope import decode_envelope
from hub.events.topics import AUDIT, EVENTS, load_topic_specs
from hub.log.broker import EmbeddedBroker
from hub.log.probe import free_port
from hub.ops.opening import embedded_security, provision
from producers.demo import EventsWatcher, demo_keys, publish
from producers.simulator import Scenario, add_bad_input, plan
from tests.e2e.test_lead_story import check_outputs, notices
from tests.support.fakes import fake_seal
from tests.support.fault_proxy import FaultProxy
from tests.support.hubs import RECIPIENTS, Hub, replay
from tests.support.paths import DEPLOY

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
SESSION_S = 3.0


@dataclass
class Rig:
    """A hub on a broker of its own, maybe behind a fault proxy, and a watcher of
    lead.events (the test's own clients never suffer the proxy's faults)."""

    hub: Hub
    watcher: EventsWatcher
    proxy: FaultProxy | None
    broker: EmbeddedBroker | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def log(self) -> Path:
        return self.hub.settings.paths.worker_log

    def expected_events(self, scenario: Scenario) -> int:
        return len(scenario.publications) + 1 + scenario.truth["holds.lapsed"]

    def outputs(self, expected_events: int, timeout_s: float) -> dict[str, list[Any]]:
        """Hub.outputs with an explicit time limit."""
        return self.hub.outputs(expected_events, self.watcher, timeout_s)


def _from_this_process(proxy_port: int) -> Callable[[tuple[str, int]], bool]:
    """Whether a client of the proxy (seen at ``peer``) is a socket of this process: the
    test's publishers and readers, which must see the log as it is, not the faults."""

    def hexaddr(host: str, port: int) -> str:
        return f"{struct.unpack('=I', socket.inet_aton(host))[0]:08X}:{port:04X}"

    def check(peer: tuple[str, int]) -> bool:
        local, remote = hexaddr(*peer), hexaddr(HOST, proxy_port)
        inodes = {
            fields[9]
            for fields in (
                line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
            )
            if fields[1] == local and fields[2] == remote and fields[9] != "0"
        }
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/self/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return True
        return False

    return lambda peer: not check(peer)


@contextlib.contextmanager
def _rig(data: Path, codec: Codec, *, proxied: bool) -> Iterator[Rig]:
    # A killed worker's partitions move once its session expires: a short session (and a
    # broker that allows one) makes each of the many kills below cost seconds, not ten.
    settings = load_settings(
        data_dir=data, keys_dir=data / "keys", streams={"session_timeout_s": SESSION_S}
    )
    agencies = AgencyRegistry.load(DEPLOY / "agencies.yaml")
    port = free_port(HOST)
    with contextlib.ExitStack() as stack:
        proxy = None
        if proxied:
            proxy_port = free_port(HOST)
            proxy = FaultProxy(
                (HOST, port), host=HOST, port=proxy_port, faulty=_from_this_process(proxy_port)
            )
            stack.enter_context(proxy)
        broker = EmbeddedBroker(  # secured as `leadhub run` secures it
            host=HOST,
            port=port,
            data_dir=data / "kafka",
            log_file=data / "broker.log",
            security=embedded_security(settings, agencies),
            advertised=proxy.address if proxy else None,
            properties={
                "group.min.session.timeout.ms": "1000",
                # a broker restarted after SIGKILL waits out its old session before it
                # serves (3 s by default): 1 s keeps fifty restarts to minutes
                "broker.session.timeout.ms": "1000",
                "broker.heartbeat.interval.ms": "250",
            },
        )
        stack.enter_context(broker)
        bootstrap = [proxy.address] if proxy else broker.bootstrap_servers
        provision(settings, agencies, broker, load_topic_specs(DEPLOY / "topics.yaml", agencies))
        hub = Hub(
            settings,
            bootstrap,
            codec,
            demo_keys(settings, agencies),
            load_policy(DEPLOY / "policy.yaml", agencies),
        )
        stack.callback(hub.stop_all)
        watcher = hub.watcher()
        stack.callback(watcher.stop)
        hub.start_worker()
        watcher.wait_for({str(policy_event_id(hub.policy))}, lambda: hub.worker, timeout_s=60)
        yield Rig(hub, watcher, proxy, broker)


@pytest.fixture
def proxied(tmp_path: Path, codec: Codec) -> Iterator[Rig]:
    with _rig(tmp_path, codec, proxied=True) as rig:
        yield rig


@pytest.fixture
def direct(tmp_path: Path, codec: Codec) -> Iterator[Rig]:
    with _rig(tmp_path, codec, proxied=False) as rig:
        yield rig


def _joined(log: Path, pid: int) -> bool:
    """The worker ``pid`` has its partitions (the rebuilding consumer logs each)."""
    tag = f"] [{pid}] ["
    with log.open(errors="replace") as f:
        return any(tag in line and "partition_resumed" in line for line in f)


def _wait_joined(log: Path, worker: subprocess.Popen[bytes], timeout_s: float) -> float:
    took = _wait(
        lambda: _joined(log, worker.pid) or worker.poll() is not None,
        timeout_s,
        f"worker {worker.pid} joins its group",
    )
    assert worker.poll() is None, f"worker {worker.pid} exited with {worker.returncode}"
    return took


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Until ``condition`` holds; how long that took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(0.05)
    return time.monotonic() - start


def _diagnose(rig: Rig, topics: dict[str, list[Any]]) -> str:
    """What to look at when a check fails: the outputs are saved next to the worker's log
    (outputs.pickle), and the events behind a mismatch are described."""
    hub, codec = rig.hub, rig.hub.codec
    saved = hub.settings.data_dir / "outputs.pickle"
    saved.write_bytes(pickle.dumps(topics))
    where: dict[Any, list[str]] = {}
    for r in topics[EVENTS]:
        e = decode_envelope(r.value, codec)
        where.setdefault(e.event_id, []).append(
            f"{e.event_type} from {e.source} at {r.partition}/{r.offset} "
            f"recorded {e.recorded_at} ts {r.timestamp}"
        )
    expected = replay(topics[EVENTS], codec, hub.policy)
    permits = {k for k, d in expected.items() if d.permit}
    told = {(str(n.event_id), n.recipient) for n in notices(topics, codec)}
    lines = [f"outputs saved in {saved}"]
    lines += [f"twice: {k} {v}" for k, v in where.items() if len(v) > 1 and "policy" not in v[0]]
    lines += [f"missing notice {k}: {where.get(UUID(k[0]))}" for k in sorted(permits - told)]
    lines += [f"notice not permitted {k}: {where.get(UUID(k[0]))}" for k in sorted(told - permits)]
    return "\n".join(lines)


def _accepted_once(hub: Hub, topics: dict[str, list[Any]]) -> None:
    """Every event is on lead.events once (the policy once per partition): not a second
    time after a crash (transactions), nor by a producer's resend after a network fault
    (idempotent producers)."""
    first: dict[tuple[Any, int | None], Any] = {}
    for r in topics[EVENTS]:
        e = decode_envelope(r.value, hub.codec)
        original = first.setdefault(
            (e.event_id, r.partition if e.event_type == "policy_published" else None), r
        )
        assert original is r, (
            f"accepted twice: {e.event_id} at {original.partition}/{original.offset} and {r.offset}"
        )


def _consented(hub: Hub, topics: dict[str, list[Any]]) -> int:
    """Independently of the replay: a notice that names a consent names one its
    participant granted to that recipient earlier in the log, not revoked before the
    event. How many notices named a consent."""
    from hub.events.envelope import decode_body
    from hub.events.models import ConsentGranted, ConsentRevoked, RevocationScope

    position: dict[Any, tuple[int, int]] = {}
    granted: dict[Any, tuple[str, list[str], tuple[int, int]]] = {}
    revoked: dict[tuple[Any, str], tuple[int, int]] = {}
    for r in topics[EVENTS]:
        envelope = decode_envelope(r.value, hub.codec)
        at = (r.partition, r.offset)
        position.setdefault(envelope.event_id, at)
        if envelope.event_type not in {"consent_granted", "consent_revoked"}:
            continue
        body = decode_body(envelope, hub.codec)
        if isinstance(body, ConsentGranted):
            granted.setdefault(body.consent_id, (envelope.participant_id, body.recipients, at))
        elif isinstance(body, ConsentRevoked):
            names = RECIPIENTS if body.scope is RevocationScope.ALL else body.recipients
            for name in names:
                revoked.setdefault((body.consent_id, name), at)
    named = 0
    for n in notices(topics, hub.codec):
        if n.consent_id is None:
            continue
        named += 1
        participant, recipients, granted_at = granted[n.consent_id]
        at = position[n.event_id]
        assert participant == n.participant_id and n.recipient in recipients, n
        assert granted_at[0] == at[0] and granted_at < at, n
        until = revoked.get((n.consent_id, n.recipient))
        assert until is None or until[0] != at[0] or at < until, n
    return named


@pytest.mark.timeout(180)
def test_the_worker_rides_out_latency_resets_and_blackholes(proxied: Rig) -> None:
    """Latency of 50-200 ms, a reset of every connection, a 4 s blackhole that resumes
    and a 3 s one that ends in resets (both longer than the group session), while the
    worker handles a scenario: the same worker recovers by itself and nothing is lost."""
    rig, hub, proxy = proxied, proxied.hub, proxied.proxy
    assert proxy is not None
    scenario = hub.scenario(seed=2718, participants=30)
    total = rig.expected_events(scenario)
    rng = random.Random(2718)
    survived: list[str] = []
    errors: list[BaseException] = []
    abort = threading.Event()  # the publisher failed: stop injecting

    def seen() -> int:
        return len(rig.watcher.seen)

    def flowing_again(what: str) -> float:
        """Until the worker has accepted more events (or has nothing left to accept)."""
        base = seen()
        return _wait(lambda: seen() >= min(base + 5, total) or abort.is_set(), 45, what)

    def inject() -> None:
        try:
            _wait(lambda: seen() >= total // 5 or abort.is_set(), 60, "the scenario flows")
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
    topics = rig.outputs(total, timeout_s=60)
    assert len(hub.workers) == 1 and hub.worker.poll() is None, "the worker never gave up"
    try:
        sent = check_outputs(hub, scenario, topics)
        _accepted_once(hub, topics)
        named = _consented(hub, topics)
    except AssertionError:
        print(_diagnose(rig, topics))
        raise
    print(
        f"faults survived: {survived}; {len(sent)} notices, none twice ({named} naming a "
        f"consent); proxy {proxy.stats}; {time.monotonic() - rig.started:.0f} s"
    )


KILLS = 50


def _publish_until(
    rig: Rig,
    scenario: Scenario,
    enough: Callable[[], bool],
    worker: Callable[[], subprocess.Popen[bytes]] | None = None,
) -> Scenario:
    """demo.publish until ``enough()`` holds (checked after the bad input), each
    acknowledgement awaited across broker restarts: what was published."""
    hub = rig.hub
    return publish(
        scenario,
        hub.settings,
        hub.bootstrap,
        hub.codec,
        hub.keys,
        rig.watcher,
        worker or (lambda: hub.worker),
        enough=enough,
        ack_timeout_s=90,
    )


def checked_after_crashes(
    rig: Rig, published: Scenario, topics: dict[str, list[Any]]
) -> tuple[list[Any], int]:
    """Nothing missing, nothing twice, every event accepted once, every consent a notice
    names in force: the notices sent and how many named a consent."""
    try:
        sent = check_outputs(rig.hub, published, topics)
        _accepted_once(rig.hub, topics)
        return sent, _consented(rig.hub, topics)
    except AssertionError:
        print(_diagnose(rig, topics))
        raise


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
    scenario = plan(31337, 250, lambda pid: fake_seal, span_days=720)
    add_bad_input(scenario, random.Random(31337), hub.codec, hub.keys)
    kills: list[tuple[int, float, int]] = []  # pid, seconds after it joined, events seen
    errors: list[BaseException] = []
    done = threading.Event()

    def killer() -> None:
        try:
            while len(kills) < KILLS and not done.is_set():
                victim = hub.worker
                _wait_joined(rig.log, victim, timeout_s=60)
                hub.start_worker()
                delay = rng.uniform(0.5, 3.0)
                if done.wait(delay):
                    return
                victim.kill()
                victim.wait(10)
                kills.append((victim.pid, round(delay, 2), len(rig.watcher.seen)))
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        published = _publish_until(rig, scenario, lambda: len(kills) >= KILLS or bool(errors))
    finally:
        done.set()
        thread.join(30)
    if errors:
        raise errors[0]
    took = time.monotonic() - rig.started
    assert len(kills) >= KILLS, f"{len(kills)} kills"
    assert sum(1 for w in hub.workers if w.returncode == -9) == len(kills)
    topics = rig.outputs(len(published.publications) + 1, timeout_s=90)
    sent, named = checked_after_crashes(rig, published, topics)
    print(
        f"{len(kills)} worker kills (pid, s after join, events seen): {kills}; "
        f"{len(published.publications)} events published in {took:.0f} s; {len(sent)} "
        f"notices, none twice; {len(topics[AUDIT])} decisions, none twice; {named} notices "
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
    scenario = plan(4711, 250, lambda pid: fake_seal, span_days=720)
    add_bad_input(scenario, random.Random(4711), hub.codec, hub.keys)
    # s after the hub accepted again, s for the broker to be ready, s until the hub accepted
    kills: list[tuple[float, float, float]] = []
    restarts: list[tuple[int | None, int]] = []  # the worker's exit code, kills before
    errors: list[BaseException] = []
    done = threading.Event()

    def killer() -> None:
        try:
            _wait(lambda: len(rig.watcher.seen) > 20 or done.is_set(), 60, "the scenario flows")
            while len(kills) < BROKER_KILLS and not done.is_set():
                delay = rng.uniform(0.3, 2.0)
                if done.wait(delay):
                    return
                broker.kill()
                broker.start()
                # the next kill lands mid-stream: once the hub has accepted more since the
                # restart (a kill storm before anyone reconnects would test nothing more)
                seen = len(rig.watcher.seen)
                recovered = _wait(
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
        published = _publish_until(
            rig, scenario, lambda: len(kills) >= BROKER_KILLS or bool(errors), worker=supervised
        )
    finally:
        done.set()
        thread.join(60)
    if errors:
        raise errors[0]
    took = time.monotonic() - rig.started
    assert len(kills) >= BROKER_KILLS, f"{len(kills)} kills"
    topics = rig.outputs(len(published.publications) + 1, timeout_s=120)
    sent, _named = checked_after_crashes(rig, published, topics)
    print(
        f"{len(kills)} broker kills (s after progress, s to ready, s to progress): {kills}; "
        f"worker restarts (exit code, after kill): {restarts}; "
        f"{len(published.publications)} events published in {took:.0f} s; {len(sent)} "
        f"notices, none twice; {len(topics[AUDIT])} decisions, none twice; "
        f"{time.monotonic() - rig.started:.0f} s"
    )
