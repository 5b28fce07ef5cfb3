"""The hub's log brought up for a run: the embedded broker (or a cluster of them), or an
existing cluster; the hub's topics, and on a secured broker exactly deploy/acls.yaml's
ACLs; and the archive beside it (restored into a broker that lost its log). ``leadhub
up``, ``run`` and the demo open it; everything else is a client of what it yields."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterable, Iterator

import structlog

from hub.config import Settings
from hub.events import TopicSpec, load_topic_specs
from hub.log import (
    Archive,
    ArchiverProcess,
    BrokerSecurity,
    EmbeddedBroker,
    EmbeddedCluster,
    client_kwargs,
    embedded_users,
    restore,
)
from hub.ops.cluster import ensure_topics

log = structlog.get_logger(__name__)


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so `with` blocks unwind and the broker is stopped."""

    def _raise(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def open_broker(
    settings: Settings,
    agencies: Iterable[str],
    ready: Callable[[float], None] = lambda seconds: None,
) -> Iterator[list[str]]:
    """The bootstrap servers of a broker that has every hub topic.

    Embedded mode starts (and finally stops) a broker of our own, and tells ``ready`` how
    many seconds it took until clients could use it (JVM up, topics and ACLs in place);
    with ``bootstrap_servers`` set, the same code starts nothing and only ensures topics.
    """
    agencies = list(agencies)
    specs = load_topic_specs(settings.topics_file, agencies, settings.broker.replication_factor)
    if not settings.broker.is_embedded:
        ensure_topics(settings.broker.bootstrap_servers, specs, settings.broker.client_kwargs())
        yield list(settings.broker.bootstrap_servers)
        return
    emb = settings.broker.embedded
    broker: EmbeddedBroker | EmbeddedCluster
    if emb.nodes > 1:  # a replicated cluster on loopback (hub.log.kafka_cluster)
        broker = EmbeddedCluster(
            emb.nodes,
            data_dir=settings.data_dir,
            host=emb.host,
            heap_mb=emb.heap_mb,
            start_timeout_s=emb.start_timeout_s,
            security=embedded_security(settings, agencies),
        )
        rf = settings.broker.replication_factor or broker.replication_factor
        specs = [s.model_copy(update={"replication_factor": rf}) for s in specs]
    else:
        broker = EmbeddedBroker(
            host=emb.host,
            port=emb.port,
            data_dir=settings.paths.kafka,
            log_file=settings.paths.broker_log,
            start_timeout_s=emb.start_timeout_s,
            heap_mb=emb.heap_mb,
            security=embedded_security(settings, agencies),
        )
    began = time.monotonic()
    with _sigterm_as_exit(), broker:
        provision(settings, agencies, broker, specs)
        took = time.monotonic() - began
        log.info("broker_ready", ready_s=round(took, 2), formatted=broker.formatted)
        ready(took)
        if not settings.audit.archive:
            yield broker.bootstrap_servers
            return
        with _archived(settings, broker, [s.name for s in specs]):
            yield broker.bootstrap_servers


def embedded_security(settings: Settings, agencies: Iterable[str]) -> BrokerSecurity | None:
    """How the embedded broker is secured (``broker.embedded.secured``): a SCRAM user for
    every principal of deploy/acls.yaml; None for a PLAINTEXT broker."""
    if not settings.broker.embedded.secured:
        return None
    return BrokerSecurity(users=embedded_users(settings, agencies))


def provision(
    settings: Settings,
    agencies: Iterable[str],
    broker: EmbeddedBroker | EmbeddedCluster,
    specs: list[TopicSpec],
) -> None:
    """The hub's topics on a broker the hub started, and on a secured one exactly
    deploy/acls.yaml's ACLs, both made as the broker's admin."""
    if broker.security is not None:
        ensure_topics(broker.bootstrap_servers, specs, broker.client_kwargs())
        _apply_acls(settings, agencies, broker)
    else:
        ensure_topics(broker.bootstrap_servers, specs, settings.broker.client_kwargs())


def _apply_acls(
    settings: Settings, agencies: Iterable[str], broker: EmbeddedBroker | EmbeddedCluster
) -> None:
    """Exactly deploy/acls.yaml's ACLs on the embedded broker, as `leadhub apply` makes them
    on a cluster: whatever the hub's own processes do afterwards, they do as principals the
    authorizer checks."""
    from hub.ops.cluster import admin_client, apply_acls, observe
    from hub.ops.plan import desired_state, diff

    desired = desired_state(settings, list(agencies))
    with admin_client(broker.bootstrap_servers, broker.client_kwargs(), 30.0) as admin:
        d = diff(desired, observe(admin, [t.name for t in desired.topics], 30.0))
        changed = apply_acls(admin, d, 30.0)
    if changed:
        log.info("broker_acls_applied", changes=len(changed))


@contextlib.contextmanager
def _archived(
    settings: Settings, broker: EmbeddedBroker | EmbeddedCluster, topics: list[str]
) -> Iterator[None]:
    """Archive everything the broker gets (in a process of its own, so that it never
    competes with a worker for one interpreter) until the caller is done (its workers
    stopped) and the broker is quiet. The broker's own log is durable; the archive is the
    auditor's copy and the disaster recovery: a broker whose log directory was lost starts
    empty, and is restored from the archive before anything else reads it."""
    archive = Archive(
        settings.paths.archive, settings.schemas_dir, settings.audit.max_segment_records
    )
    as_hub = client_kwargs(settings)
    if broker.formatted and archive.exists:
        restore(archive, broker.bootstrap_servers, as_hub)
    archiver = ArchiverProcess(settings, broker.bootstrap_servers, topics, as_hub)
    try:
        yield
    finally:
        archiver.stop()
