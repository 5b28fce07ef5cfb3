"""The hub worker: a faust-streaming app whose agents are thin adapters over
``hub.streams.handlers``.

- ``gatekeeper`` on every lead.ingest.<agency>: admit or dead-letter.
- ``disclosure`` on lead.events: per partition, fold and decide; send sealed notices,
  audit records, and the hub's own lapse events.
- ``notary`` on lead.checkpoints: holding its one partition makes a worker the notary,
  which grows the Merkle tree from lead.audit (on a plain consumer) and signs checkpoints.

Exactly once, from the broker: each batch's outputs and its consumer offsets are one
Kafka transaction per input partition (``hub.streams.transactions``), and every reader
reads ``read_committed``. A crash at any point leaves all of a step's outputs or none.

State is rebuilt from the log, never from faust's changelog: at start the gatekeeper
reads the accepted ids from lead.events, and on every assignment the disclosure agent
seeks each partition back to where its in-memory state ends, folding silently up to the
committed offset (where the committed outputs end) and emitting from there.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from consumers.tail import read_topics
from hub.agencies import AgencyRegistry
from hub.audit.note import Checkpoint, NoteError, parse_note
from hub.config import Settings
from hub.crypto.fields import DataKeyStore
from hub.crypto.sealing import load_recipient_key
from hub.crypto.signing import PublicKeys, SigningKey, load_signing_key
from hub.events.codec import Codec
from hub.events.envelope import CE_TYPE_PREFIX, SYSTEM_PARTICIPANT, decode_envelope
from hub.events.errors import EventError
from hub.events.models import PolicyPublished
from hub.events.schemas import SchemaRegistry
from hub.gatekeeper import Clock, Gatekeeper, LogClock, Rejected, wall_clock
from hub.policy import Policy, PolicyBook, load_policy
from hub.policy.archive import keep
from hub.processor import PartitionProcessor
from hub.rejections import REJECTION_ID
from hub.streams.credentials import aiokafka_kwargs, faust_credentials
from hub.streams.handlers import (
    AuditHandler,
    CanonicalHandler,
    IngestHandler,
    Out,
    Pending,
    carried,
)
from hub.streams.transactions import Fenced, Transactions
from hub.topics import (
    AUDIT,
    CHECKPOINTS,
    EVENTS,
    HUB,
    REJECTED,
    ingest_topic,
    load_topic_specs,
    notify_topic,
)
from hub.web.context import WebContext
from producers.sdk import Publisher

log = structlog.get_logger(__name__)
LAPSE_TYPE = f"{CE_TYPE_PREFIX}intake_window_expired".encode()
GROUP = "leadhub"  # the faust app's id, so its consumer group and transactions' group
POLICY_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0004")


@dataclass
class Runtime:
    """Everything the agents share: registries, keys, handlers, per-partition positions."""

    settings: Settings
    bootstrap: list[str]
    codec: Codec
    agencies: AgencyRegistry
    policy: Policy
    hub_key: SigningKey
    recipient_keys: dict[str, tuple[str, Any]]
    ingest: IngestHandler
    notary: AuditHandler
    events_partitions: int
    canonical: dict[int, CanonicalHandler] = field(default_factory=dict)
    next_offset: dict[int, int] = field(default_factory=dict)
    silent_until: dict[int, int] = field(default_factory=dict)
    # lead.events partitions another worker fenced this one from: their state is dropped
    # and their records skipped until an assignment gives them back (and rebuilds them)
    fenced: set[int] = field(default_factory=set)
    transactions: Transactions | None = None  # set once the worker's loop runs
    # After a disaster restore (the broker's log rebuilt from the archive: no committed
    # offsets, and each topic archived up to a different moment), the worker derives the
    # whole log again; the ids (Out.id) of outputs already on the log are learned at start
    # and those outputs are not sent again. Empty on every other start: the transactions'
    # committed offsets say exactly where the outputs end.
    sent: set[str] = field(default_factory=set)
    web: WebContext | None = None  # the HTTP API and pages, when enabled
    # the accepted ids of every lead.events partition, whoever wrote them (see follow_events)
    events_read: dict[int, int] = field(default_factory=dict)  # next offset, per partition
    assigned_at: float = 0.0  # monotonic time of the latest partition assignment
    events_idle_at: float = -1.0  # monotonic time the follower last found nothing new

    def learn(self, topic: str, headers: Iterable[tuple[str, bytes]]) -> None:
        found = dict(headers)
        if topic == EVENTS and found.get("ce_type") != LAPSE_TYPE:
            return  # of lead.events, the hub derives only its lapses
        output_id = found.get(REJECTION_ID if topic == REJECTED else "ce_id")
        if output_id:
            self.sent.add(f"{topic}/{output_id.decode()}")

    def unsent(self, outs: Iterable[Out]) -> list[Out]:
        """``outs`` less those on the log already (see ``sent``); each is dropped once, as
        the worker derives each output once, so the set empties as it catches up."""
        if not self.sent:
            return list(outs)
        kept = []
        for out in outs:
            if out.id is not None and out.id in self.sent:
                self.sent.discard(out.id)
            else:
                kept.append(out)
        return kept

    def drop(self, partition: int) -> None:
        """Forget what this worker folded of a lead.events partition it no longer holds."""
        self.canonical.pop(partition, None)
        self.next_offset.pop(partition, None)
        self.fenced.add(partition)

    @property
    def recipients(self) -> list[str]:
        return [a for a in self.agencies if a != HUB]

    def canonical_for(self, partition: int) -> CanonicalHandler:
        handler = self.canonical.get(partition)
        if handler is None:
            processor = PartitionProcessor(PolicyBook.of([self.policy]), self.recipients)
            handler = CanonicalHandler(
                self.codec,
                processor,
                self.recipient_keys,
                self.hub_key,
                partition,
                DataKeyStore(self.settings.data_dir / "datakeys"),
                observe=self.web.view.record if self.web is not None else None,
            )
            self.canonical[partition] = handler
        return handler


def load_runtime(settings: Settings, bootstrap: list[str]) -> Runtime:
    agencies = AgencyRegistry.load(settings.agencies_file)
    codec = Codec(SchemaRegistry.load(settings.schemas_dir), settings.limits.max_event_bytes)
    keys = PublicKeys.load(settings.keys_dir)
    recipients = [a for a in agencies if a != HUB]
    events_spec = next(
        s for s in load_topic_specs(settings.topics_file, agencies) if s.name == EVENTS
    )
    clock: Clock = LogClock() if settings.streams.log_clock else wall_clock
    hub_key = load_signing_key(settings.keys_dir, HUB)
    web = (
        WebContext(settings, codec, agencies, keys, hub_key, bootstrap)
        if settings.web.enabled
        else None
    )
    return Runtime(
        settings=settings,
        bootstrap=bootstrap,
        codec=codec,
        agencies=agencies,
        policy=load_policy(settings.policy_file, agencies),
        hub_key=hub_key,
        recipient_keys={a: load_recipient_key(settings.keys_dir, a) for a in recipients},
        ingest=IngestHandler(
            Gatekeeper(codec, agencies, keys, settings.site.intake_window_days),
            clock,
            events_spec.partitions,
        ),
        notary=AuditHandler(settings.audit.origin, hub_key),
        events_partitions=events_spec.partitions,
        web=web,
    )


def committed_offsets(bootstrap: list[str], client_kwargs: dict[str, object]) -> bool:
    """Whether the worker's group has committed offsets: on a broker restored from the
    archive it has none (consumer offsets are not archived)."""
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **client_kwargs)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                return bool(admin.list_group_offsets(GROUP).get(GROUP))
            except KafkaError as exc:  # the group coordinator of a new broker is loading
                if not exc.retriable or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        admin.close()


def policy_event_id(policy: Policy) -> uuid.UUID:
    """One policy_published per policy content: restarting the hub never republishes it."""
    return uuid.uuid5(POLICY_NAMESPACE, policy.sha256)


def prepare(runtime: Runtime) -> None:
    """Before the agents start: learn the accepted ids from lead.events, and publish the
    policy in force if the log does not yet say so."""
    published: set[str] = set()
    kwargs = runtime.settings.broker.client_kwargs()
    if not committed_offsets(runtime.bootstrap, kwargs):
        outputs = [AUDIT, REJECTED, *(notify_topic(a) for a in runtime.recipients)]
        for record in read_topics(runtime.bootstrap, outputs, client_kwargs=kwargs):
            runtime.learn(record.topic, record.headers or [])
    for record in read_topics(runtime.bootstrap, [CHECKPOINTS], client_kwargs=kwargs):
        try:
            size = Checkpoint.parse(parse_note(record.value)[0]).size
        except NoteError:
            continue
        runtime.notary.published = max(runtime.notary.published, size)
    keep(runtime.settings.policy_file, runtime.policy, runtime.settings.archive_dir / "policies")
    for record in read_topics(runtime.bootstrap, [EVENTS], client_kwargs=kwargs):
        runtime.ingest.remember(record.headers or [])
        runtime.events_read[record.partition] = record.offset + 1
        if runtime.sent:
            runtime.learn(EVENTS, record.headers or [])
        try:
            envelope = decode_envelope(record.value, runtime.codec, canonical=False)
        except EventError:
            continue
        if envelope.event_type == "policy_published":
            published.add(envelope.event_id.hex)
        if isinstance(runtime.ingest.clock, LogClock):
            runtime.ingest.clock(envelope)
    policy_event = policy_event_id(runtime.policy)
    if policy_event.hex in published:
        return
    # On the log's clock (a simulation) the policy holds from the start of the log: stamping
    # it with today would move the simulated calendar to today and lapse every window.
    clock = runtime.ingest.clock
    now = clock.now if isinstance(clock, LogClock) else datetime.now(UTC)
    body = PolicyPublished(
        policy_version=runtime.policy.version,
        policy_sha256=runtime.policy.sha256,
        effective_at=now,
    )
    with Publisher(
        key=runtime.hub_key,
        codec=runtime.codec,
        bootstrap_servers=runtime.bootstrap,
        client_kwargs=kwargs,
    ) as publisher:
        publisher.publish(
            body, participant_id=SYSTEM_PARTICIPANT, occurred_at=now, event_id=policy_event
        )
    log.info("policy_published", version=runtime.policy.version)


def build_app(runtime: Runtime) -> Any:
    import faust
    from faust.transport.drivers import aiokafka as faust_kafka
    from faust.types import TP

    settings = runtime.settings
    serving = runtime.web is not None and can_listen(settings.web.host, settings.web.port)
    if runtime.web is not None and not serving:  # the server would take the worker down
        log.error("web_not_served", reason="address in use", port=settings.web.port)
    datadir = (settings.data_dir / "faust").resolve()
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        GROUP,
        broker=[f"kafka://{server}" for server in runtime.bootstrap],
        processing_guarantee="at_least_once",  # no InitProducerId on the embedded broker
        broker_credentials=faust_credentials(settings.broker.security),
        broker_client_id=settings.broker.client_id,
        broker_session_timeout=settings.streams.session_timeout_s,
        broker_heartbeat_interval=1,
        broker_commit_interval=settings.streams.commit_interval_s,
        store="memory://",  # derived state is rebuilt from the log, see the module doc
        web_enabled=serving,
        web_bind=settings.web.host,
        web_port=settings.web.port,
        topic_disable_leader=True,
        topic_allow_declare=False,  # the hub creates its topics; production ACLs forbid more
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(datadir),
        autodiscover=False,
        worker_redirect_stdouts=False,
    )
    ingest = app.topic(*[ingest_topic(a) for a in runtime.agencies])
    events = app.topic(EVENTS)
    sources = {EVENTS, *(ingest_topic(a) for a in runtime.agencies)}  # steps with outputs
    traced = trace_agents(app, settings.streams.tracing)

    broker = settings.broker
    transactions = Transactions(
        runtime.bootstrap, app.conf.id, aiokafka_kwargs(broker.security, broker.client_id)
    )
    runtime.transactions = transactions

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_transactions(app: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        await transactions.stop()  # after the agents stopped: nothing is mid-commit

    async def send_all(outs: Iterable[Out]) -> None:
        """The notary's checkpoints, outside any step's transaction (a checkpoint signs the
        tree it has read; a repeat after a crash is the same statement again)."""
        futures = [
            await app.producer.send(o.topic, o.key, o.value, o.partition, None, o.headers)
            for o in outs
        ]
        if futures:
            await asyncio.gather(*futures)

    class PromptConsumerThread(faust_kafka.AIOKafkaConsumerThread):
        """faust fixes fetch_max_wait at 1.5 s; the hub wants notices within milliseconds.
        And the hub's steps are transactions: read only what they committed."""

        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_max_wait_ms = settings.streams.fetch_max_wait_ms
            consumer._isolation_level = "read_committed"
            return consumer

    class RebuildingConsumer(faust_kafka.Consumer):
        """Offsets are committed in each step's transaction, never by faust. On assignment,
        fence the partitions' previous owner first (``Transactions.hold``), then read the
        committed offsets; seek each lead.events partition to where our in-memory state
        ends; fold silently up to what was committed, emit after it."""

        def _new_consumer_thread(self) -> Any:
            return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

        async def _commit(self, offsets: Any) -> bool:
            return True  # committed already, with the outputs (Transactions.commit)

        async def perform_seek(self) -> None:
            async with stepping:
                await self._seek_held()

        async def _seek_held(self) -> None:
            held = [(tp.topic, tp.partition) for tp in self.assignment() if tp.topic in sources]
            await transactions.hold(held)
            await super().perform_seek()
            runtime.assigned_at = time.monotonic()
            for tp in self.assignment():
                if tp.topic != EVENTS:
                    continue
                runtime.fenced.discard(tp.partition)
                committed = self._committed_offset.get(tp) or 0
                start = runtime.next_offset.get(tp.partition, 0)
                runtime.silent_until[tp.partition] = committed
                await self.seek(tp, start)
                self._committed_offset[tp] = start  # else faust sees a gap and stops committing
                log.info(
                    "partition_resumed",
                    partition=tp.partition,
                    fold_from=start,
                    emit_from=max(start, committed),
                )

    app.transport.Consumer = RebuildingConsumer  # type: ignore[misc]

    # Records are taken in small batches and a batch's outputs are confirmed together
    # before faust acknowledges its records: one round trip per batch, not per record,
    # and still nothing counts as processed before what it caused is on the log.
    batch, within = settings.streams.batch_max, settings.streams.batch_within_ms / 1000

    verifiers = ThreadPoolExecutor(
        settings.streams.signature_threads, thread_name_prefix="leadhub-verify"
    )

    settled: list[tuple[tuple[str, int, int], list[Out]]] = []
    # A step (fold, decide, commit) and an assignment (fence, read offsets, seek) never
    # interleave, so an assignment never sees in-memory state ahead of what was committed.
    # (Not the revocation: faust's revocation waits for the agents' taken events, which
    # would wait for this lock.)
    stepping = asyncio.Lock()

    @app.agent(ingest)
    async def gatekeeper(stream: Any) -> None:
        async for taken in stream.take_events(batch, within=within):
            async with stepping:
                await admit_step(taken)

    async def admit_step(taken: Sequence[Any]) -> None:
        spans = traced(taken)
        await caught_up(runtime)
        await admit_batch(runtime, verifiers, taken, settled)
        for (topic, partition), steps in by_partition(settled).items():
            outs = [o for _, outs_of in steps for o in outs_of]
            try:
                await transactions.commit(
                    (topic, partition), runtime.unsent(outs), steps[-1][0] + 1
                )
            except Fenced as exc:
                log.warning("fenced", step="gatekeeper", detail=str(exc))
                runtime.ingest.forget(o for o in outs if o.topic == EVENTS)
                continue
            if runtime.web is not None:
                for offset, outs_of in steps:
                    runtime.web.settle((topic, partition, offset), outs_of)
        finish(spans)
        settled.clear()

    @app.agent(events)
    async def disclosure(stream: Any) -> None:
        async for taken in stream.take_events(batch, within=within):
            async with stepping:
                await disclose_step(taken)

    async def disclose_step(taken: Sequence[Any]) -> None:
        spans = traced(taken)
        steps: dict[int, list[Out]] = {}  # per partition, when it emitted anything
        for event in taken:
            m = event.message
            p = m.partition
            if p in runtime.fenced or m.offset < runtime.next_offset.get(p, 0):
                continue  # not ours any more, or folded already (a redelivery)
            emit = m.offset >= runtime.silent_until.get(p, 0)
            trace = carried(m.headers or [])
            outs = runtime.canonical_for(p).handle(event.value, emit=emit, trace=trace)
            if emit:
                steps.setdefault(p, []).extend(outs)
            runtime.next_offset[p] = m.offset + 1
        for p, outs in steps.items():
            try:
                await transactions.commit((EVENTS, p), runtime.unsent(outs), runtime.next_offset[p])
            except Fenced as exc:
                log.warning("fenced", step="disclosure", detail=str(exc))
                runtime.drop(p)
        finish(spans)

    notary_token = TP(CHECKPOINTS, 0)

    @app.agent(app.topic(CHECKPOINTS))
    async def notary(stream: Any) -> None:
        """Whichever worker holds lead.checkpoints (one partition) is the notary. Its records
        (checkpoints, cosignatures) need nothing from it; see ``audit_leaves``."""
        async for _ in stream.events():
            pass

    @app.task  # type: ignore[untyped-decorator]
    async def accepted_ids() -> None:
        await follow_events(runtime)

    @app.task  # type: ignore[untyped-decorator]
    async def audit_leaves() -> None:
        await read_audit_leaves(runtime, lambda: notary_token in app.consumer.assignment())

    @app.timer(interval=settings.audit.checkpoint_interval_s)  # type: ignore[untyped-decorator]
    async def checkpoint() -> None:
        await send_all(runtime.notary.checkpoint())

    if serving:
        serve_web(app, runtime)
    return app


def trace_agents(app: Any, exporter: str) -> Callable[[Sequence[Any]], list[Any]]:
    """A span per record each agent processes, parented by the record's trace context.
    faust.contrib.opentelemetry opens them for agents that take one event at a time (the
    notary); for the batched agents the returned function opens one per event of a batch
    (``finish`` closes them once the batch's outputs are on the log). Spans go wherever the
    operator's OpenTelemetry SDK sends them (e.g. under ``opentelemetry-instrument``);
    ``console`` installs one writing JSON lines to stdout. Spans carry topics, offsets and
    pseudonymous keys, never payloads. Without an SDK nothing is opened at all."""
    from faust.contrib.opentelemetry import sdk_is_configured, setup_opentelemetry

    if exporter == "console":
        import sys

        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        provider = TracerProvider()
        lines = ConsoleSpanExporter(
            out=sys.stdout, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
        provider.add_span_processor(SimpleSpanProcessor(lines))
        trace.set_tracer_provider(provider)
    setup_opentelemetry(app)
    if not sdk_is_configured():
        return lambda taken: []
    from opentelemetry import propagate, trace

    tracer = trace.get_tracer("leadhub")

    def open_spans(taken: Sequence[Any]) -> list[Any]:
        spans = []
        for event in taken:
            m = event.message
            carrier = {k: v.decode("latin-1") for k, v in carried(m.headers or [])}
            spans.append(
                tracer.start_span(
                    f"{m.topic} process",
                    context=propagate.extract(carrier),
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": m.topic,
                        "messaging.destination.partition.id": str(m.partition),
                        "messaging.kafka.message.offset": m.offset,
                    },
                )
            )
        return spans

    return open_spans


def finish(spans: Iterable[Any]) -> None:
    for span in spans:
        span.end()


def counts(runtime: Runtime) -> Counter[str]:
    """Every handler's counters, summed: what /metrics shows."""
    total = Counter(runtime.ingest.counts)
    for handler in runtime.canonical.values():
        total.update(handler.counts)
    if runtime.web is not None:
        total.update(runtime.web.counts)
    return total


def serve_web(app: Any, runtime: Runtime) -> None:
    """The API and pages on the worker's own loop (faust.contrib.asgi), producing through
    the worker's producer, so a submission is on the log before it is answered. Traces
    follow a record from the HTTP request through the agents (faust.contrib.opentelemetry)
    once an OpenTelemetry SDK is configured; until then the API is a no-op."""
    from faust.contrib.asgi import serve_asgi

    from hub.web.metrics import hub_registry
    from hub.web.server import create_asgi

    web = runtime.web
    assert web is not None

    async def produce(
        topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> tuple[int, int]:
        metadata = await (await app.producer.send(topic, key, value, None, None, headers))
        return metadata.partition, metadata.offset

    web.produce = produce
    registry = hub_registry(lambda: counts(runtime), lambda: consumer_lag(app), app)
    serve_asgi(app, create_asgi(web, registry), access_log=False)


def can_listen(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def consumer_lag(app: Any) -> dict[tuple[str, int], int]:
    """Per assigned partition: the broker's high watermark minus the worker's position (the
    embedded broker's watermark can lag the true end, shared/BROKER.md: lag reads low)."""
    consumer = app.consumer
    lag: dict[tuple[str, int], int] = {}
    for tp in consumer.assignment():
        high = consumer.highwater(tp)
        position = consumer._read_offset.get(tp)
        if high is not None and position is not None:
            lag[(tp.topic, tp.partition)] = max(0, high - position - 1)
    return lag


async def follow_events(runtime: Runtime) -> None:
    """Learn every accepted id as it reaches lead.events (committed: read_committed),
    whichever worker wrote it. An agency may send the same event again at any time, and
    with several workers the copy can reach a worker that did not admit the first (an
    ingest partition taken over, or another agency topic's partition): the gatekeeper
    needs every partition's ids, not only those of the canonical partitions it folds. A
    plain consumer (headers only) from where ``prepare`` stopped reading."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    broker = runtime.settings.broker
    consumer = AIOKafkaConsumer(
        bootstrap_servers=runtime.bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        fetch_max_wait_ms=runtime.settings.streams.fetch_max_wait_ms,
        **aiokafka_kwargs(broker.security, broker.client_id),
    )
    await consumer.start()
    try:
        tps = [TopicPartition(EVENTS, p) for p in range(runtime.events_partitions)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, runtime.events_read.get(tp.partition, 0))
        while True:
            asked = time.monotonic()
            fetched = await consumer.getmany(timeout_ms=200)
            for tp, records in fetched.items():
                for record in records:
                    runtime.ingest.remember(record.headers or [])
                    runtime.events_read[tp.partition] = record.offset + 1
            if not fetched:
                runtime.events_idle_at = asked
    finally:
        await consumer.stop()


async def caught_up(runtime: Runtime, timeout_s: float = 15.0) -> None:
    """After an assignment, wait until the follower has found lead.events quiet once
    since: every id accepted before the assignment is known then."""
    deadline = time.monotonic() + timeout_s
    while runtime.events_idle_at < runtime.assigned_at and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def read_audit_leaves(runtime: Runtime, is_notary: Callable[[], bool]) -> None:
    """The notary reads lead.audit, every decision, on a plain consumer of its own:
    faust's machinery per message costs more than the hub's own work per decision, and
    would hold back the ingest and canonical records fetched with them. The tree lives in
    memory, so it is (re)built from the first record."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    broker = runtime.settings.broker
    consumer = AIOKafkaConsumer(
        bootstrap_servers=runtime.bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        **aiokafka_kwargs(broker.security, broker.client_id),
        fetch_max_wait_ms=runtime.settings.streams.fetch_max_wait_ms,
    )
    audit = TopicPartition(AUDIT, 0)
    await consumer.start()
    try:
        consumer.assign([audit])
        reading = False
        while True:
            if not is_notary():
                reading = False
                await asyncio.sleep(0.2)
                continue
            if not reading:
                consumer.seek(audit, runtime.notary.next_offset)
                reading = True
            fetched = await consumer.getmany(audit, timeout_ms=200)
            for record in fetched.get(audit, []):
                runtime.notary.add(record.offset, record.value)
    finally:
        await consumer.stop()


def by_partition(
    settled: Sequence[tuple[tuple[str, int, int], list[Out]]],
) -> dict[tuple[str, int], list[tuple[int, list[Out]]]]:
    """A batch's gatekeeper steps, per input partition in offset order: one transaction each."""
    grouped: dict[tuple[str, int], list[tuple[int, list[Out]]]] = {}
    for (topic, partition, offset), outs in settled:
        grouped.setdefault((topic, partition), []).append((offset, outs))
    return grouped


def _check_signatures(ingest: IngestHandler, pending: list[Pending]) -> list[Rejected | None]:
    return [ingest.check_signature(p) for p in pending]


async def admit_batch(
    runtime: Runtime,
    verifiers: ThreadPoolExecutor,
    taken: Sequence[Any],
    settled: list[tuple[tuple[str, int, int], list[Out]]] | None = None,
) -> list[Out]:
    """The gatekeeper on a batch of faust events: screen each, check the signatures on
    the verifier threads (Ed25519 verification releases the GIL, so the event loop goes on
    with the disclosure agent's work meanwhile), then finish each in log order."""
    pending = [
        runtime.ingest.screen(
            m.topic, m.partition, m.offset, event.key, event.value, m.headers or []
        )
        for event in taken
        for m in (event.message,)
    ]
    step = -(-len(pending) // runtime.settings.streams.signature_threads)
    chunks = [pending[i : i + step] for i in range(0, len(pending), step)]
    loop = asyncio.get_running_loop()
    checked = await asyncio.gather(
        *(loop.run_in_executor(verifiers, _check_signatures, runtime.ingest, c) for c in chunks)
    )
    signatures = [s for chunk in checked for s in chunk]
    outs: list[Out] = []
    for p, signature in zip(pending, signatures, strict=True):
        outs_of = runtime.ingest.finish(p, signature)
        if settled is not None:
            settled.append(((p.topic, p.partition, p.offset), outs_of))
        outs += outs_of
    return outs


def run(settings: Settings, bootstrap: list[str]) -> None:
    """Run the worker in this process until SIGTERM or Ctrl-C."""
    import faust

    runtime = load_runtime(settings, bootstrap)
    prepare(runtime)
    app = build_app(runtime)
    worker = faust.Worker(app, loglevel=settings.log_level.upper(), quiet=True)
    worker.execute_from_commandline()
