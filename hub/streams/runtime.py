"""What one worker process holds: its settings, keys, codec, policy, the handlers of the
partitions it folds, and where its reading of the log stands. Built once at start
(``load_runtime``), prepared from the log (``prepare``: accepted ids, the notary's last
checkpoint, the policy published), and followed by plain consumers beside the agents
(``follow_events``, ``read_audit_leaves``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from hub.config import Settings
from hub.context import HubContext
from hub.crypto import Checkpoint, NoteError, linkage_secret, parse_note
from hub.domain import (
    DUE_TYPES,
    LINKER_FOLLOWS,
    REJECTION_ID,
    Clock,
    Gatekeeper,
    Linker,
    LogClock,
    OnTheLog,
    PartitionProcessor,
    PolicyBook,
    Positions,
    keep,
    policy_event_id,
    tick_id,
    wall_clock,
)
from hub.events import (
    AUDIT,
    CE_TYPE_PREFIX,
    CHECKPOINTS,
    EVENTS,
    REJECTED,
    SYSTEM_PARTICIPANT,
    ClockTicked,
    Envelope,
    EventError,
    PolicyPublished,
    decode_body,
    decode_envelope,
    identity_opener,
    notify_topic,
    receipts_topic,
)
from hub.log import Publisher, read_topics
from hub.streams.credentials import aiokafka_kwargs
from hub.streams.handlers import (
    AuditHandler,
    CanonicalHandler,
    IngestHandler,
    Out,
    hub_event,
)
from hub.streams.transactions import Transactions
from hub.web import WebContext

log = structlog.get_logger(__name__)


# the hub events a worker derives from lead.events itself: what the clock made due
DUE_CE_TYPES = frozenset(f"{CE_TYPE_PREFIX}{t}".encode() for t in DUE_TYPES)
LINKER_CE_TYPES = frozenset(f"{CE_TYPE_PREFIX}{t}".encode() for t in LINKER_FOLLOWS)


GROUP = "leadhub"  # the steps' consumer group, whose offsets the transactions commit


@dataclass
class Runtime:
    """What one worker process holds beyond its ``HubContext``: the handlers of the
    partitions it folds, and where its reading of the log stands (see ``hub.domain.seen``
    for what each kind of "seen" means)."""

    context: HubContext
    bootstrap: list[str]
    ingest: IngestHandler
    notary: AuditHandler
    events_partitions: int
    canonical: dict[int, CanonicalHandler] = field(default_factory=dict)
    folded: Positions = field(default_factory=Positions)  # lead.events, per partition
    silent_until: dict[int, int] = field(default_factory=dict)
    # lead.events partitions another worker fenced this one from: their state is dropped
    # and their records skipped until an assignment gives them back (and rebuilds them)
    fenced: set[int] = field(default_factory=set)
    transactions: Transactions | None = None  # set once the worker's loop runs
    # After a disaster restore (the broker's log rebuilt from the archive: no committed
    # offsets, and each topic archived up to a different moment), the worker derives the
    # whole log again; the outputs already on the log are learned at start and not sent
    # again. Empty on every other start: the committed offsets say where the outputs end.
    on_log: OnTheLog = field(default_factory=OnTheLog)
    web: WebContext | None = None  # the HTTP API and pages, when enabled
    # the accepted ids of every lead.events partition, whoever wrote them (see follow_events)
    followed: Positions = field(default_factory=Positions)
    # every partition's referrals and links, whoever folds them (see follow_events)
    linker: Linker | None = None
    assigned_at: float = 0.0  # monotonic time of the latest partition assignment
    events_idle_at: float = -1.0  # monotonic time the follower last found nothing new

    @property
    def settings(self) -> Settings:
        return self.context.settings

    def learn(self, topic: str, headers: Iterable[tuple[str, bytes]]) -> None:
        found = dict(headers)
        if topic == EVENTS and found.get("ce_type") not in DUE_CE_TYPES:
            return  # of lead.events, the hub derives only what the clock made due
        output_id = found.get(REJECTION_ID if topic == REJECTED else "ce_id")
        if output_id:
            self.on_log.add(f"{topic}/{output_id.decode()}")

    def unsent(self, outs: Iterable[Out]) -> list[Out]:
        return self.on_log.unsent(outs, lambda out: out.id)

    def follow(self, envelope: Envelope) -> None:
        """Fold one lead.events record into the linker, if it is of a type it follows."""
        if self.linker is None or envelope.event_type not in LINKER_FOLLOWS:
            return
        try:
            body = decode_body(envelope, self.context.codec, canonical=False)
        except EventError:
            return
        self.linker.follow(envelope.participant_id, envelope.event_type, body.model_dump())

    def drop(self, partition: int) -> None:
        """Forget what this worker folded of a lead.events partition it no longer holds."""
        self.canonical.pop(partition, None)
        self.folded.forget(partition)
        self.fenced.add(partition)

    def canonical_for(self, partition: int) -> CanonicalHandler:
        handler = self.canonical.get(partition)
        if handler is None:
            context = self.context
            processor = PartitionProcessor(PolicyBook.of([context.policy]), context.recipients)
            handler = CanonicalHandler(
                context.codec,
                processor,
                context.notice_sealer,
                context.hub_key,
                partition,
                context.datakeys,
                observe=self.web.view.record if self.web is not None else None,
                linker=self.linker,
            )
            self.canonical[partition] = handler
        return handler


def load_runtime(context: HubContext, bootstrap: list[str]) -> Runtime:
    settings = context.settings
    clock: Clock = LogClock() if settings.streams.log_clock else wall_clock
    codec, agencies = context.codec, context.agencies
    web = WebContext(context, bootstrap) if settings.web.enabled else None
    events_partitions = context.topic(EVENTS).partitions
    return Runtime(
        context=context,
        bootstrap=bootstrap,
        ingest=IngestHandler(
            Gatekeeper(
                codec,
                agencies,
                context.public_keys,
                settings.site.intake_window_days,
                context.intake_keys,
                events_partitions,
            ),
            clock,
            events_partitions,
            context.datakeys,
            context.hub_key,
        ),
        notary=AuditHandler(settings.audit.origin, context.hub_key),
        events_partitions=events_partitions,
        web=web,
        linker=Linker(
            linkage_secret(settings.paths.linkage_secret),
            identity_opener(context.datakeys, codec),
        ),
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


def prepare(runtime: Runtime) -> None:
    """Before the agents start: learn the accepted ids from lead.events, and publish the
    policy in force if the log does not yet say so."""
    published: set[str] = set()
    kwargs = runtime.settings.broker.client_kwargs()
    if not committed_offsets(runtime.bootstrap, kwargs):
        recipients = runtime.context.recipients
        outputs = [
            AUDIT,
            REJECTED,
            *(notify_topic(a) for a in recipients),
            *(receipts_topic(a) for a in recipients),
        ]
        for record in read_topics(runtime.bootstrap, outputs, client_kwargs=kwargs):
            runtime.learn(record.topic, record.headers or [])
    for record in read_topics(runtime.bootstrap, [CHECKPOINTS], client_kwargs=kwargs):
        try:
            size = Checkpoint.parse(parse_note(record.value)[0]).size
        except NoteError:
            continue
        runtime.notary.published = max(runtime.notary.published, size)
    keep(runtime.settings.policy_file, runtime.context.policy, runtime.settings.paths.policies)
    for record in read_topics(runtime.bootstrap, [EVENTS], client_kwargs=kwargs):
        runtime.ingest.remember(record.headers or [])
        runtime.followed.advance(record.partition, record.offset)
        if runtime.on_log:
            runtime.learn(EVENTS, record.headers or [])
        try:
            envelope = decode_envelope(record.value, runtime.context.codec, canonical=False)
        except EventError:
            continue
        runtime.follow(envelope)
        if envelope.event_type == "policy_published":
            published.add(envelope.event_id.hex)
        if isinstance(runtime.ingest.clock, LogClock):
            runtime.ingest.clock(envelope)
    policy_event = policy_event_id(runtime.context.policy)
    if policy_event.hex in published:
        return
    # On the log's clock (a simulation) the policy holds from the start of the log: stamping
    # it with today would move the simulated calendar to today and lapse every window.
    clock = runtime.ingest.clock
    now = clock.now if isinstance(clock, LogClock) else datetime.now(UTC)
    body = PolicyPublished(
        policy_version=runtime.context.policy.version,
        policy_sha256=runtime.context.policy.sha256,
        effective_at=now,
    )
    with Publisher(
        key=runtime.context.hub_key,
        codec=runtime.context.codec,
        bootstrap_servers=runtime.bootstrap,
        client_kwargs=kwargs,
    ) as publisher:
        publisher.publish(
            body, participant_id=SYSTEM_PARTICIPANT, occurred_at=now, event_id=policy_event
        )
    log.info("policy_published", version=runtime.context.policy.version)


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
    codec = runtime.context.codec
    await consumer.start()
    try:
        tps = [TopicPartition(EVENTS, p) for p in range(runtime.events_partitions)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, runtime.followed[tp.partition])
        while True:
            asked = time.monotonic()
            fetched = await consumer.getmany(timeout_ms=200)
            for tp, records in fetched.items():
                for record in records:
                    runtime.ingest.remember(record.headers or [])
                    runtime.followed.advance(tp.partition, record.offset)
                    if dict(record.headers or []).get("ce_type") in LINKER_CE_TYPES:
                        try:
                            envelope = decode_envelope(record.value, codec, canonical=False)
                        except EventError:  # only the gatekeeper writes here; never stop
                            continue
                        runtime.follow(envelope)
            if not fetched:
                runtime.events_idle_at = asked
    finally:
        await consumer.stop()


async def keep_time(
    runtime: Runtime,
    owns: Callable[[int], bool],
    send: Callable[[list[Out]], Awaitable[None]],
) -> None:
    """Wall-clock mode: put the hub's clock on the log of each lead.events partition this
    worker folds, when something there falls due (a lapse, a reminder, a consent's
    expiry), so that it is decided on time with no other traffic. The decision itself is
    made from the tick on the log (``PartitionProcessor``), never from this clock.

    A partition with nothing due is never ticked: a city's partitions are quiet most of
    the time, and most holds close by intake before any mark. So ticks cost at most one
    per partition per interval, and in practice one per moment something falls due. The
    task wakes at the next due moment or after ``tick_interval_s``, whichever is first
    (new items are seen within one interval), and ticks a partition at most once per
    interval while its tick is on its way."""
    interval = runtime.settings.streams.tick_interval_s
    codec, hub_key = runtime.context.codec, runtime.context.hub_key
    ticked: dict[int, float] = {}  # partition -> monotonic time of its latest tick
    while True:
        now, mono = datetime.now(UTC), time.monotonic()
        outs: list[Out] = []
        ticking: list[int] = []
        wait = interval
        for partition, handler in list(runtime.canonical.items()):
            due = handler.processor.deadlines.next_due()
            if due is None or partition in runtime.fenced or not owns(partition):
                continue
            if due > now:
                wait = min(wait, (due - now).total_seconds())
            elif mono - ticked.get(partition, -interval) >= interval:
                ticked[partition] = mono
                ticking.append(partition)
                tick = ClockTicked(partition=partition)
                event_id = tick_id(partition, now)
                outs.append(hub_event(tick, SYSTEM_PARTICIPANT, now, event_id, codec, hub_key))
        if outs:
            await send(outs)
            log.info("clock_ticked", partitions=ticking)
        await asyncio.sleep(max(0.01, wait))


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
                consumer.seek(audit, runtime.notary.read[0])
                reading = True
            fetched = await consumer.getmany(audit, timeout_ms=200)
            for record in fetched.get(audit, []):
                runtime.notary.add(record.offset, record.value)
    finally:
        await consumer.stop()
