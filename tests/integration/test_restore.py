"""Disaster recovery on the real broker: an archive of a transactional log, with every
kind of gap a transactional writer leaves, restored into an empty topic, lands each record
at its own offset, and a read_committed reader sees exactly the archived records."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from hub.events.topics import TopicSpec
from hub.log.archive import Archive, ArchivedRecord
from hub.log.archiver import restore
from hub.log.broker import EmbeddedBroker
from hub.ops.cluster import ensure_topics
from tests.support.paths import SCHEMAS

pytestmark = pytest.mark.integration


def _layout(rng: random.Random, partitions: int, steps: int) -> list[ArchivedRecord]:
    """Records as a transactional log holds them: each step's records, then a commit
    marker (a gap of one); now and then an aborted step (its records and its marker)."""
    records = []
    for p in range(partitions):
        offset = 0
        for step in range(steps):
            if step and rng.random() < 0.3:
                offset += rng.randint(1, 4) + 1  # aborted records and their marker
            for _ in range(rng.randint(1, 3)):
                records.append(
                    ArchivedRecord(
                        "restore.check",
                        p,
                        offset,
                        1_700_000_000_000 + offset,
                        f"P-{offset % 5}".encode(),
                        f"record {p}/{offset}".encode(),
                        (("ce_id", f"{p}-{offset}".encode()),),
                    )
                )
                offset += 1
            offset += 1  # the commit marker
    return records


def test_every_record_lands_at_its_own_offset(broker: EmbeddedBroker, tmp_path: Path) -> None:
    records = _layout(random.Random(16), partitions=2, steps=80)
    archive = Archive(tmp_path / "archive", SCHEMAS, max_segment_records=100)
    for p in (0, 1):
        archive.append([r for r in records if r.partition == p])
    spec = TopicSpec(name="restore.check", partitions=2, replication_factor=1, configs={})
    ensure_topics(broker.bootstrap_servers, [spec], {})

    assert restore(archive, broker.bootstrap_servers, {}) == len(records)

    consumer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers,
        isolation_level="read_committed",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    try:
        tps = [TopicPartition("restore.check", p) for p in (0, 1)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        seen = [(m.partition, m.offset, m.key, m.value, m.timestamp) for m in consumer]
    finally:
        consumer.close()
    want = [(r.partition, r.offset, r.key, r.value, r.timestamp) for r in records]
    missing = sorted((w[0], w[1]) for w in set(want) - set(seen))
    unexpected = sorted((s[0], s[1]) for s in set(seen) - set(want))
    assert sorted(seen) == sorted(want), f"missing {missing}, unexpected {unexpected}"
