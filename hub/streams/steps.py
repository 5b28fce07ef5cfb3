"""The worker's stream side: one consumer in the hub's group, taking records in batches.

faust delivers records one at a time (about half a millisecond of its own machinery
each), and ``stream.take_events`` collects only what arrives within its short window, so
a step held one or two records and paid a whole transaction (five broker round trips)
for them: 10,500 transactions for 16,000 events under ``make bench``. Here a plain
aiokafka consumer of the hub's group (inside the faust app, which still runs the
producer, pages, timers and tasks) takes whatever has been fetched, up to
``streams.batch_max`` records, as one batch. Batches follow the load by themselves: what
arrives while a step commits is the next batch, and at low load a record is taken the
moment it is fetched.

A step screens the batch's ingest records and hands their signatures to the verifier
threads, folds and decides its lead.events records meanwhile, finishes the admissions,
then commits each input partition's outputs with its offset as one transaction
(``hub.streams.transactions``), every partition's at once.

On assignment the step lock is taken (no step is half done), the previous owners are
fenced (``Transactions.hold``), each ingest partition is sought to its committed offset
and each lead.events partition to where this worker's folded state ends, silent up to
the committed offset (where the committed outputs end). lead.checkpoints, one partition,
is assigned only to elect the notary: it is paused, never read.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from hub.domain import Rejected
from hub.events import CHECKPOINTS, EVENTS, ingest_topic
from hub.streams.credentials import aiokafka_kwargs
from hub.streams.handlers import ORIGIN, IngestHandler, Out, Pending, carried
from hub.streams.runtime import GROUP, Runtime, caught_up
from hub.streams.transactions import Fenced, Transactions

log = structlog.get_logger(__name__)

Settled = list[tuple[tuple[str, int, int], list[Out]]]  # per ingest record: where, outputs


class Steps:
    """The hub's consumer group member: assignment, batches, and the step lock."""

    def __init__(
        self,
        runtime: Runtime,
        transactions: Transactions,
        open_spans: Callable[[Sequence[Any]], list[Any]],
    ) -> None:
        self.runtime = runtime
        self.transactions = transactions
        self.open_spans = open_spans
        self.consumer: Any = None
        # A step (fold, decide, commit) and an assignment (fence, read offsets, seek) never
        # interleave, so an assignment never sees in-memory state ahead of what was committed.
        self.stepping = asyncio.Lock()
        # per assigned partition, the next offset to take: where a batch put back returns,
        # where lag counts from, and below which a record is a repeat
        self.next: dict[Any, int] = {}
        # Bumped when a rebalance begins and when its assignment is in place. aiokafka
        # positions a new partition at its committed offset and may hand its records out
        # before the listener has sought it (to where the folded state ends): a batch
        # taken across a rebalance is put back, never stepped.
        self.generation = 0
        self.rebalancing = False
        self.failed: BaseException | None = None  # an assignment that could not be made

    def holds(self, topic: str, partition: int) -> bool:
        from aiokafka import TopicPartition

        consumer = self.consumer
        return consumer is not None and TopicPartition(topic, partition) in consumer.assignment()

    def lag(self) -> dict[tuple[str, int], int]:
        """Per partition read: the broker's high watermark minus the next offset to take
        (the embedded broker's watermark can lag the true end, shared/BROKER.md: lag reads
        low)."""
        lag: dict[tuple[str, int], int] = {}
        consumer = self.consumer
        if consumer is None:
            return lag
        for tp, position in list(self.next.items()):
            high = consumer.highwater(tp)
            if high is not None:
                lag[(tp.topic, tp.partition)] = max(0, high - position)
        return lag

    async def run(self) -> None:
        from aiokafka import AIOKafkaConsumer

        settings = self.runtime.settings
        streams, broker = settings.streams, settings.broker
        self.consumer = consumer = AIOKafkaConsumer(
            bootstrap_servers=self.runtime.bootstrap,
            group_id=GROUP,
            enable_auto_commit=False,  # offsets commit in each step's transaction
            isolation_level="read_committed",  # the hub's steps are transactions
            auto_offset_reset="earliest",
            fetch_max_wait_ms=streams.fetch_max_wait_ms,
            max_poll_records=streams.batch_max,
            session_timeout_ms=int(streams.session_timeout_s * 1000),
            # a quarter of the session: three heartbeats may go missing before the group
            # believes the worker dead
            heartbeat_interval_ms=int(min(1.0, streams.session_timeout_s / 4) * 1000),
            **aiokafka_kwargs(broker.security, broker.client_id),
        )
        topics = [EVENTS, CHECKPOINTS, *(ingest_topic(a) for a in self.runtime.context.agencies)]
        consumer.subscribe(topics, listener=_assignments(self))
        verifiers = ThreadPoolExecutor(
            streams.signature_threads, thread_name_prefix="leadhub-verify"
        )
        await consumer.start()
        try:
            while True:
                generation = self.generation
                fetched = await consumer.getmany(timeout_ms=1000)
                async with self.stepping:
                    if self.failed is not None:
                        raise self.failed  # never step on partitions not fenced or sought
                    if generation != self.generation or self.rebalancing:
                        self.put_back()
                    elif fetched:
                        await self.step(fetched, verifiers)
        finally:
            await consumer.stop()
            await self.transactions.stop()  # an open transaction is aborted by the next owner
            verifiers.shutdown(wait=False)

    def revoked(self) -> None:
        self.generation += 1
        self.rebalancing = True

    def put_back(self) -> None:
        """Forget a batch taken across a rebalance: back to the positions the assignment
        set (if it is in place; else its own seeks will do)."""
        if self.rebalancing:
            return
        assignment = self.consumer.assignment()
        for tp, offset in self.next.items():
            if tp in assignment:
                self.consumer.seek(tp, offset)

    async def assigned(self, assigned: Sequence[Any]) -> None:
        try:
            await self._assign(assigned)
        except BaseException as exc:  # aiokafka would log it and go on: stop the worker
            self.failed = exc
            raise
        self.generation += 1
        self.rebalancing = False

    async def _assign(self, assigned: Sequence[Any]) -> None:
        runtime, consumer = self.runtime, self.consumer
        sources = [tp for tp in assigned if tp.topic != CHECKPOINTS]
        await self.transactions.hold((tp.topic, tp.partition) for tp in sources)
        committed = await asyncio.gather(*(consumer.committed(tp) for tp in sources))
        self.next = {}
        for tp, offset in zip(sources, committed, strict=True):
            start = offset or 0
            if tp.topic == EVENTS:
                p = tp.partition
                runtime.fenced.discard(p)
                runtime.silent_until[p] = start
                log.info(
                    "partition_resumed",
                    partition=p,
                    fold_from=runtime.folded[p],
                    emit_from=max(runtime.folded[p], start),
                )
                start = runtime.folded[p]
            consumer.seek(tp, start)
            self.next[tp] = start
        consumer.pause(*(tp for tp in assigned if tp.topic == CHECKPOINTS))
        runtime.assigned_at = time.monotonic()

    async def step(self, fetched: dict[Any, list[Any]], verifiers: ThreadPoolExecutor) -> None:
        taken: dict[bool, list[list[Any]]] = {True: [], False: []}  # lead.events or not
        for tp, records in fetched.items():
            start = self.next.get(tp)
            if start is None:
                continue  # not ours since it was fetched
            fresh = [r for r in records if r.offset >= start]
            if fresh:
                self.next[tp] = fresh[-1].offset + 1
                taken[tp.topic == EVENTS].append(fresh)
        # Across partitions in the order the broker took them (each partition's own order
        # kept), as a record-at-a-time consumer would: on the log's clock (a simulation)
        # admission order dates events, and the linker answers a referral from those seen.
        ingest, events = (
            list(heapq.merge(*taken[is_events], key=lambda r: r.timestamp))
            for is_events in (False, True)
        )
        spans = self.open_spans(ingest + events)
        admitting = None
        if ingest:
            await caught_up(self.runtime)
            admitting = admit_batch(self.runtime, verifiers, ingest)
        # folded and decided while the verifier threads check the ingest records'
        # signatures: admission reads nothing that disclosure changes (its clock, the ids
        # seen), and each partition's outputs still commit in log order
        try:
            disclosed = self._disclose(events)
        except BaseException:
            if admitting is not None:
                admitting.close()
            raise
        commits = []
        if admitting is not None:
            settled = await admitting
            commits += [self._commit_admitted(tp, steps) for tp, steps in by_partition(settled)]
        commits += [self._commit_disclosed(p, outs) for p, outs in disclosed.items()]
        await asyncio.gather(*commits)
        for span in spans:
            span.end()

    async def _commit_admitted(self, tp: tuple[str, int], steps: Settled) -> None:
        runtime = self.runtime
        outs = [o for _, outs_of in steps for o in outs_of]
        try:
            await self.transactions.commit(tp, runtime.unsent(outs), steps[-1][0][2] + 1)
        except Fenced as exc:
            log.warning("fenced", step="gatekeeper", detail=str(exc))
            runtime.ingest.forget(o for o in outs if o.topic == EVENTS)
            return
        if runtime.web is not None:
            for where, outs_of in steps:
                runtime.web.settle(where, outs_of)

    def _disclose(self, records: Sequence[Any]) -> dict[int, list[Out]]:
        """Fold and decide lead.events records; per partition, what to send, where it
        emitted anything (below the committed offset a partition is folded silently)."""
        runtime = self.runtime
        emitted: dict[int, list[Out]] = {}
        for m in records:
            p = m.partition
            if p in runtime.fenced or runtime.folded.folded(p, m.offset):
                continue  # not ours any more, or folded already (a redelivery)
            emit = m.offset >= runtime.silent_until.get(p, 0)
            origin = dict(m.headers or []).get(ORIGIN)
            outs = runtime.canonical_for(p).handle(
                m.value,
                emit=emit,
                trace=carried(m.headers or []),
                offset=m.offset,
                origin=origin.decode() if origin else None,
            )
            if emit:
                emitted.setdefault(p, []).extend(outs)
            runtime.folded.advance(p, m.offset)
        return emitted

    async def _commit_disclosed(self, partition: int, outs: list[Out]) -> None:
        runtime = self.runtime
        try:
            await self.transactions.commit(
                (EVENTS, partition), runtime.unsent(outs), runtime.folded[partition]
            )
        except Fenced as exc:
            log.warning("fenced", step="disclosure", detail=str(exc))
            runtime.drop(partition)


def _assignments(steps: Steps) -> Any:
    """aiokafka's rebalance listener for ``steps`` (aiokafka is imported only when run)."""
    from aiokafka import ConsumerRebalanceListener

    class Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
        async def on_partitions_revoked(self, revoked: Sequence[Any]) -> None:
            """Offsets commit with each step's outputs, and the next owner's fence aborts a
            transaction this worker has not committed: only the batch in hand is stale."""
            steps.revoked()

        async def on_partitions_assigned(self, assigned: Sequence[Any]) -> None:
            async with steps.stepping:
                await steps.assigned(assigned)

    return Assignments()


def by_partition(settled: Settled) -> list[tuple[tuple[str, int], Settled]]:
    """A batch's admitted records, per input partition in offset order: one transaction each."""
    grouped: dict[tuple[str, int], Settled] = {}
    for where, outs in settled:
        grouped.setdefault((where[0], where[1]), []).append((where, outs))
    return list(grouped.items())


def _check_signatures(ingest: IngestHandler, pending: list[Pending]) -> list[Rejected | None]:
    return [ingest.check_signature(p) for p in pending]


def admit_batch(
    runtime: Runtime, verifiers: ThreadPoolExecutor, records: Sequence[Any]
) -> Coroutine[Any, Any, Settled]:
    """The gatekeeper on a batch of ingest records: screen each and hand the signatures to
    the verifier threads now (Ed25519 verification releases the GIL, so the threads check
    in parallel with each other and with the event loop); awaited, it finishes each record
    in log order."""
    pending = [
        runtime.ingest.screen(r.topic, r.partition, r.offset, r.key, r.value, r.headers or [])
        for r in records
    ]
    step = -(-len(pending) // runtime.settings.streams.signature_threads)
    chunks = [pending[i : i + step] for i in range(0, len(pending), step)]
    loop = asyncio.get_running_loop()
    checks = [loop.run_in_executor(verifiers, _check_signatures, runtime.ingest, c) for c in chunks]

    async def finished() -> Settled:
        checked = await asyncio.gather(*checks)
        signatures = [s for chunk in checked for s in chunk]
        return [
            ((p.topic, p.partition, p.offset), runtime.ingest.finish(p, signature))
            for p, signature in zip(pending, signatures, strict=True)
        ]

    return finished()
