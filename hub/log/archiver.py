"""Kafka to archive and back: the embedded hub's durable memory.

``Archiver`` copies every hub topic into the archive as records arrive, a block per
stream every ``flush_interval_s``, then re-signs the archive checkpoint; stopping it
drains until the broker is quiet. ``restore`` writes an archive back into a fresh broker,
stream by stream in offset order, and proves every record landed at its archived offset,
so ids derived from positions (the gatekeeper's ``leadhub-origin``) keep their meaning.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from hub.crypto import SigningKey, load_signing_key
from hub.errors import BrokerError, DeploymentError
from hub.log.archive import Archive, ArchivedRecord

if TYPE_CHECKING:
    from hub.config import Settings

log = structlog.get_logger(__name__)


class Archiver(threading.Thread):
    def __init__(
        self,
        archive: Archive,
        bootstrap: Sequence[str],
        topics: Sequence[str],
        *,
        origin: str,
        key: SigningKey | None,
        client_kwargs: Mapping[str, object],
        flush_interval_s: float = 2.0,
        drain_idle_s: float = 1.0,
    ) -> None:
        super().__init__(name="archiver", daemon=True)
        self.archive = archive
        self.origin = origin
        self.key = key
        self.flush_interval_s = flush_interval_s
        self.drain_idle_s = drain_idle_s
        self.archived = 0
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._buffer: dict[tuple[str, int], list[ArchivedRecord]] = {}
        self._consumer = KafkaConsumer(
            bootstrap_servers=list(bootstrap),
            enable_auto_commit=False,
            isolation_level="read_committed",
            reconnect_backoff_max_ms=1000,  # a restarted broker is archived within a second
            **client_kwargs,
        )
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(self._consumer.partitions_for_topic(t) or ())
        ]
        self._consumer.assign(tps)
        for tp in tps:
            self._consumer.seek(tp, archive.next_offset(tp.topic, tp.partition))

    def run(self) -> None:
        try:
            last_flush = time.monotonic()
            quiet_since: float | None = None
            while True:
                got = self._poll()
                now = time.monotonic()
                if now - last_flush >= self.flush_interval_s:
                    self.flush()
                    last_flush = now
                if self._stopping.is_set():
                    quiet_since = None if got else (quiet_since or now)
                    if quiet_since is not None and now - quiet_since >= self.drain_idle_s:
                        break
            self.flush()
        except BaseException as exc:
            self.error = exc
            log.error("archiver_failed", error=type(exc).__name__, detail=str(exc))
        finally:
            self._consumer.close()

    def _poll(self) -> int:
        got = 0
        for tp, records in self._consumer.poll(timeout_ms=100).items():
            buf = self._buffer.setdefault((tp.topic, tp.partition), [])
            for r in records:
                buf.append(
                    ArchivedRecord(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.timestamp,
                        r.key,
                        r.value if r.value is not None else b"",
                        tuple(r.headers or ()),
                    )
                )
                got += 1
        return got

    def flush(self) -> None:
        """Write what arrived as segments, then vouch for the new heads."""
        wrote = 0
        for stream in sorted(self._buffer):
            self.archive.append(self._buffer[stream])
            wrote += len(self._buffer[stream])
        self._buffer.clear()
        if wrote and self.key is not None:  # without the hub's key, verify will say so
            self.archive.write_checkpoint(self.origin, self.origin, self.key.private)
        if wrote:
            self.archived += wrote
            log.info("archived", records=wrote, total=self.archived)

    def stop(self, timeout_s: float = 60.0) -> None:
        """Drain until the broker is quiet, flush, and report any failure."""
        self._stopping.set()
        self.join(timeout_s)
        if self.is_alive():
            raise BrokerError("the archiver did not finish draining in time")
        if self.error is not None:
            raise BrokerError(f"the archiver failed: {self.error}")


@dataclass(frozen=True)
class ArchiverConfig:
    """What the archiver process needs (plain values: it crosses a process boundary)."""

    archive_dir: Path
    schemas_dir: Path
    keys_dir: Path
    max_segment_records: int
    origin: str
    flush_interval_s: float
    log_level: str
    client_kwargs: dict[str, object]

    @classmethod
    def of(cls, settings: Settings, client_kwargs: Mapping[str, object]) -> ArchiverConfig:
        return cls(
            settings.paths.archive,
            settings.schemas_dir,
            settings.keys_dir,
            settings.audit.max_segment_records,
            settings.audit.origin,
            settings.audit.flush_interval_s,
            settings.log_level,
            dict(client_kwargs),
        )


class ArchiverProcess:
    """The Archiver in a process of its own (spawned, and killed with its parent)."""

    def __init__(
        self,
        settings: Settings,
        bootstrap: Sequence[str],
        topics: Sequence[str],
        client_kwargs: Mapping[str, object],
    ):
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._process = context.Process(
            target=_archive_until_stopped,
            args=(
                ArchiverConfig.of(settings, client_kwargs),
                list(bootstrap),
                list(topics),
                self._stop,
            ),
            kwargs={"parent": os.getpid()},
            name="leadhub-archiver",
        )
        self._process.start()

    def stop(self, timeout_s: float = 90.0) -> None:
        self._stop.set()
        self._process.join(timeout_s)
        if self._process.is_alive():
            self._process.kill()
            raise BrokerError("the archiver did not finish draining in time")
        if self._process.exitcode != 0:
            raise BrokerError(f"the archiver failed (exit code {self._process.exitcode})")


def _archive_until_stopped(
    config: ArchiverConfig, bootstrap: list[str], topics: list[str], stop: Any, *, parent: int
) -> None:
    from hub import logs
    from hub.log.children import die_with_parent

    die_with_parent(parent)
    # Ctrl-C reaches the whole process group: the parent decides when to stop (it stops
    # its workers first, then sets ``stop``), so that the last records are archived too
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.configure(config.log_level)
    try:
        key: SigningKey | None = load_signing_key(config.keys_dir, "hub")
    except DeploymentError:
        log.warning("archive_unsigned", reason="no hub signing key in keys_dir")
        key = None
    archiver = Archiver(
        Archive(config.archive_dir, config.schemas_dir, config.max_segment_records),
        bootstrap,
        topics,
        origin=config.origin,
        key=key,
        client_kwargs=config.client_kwargs,
        flush_interval_s=config.flush_interval_s,
    )
    archiver.start()
    stop.wait()
    archiver.stop()


RESTORE_THREADS = 6


def restore(
    archive: Archive,
    bootstrap: Sequence[str],
    client_kwargs: Mapping[str, object],
    threads: int = RESTORE_THREADS,
) -> int:
    """Write the archive into an empty broker; every record must land at its own offset.

    The hub writes in transactions, so a partition's offsets have gaps the archive does not
    hold: a commit marker after each transaction, aborted records and their marker. The
    restore makes the same gaps: a gap of one is the commit marker of the transaction that
    holds the records before it; a longer gap is an aborted transaction of filler records
    (never visible to a ``read_committed`` reader) and its marker. So every record lands
    at its own offset, and offsets the log quotes (rejections, verdicts, proofs) hold.

    A stream (topic partition) is restored transaction by transaction, each commit a round
    trip to the coordinator: streams are independent, so ``threads`` of them are restored at
    once, each thread with producers of its own (a restart of 2,456 records in 48 streams,
    with the broker's and the worker's start, took 39 s one stream after another and 13 s
    six at once)."""
    archive.heads()  # first cut back a write a crash left half done
    streams = archive.streams()
    lock = threading.Lock()

    def next_stream() -> tuple[str, int] | None:
        with lock:
            return streams.pop(0) if streams else None

    def work(n: int) -> int:
        restorer = _StreamRestorer(bootstrap, client_kwargs, f"leadhub-restore-{n}")
        try:
            done = 0
            while (stream := next_stream()) is not None:
                done += restorer.restore(archive, *stream)
            return done
        finally:
            restorer.close()

    count, workers = len(streams), max(1, min(threads, len(streams)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        restored = sum(pool.map(work, range(workers)))
    log.info("restored", records=restored, streams=count)
    return restored


class _StreamRestorer:
    """One thread's producers: a transactional writer, another for the aborted fillers of
    a longer gap, and a reader of end offsets (none of them shared between threads)."""

    def __init__(
        self, bootstrap: Sequence[str], client_kwargs: Mapping[str, object], transactional_id: str
    ) -> None:
        self.writer = _restoring_producer(bootstrap, client_kwargs, transactional_id)
        self.filler = _restoring_producer(bootstrap, client_kwargs, f"{transactional_id}-gaps")
        self.ends = KafkaConsumer(bootstrap_servers=list(bootstrap), **client_kwargs)

    def restore(self, archive: Archive, topic: str, partition: int) -> int:
        restored, expected = 0, 0
        pending: list[tuple[ArchivedRecord, Any]] = []
        self.writer.begin_transaction()
        for path in archive.segment_files(topic, partition):
            for r, _chain in archive.read_segment(path, topic, partition):
                gap = r.offset - expected
                if gap == 1:
                    restored += _commit(self.writer, pending)
                    self.writer.begin_transaction()
                elif gap > 1:
                    self.writer.flush()  # what came before the gap lands before it
                    _aborted(self.filler, topic, partition, fillers=gap - 1)
                    _await_end(self.ends, TopicPartition(topic, partition), r.offset)
                pending.append((r, _send(self.writer, r)))
                expected = r.offset + 1
        return restored + _commit(self.writer, pending)

    def close(self) -> None:
        self.writer.close()
        self.filler.close()
        self.ends.close()


def _restoring_producer(
    bootstrap: Sequence[str], client_kwargs: Mapping[str, object], transactional_id: str
) -> KafkaProducer:
    producer = KafkaProducer(
        bootstrap_servers=list(bootstrap),
        transactional_id=transactional_id,
        transaction_timeout_ms=15 * 60 * 1000,  # one partition's records may take a while
        linger_ms=5,
        **client_kwargs,
    )
    producer.init_transactions()
    return producer


def _send(producer: KafkaProducer, r: ArchivedRecord) -> Any:
    return producer.send(
        r.topic,
        value=r.value,
        key=r.key,
        headers=list(r.headers),
        partition=r.partition,
        timestamp_ms=r.timestamp,
    )


def _commit(producer: KafkaProducer, pending: list[tuple[ArchivedRecord, Any]]) -> int:
    producer.commit_transaction()
    return _confirm(pending)


def _aborted(producer: KafkaProducer, topic: str, partition: int, fillers: int) -> None:
    producer.begin_transaction()
    for _ in range(fillers):
        producer.send(topic, value=b"", partition=partition)
    producer.flush()
    producer.abort_transaction()


def _await_end(ends: KafkaConsumer, tp: TopicPartition, offset: int, timeout_s: float = 60) -> None:
    """Wait until the partition's log ends at ``offset``: the coordinator writes an abort
    marker after it answers EndTxn, so the writer (another producer, which nothing makes
    wait for that marker) could otherwise land its next record before it."""
    deadline = time.monotonic() + timeout_s
    while (end := ends.end_offsets([tp])[tp]) < offset:
        if time.monotonic() > deadline:
            raise BrokerError(f"restore: {tp.topic}/{tp.partition} ends at {end}, not {offset}")
        time.sleep(0.005)
    if end > offset:
        raise BrokerError(
            f"restore: {tp.topic}/{tp.partition} ends at {end}, past {offset} "
            "(the broker was not empty)"
        )


def _confirm(pending: list[tuple[ArchivedRecord, Any]]) -> int:
    for r, future in pending:
        landed = future.get(60).offset
        if landed != r.offset:
            raise BrokerError(
                f"restore: {r.topic}/{r.partition} record {r.offset} landed at offset {landed} "
                "(the broker was not empty)"
            )
    n = len(pending)
    pending.clear()
    return n
