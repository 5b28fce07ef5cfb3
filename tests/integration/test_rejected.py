"""Dead letters can be listed and re-driven, each at most once, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer

from consumers.rejected import dead_letters, redrive
from hub.domain.rejections import Rejection
from hub.events.errors import Reason
from hub.log.broker import EmbeddedBroker
from hub.log.reading import read_topics

pytestmark = pytest.mark.integration


def test_list_and_redrive_once(broker: EmbeddedBroker, tmp_path: Path) -> None:
    servers = broker.bootstrap_servers
    marker = f"redrive-test-{datetime.now(UTC).timestamp()}".encode()
    original_headers = [("ce_id", marker)]
    rejection = Rejection(
        Reason.BAD_SIGNATURE, "no key registered yet", "lead.ingest.opd", 0, 7, datetime.now(UTC)
    )
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=False)
    producer.send(
        "lead.rejected",
        key=b"P-DEAD000001",
        value=b"original bytes " + marker,
        headers=rejection.headers(original_headers),
    ).get(10)
    producer.close()

    mine = [d for d in dead_letters(servers) if d.headers == original_headers]
    assert len(mine) == 1 and mine[0].rejection == rejection

    ledger = tmp_path / "redriven.ledger"
    assert rejection in redrive(servers, ledger, reason=Reason.BAD_SIGNATURE, dry_run=True)
    assert not ledger.exists()
    done = redrive(servers, ledger, reason=Reason.BAD_SIGNATURE)
    assert rejection in done
    assert rejection not in redrive(servers, ledger, reason=Reason.BAD_SIGNATURE)

    back = [
        r
        for r in read_topics(servers, ["lead.ingest.opd"])
        if dict(r.headers).get("ce_id") == marker
    ]
    assert len(back) == 1
    assert back[0].value == b"original bytes " + marker and back[0].key == b"P-DEAD000001"
    assert back[0].headers == original_headers  # our headers stripped, the agency's kept
