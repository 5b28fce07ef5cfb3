"""The auditor's replay: re-derive every decision from the canonical log, and compare.

Decisions are a pure function of (event, consent state at its log position, policy
version in force), so feeding lead.events through the hub's own ``PartitionProcessor``,
partition by partition in log order, must give exactly the records on lead.audit. Any
record the hub wrote that replay does not derive, any derived record the hub did not write,
and any field that differs is a finding. Replay also checks every event's signature and
that every intake window replay sees lapse was published as a lapse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from hub.crypto.signing import PublicKeys
from hub.events.codec import Codec
from hub.events.envelope import Envelope, decode_body, decode_envelope, verify
from hub.events.errors import EventError
from hub.notices import audit_record
from hub.policy import Decision, Policy, PolicyBook
from hub.processor import PartitionProcessor
from hub.streams.handlers import audited
from hub.topics import AUDIT, EVENTS


class LogRecord(Protocol):
    """What replay needs of a record: kafka-python's ConsumerRecord and ArchivedRecord
    both have it."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def value(self) -> bytes: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass
class Replay:
    """Everything replay derived, per partition processor, for the other auditor views."""

    processors: dict[int, PartitionProcessor] = field(default_factory=dict)
    decisions: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    disclosed: dict[UUID, Decision] = field(default_factory=dict)  # permits, with values
    envelopes: dict[UUID, Envelope] = field(default_factory=dict)
    lapses: set[UUID] = field(default_factory=set)  # expiry event ids replay expects
    findings: list[str] = field(default_factory=list)
    events: int = 0


def replay_events(
    records: Iterable[LogRecord],
    codec: Codec,
    keys: PublicKeys,
    policies: Sequence[Policy],
    recipients: Sequence[str],
    signature_threads: int = 2,
) -> Replay:
    """Every event decided again in log order; the signatures are checked meanwhile on
    other threads (Ed25519 verification releases the GIL), their findings added after."""
    result = Replay()
    book = PolicyBook.of(policies)
    checks: list[Future[list[str]]] = []
    batch: list[tuple[str, Envelope]] = []
    with ThreadPoolExecutor(signature_threads, thread_name_prefix="replay-verify") as pool:
        for r in records:
            if r.topic != EVENTS:
                continue
            where = f"{EVENTS}/{r.partition}@{r.offset}"
            try:
                envelope = decode_envelope(r.value, codec)
                body = decode_body(envelope, codec)
            except EventError as exc:
                result.findings.append(f"{where}: unreadable event ({exc.reason.value})")
                continue
            batch.append((where, envelope))
            if len(batch) == VERIFY_BATCH:
                checks.append(pool.submit(_verify_all, batch, keys))
                batch = []
            processor = result.processors.get(r.partition)
            if processor is None:
                processor = result.processors[r.partition] = PartitionProcessor(book, recipients)
            outcome = processor.process(envelope, body)
            if not outcome.duplicate:
                result.events += 1
                result.envelopes.setdefault(envelope.event_id, envelope)
            result.lapses.update(h.expiry_event_id for h in outcome.lapsed)
            for d in audited(r.partition, envelope, outcome):
                record = audit_record(envelope, d)
                result.decisions[record["decision_id"]] = record
                if d.permit:
                    result.disclosed[record["decision_id"]] = d
        checks.append(pool.submit(_verify_all, batch, keys))
        for check in checks:
            result.findings.extend(check.result())
    return result


VERIFY_BATCH = 256


def _verify_all(batch: list[tuple[str, Envelope]], keys: PublicKeys) -> list[str]:
    findings = []
    for where, envelope in batch:
        try:
            verify(envelope, keys)
        except EventError as exc:
            findings.append(f"{where}: {exc}")
    return findings


def logged_decisions(
    records: Iterable[LogRecord], codec: Codec
) -> tuple[dict[UUID, dict[str, Any]], list[str]]:
    """lead.audit by decision id; a repeat (a crash between send and commit) must be
    identical to the first, or it is a finding."""
    found: dict[UUID, dict[str, Any]] = {}
    findings: list[str] = []
    for r in records:
        if r.topic != AUDIT:
            continue
        try:
            record: dict[str, Any] = codec.decode(r.value, "audit_decision").datum
        except EventError as exc:
            findings.append(f"{AUDIT}/{r.partition}@{r.offset}: unreadable ({exc.reason.value})")
            continue
        first = found.setdefault(record["decision_id"], record)
        if first != record:
            findings.append(
                f"{AUDIT}/{r.partition}@{r.offset}: decision {record['decision_id']} repeated "
                "with different content"
            )
    return found, findings


def diff(derived: Replay, records: Iterable[LogRecord], codec: Codec) -> tuple[list[str], int]:
    """Findings of lead.audit against replay, and how many distinct decisions it holds.

    A logged record whose bytes are exactly the encoding of the decision replay derives
    under the id its ce_id header names is that decision; only the others are decoded and
    compared field by field (a decision's encoding is canonical, so equal bytes are equal
    content, and decoding every record would cost more than deriving it)."""
    findings = list(derived.findings)
    expected = {
        str(i).encode(): codec.encode("audit_decision", want)
        for i, want in derived.decisions.items()
    }
    matched: set[bytes] = set()
    odd = []
    for r in records:
        if r.topic != AUDIT:
            continue
        named = next((v for k, v in r.headers if k == "ce_id"), None)
        if named is not None and expected.get(named) == r.value:
            matched.add(named)
        else:
            odd.append(r)
    logged, unreadable = logged_decisions(odd, codec)
    findings += unreadable
    for decision_id, want in derived.decisions.items():
        got = logged.get(decision_id)
        what = f"decision {decision_id} ({want['event_type']} -> {want['recipient']})"
        if got is None:
            if str(decision_id).encode() not in matched:
                findings.append(f"{what}: derived by replay, missing from {AUDIT}")
            continue
        changed = sorted(k for k in want if want[k] != got.get(k))
        if changed:
            findings.append(
                f"{what}: {AUDIT} differs from replay in "
                + ", ".join(f"{k} (logged {got.get(k)!r}, replay {want[k]!r})" for k in changed)
            )
    for decision_id, got in logged.items():
        if decision_id not in derived.decisions:
            findings.append(
                f"decision {decision_id} ({got['event_type']} -> {got['recipient']}): on "
                f"{AUDIT}, but replay derives no such decision"
            )
    missing = derived.lapses - set(derived.envelopes)
    findings.extend(
        f"intake window lapse {m}: due by replay, never published" for m in sorted(missing, key=str)
    )
    distinct = matched | {str(i).encode() for i in logged}
    return findings, len(distinct)
