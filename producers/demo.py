"""`make demo`: the hub on its embedded broker, with a synthetic LEAD program flowing through.

Starts the broker, generates DEMO keys, starts the hub worker (a separate process, as in
production), publishes a seeded scenario (hundreds of synthetic participants over two
months of simulated time, plus a small share of bad input), waits until the hub has
handled everything, and prints what happened (producers.demo_summary).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.witness import witness
from hub.config import Settings
from hub.context import HubContext
from hub.crypto import (
    SigningKey,
    generate_key,
    generate_sealing_key,
    load_sealing_key,
    load_signing_key,
    write_key,
    write_sealing_key,
)
from hub.domain import AgencyRegistry, policy_event_id
from hub.errors import DeploymentError, HubError
from hub.events import (
    AUDIT,
    CHECKPOINTS,
    EVENTS,
    REJECTED,
    Codec,
    ingest_topic,
    notify_topic,
    seal_for_intake,
)
from hub.log import client_env, client_kwargs, read_topics
from hub.ops import open_broker
from producers.bad_input import add_bad_input
from producers.demo_summary import Out, Records, summarise
from producers.samples import Seal
from producers.sdk import Publisher
from producers.simulator import Scenario, SealFor, plan

WITNESSES = ("opd", "bchd")  # the defender and the health department cosign the log
# people referred again under a new id, and namesakes: linkage's ground truth
REFERRED_AGAIN, NAMESAKES = 0.1, 0.03


def demo_keys(settings: Settings, agencies: AgencyRegistry) -> dict[str, SigningKey]:
    """Every agency's DEMO signing and sealing keys, made on first use under data_dir only."""
    if not settings.keys_dir.resolve().is_relative_to(settings.data_dir.resolve()):
        raise DeploymentError("demo keys must live under data_dir (set keys_dir inside it)")
    keys: dict[str, SigningKey] = {}
    for agency in agencies:
        try:
            keys[agency] = load_signing_key(settings.keys_dir, agency)
        except DeploymentError:
            keys[agency] = generate_key(agency, demo=True)
            write_key(keys[agency], settings.keys_dir)
        try:
            load_sealing_key(settings.keys_dir, agency)
        except DeploymentError:
            write_sealing_key(generate_sealing_key(agency, demo=True), settings.keys_dir)
    return keys


def start_worker(
    settings: Settings, bootstrap: list[str], config: Path | None, *, log_clock: bool = True
) -> subprocess.Popen[bytes]:
    """The hub worker as its own process, pointed at our broker as if it were a cluster;
    on the log's clock (a scenario runs on a simulated calendar) unless told otherwise."""
    env = {
        **os.environ,
        "LEADHUB_BROKER__BOOTSTRAP_SERVERS": json.dumps(bootstrap),
        "LEADHUB_STREAMS__LOG_CLOCK": str(log_clock).lower(),
        "LEADHUB_STREAMS__SESSION_TIMEOUT_S": str(settings.streams.session_timeout_s),
        "LEADHUB_DATA_DIR": str(settings.data_dir),
        "LEADHUB_KEYS_DIR": str(settings.keys_dir),
        **client_env(settings),  # as the hub's principal
    }
    args = [sys.executable, "-m", "hub", "run"] + (["--config", str(config)] if config else [])
    log = settings.paths.worker_log.open("ab")
    try:
        return subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    finally:
        log.close()


def stop_worker(worker: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """SIGTERM, so it commits and leaves its group; SIGKILL if it does not go."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout_s)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(5)


class EventsWatcher(threading.Thread):
    """Collects the ids (ce_id) of everything that reaches lead.events, as it arrives."""

    def __init__(self, bootstrap: list[str], kwargs: dict[str, object]) -> None:
        super().__init__(daemon=True)
        self.kwargs = kwargs  # how it connects; the hub's outputs are read the same way
        self.seen: set[str] = set()
        self._stop_event = threading.Event()
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            isolation_level="read_committed",
            # kafka-python backs off up to 30 s between reconnects: across broker restarts
            # the watcher would learn of accepted events long after they were accepted
            reconnect_backoff_max_ms=1000,
            **kwargs,
        )
        partitions = self._consumer.partitions_for_topic(EVENTS) or set()
        tps = [TopicPartition(EVENTS, p) for p in sorted(partitions)]
        self._consumer.assign(tps)
        self._consumer.seek_to_beginning(*tps)

    def run(self) -> None:
        while not self._stop_event.is_set():
            for records in self._consumer.poll(timeout_ms=100).values():
                for r in records:
                    self.seen.add(dict(r.headers or []).get("ce_id", b"").decode())
        self._consumer.close()

    def wait_for(
        self, ids: set[str], worker: Callable[[], subprocess.Popen[bytes]], timeout_s: float
    ) -> None:
        """Until every id is in lead.events; ``worker`` gives the current worker process."""
        self.wait_until(lambda seen: ids <= seen, worker, timeout_s, f"{len(ids)} events")

    def wait_until(
        self,
        done: Callable[[set[str]], bool],
        worker: Callable[[], subprocess.Popen[bytes]],
        timeout_s: float,
        what: str,
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not done(self.seen):
            current = worker()
            if current.poll() is not None:
                raise HubError(f"hub worker exited with code {current.returncode} (see worker.log)")
            if time.monotonic() > deadline:
                raise HubError(f"the hub did not accept {what} in time")
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def publish(
    scenario: Scenario,
    settings: Settings,
    bootstrap: list[str],
    codec: Codec,
    keys: dict[str, SigningKey],
    watcher: EventsWatcher,
    worker: Callable[[], subprocess.Popen[bytes]],
    bad_after_days: int = 10,
    enough: Callable[[], bool] = lambda: False,
    ack_timeout_s: float = 30.0,
) -> Scenario:
    """Publish day by day of simulated time, waiting for the hub to accept each day before
    the next: agencies' topics are read concurrently, and without the barrier a simulated
    month could pass between two agencies' records within a few real seconds. Bad input
    goes in after ``bad_after_days``; after that, the first day on which ``enough()`` holds
    is the last. Returns what was published, as a scenario of its own.

    Each agency publishes as its own principal, which may write its own ingest topic only:
    the bad input too, as the agency whose topic it lands on."""
    publishers = {
        a: Publisher(
            key=k,
            codec=codec,
            bootstrap_servers=bootstrap,
            client_kwargs=client_kwargs(settings, a),
            ack_timeout_s=ack_timeout_s,
        )
        for a, k in keys.items()
    }
    raw: dict[str, KafkaProducer] = {}  # for bad input, each on its agency's own topic
    for bad in scenario.bad:
        agency = bad.topic.removeprefix(ingest_topic(""))
        if agency not in raw:
            raw[agency] = KafkaProducer(
                bootstrap_servers=bootstrap,
                acks="all",
                enable_idempotence=True,
                **client_kwargs(settings, agency),
            )
            raw[agency].partitions_for(bad.topic)  # as Publisher does: no metadata wait later
    done = Scenario(scenario.seed, scenario.intake_window_days)
    try:
        days = itertools.groupby(scenario.publications, key=lambda p: p.occurred_at.date())
        for number, (_day, planned) in enumerate(days):
            if number > bad_after_days and enough():
                break
            if number == bad_after_days:  # bad input mid-stream: the hub must keep going
                for bad in scenario.bad:
                    agency = bad.topic.removeprefix(ingest_topic(""))
                    sent = raw[agency].send(
                        bad.topic, key=bad.key, value=bad.value, headers=bad.headers
                    )
                    sent.get(ack_timeout_s)
                done.bad = scenario.bad
            ids = set()
            for p in planned:
                publishers[p.agency].publish(
                    p.body,
                    participant_id=p.participant_id,
                    occurred_at=p.occurred_at,
                    event_id=p.event_id,
                    causation_id=p.causation_id,
                    correlation_id=p.correlation_id,
                )
                ids.add(str(p.event_id))
                done.publications.append(p)
            watcher.wait_for(ids, worker, timeout_s=60)
    finally:
        for producer in raw.values():
            producer.close()
        for publisher in publishers.values():
            publisher.close()
    return done


def wait_until_handled(
    bootstrap: list[str],
    watcher: EventsWatcher,
    expected: Collection[str],
    worker: Callable[[], subprocess.Popen[bytes]],
    timeout_s: float = 240.0,
) -> Records:
    """Once lead.events holds the ``expected`` event ids, read the hub's outputs until two
    readings a second apart agree (the last events' steps, and what the clock made due on
    the way, may still be running when the watcher sees them on lead.events)."""
    watcher.wait_for(set(expected), worker, timeout_s)
    deadline = time.monotonic() + timeout_s
    previous = -1
    while time.monotonic() < deadline:
        settled = {
            t: list(read_topics(bootstrap, [t], client_kwargs=watcher.kwargs))
            for t in [EVENTS, AUDIT, REJECTED]
        }
        total = sum(len(v) for v in settled.values())
        if total == previous:
            return settled
        previous = total
        time.sleep(1.0)
    raise HubError("the hub's outputs did not settle in time")


def intake_sealer(hub: HubContext) -> SealFor:
    """Seal as an agency outside the hub does: to the hub's current intake key, bound to the
    participant and the event (the demo reads the key from the hub's keyring; an agency
    fetches the signed key set, docs/protocol.md 16.2)."""
    key = hub.intake_keys.current(datetime.now(UTC))

    def seal_for(pid: str, event_id: uuid.UUID) -> Seal:
        return lambda plain: seal_for_intake(
            plain,
            participant_id=pid,
            event_id=str(event_id),
            key_id=key.key_id,
            public=key.public,
            codec=hub.codec,
        )

    return seal_for


def fresh_log(settings: Settings) -> bool:
    """The demo publishes a seeded scenario: on top of an earlier demo's log every event
    would be a duplicate. Only the demo does this; `leadhub up` keeps the log."""
    found = False
    for name in ("kafka", "archive", "witness"):
        path = settings.data_dir / name
        if path.exists():
            shutil.rmtree(path)
            found = True
    return found


def wait_for_checkpoint(
    bootstrap: list[str],
    audit_records: int,
    worker: Callable[[], subprocess.Popen[bytes]],
    timeout_s: float = 60.0,
    client_kwargs: dict[str, object] | None = None,
) -> None:
    """Until the hub has signed a checkpoint covering every decision record."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        checkpoints = read_topics(bootstrap, [CHECKPOINTS], client_kwargs=client_kwargs)
        sizes = [int(r.key) for r in checkpoints]
        if max(sizes, default=0) >= audit_records:
            return
        if worker().poll() is not None:
            raise HubError(f"hub worker exited with code {worker().returncode}")
        time.sleep(0.3)
    raise HubError("the hub signed no checkpoint covering the whole decision log in time")


def run_demo(
    hub: HubContext, *, participants: int, seed: int, out: Out, config: Path | None = None
) -> int:
    """Run the scenario; return how many expectations the hub missed (0 is success)."""
    started = time.monotonic()
    settings, agencies, codec = hub.settings, hub.agencies, hub.codec
    keys = demo_keys(settings, agencies)
    scenario = plan(
        seed,
        participants,
        intake_sealer(hub),
        settings.site.intake_window_days,
        again=REFERRED_AGAIN,
        namesakes=NAMESAKES,
    )
    add_bad_input(scenario, random.Random(seed), codec, keys)
    if fresh_log(settings):
        out(
            "a new demo log: the previous demo's log and archive in "
            f"{settings.data_dir} are replaced"
        )
    took: list[float] = []
    with open_broker(settings, agencies, took.append) as bootstrap:
        protocol = client_kwargs(settings)["security_protocol"]
        ready_in = f", ready in {took[0]:.1f} s" if took else ""
        out(f"broker ({protocol}) at {bootstrap[0]}{ready_in}; starting the hub worker")
        worker = start_worker(settings, bootstrap, config)
        watcher = EventsWatcher(bootstrap, client_kwargs(settings))
        watcher.start()
        try:
            policy_id = str(policy_event_id(hub.policy))
            watcher.wait_for({policy_id}, lambda: worker, timeout_s=60)
            publish(scenario, settings, bootstrap, codec, keys, watcher, lambda: worker)
            out(
                f"published {len(scenario.publications)} events for {participants} synthetic "
                f"participants and {len(scenario.bad)} bad records; waiting for the hub"
            )
            expected = scenario.expected_on_log()
            topics = wait_until_handled(bootstrap, watcher, expected, lambda: worker)
            as_hub = client_kwargs(settings)
            wait_for_checkpoint(bootstrap, len(topics[AUDIT]), lambda: worker, client_kwargs=as_hub)
            for agency in WITNESSES:
                witness(hub, bootstrap, agency)
            notices = {  # each agency reads its own
                a: list(
                    read_topics(
                        bootstrap, [notify_topic(a)], client_kwargs=client_kwargs(settings, a)
                    )
                )
                for a in agencies
                if a != "hub"
            }
        finally:
            watcher.stop()
            stop_worker(worker)
    seconds = time.monotonic() - started
    return summarise(scenario, topics, notices, codec, out, seconds, settings, config)
