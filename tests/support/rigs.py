"""A hub on a broker of its own, maybe behind a fault proxy, watched from outside: what the
fault tests (and the scale-out and failover tests) drive, and how they check what it left."""

from __future__ import annotations

import ast
import contextlib
import os
import pickle
import re
import socket
import struct
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from hub.config import load_settings
from hub.domain.agencies import AgencyRegistry
from hub.domain.policy import load_policy, policy_event_id
from hub.events.codec import Codec
from hub.events.envelope import decode_envelope
from hub.events.topics import EVENTS, load_topic_specs
from hub.log.broker import EmbeddedBroker
from hub.log.probe import free_port
from hub.ops.opening import embedded_security, provision
from producers.demo import EventsWatcher, demo_keys, publish
from producers.simulator import Scenario
from tests.support.fault_proxy import FaultProxy
from tests.support.hubs import RECIPIENTS, Hub, check_outputs, notices, replay
from tests.support.paths import DEPLOY

HOST = "127.0.0.1"
SESSION_S = 2.0


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

    def outputs(self, expected: Collection[str], timeout_s: float) -> dict[str, list[Any]]:
        """Hub.outputs with an explicit time limit."""
        return self.hub.outputs(expected, self.watcher, timeout_s)


def from_this_process(proxy_port: int) -> Callable[[tuple[str, int]], bool]:
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
def rigged(data: Path, codec: Codec, *, proxied: bool) -> Iterator[Rig]:
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
                (HOST, port), host=HOST, port=proxy_port, faulty=from_this_process(proxy_port)
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


def joined(log: Path, pid: int, start: int = 0) -> tuple[bool, int]:
    """Whether the worker ``pid`` has its partitions (the rebuilding consumer logs each),
    reading the log from byte ``start``; and where a next look may start (the last whole
    line read): a wait then reads each line once, not the whole log every 50 ms, which
    on two cores took CPU from the very workers it waits for."""
    tag = f"] [{pid}] [".encode()
    with log.open("rb") as f:
        f.seek(start)
        text = f.read()
    whole = text.rfind(b"\n") + 1
    found = any(tag in line and b"partition_resumed" in line for line in text[:whole].split(b"\n"))
    return found, start + whole


def wait_joined(log: Path, worker: subprocess.Popen[bytes], timeout_s: float) -> float:
    read = 0

    def has_joined() -> bool:
        nonlocal read
        found, read = joined(log, worker.pid, read)
        return found or worker.poll() is not None

    took = wait_for(has_joined, timeout_s, f"worker {worker.pid} joins its group")
    assert worker.poll() is None, f"worker {worker.pid} exited with {worker.returncode}"
    return took


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Until ``condition`` holds; how long that took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(0.05)
    return time.monotonic() - start


def diagnose(rig: Rig, topics: dict[str, list[Any]]) -> str:
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


def accepted_once(hub: Hub, topics: dict[str, list[Any]]) -> None:
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


def consented(hub: Hub, topics: dict[str, list[Any]]) -> int:
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


def publish_until(
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
        accepted_once(rig.hub, topics)
        return sent, consented(rig.hub, topics)
    except AssertionError:
        print(diagnose(rig, topics))
        raise


EVENTS_PARTITIONS = 6
LINE = re.compile(
    r"^\[(?P<at>[^\]]+)\] \[(?P<pid>\d+)\] \[INFO\] (?P<fields>\{.*'partition_resumed'.*\})"
)


def assignments(log: Path) -> dict[int, set[int]]:
    """Each worker's latest lead.events assignment, from its partition_resumed lines (one
    burst per rebalance: the lines within a second of its last)."""
    seen: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for line in log.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if m:
            fields = ast.literal_eval(m["fields"])
            at = time.mktime(time.strptime(m["at"].split(",")[0], "%Y-%m-%d %H:%M:%S"))
            seen[int(m["pid"])].append(
                (at + int(m["at"].split(",")[1]) / 1000, fields["partition"])
            )
    return {pid: {p for at, p in lines if at >= lines[-1][0] - 1.0} for pid, lines in seen.items()}
