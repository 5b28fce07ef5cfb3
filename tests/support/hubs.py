"""A hub worker as its own process on a broker (or a cluster) of its own, fed a seeded LEAD
scenario, and its outputs read back whole: what the end-to-end tests drive."""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hub.config import Settings, load_settings
from hub.crypto.signing import PublicKeys, SigningKey
from hub.domain.agencies import AgencyRegistry
from hub.domain.audit_records import read_decisions
from hub.domain.notices import Notice, notice_id
from hub.domain.policy import Decision, Policy, PolicyBook, load_policy, policy_event_id
from hub.domain.processor import PartitionProcessor
from hub.domain.receipts import Receipt
from hub.domain.rejections import parse
from hub.events.codec import Codec
from hub.events.envelope import decode_body, decode_envelope
from hub.events.topics import (
    AUDIT,
    EVENTS,
    REJECTED,
    ingest_topic,
    load_topic_specs,
    notify_topic,
    receipts_topic,
)
from hub.log.access import HUB, client_kwargs
from hub.log.broker import EmbeddedBroker
from hub.log.kafka_cluster import EmbeddedCluster
from hub.log.probe import free_port
from hub.log.reading import read_topics
from hub.ops.opening import embedded_security, provision
from producers.bad_input import add_bad_input
from producers.demo import EventsWatcher, demo_keys, publish, start_worker, wait_until_handled
from producers.simulator import Scenario, plan
from tests.support.fakes import fake_seal
from tests.support.paths import DEPLOY

RECIPIENTS = ["bpd", "sao", "opd", "cm", "bchd", "tx", "hsg"]


@dataclass
class Hub:
    """A running hub worker (replaceable, for crash tests) on its own broker."""

    settings: Settings
    bootstrap: list[str]
    codec: Codec
    keys: dict[str, SigningKey]
    policy: Policy
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def worker(self) -> subprocess.Popen[bytes]:
        return self.workers[-1]

    def kwargs(self, who: str = HUB) -> dict[str, object]:
        """How ``who`` (an agency, ``auditor``, the hub) connects: its own principal on the
        secured broker, which refuses it anything deploy/acls.yaml does not grant."""
        return client_kwargs(self.settings, who)

    def read(self, topic: str, who: str = HUB) -> list[Any]:
        return list(read_topics(self.bootstrap, [topic], client_kwargs=self.kwargs(who)))

    def watcher(self) -> EventsWatcher:
        """A started watcher of lead.events (the caller stops it)."""
        w = EventsWatcher(self.bootstrap, self.kwargs())
        w.start()
        return w

    def start_worker(self) -> subprocess.Popen[bytes]:
        self.workers.append(start_worker(self.settings, self.bootstrap, None))
        return self.worker

    def stop_all(self) -> None:
        for w in self.workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in self.workers:
            try:
                w.wait(20)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait(5)

    def scenario(self, seed: int, participants: int) -> Scenario:
        scenario = plan(seed, participants, lambda pid, event_id: fake_seal)
        add_bad_input(scenario, random.Random(seed), self.codec, self.keys)
        return scenario

    def publish(self, scenario: Scenario, watcher: EventsWatcher) -> None:
        """Day by day, bad input after day 10, to whichever worker is current."""
        publish(
            scenario,
            self.settings,
            self.bootstrap,
            self.codec,
            self.keys,
            watcher,
            lambda: self.worker,
            bad_after_days=10,
        )

    def outputs(
        self, expected: Collection[str], watcher: EventsWatcher, timeout_s: float = 240.0
    ) -> dict[str, list[Any]]:
        def read() -> dict[str, list[Any]]:
            topics = wait_until_handled(
                self.bootstrap, watcher, expected, lambda: self.worker, timeout_s
            )
            for agency in RECIPIENTS:  # each as that agency, as it reads its notices
                topics[notify_topic(agency)] = self.read(notify_topic(agency), agency)
            return topics

        return settled_outputs(read, self.codec, self.policy, timeout_s)


@contextlib.contextmanager
def hub_on_a_broker(settings: Settings, codec: Codec) -> Iterator[Hub]:
    """A broker of its own, secured as `leadhub run` secures it (SASL_SSL, a SCRAM user per
    principal, deploy/acls.yaml's ACLs), with the hub's topics; workers are the caller's to
    start."""
    agencies = AgencyRegistry.load(DEPLOY / "agencies.yaml")
    with EmbeddedBroker(
        data_dir=settings.paths.kafka,
        log_file=settings.paths.broker_log,
        security=embedded_security(settings, agencies),
    ) as broker:
        provision(settings, agencies, broker, load_topic_specs(DEPLOY / "topics.yaml", agencies))
        h = Hub(
            settings,
            broker.bootstrap_servers,
            codec,
            demo_keys(settings, agencies),
            load_policy(DEPLOY / "policy.yaml", agencies),
        )
        try:
            yield h
        finally:
            h.stop_all()


@contextlib.contextmanager
def serving_hub(
    data: Path, codec: Codec, **config: Any
) -> Iterator[tuple[Hub, EventsWatcher, str, Path]]:
    """A hub worker serving its API and pages (``web.enabled``) on a broker of its own, its
    policy published: the hub, a watcher of lead.events, the base URL and the config file
    (``config``: more settings, ``web`` merged into the web section)."""
    port = free_port("127.0.0.1")
    path = data / "hub.yaml"
    web = {"enabled": True, "port": port, **config.pop("web", {})}
    settings = {"data_dir": str(data), "keys_dir": str(data / "keys"), "web": web, **config}
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with hub_on_a_broker(load_settings(path), codec) as h:
        watcher = h.watcher()
        try:
            h.workers.append(start_worker(h.settings, h.bootstrap, path))
            watcher.wait_for({str(policy_event_id(h.policy))}, lambda: h.worker, timeout_s=90)
            base = f"http://127.0.0.1:{port}"
            wait_for_http(f"{base}/healthz", h)
            yield h, watcher, base, path
        finally:
            watcher.stop()


@contextlib.contextmanager
def hub_on_a_cluster(settings: Settings, codec: Codec) -> Iterator[tuple[Hub, EmbeddedCluster]]:
    """Three Kafka nodes of its own (replication 3, min ISR 2), secured as a single node is,
    with the hub's topics replicated on all three; workers are the caller's to start, nodes
    the caller's to kill."""
    agencies = AgencyRegistry.load(DEPLOY / "agencies.yaml")
    with EmbeddedCluster(
        3, data_dir=settings.data_dir, security=embedded_security(settings, agencies)
    ) as cluster:
        specs = load_topic_specs(DEPLOY / "topics.yaml", agencies, cluster.replication_factor)
        provision(settings, agencies, cluster, specs)
        h = Hub(
            settings,
            cluster.bootstrap_servers,
            codec,
            demo_keys(settings, agencies),
            load_policy(DEPLOY / "policy.yaml", agencies),
        )
        try:
            yield h, cluster
        finally:
            h.stop_all()


def caught_up(topics: dict[str, list[Any]], codec: Codec, policy: Policy) -> bool:
    """Whether the hub's outputs cover the log they were read with: every decision that
    replay derives from lead.events is on lead.audit. The events read can include a lapse
    the hub admitted a moment ago and has not yet decided (lapses follow the log's clock,
    so no count published in advance includes them): read again until it has."""
    logged = {
        (str(d["event_id"]), d["recipient"])
        for d in (d for r in topics[AUDIT] for d in read_decisions(codec, r.value))
    }
    return set(replay(topics[EVENTS], codec, policy)) <= logged


def settled_outputs(
    read: Callable[[], dict[str, list[Any]]], codec: Codec, policy: Policy, timeout_s: float
) -> dict[str, list[Any]]:
    """Read until the outputs cover the events read, and a second reading of every topic
    finds nothing more (a lapse admitted between reading lead.events and reading the
    notices would otherwise be in one and not the other)."""
    deadline = time.monotonic() + timeout_s
    topics = read()
    while time.monotonic() < deadline:
        if caught_up(topics, codec, policy):
            again = read()
            if {t: len(v) for t, v in again.items()} == {t: len(v) for t, v in topics.items()}:
                return again
            topics = again
        else:
            time.sleep(0.5)
            topics = read()
    raise AssertionError("the hub's outputs never settled on what lead.events holds")


def replay(records: list[Any], codec: Codec, policy: Policy) -> dict[tuple[str, str], Decision]:
    """The auditor's replay: lead.events, per partition in offset order, through the same
    pure processor, from scratch."""
    processors: dict[int, PartitionProcessor] = defaultdict(
        lambda: PartitionProcessor(PolicyBook.of([policy]), RECIPIENTS)
    )
    decisions: dict[tuple[str, str], Decision] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        envelope = decode_envelope(r.value, codec)
        outcome = processors[r.partition].process(envelope, decode_body(envelope, codec))
        for d in outcome.decisions:
            decisions[(str(d.event_id), d.recipient)] = d
    return decisions


@dataclass
class WebHub:
    """A hub worker serving its API and pages, after a seeded scenario went through it."""

    hub: Hub
    base: str
    config: Path
    scenario: Scenario
    outputs: dict[str, list[Any]]


def wait_for_http(url: str, hub: Hub, timeout_s: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if hub.worker.poll() is not None:
            raise AssertionError(f"worker exited with {hub.worker.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout_s} s")


def notices(topics: dict[str, list[Any]], codec: Any) -> list[Notice]:
    return [
        Notice.model_validate(codec.decode(r.value, "notice").datum)
        for agency in RECIPIENTS
        for r in topics[f"lead.notify.{agency}"]
    ]


def check_outputs(hub: Hub, scenario: Scenario, topics: dict[str, list[Any]]) -> list[Notice]:
    """What must hold whatever happened to the worker or the broker, read as a
    ``read_committed`` consumer with no deduplication of its own: every notice is a permit
    the auditor's replay reproduces, none is missing and none is there twice, and the audit
    log has every decision once."""
    codec = hub.codec
    expected = replay(topics[EVENTS], codec, hub.policy)
    sent = notices(topics, codec)
    distinct = {(str(n.event_id), n.recipient): n for n in sent}
    permits = {k for k, d in expected.items() if d.permit}
    assert set(distinct) == permits, "notices must be exactly the replayed permits"
    assert len(sent) == len(distinct), "a notice is sent once"
    for (event_id, recipient), n in distinct.items():
        assert n.notice_id == notice_id(n.event_id, recipient)
        assert n.rule_id == expected[(event_id, recipient)].rule_id
    audit = {}
    records: Counter[str] = Counter()
    for r in topics[AUDIT]:
        decisions = read_decisions(codec, r.value)
        assert decisions, "an audit record holds its event's decisions"
        records[str(decisions[0]["event_id"])] += 1
        for d in decisions:
            audit[(str(d["event_id"]), d["recipient"])] = d
    assert set(audit) == set(expected)
    assert max(records.values(), default=1) == 1, "an event's decisions are logged once"
    assert all(audit[k]["permit"] == d.permit for k, d in expected.items())
    rejected = Counter(parse(r.headers)[0].reason.value for r in topics[REJECTED])
    assert rejected == Counter(b.expected.value for b in scenario.bad), "each dead letter once"
    for n in sent:  # Part 2 never reaches enforcement
        assert not (n.recipient in {"bpd", "sao"} and n.event_type.startswith("treatment_"))
    check_receipts(hub)
    return sent


def check_receipts(hub: Hub) -> None:
    """Each record on an agency's ingest topic has exactly one receipt, signed by the hub,
    on that agency's receipts topic, read with the agency's own credentials."""
    hub_key = hub.keys[HUB]
    hub_keys = PublicKeys({(HUB, hub_key.key_id): hub_key.public})
    for agency in RECIPIENTS:
        published = {(r.partition, r.offset) for r in hub.read(ingest_topic(agency))}
        got = [
            Receipt.model_validate(hub.codec.decode(r.value, "receipt").datum)
            for r in hub.read(receipts_topic(agency), agency)
        ]
        places = Counter((r.ingest_partition, r.ingest_offset) for r in got)
        assert set(places) == published, f"{agency}: a receipt for every record"
        assert max(places.values(), default=1) == 1, f"{agency}: a receipt is written once"
        assert all(r.agency == agency and r.verifies(hub_keys) for r in got)


def expected_view(web: WebHub) -> dict[tuple[str, str], dict[str, tuple[str, ...] | None]]:
    """Independently of the hub's view, from the log: per (agency, participant), each event
    id it may see, with the field names its permit on lead.audit named (None: its own)."""
    codec = web.hub.codec
    seen: dict[tuple[str, str], dict[str, tuple[str, ...] | None]] = defaultdict(dict)
    for r in web.outputs[EVENTS]:
        e = decode_envelope(r.value, codec, canonical=False)
        if e.event_type != "records_viewed":
            seen[(e.source, e.participant_id)][str(e.event_id)] = None
    for d in (d for r in web.outputs[AUDIT] for d in read_decisions(codec, r.value)):
        if d["permit"] and d["event_type"] != "records_viewed":
            fields = tuple(d["fields_disclosed"])
            seen[(d["recipient"], d["participant_id"])][str(d["event_id"])] = fields
    return seen
