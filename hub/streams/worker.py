"""The hub worker: a faust-streaming app (producer, pages, timers, tasks) around one
batched consumer of the hub's group (``hub.streams.steps``), whose steps are thin adapters
over ``hub.streams.handlers``:

- the gatekeeper on every lead.ingest.<agency>: admit or dead-letter;
- disclosure on lead.events: per partition, fold and decide; send sealed notices, audit
  records, and the hub's own lapse events;
- the notary: holding lead.checkpoints' one partition makes a worker the notary, which
  grows the Merkle tree from lead.audit (on a plain consumer) and signs checkpoints.

Exactly once, from the broker: each batch's outputs and its consumer offsets are one
Kafka transaction per input partition (``hub.streams.transactions``), and every reader
reads ``read_committed``. A crash at any point leaves all of a step's outputs or none.

State is rebuilt from the log, never from a changelog: at start the gatekeeper reads the
accepted ids from lead.events, and on every assignment each lead.events partition is read
again from where its in-memory state ends, silently up to the committed offset (where the
committed outputs end), emitting from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import structlog

from hub import logs
from hub.context import HubContext
from hub.crypto import IntakeKeyring
from hub.events import CHECKPOINTS, EVENTS
from hub.streams.credentials import aiokafka_kwargs, faust_credentials
from hub.streams.handlers import Out
from hub.streams.runtime import (
    GROUP,
    Runtime,
    follow_events,
    keep_time,
    load_runtime,
    prepare,
    read_audit_leaves,
)
from hub.streams.serving import can_listen, serve_web
from hub.streams.steps import Steps
from hub.streams.tracing import record_spans
from hub.streams.transactions import Transactions

log = structlog.get_logger(__name__)


def build_app(runtime: Runtime) -> Any:
    import faust
    from faust.app.base import BootStrategy

    settings = runtime.settings
    serving = runtime.web is not None and can_listen(settings.web.host, settings.web.port)
    if runtime.web is not None and not serving:  # the server would take the worker down
        log.error("web_not_served", reason="address in use", port=settings.web.port)
    datadir = settings.paths.faust.resolve()
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        GROUP,
        broker=[f"kafka://{server}" for server in runtime.bootstrap],
        broker_credentials=faust_credentials(settings.broker.security),
        broker_client_id=settings.broker.client_id,
        store="memory://",  # derived state is rebuilt from the log, see the module doc
        web_enabled=serving,
        web_bind=settings.web.host,
        web_port=settings.web.port,
        topic_allow_declare=False,  # the hub creates its topics; production ACLs forbid more
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(datadir),
        autodiscover=False,
        worker_redirect_stdouts=False,
    )
    # the group's member is ``Steps``' consumer, not faust's (see hub.streams.steps)
    app.boot_strategy = BootStrategy(app, enable_kafka_consumer=False)
    broker = settings.broker
    transactions = Transactions(
        runtime.bootstrap, GROUP, aiokafka_kwargs(broker.security, broker.client_id)
    )
    runtime.transactions = transactions
    steps = Steps(runtime, transactions, record_spans(app, settings.streams.tracing))

    async def send_all(outs: Iterable[Out]) -> None:
        """The notary's checkpoints and the clock's ticks, outside any step's transaction:
        a checkpoint signs the tree it has read, a tick states the time, and one sent again
        after a crash says nothing new."""
        futures = [
            await app.producer.send(o.topic, o.key, o.value, o.partition, None, o.headers)
            for o in outs
        ]
        if futures:
            await asyncio.gather(*futures)

    @app.task  # type: ignore[untyped-decorator]
    async def stream() -> None:
        await steps.run()

    @app.task  # type: ignore[untyped-decorator]
    async def accepted_ids() -> None:
        await follow_events(runtime)

    @app.task  # type: ignore[untyped-decorator]
    async def audit_leaves() -> None:
        await read_audit_leaves(runtime, lambda: steps.holds(CHECKPOINTS, 0))

    @app.timer(interval=settings.audit.checkpoint_interval_s)  # type: ignore[untyped-decorator]
    async def checkpoint() -> None:
        await send_all(runtime.notary.checkpoint())

    if not settings.streams.log_clock:  # a simulation's calendar moves with its events

        @app.task  # type: ignore[untyped-decorator]
        async def clock() -> None:
            await keep_time(runtime, lambda p: steps.holds(EVENTS, p), send_all)

    @app.task  # type: ignore[untyped-decorator]
    async def intake_keys() -> None:
        await keep_intake_keys(runtime.context.intake_keys)

    if serving:
        serve_web(app, runtime, steps.lag)
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


def run(context: HubContext, bootstrap: list[str]) -> None:
    """Run the worker in this process until SIGTERM or Ctrl-C."""
    import faust

    runtime = load_runtime(context, bootstrap)
    prepare(runtime)
    app = build_app(runtime)
    worker = faust.Worker(app, loglevel=context.settings.log_level.upper(), quiet=True)
    logs.quiet_repeats()  # every client module is imported by now
    worker.execute_from_commandline()
