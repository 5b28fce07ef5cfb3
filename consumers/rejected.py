"""Looking at dead letters and re-driving them once their cause is fixed.

A re-driven record goes back, byte for byte, to the ingest topic it came from, so it meets
the same gatekeeper again: a record that is still bad is refused again (and stays
visible), a fixed one is accepted, and a record already accepted meanwhile is refused as
DUPLICATE. A ledger in the data directory remembers what was re-driven, so a second
``redrive`` does not send the same dead letter twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaProducer

from hub.domain import Rejection, parse
from hub.events import REJECTED, Reason
from hub.log import read_topics


@dataclass(frozen=True)
class DeadLetter:
    rejection: Rejection
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def dead_letters(
    bootstrap_servers: Sequence[str], client_kwargs: dict[str, object] | None = None
) -> Iterator[DeadLetter]:
    """Each refused record once: a record refused again after a worker's crash carries the
    same rejection id (its source position) and is shown once."""
    shown: set[str] = set()
    for record in read_topics(bootstrap_servers, [REJECTED], client_kwargs=client_kwargs):
        rejection, original = parse(record.headers or [])
        if str(rejection.rejection_id) in shown:
            continue
        shown.add(str(rejection.rejection_id))
        yield DeadLetter(rejection, record.key, record.value, original)


def redrive(
    bootstrap_servers: Sequence[str],
    ledger: Path,
    *,
    reason: Reason | None = None,
    dry_run: bool = False,
    client_kwargs: dict[str, object] | None = None,
) -> list[Rejection]:
    """Re-publish matching dead letters not re-driven before; return what was (or would be)."""
    done = set(ledger.read_text().split()) if ledger.exists() else set()
    todo = [
        d
        for d in dead_letters(bootstrap_servers, client_kwargs)
        if (reason is None or d.rejection.reason is reason)
        and str(d.rejection.rejection_id) not in done
    ]
    if dry_run or not todo:
        return [d.rejection for d in todo]
    producer = KafkaProducer(
        bootstrap_servers=list(bootstrap_servers),
        acks="all",
        enable_idempotence=True,
        **(client_kwargs or {}),
    )
    try:
        for d in todo:
            producer.send(d.rejection.topic, key=d.key, value=d.value, headers=d.headers).get(30)
    finally:
        producer.close()
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with ledger.open("a", encoding="utf-8") as f:
        f.writelines(f"{d.rejection.rejection_id}\n" for d in todo)
    return [d.rejection for d in todo]
