"""The auditor's replay: re-derive every decision from the canonical log, and compare.

Decisions are a pure function of (event, consent state at its log position, policy
version in force), so feeding lead.events through the hub's own ``PartitionProcessor``,
partition by partition in log order, must give exactly the records on lead.audit. Any
record the hub wrote that replay does not derive, any derived record the hub did not write,
and any field that differs is a finding. Replay also checks every event's signature and
that whatever replay sees fall due (an intake window's lapse or reminder, a consent's
expiry or reminder) was published as that hub event.

A log read while the hub runs, or left by a hub stopped or killed mid-stream, ends with
work in flight: events on lead.events whose decisions the worker had not committed yet
(it commits a partition's outputs in log order, so those are the partition's last
events), and hub events on lead.ingest.hub (lapses, reminders) not yet admitted. Those
are pending, counted, and not findings: the hub decides them when it runs again. A
decision missing *before* a decided event is a finding.
"""

from __future__ import annotations

import copyreg
import itertools
import multiprocessing
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol
from uuid import UUID

from hub.crypto import PublicKeys
from hub.domain import (
    AUDIT_RECORD,
    JOINING,
    Decision,
    FirstSeen,
    PartitionProcessor,
    Policy,
    PolicyBook,
    audit_record,
    audited,
    decisions_of,
    read_decisions,
)
from hub.events import (
    AUDIT,
    EVENTS,
    Codec,
    Envelope,
    EventError,
    decode_body,
    decode_envelope,
    verify,
)


def _read_only(fields: dict[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(fields)


# a permit's disclosed fields are a read-only mapping, which pickle cannot carry back from
# a replay's process on its own
copyreg.pickle(MappingProxyType, lambda m: (_read_only, (dict(m),)))


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


Position = tuple[int, int]  # a lead.events partition and offset


@dataclass
class Replay:
    """Everything replay derived, per partition processor, for the other auditor views."""

    processors: dict[int, PartitionProcessor] = field(default_factory=dict)
    records: dict[UUID, dict[str, Any]] = field(default_factory=dict)  # lead.audit's, by event
    decisions: dict[UUID, dict[str, Any]] = field(default_factory=dict)  # each one whole
    decided_on: dict[UUID, Position] = field(default_factory=dict)  # each decision's event
    disclosed: dict[UUID, Decision] = field(default_factory=dict)  # permits, with values
    envelopes: FirstSeen[UUID, Envelope] = field(default_factory=FirstSeen)
    # the hub events the clock makes due (lapses, reminders, consent expiries) replay
    # expects, by id, each with its type and the event that made it due
    due: FirstSeen[UUID, tuple[str, Position]] = field(default_factory=FirstSeen)
    # the links and unlinks (participant, event type, body), for joined timelines
    joins: list[tuple[Envelope, dict[str, Any]]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    events: int = 0
    _encoded: dict[bytes, bytes] | None = field(default=None, repr=False)

    def encoded(self, codec: Codec) -> dict[bytes, bytes]:
        """Each derived audit record's bytes, by its ce_id header value (its event id): an
        encoding is canonical, so a record with these bytes under that id is that record.
        Encoded once, for the diff and for verify's suspects alike."""
        if self._encoded is None:
            self._encoded = {
                str(i).encode(): codec.encode(AUDIT_RECORD, want)
                for i, want in self.records.items()
            }
        return self._encoded


@dataclass(frozen=True)
class Comparison:
    """lead.audit against replay: the findings, and what was still in flight."""

    findings: list[str]
    logged: int  # distinct decisions on lead.audit
    pending_decisions: int  # of events after the last one the hub had decided, per partition
    pending_due: int  # what the clock made due, on lead.ingest.hub, not yet on lead.events


def replay_events(
    records: Iterable[LogRecord],
    codec: Codec,
    keys: PublicKeys,
    policies: Sequence[Policy],
    recipients: Sequence[str],
    signature_threads: int = 2,
    processes: int = 1,
) -> Replay:
    """Every event decided again, partition by partition in offset order. Partitions are
    independent (a participant's events are all in one), so with ``processes`` above one
    contiguous runs of partitions are replayed in forked processes at once and their
    results joined in partition order: the same replay, byte for byte, as in one process.
    In each, the signatures are checked on threads meanwhile (Ed25519 verification
    releases the GIL) and their findings come after those of decoding."""
    events = sorted(
        (r for r in records if r.topic == EVENTS), key=lambda r: (r.partition, r.offset)
    )
    groups = _contiguous(events, processes)
    if len(groups) < 2:
        derived, signatures = _derive(events, codec, keys, policies, recipients, signature_threads)
        derived.findings += signatures
        return derived
    _shared["replay"] = (groups, codec, keys, policies, recipients, signature_threads)
    try:
        fork = multiprocessing.get_context("fork")  # the keys and codec are inherited
        with ProcessPoolExecutor(len(groups), mp_context=fork) as pool:
            parts = list(pool.map(_derive_group, range(len(groups))))
    finally:
        del _shared["replay"]
    return _joined(parts)


def processes_for(cores: int | None) -> int:
    """How many processes a replay pays for on ``cores``: each keeps about two busy (its
    decisions, and its signature threads), so on two cores one process is already the
    whole machine (make bench: 1,898 to 2,010 events/s in one process over three runs,
    1,606 in two, the joining costing more than it gains)."""
    return max(1, (cores or 1) // 2)


# what the forked processes of one replay read (keys do not pickle; a fork inherits them)
_shared: dict[str, tuple[Any, ...]] = {}


def _derive_group(index: int) -> tuple[Replay, list[str]]:
    groups, *rest = _shared["replay"]
    return _derive(groups[index], *rest)


def _contiguous(events: Sequence[LogRecord], processes: int) -> list[Sequence[LogRecord]]:
    """``events`` (in partition order) cut into at most ``processes`` runs of whole
    partitions, of about equal numbers of records."""
    cuts = [i for i in range(1, len(events)) if events[i].partition != events[i - 1].partition]
    n = min(processes, len(cuts) + 1)
    bounds = [0]
    for cut in cuts:  # at the first partition's start past each n-th of the records
        if len(bounds) < n and cut >= len(events) * len(bounds) / n:
            bounds.append(cut)
    bounds.append(len(events))
    return [events[a:b] for a, b in itertools.pairwise(bounds)]


def _joined(parts: Sequence[tuple[Replay, list[str]]]) -> Replay:
    """The parts' replays as one, in partition order (each part's partitions follow the
    previous part's), decoding findings first and signature findings after, as in one
    process. Every field of Replay is joined by its kind, so a field added later cannot be
    left out."""
    joined = Replay()
    for part, _ in parts:
        for f in fields(Replay):
            if f.name.startswith("_"):
                continue  # a cache, derived again when asked
            mine, theirs = getattr(joined, f.name), getattr(part, f.name)
            if isinstance(mine, FirstSeen):
                mine.repeats += theirs.repeats
                for key, value in theirs.items():
                    mine.keep(key, value)
            elif isinstance(mine, dict):
                mine.update(theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
            else:
                setattr(joined, f.name, mine + theirs)  # a count
    for _, signatures in parts:
        joined.findings += signatures
    return joined


def _derive(
    events: Iterable[LogRecord],
    codec: Codec,
    keys: PublicKeys,
    policies: Sequence[Policy],
    recipients: Sequence[str],
    signature_threads: int,
) -> tuple[Replay, list[str]]:
    """The replay of ``events`` (of lead.events, in order), and the findings of their
    signatures apart."""
    result = Replay()
    book = PolicyBook.of(policies)
    checks: list[Future[list[str]]] = []
    batch: list[tuple[str, Envelope]] = []
    with ThreadPoolExecutor(signature_threads, thread_name_prefix="replay-verify") as pool:
        for r in events:
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
                result.envelopes.keep(envelope.event_id, envelope)
                if envelope.event_type in JOINING:
                    result.joins.append((envelope, body.model_dump()))
            for due in outcome.due:
                result.due.keep(due.event_id, (due.event_type, (r.partition, r.offset)))
            decisions = audited(r.partition, envelope, outcome)
            if not decisions:
                continue
            record = result.records[envelope.event_id] = audit_record(envelope, decisions)
            for d, whole in zip(decisions, decisions_of(record), strict=True):
                result.decisions[whole["decision_id"]] = whole
                result.decided_on[whole["decision_id"]] = (r.partition, r.offset)
                if d.permit:
                    result.disclosed[whole["decision_id"]] = d
        checks.append(pool.submit(_verify_all, batch, keys))
        signatures = [finding for check in checks for finding in check.result()]
    return result, signatures


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
    """lead.audit's decisions by decision id; a repeat must be identical to the first, or
    it is a finding."""
    found: dict[UUID, dict[str, Any]] = {}
    findings: list[str] = []
    for r in records:
        if r.topic != AUDIT:
            continue
        try:
            decisions = read_decisions(codec, r.value)
        except EventError as exc:
            findings.append(f"{AUDIT}/{r.partition}@{r.offset}: unreadable ({exc.reason.value})")
            continue
        for decision in decisions:
            first = found.setdefault(decision["decision_id"], decision)
            if first != decision:
                findings.append(
                    f"{AUDIT}/{r.partition}@{r.offset}: decision {decision['decision_id']} "
                    "repeated with different content"
                )
    return found, findings


def diff(
    derived: Replay,
    records: Iterable[LogRecord],
    codec: Codec,
    submitted: Collection[UUID] = frozenset(),
) -> Comparison:
    """lead.audit against replay; ``submitted``: the event ids on lead.ingest.hub."""
    matched, odd = _matching(derived, records, codec)
    logged, unreadable = logged_decisions(odd, codec)
    findings = [*derived.findings, *unreadable]
    on_log = matched | logged.keys()
    decided_to: dict[int, int] = {}  # per partition, the last event with a logged decision
    for decision_id in on_log & derived.decisions.keys():
        partition, offset = derived.decided_on[decision_id]
        decided_to[partition] = max(decided_to.get(partition, -1), offset)

    def in_flight(at: Position) -> bool:
        return at[1] > decided_to.get(at[0], -1)

    pending = 0
    for decision_id, want in derived.decisions.items():
        got = logged.get(decision_id)
        if got is not None:
            findings += _differences(decision_id, want, got)
        elif decision_id in matched:
            continue
        elif in_flight(derived.decided_on[decision_id]):
            pending += 1
        else:
            findings.append(f"{_named(decision_id, want)}: {MISSING}")
    findings += [
        f"{_named(decision_id, got)}: on {AUDIT}, but replay derives no such decision"
        for decision_id, got in logged.items()
        if decision_id not in derived.decisions
    ]
    due_pending = 0
    for event_id, (event_type, cause) in sorted(derived.due.items(), key=lambda i: str(i[0])):
        if event_id in derived.envelopes:
            continue
        if event_id in submitted or in_flight(cause):
            due_pending += 1
        else:
            findings.append(f"{event_type} {event_id}: due by replay, never published")
    return Comparison(findings, len(on_log), pending, due_pending)


def _matching(
    derived: Replay, records: Iterable[LogRecord], codec: Codec
) -> tuple[set[UUID], list[LogRecord]]:
    """The decisions whose logged record is exactly what replay derives, and the other
    lead.audit records. A record whose bytes are the encoding of the record its ce_id
    header names (an event id) holds that event's decisions; only the others are decoded
    and compared decision by decision, field by field (an encoding is canonical, so equal
    bytes are equal content, and decoding every record would cost more than deriving
    it)."""
    expected = derived.encoded(codec)
    matched: set[UUID] = set()
    odd = []
    for r in records:
        if r.topic != AUDIT:
            continue
        named = next((v for k, v in r.headers if k == "ce_id"), None)
        if named is not None and expected.get(named) == r.value:
            matched.update(
                d["decision_id"] for d in derived.records[UUID(named.decode())]["decisions"]
            )
        else:
            odd.append(r)
    return matched, odd


MISSING = f"derived by replay, missing from {AUDIT}"


def _named(decision_id: UUID, decision: dict[str, Any]) -> str:
    return f"decision {decision_id} ({decision['event_type']} -> {decision['recipient']})"


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def decision_named(finding: str) -> str | None:
    """The decision id a finding begins with (``_named``'s form), if it names one."""
    head, _, rest = finding.partition(" ")
    if head != "decision":
        return None
    named = rest.split(" ", 1)[0]
    try:
        return str(UUID(named))
    except ValueError:
        return None


def _differences(decision_id: UUID, want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    changed = sorted(k for k in want if want[k] != got.get(k))
    if not changed:
        return []
    return [
        f"{_named(decision_id, want)}: {AUDIT} differs from replay in "
        + ", ".join(f"{k} (logged {_shown(got.get(k))}, replay {_shown(want[k])})" for k in changed)
    ]


def suspects(derived: Replay, records: Sequence[LogRecord], codec: Codec) -> list[tuple[int, str]]:
    """The lead.audit records (by position) that are not what replay derives, and why: the
    evidence that places an altered record once the signed checkpoints say one is."""
    expected = derived.encoded(codec)
    first: dict[bytes, int] = {}
    found: list[tuple[int, str]] = []
    for index, r in enumerate(records):
        named = next((v for k, v in r.headers if k == "ce_id"), None)
        if named is None:
            found.append((index, "a record without an id (inserted)"))
        elif named in first and records[first[named]].value == r.value:
            where = records[first[named]].offset
            found.append((index, f"a second copy of the record at offset {where} (inserted)"))
        elif named not in expected:
            found.append((index, "replay derives no such record (forged or inserted)"))
        elif expected[named] != r.value:
            found.append((index, "replay derives this record differently (edited)"))
        first.setdefault(named or b"", index)
    return found
