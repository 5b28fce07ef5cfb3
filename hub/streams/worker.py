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
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import structlog

from hub import logs
from hub.context import HubContext
from hub.crypto import IntakeKeyring
from hub.domain import Rejected
from hub.events import (
    CHECKPOINTS,
    EVENTS,
    ingest_topic,
)
from hub.streams.credentials import aiokafka_kwargs, faust_credentials
from hub.streams.handlers import (
    ORIGIN,
    IngestHandler,
    Out,
    Pending,
    carried,
)
from hub.streams.runtime import (
    GROUP,
    Runtime,
    caught_up,
    follow_events,
    keep_time,
    load_runtime,
    prepare,
    read_audit_leaves,
)
from hub.streams.serving import can_listen, serve_web
from hub.streams.tracing import finish, trace_agents
from hub.streams.transactions import Fenced, Transactions

log = structlog.get_logger(__name__)


def build_app(runtime: Runtime) -> Any:
    import faust
    from faust.transport.drivers import aiokafka as faust_kafka
    from faust.types import TP

    settings = runtime.settings
    serving = runtime.web is not None and can_listen(settings.web.host, settings.web.port)
    if runtime.web is not None and not serving:  # the server would take the worker down
        log.error("web_not_served", reason="address in use", port=settings.web.port)
    datadir = settings.paths.faust.resolve()
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        GROUP,
        broker=[f"kafka://{server}" for server in runtime.bootstrap],
        # exactly once comes from the worker's own per-partition transactions
        # (hub.streams.transactions), not from faust's
        processing_guarantee="at_least_once",
        broker_credentials=faust_credentials(settings.broker.security),
        broker_client_id=settings.broker.client_id,
        broker_session_timeout=settings.streams.session_timeout_s,
        # a quarter of the session: three heartbeats may go missing before the group
        # believes the worker dead
        broker_heartbeat_interval=min(1.0, settings.streams.session_timeout_s / 4),
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
    ingest = app.topic(*[ingest_topic(a) for a in runtime.context.agencies])
    events = app.topic(EVENTS)
    sources = {EVENTS, *(ingest_topic(a) for a in runtime.context.agencies)}  # steps with outputs
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
            # committed already, with the outputs (Transactions.commit); faust's livelock
            # check learns so, or it logs "has not committed at all" for every partition
            now = time.monotonic()
            self._thread.tp_last_committed_at.update({tp: now for tp in offsets})
            return True

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
                start = runtime.folded[tp.partition]
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
            if p in runtime.fenced or runtime.folded.folded(p, m.offset):
                continue  # not ours any more, or folded already (a redelivery)
            emit = m.offset >= runtime.silent_until.get(p, 0)
            trace = carried(m.headers or [])
            origin = dict(m.headers or []).get(ORIGIN)
            outs = runtime.canonical_for(p).handle(
                event.value,
                emit=emit,
                trace=trace,
                offset=m.offset,
                origin=origin.decode() if origin else None,
            )
            if emit:
                steps.setdefault(p, []).extend(outs)
            runtime.folded.advance(p, m.offset)
        for p, outs in steps.items():
            try:
                await transactions.commit((EVENTS, p), runtime.unsent(outs), runtime.folded[p])
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

    if not settings.streams.log_clock:  # a simulation's calendar moves with its events

        @app.task  # type: ignore[untyped-decorator]
        async def clock() -> None:
            await keep_time(runtime, lambda p: TP(EVENTS, p) in app.consumer.assignment(), send_all)

    @app.task  # type: ignore[untyped-decorator]
    async def intake_keys() -> None:
        await keep_intake_keys(runtime.context.intake_keys)

    if serving:
        serve_web(app, runtime)
    return app


async def keep_intake_keys(keyring: IntakeKeyring) -> None:
    """Whatever the traffic: make each epoch's intake key as the epoch begins, so agencies
    can fetch it, and destroy each key once its epoch's ingest records have all expired.
    Every worker does it; the key files make it safe (one key per epoch, destroyed once)."""
    interval_s = min(3600.0, keyring.epoch.total_seconds() / 10)
    while True:
        now = datetime.now(UTC)
        keyring.current(now)
        for key_id in keyring.destroy_expired(now):
            log.info("intake_key_destroyed", key_id=key_id)
        await asyncio.sleep(interval_s)


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


def run(context: HubContext, bootstrap: list[str]) -> None:
    """Run the worker in this process until SIGTERM or Ctrl-C."""
    import faust

    runtime = load_runtime(context, bootstrap)
    prepare(runtime)
    app = build_app(runtime)
    worker = faust.Worker(app, loglevel=context.settings.log_level.upper(), quiet=True)
    logs.quiet_repeats()  # every client module is imported by now
    worker.execute_from_commandline()
