"""One Kafka transaction per input partition and batch: a step's outputs and its consumer
offset commit together or not at all.

Each input partition the worker holds has a transactional producer of its own, whose id
names the partition (``leadhub-<topic>-<partition>``). A worker that takes a partition over
opens its producer before it reads the partition's committed offset: opening fences the
previous owner (its open transaction is aborted, a transaction it was committing is
finished first), so the offset read is exactly where the committed outputs end. A zombie
that tries to commit afterwards is refused (``Fenced``) and drops what it derived.

aiokafka's transactions rather than faust's ``processing_guarantee="exactly_once"``:
faust names a transaction after the *output* partition and assumes outputs are
co-partitioned with inputs, which the hub's steps are not (three ingest partitions feed
six of lead.events; one event's notices go to several agencies' topics).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import structlog

from hub.streams.handlers import Out

log = structlog.get_logger(__name__)

TopicPartition = tuple[str, int]
T = TypeVar("T")


class Fenced(Exception):
    """Another worker holds this partition now: what this one derived is not committed."""


def transactional_id(group: str, tp: TopicPartition) -> str:
    return f"{group}-{tp[0]}-{tp[1]}"


class Transactions:
    """The transactional producers of the input partitions this worker holds."""

    def __init__(self, bootstrap: Sequence[str], group: str, client_kwargs: dict[str, Any]):
        self._bootstrap = list(bootstrap)
        self._group = group
        self._kwargs = client_kwargs
        self._producers: dict[TopicPartition, Any] = {}
        self._held: set[TopicPartition] = set()  # the latest assignment's input partitions
        self.recovery_s = 300.0  # how long a step waits for a broker that went away
        # one attempt at a broker request: aiokafka can wait forever on a coordinator that
        # restarted (a transaction's commit that never completes), so each attempt is bounded
        self.attempt_s = 20.0

    async def hold(self, tps: Iterable[TopicPartition]) -> None:
        """Own exactly these input partitions: open (and so fence) a producer for each new
        one, close those of partitions given up. Returns once every new producer has its
        producer id, that is once the previous owner is fenced."""
        wanted = set(tps)
        self._held = wanted
        # concurrently: a rebalance waits for this, and each open is a few round trips
        await asyncio.gather(*(self._close(tp) for tp in self._producers.keys() - wanted))
        deadline = time.monotonic() + self.recovery_s
        new = wanted - self._producers.keys()
        await asyncio.gather(*(self._reopen(tp, deadline) for tp in new))

    async def _open(self, tp: TopicPartition) -> Any:
        """A started producer for ``tp`` with an open transaction: its producer id request
        fenced every earlier producer of the same id (and finished or aborted what it left)."""
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            transactional_id=transactional_id(self._group, tp),
            acks="all",
            linger_ms=0,
            **self._kwargs,
        )
        try:
            await asyncio.wait_for(self._begin(producer), self.attempt_s)
        except BaseException:
            # never leave it running: a producer that got its id later would fence ours
            await _stopped(producer)
            raise
        return producer

    @staticmethod
    async def _begin(producer: Any) -> None:
        await producer.start()
        await producer.begin_transaction()  # waits for the producer id: the fence is up

    async def _close(self, tp: TopicPartition) -> None:
        producer = self._producers.pop(tp, None)
        if producer is None:
            return
        if not await _stopped(producer):  # an open transaction is the next owner's to end
            log.warning("producer_not_closed", topic=tp[0], partition=tp[1])

    async def commit(self, tp: TopicPartition, outs: Sequence[Out], next_offset: int) -> None:
        """Send ``outs`` and move the group's offset of ``tp`` to ``next_offset``, atomically.

        Raises ``Fenced`` if another worker holds the partition now. Any other failure (the
        broker went away mid-transaction) is recovered here: a new producer with the same
        transactional id finishes or aborts what the old one left, and the group's committed
        offset then says which: at ``next_offset``, the step is on the log; below it, the
        step is sent again, whole. So a broker restart costs time, never a step or a repeat."""
        from aiokafka.errors import IllegalOperation, KafkaError

        deadline = time.monotonic() + self.recovery_s
        while True:
            producer = self._producers.get(tp)
            if producer is None or tp not in self._held:
                raise Fenced(f"{tp[0]}/{tp[1]} is not held by this worker")
            try:
                await asyncio.wait_for(
                    self._commit_once(producer, tp, outs, next_offset), self.attempt_s
                )
                break
            except Fenced:
                await self._close(tp)
                raise
            except (KafkaError, IllegalOperation, TimeoutError) as exc:
                if tp not in self._held or self._producers.get(tp) is not producer:
                    # a rebalance took the partition (and closed this producer) mid-step:
                    # its new owner decides the step; reopening here would fence that owner
                    raise Fenced(f"{tp[0]}/{tp[1]}: given up mid-step") from None
                if time.monotonic() > deadline:
                    raise
                log.warning(
                    "transaction_failed", topic=tp[0], partition=tp[1], error=type(exc).__name__
                )
                await self._close(tp)
                await self._reopen(tp, deadline)  # its transaction is open, as after a commit
                if await self._committed_offset(tp, deadline) >= next_offset:
                    return  # the failed attempt did commit: its outputs are on the log
        await self._producers[tp].begin_transaction()

    async def _commit_once(
        self, producer: Any, tp: TopicPartition, outs: Sequence[Out], next_offset: int
    ) -> None:
        from aiokafka import TopicPartition as KafkaTP
        from aiokafka.errors import (
            InvalidProducerEpoch,
            ProducerFenced,
            TransactionCoordinatorFenced,
        )

        try:
            sent = [
                await producer.send(
                    o.topic, o.value, key=o.key, partition=o.partition, headers=o.headers
                )
                for o in outs
            ]
            # Delivered before the offsets join the transaction. Kafka 4 verifies each
            # transactional produce with the coordinator (KIP-890), and aiokafka's produce
            # version is an old one: a produce verified while the coordinator writes
            # AddOffsetsToTxn is refused as NotEnoughReplicas and retried 100 ms later
            # (300 transactions of 10 records: 4.7 s and 170 retries unordered, 3.4 s and
            # none ordered; see issue 23's note).
            await asyncio.gather(*sent)
            await producer.send_offsets_to_transaction(
                {KafkaTP(tp[0], tp[1]): next_offset}, self._group
            )
            await producer.commit_transaction()
        except (ProducerFenced, InvalidProducerEpoch, TransactionCoordinatorFenced) as exc:
            raise Fenced(f"{tp[0]}/{tp[1]}: {type(exc).__name__}") from None

    async def _reopen(self, tp: TopicPartition, deadline: float) -> None:
        """A new producer for ``tp``, tried until ``deadline`` while the broker is away. In
        place of one whose transaction failed, its producer id request completes or aborts
        that transaction."""
        producer = await _retried(lambda: self._open(tp), deadline)
        fenced = self._producers.get(tp)  # by this one (a rebalance within a rebalance)
        self._producers[tp] = producer
        if fenced is not None:
            await _stopped(fenced)

    async def _committed_offset(self, tp: TopicPartition, deadline: float) -> int:
        from aiokafka import AIOKafkaConsumer
        from aiokafka import TopicPartition as KafkaTP

        async def once() -> int:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=self._group,
                enable_auto_commit=False,
                isolation_level="read_committed",
                **self._kwargs,
            )
            try:
                await consumer.start()
                return int(await consumer.committed(KafkaTP(tp[0], tp[1])) or 0)
            finally:
                await consumer.stop()

        return await _retried(lambda: asyncio.wait_for(once(), self.attempt_s), deadline)

    async def stop(self) -> None:
        """Close every producer; an open transaction is aborted by the broker (the next
        owner's fence) and never seen by a ``read_committed`` reader."""
        await asyncio.gather(*map(self._close, list(self._producers)))


async def _retried(attempt: Callable[[], Awaitable[T]], deadline: float) -> T:
    """``attempt()`` again every half second while the broker is away, until ``deadline``."""
    while True:
        try:
            return await attempt()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _stopped(producer: Any) -> bool:
    """Stop ``producer`` within 10 s; False if it did not stop cleanly (its broker went
    away). Stopping ends its background sender, so it can never act again."""
    try:
        await asyncio.wait_for(producer.stop(), 10)
        return True
    except Exception:
        return False
