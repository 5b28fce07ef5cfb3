"""What each stream job does with one record, as records to send: no Kafka in here.

``IngestHandler`` is the gatekeeper job (lead.ingest.* -> lead.events or lead.rejected);
``CanonicalHandler`` is the disclosure job for one partition of lead.events (-> sealed
notices on lead.notify.*, decision records on lead.audit, and what the clock made due
(lapses, reminders, consent expiries) back to lead.ingest.hub);
``AuditHandler`` is the notary job (lead.audit -> signed checkpoints on lead.checkpoints).
A stream agent calls ``handle`` and sends what it returns; tests and replays call it
directly. Neither ever raises on input: a record that cannot be handled is counted and
becomes a dead letter or is skipped with a reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from hub.audit import MerkleTree, leaf_hash, signed_checkpoint
from hub.crypto import EpochSealer, SigningKey
from hub.domain import (
    AUDIT_RECORD,
    BROADCAST,
    RECORDS_VIEWED,
    Accepted,
    AcceptedIds,
    Clock,
    Decision,
    Due,
    Gatekeeper,
    Linker,
    PartitionProcessor,
    Positions,
    Rejected,
    Rejection,
    Screened,
    audit_record,
    audited,
    build_notice,
    erased_field,
    receipts,
)
from hub.events import (
    AUDIT,
    CHECKPOINTS,
    EVENT_MODELS,
    EVENTS,
    HUB,
    NOTE_TEXT,
    REJECTED,
    ClockTicked,
    Codec,
    DataKeyStore,
    EncryptedField,
    Envelope,
    EventBody,
    EventError,
    FieldDecryptError,
    Reason,
    ReferralMade,
    cloudevents_headers,
    decode_body,
    decode_envelope,
    encode_envelope,
    ingest_topic,
    notify_topic,
    open_field,
    receipts_topic,
    record_headers,
    seal_field,
    sign_event,
    with_resealed,
)

INGEST_PREFIX = "lead.ingest."
# Where on lead.ingest.* an accepted event came from, so that the gatekeeper can tell its
# own redelivery after a crash (same origin: drop silently) from a publisher's duplicate.
ORIGIN = "leadhub-origin"

ERASED = "participant_erased"


@dataclass(frozen=True)
class Out:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    partition: int | None = None
    id: str | None = None  # what makes it the same output when sent again (see the worker)


@dataclass(frozen=True)
class Pending:
    """An ingest record the gatekeeper has screened, before its signature is checked."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    screened: Screened | Rejected


@dataclass
class IngestHandler:
    gate: Gatekeeper
    clock: Clock
    events_partitions: int
    # Where fields sealed to the intake key are re-encrypted: without it, none is accepted.
    datakeys: DataKeyStore | None = None
    hub_key: SigningKey | None = None  # signs the receipts of refused records (none without)
    seen: AcceptedIds = field(default_factory=AcceptedIds)  # accepted ids and their origins
    counts: Counter[str] = field(default_factory=Counter)

    def remember(self, headers: Iterable[tuple[str, bytes]]) -> None:
        """Learn an accepted id from a lead.events record's headers: at start for the whole
        log, then for every canonical record this worker reads, so that a record it
        re-reads after another worker's crash is known for what it is."""
        found = dict(headers)
        try:
            event_id = UUID(found.get("ce_id", b"").decode())
        except ValueError:
            self.counts["events.without_id"] += 1
            return
        self.seen.add(event_id, found.get(ORIGIN, b"").decode())

    def forget(self, admitted: Iterable[Out]) -> None:
        """The transaction that would have put these on lead.events was not committed: their
        events are not accepted, and whoever holds their partition now decides them."""
        for out in admitted:
            found = dict(out.headers)
            if "ce_id" in found:
                self.seen.discard(UUID(found["ce_id"].decode()))

    def handle(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Iterable[tuple[str, bytes]],
    ) -> list[Out]:
        pending = self.screen(topic, partition, offset, key, value, headers)
        return self.finish(pending, self.check_signature(pending))

    def screen(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Iterable[tuple[str, bytes]],
    ) -> Pending:
        """``handle`` in three steps (see ``Gatekeeper.screen``): screen, check the
        signature (thread-safe), finish in log order."""
        headers = list(headers)
        screened = self.gate.screen(
            topic_agency=topic.removeprefix(INGEST_PREFIX), value=value, key=key, headers=headers
        )
        return Pending(topic, partition, offset, key, value, headers, screened)

    def check_signature(self, pending: Pending) -> Rejected | None:
        if isinstance(pending.screened, Screened):
            return self.gate.check_signature(pending.screened)
        return None

    def finish(self, pending: Pending, signature: Rejected | None) -> list[Out]:
        topic, partition, offset = pending.topic, pending.partition, pending.offset
        key, value, headers = pending.key, pending.value, pending.headers
        origin = f"{topic}/{partition}/{offset}"
        screened = pending.screened
        result: Accepted | Rejected = (
            self.gate.conclude(screened, signature, clock=self.clock, seen=self.seen)
            if isinstance(screened, Screened)
            else screened
        )
        if isinstance(result, Accepted) and result.opened is not None:
            result = self._resealed(result)
        if not isinstance(result, Accepted):
            envelope = result.envelope
            if (
                result.reason is Reason.DUPLICATE
                and envelope is not None
                and self.seen.came_from(envelope.event_id, origin)
            ):
                self.counts["redelivered"] += 1  # our own crash replayed it: already forwarded
                return []
            self.counts[f"rejected.{result.reason.value}"] += 1
            rejection = Rejection(
                result.reason, result.detail, topic, partition, offset, datetime.now(UTC)
            )
            dead = Out(
                REJECTED,
                key,
                value or b"",
                rejection.headers(headers),
                id=f"{REJECTED}/{rejection.rejection_id}",
            )
            if self.hub_key is None or topic == ingest_topic(HUB):
                return [dead]
            receipt = receipts.rejected(rejection, envelope, self.hub_key)
            return [dead, receipt_out(receipt, key, self.gate.codec, carried(headers))]
        env = result.envelope
        self.seen.add(env.event_id, origin)
        self.counts[f"accepted.{env.event_type}"] += 1
        out = Out(
            EVENTS,
            env.participant_id.encode(),
            encode_envelope(env, self.gate.codec),
            [*cloudevents_headers(env), (ORIGIN, origin.encode()), *carried(headers)],
        )
        if isinstance(result.body, ClockTicked):  # the clock of the partition it names
            return [Out(out.topic, out.key, out.value, out.headers, result.body.partition)]
        if env.event_type in BROADCAST:
            # every partition must see the policy change at a definite position of its own
            return [
                Out(out.topic, out.key, out.value, out.headers, p)
                for p in range(self.events_partitions)
            ]
        return [out]

    def _resealed(self, accepted: Accepted) -> Accepted | Rejected:
        """The opened field re-encrypted under the participant's data key (made at first
        sight) beside the payload the agency signed, so lead.events holds the identity
        where crypto-shredding reaches it and the agency's signature still verifies."""
        env, opened = accepted.envelope, accepted.opened
        assert opened is not None
        if self.datakeys is None:
            return Rejected(Reason.BAD_SEALED_FIELD, "this hub keeps no data keys", env)
        if self.datakeys.erased(env.participant_id):
            return Rejected(
                Reason.INVALID_PARTICIPANT_ID,
                "the participant was erased: a person referred again needs a new id",
                env,
            )
        key_id, key = self.datakeys.get_or_create(env.participant_id)
        resealed = seal_field(
            opened, participant_id=env.participant_id, key_id=key_id, key=key, codec=self.gate.codec
        )
        return Accepted(
            env.model_copy(update={"resealed": resealed}),
            with_resealed(accepted.body, resealed),
        )


def receipt_out(
    receipt: receipts.Receipt, key: bytes | None, codec: Codec, trace: Sequence[tuple[str, bytes]]
) -> Out:
    """A receipt as the record for its agency's receipts topic, keyed like the event."""
    topic = receipts_topic(receipt.agency)
    rid = str(receipt.receipt_id)
    return Out(
        topic,
        receipt.participant_id.encode() if receipt.participant_id else key,
        codec.encode("receipt", dict(receipt)),
        [*record_headers(rid, "receipt", HUB), *trace],
        id=f"{topic}/{rid}",
    )


_ENCRYPTED_KEYS = frozenset(EncryptedField.model_fields)


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == _ENCRYPTED_KEYS


TRACE_CONTEXT = frozenset({"traceparent", "tracestate"})  # W3C trace context


def carried(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The trace context of a record, to put on the records it causes: one trace follows
    an event from its submission through the gatekeeper to its notices and decisions
    (faust.contrib.opentelemetry opens each agent's span from it)."""
    return [(k, v) for k, v in headers if k in TRACE_CONTEXT]


@dataclass
class CanonicalHandler:
    codec: Codec
    processor: PartitionProcessor
    sealer: EpochSealer  # the worker's, shared by its partitions: one epoch per recipient
    hub_key: SigningKey
    partition: int = 0
    datakeys: DataKeyStore | None = None
    # told each event folded in, with the decisions that go on lead.audit (the pages' view)
    observe: Callable[[Envelope, Mapping[str, Any], tuple[Decision, ...]], None] | None = None
    # the worker's linker (every partition's referrals): answers each referral decided here
    linker: Linker | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def handle(
        self,
        value: bytes,
        *,
        emit: bool = True,
        trace: Sequence[tuple[str, bytes]] = (),
        offset: int | None = None,
        origin: str | None = None,
    ) -> list[Out]:
        """Fold one canonical event in; with ``emit`` False (rebuilding state from the log
        on start) nothing is sent, because it was sent before. ``trace``: the record's
        trace-context headers, carried onto what it causes. ``offset`` and ``origin`` (its
        leadhub-origin header): where it is and where it came from, for its receipt."""
        try:
            # lead.events is the gatekeeper's canonical output: no need to check it again
            envelope = decode_envelope(value, self.codec, canonical=False)
            body = decode_body(envelope, self.codec, canonical=False)
        except EventError as exc:  # only the gatekeeper writes here; count, never stop
            self.counts[f"unreadable.{exc.reason.value}"] += 1
            return []
        outcome = self.processor.process(envelope, body)
        # the log says the key is destroyed: make it so, on every fold (idempotent), so that
        # no restored copy of the key store can bring the identity back
        erasing = envelope.event_type == ERASED and self.datakeys is not None
        if erasing and self.datakeys.erase(envelope.participant_id):  # type: ignore[union-attr]
            self.counts["erased"] += 1
        decisions = audited(self.partition, envelope, outcome)
        once = envelope.event_type not in BROADCAST or self.partition == 0
        observed = self.observe is not None and not outcome.duplicate and once
        sending = emit and not outcome.duplicate
        # what each recipient may read: its permits' encrypted fields opened (see _opened);
        # a rebuild with no pages has nothing to open
        readable = tuple(
            replace(d, fields=self._opened(envelope.participant_id, d.fields)) if d.permit else d
            for d in (decisions if observed or sending else ())
        )
        if observed and self.observe is not None:
            # the pages: the publisher reads its own event whole, its fields opened too
            own = self._opened(envelope.participant_id, body.model_dump())
            self.observe(envelope, own, readable)
        if not sending:
            self.counts["redelivered" if outcome.duplicate else "rebuilt"] += 1
            return []
        outs = [self._hub_event(due) for due in outcome.due]
        linked = self._linkage(envelope, body)
        if linked is not None:
            outs.append(linked)
        key = envelope.participant_id.encode()
        if origin is not None and offset is not None and envelope.source != HUB:
            receipt = receipts.accepted(origin, envelope, self.partition, offset, self.hub_key)
            outs.append(receipt_out(receipt, key, self.codec, trace))
        if decisions:
            event_id = str(envelope.event_id)
            outs.append(
                Out(
                    AUDIT,
                    key,
                    self.codec.encode(AUDIT_RECORD, audit_record(envelope, decisions)),
                    [*record_headers(event_id, AUDIT_RECORD, HUB), *trace],
                    id=f"{AUDIT}/{event_id}",
                )
            )
        for d, opened in zip(decisions, readable, strict=True):
            if not d.permit:
                self.counts[f"denied.{d.reason.value if d.reason else '?'}"] += 1
                continue
            if envelope.event_type == RECORDS_VIEWED:
                continue  # a read: logged for the accounting, nothing is sent
            policy = self.processor.book.in_force
            assert policy is not None  # a permit implies a policy in force
            notice = build_notice(
                envelope,
                opened,
                policy,
                self.sealer,
                self.hub_key,
            )
            self.counts[f"notices.{d.recipient}"] += 1
            outs.append(
                Out(
                    notify_topic(d.recipient),
                    key,
                    self.codec.encode("notice", dict(notice)),
                    [*record_headers(str(notice.notice_id), "notice", HUB), *trace],
                    id=f"{notify_topic(d.recipient)}/{notice.notice_id}",
                )
            )
        return outs

    def _opened(self, participant: str, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """The disclosed fields as their recipient can read them. An encrypted field that the
        rule discloses (a referral's ``identity`` to cm) is opened with the participant's
        data key and goes inside the notice, which is sealed to that recipient alone: so
        cm's own system reads the name with its sealing key, and no agency ever holds a
        data key. The audit record keeps the fields as they are on the log. After an
        erasure the key is gone, and the field says so and nothing else."""
        encrypted = {n: v for n, v in fields.items() if _is_encrypted(v)}
        if not encrypted or self.datakeys is None:  # no key store (a bench): as on the log
            return fields
        held = self.datakeys.get(participant)
        opened = dict(fields)
        for name, value in encrypted.items():
            kind = value["plaintext_type"]
            if held is None and self.datakeys.erased(participant):
                opened[name] = erased_field(kind)
                continue
            try:
                if held is None:  # no key was ever made here for this participant
                    raise FieldDecryptError("no data key")
                plain = open_field(
                    EncryptedField.model_validate(value),
                    participant_id=participant,
                    key=held[1],
                    codec=self.codec,
                )
            except FieldDecryptError:  # sealed under a key not the hub's: the publisher's mistake
                self.counts["unreadable_fields"] += 1
                opened[name] = {"plaintext_type": kind, "unreadable": True}
                continue
            opened[name] = {"plaintext_type": kind, "plaintext": plain.model_dump()}
        return opened

    def _linkage(self, envelope: Envelope, body: EventBody) -> Out | None:
        """A referral's answer from the linker, if it is already someone, as the hub's event
        (sent in this step's transaction, so given once)."""
        policy = self.processor.book.in_force
        if self.linker is None or not isinstance(body, ReferralMade) or policy is None:
            return None
        identity = body.identity.model_dump() if body.identity is not None else None
        finding = self.linker.decide(
            envelope.event_id, envelope.participant_id, identity, policy.linkage.thresholds
        )
        if finding is None:
            return None
        self.counts[f"linkage.{finding.event_type}"] += 1
        return hub_event(
            EVENT_MODELS[finding.event_type].model_validate(finding.body),
            finding.participant_id,
            envelope.recorded_at or envelope.occurred_at,
            finding.event_id,
            self.codec,
            self.hub_key,
            finding.cause,
        )

    def _hub_event(self, due: Due) -> Out:
        """What the clock made due, as the hub's own signed event."""
        self.counts[f"due.{due.event_type}"] += 1
        body = EVENT_MODELS[due.event_type].model_validate(due.body)
        return hub_event(
            body, due.participant_id, due.at, due.event_id, self.codec, self.hub_key, due.cause
        )


def hub_event(
    body: EventBody,
    participant_id: str,
    at: datetime,
    event_id: UUID,
    codec: Codec,
    hub_key: SigningKey,
    cause: UUID | None = None,
) -> Out:
    """One of the hub's own events (a lapse, a reminder, a tick), signed, on its way back
    through its ingest topic: the gatekeeper admits it like any other, and it is decided
    where it lands on lead.events."""
    envelope: Envelope = sign_event(
        body,
        codec=codec,
        key=hub_key,
        participant_id=participant_id,
        occurred_at=at,
        event_id=event_id,
        causation_id=cause,
    )
    return Out(
        ingest_topic(hub_key.agency),
        participant_id.encode(),
        encode_envelope(envelope, codec),
        cloudevents_headers(envelope),
        id=f"{EVENTS}/{envelope.event_id}",
    )


@dataclass
class AuditHandler:
    """Grows the Merkle tree over lead.audit in log order and signs checkpoints of it.

    Checkpoints carry no time, and Ed25519 signatures are deterministic, so a checkpoint
    of a given size is the same bytes whoever signs it again: a restart can only repeat
    one, never contradict it.
    """

    origin: str
    hub_key: SigningKey
    tree: MerkleTree = field(default_factory=MerkleTree)
    read: Positions = field(default_factory=Positions)  # of lead.audit's one partition
    published: int = 0  # the largest tree size already checkpointed on lead.checkpoints

    def add(self, offset: int, value: bytes) -> None:
        if self.read.folded(0, offset):
            return  # a redelivery: this record is a leaf already
        self.tree.append(leaf_hash(value))
        self.read.advance(0, offset)

    def checkpoint(self) -> list[Out]:
        size = self.tree.size
        if size <= self.published:
            return []
        text = signed_checkpoint(self.origin, self.tree, self.hub_key.private)
        self.published = size
        return [
            Out(
                CHECKPOINTS,
                str(size).encode(),
                text.encode(),
                record_headers(f"checkpoint-{size}", "checkpoint", HUB, NOTE_TEXT),
            )
        ]
