"""Peak memory (RSS) of one worker's state for many participants, as the worker holds it:
the canonical handlers' policy book, consent, timelines and open holds per partition; the
gatekeeper's accepted ids; the ids of the outputs it remembers (its lapses: audit
records and notices are remembered only until re-derived after a restart, see
hub/streams/worker.py); and the linker's tokens and encrypted identities of every
participant (identities sealed at their real size; opening one makes a synthetic person
from its nonce, so no plaintext is held here that the worker would not hold). Fed by the scenario
simulator in chunks (the plan itself is dropped after each chunk), in a process of its own
(`python -m bench.memory N`) so that nothing else counts."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from hub.config import load_settings
from hub.context import HubContext
from hub.domain import AcceptedIds, Linker, PartitionProcessor, PolicyBook
from hub.events import EVENTS, EncryptedField, Envelope, Identity, Narrative, PlaintextType
from producers.simulator import plan
from producers.variants import person

PARTITIONS = 6
CHUNK = 2000


IDENTITY_BYTES = 200  # an Identity's Avro encoding, as sealed: about 180 bytes and the tag


def fake_seal(plain: Identity | Narrative) -> EncryptedField:
    if isinstance(plain, Identity):
        return EncryptedField(
            plaintext_type=PlaintextType.IDENTITY,
            key_id=f"dk-{os.urandom(8).hex()}",
            nonce=os.urandom(12),
            ciphertext=bytes(IDENTITY_BYTES),
        )
    return EncryptedField(
        plaintext_type=PlaintextType.NARRATIVE, key_id="dk-1", nonce=bytes(12), ciphertext=bytes(48)
    )


def synthetic_identity(participant: str, nonce: bytes, ciphertext: bytes) -> Identity:
    return person(random.Random(nonce))


def peak_rss_kib() -> int:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over
    from the parent across fork and exec, so a child of the benchmark would report the
    benchmark's own size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(participants: int) -> dict[str, float]:
    hub = HubContext(load_settings())
    policy, recipients = hub.policy, hub.recipients
    book = PolicyBook.of([policy]).apply(
        "policy_published",
        {"policy_version": policy.version, "policy_sha256": policy.sha256},
    )
    processors = [PartitionProcessor(book, recipients) for _ in range(PARTITIONS)]
    seen = AcceptedIds()
    linker = Linker(os.urandom(32), synthetic_identity)
    sent: set[str] = set()
    before = peak_rss_kib()
    events = 0
    for chunk in range(0, participants, CHUNK):
        scenario = plan(
            chunk + 1, min(CHUNK, participants - chunk), lambda pid, event_id: fake_seal
        )
        for p in scenario.publications:
            partition = hash(p.participant_id) % PARTITIONS
            envelope = Envelope(
                event_id=p.event_id,
                event_type=p.body.event_type,
                schema_fingerprint=bytes(8),
                source=p.agency,
                key_id="k",
                participant_id=p.participant_id,
                occurred_at=p.occurred_at,
                recorded_at=p.occurred_at,
                payload=b"",
                signature=b"",
            )
            outcome = processors[partition].process(envelope, p.body)
            linker.follow(p.participant_id, envelope.event_type, p.body.model_dump())
            seen.add(p.event_id, f"lead.ingest.{p.agency}/0/{events}")
            sent.update(f"{EVENTS}/{due.event_id}" for due in outcome.due)
            events += 1
    peak = peak_rss_kib()
    return {
        "participants": participants,
        "events": events,
        "rss_mb": peak / 1024,
        "rss_before_state_mb": before / 1024,
        "accepted_ids": len(seen),
        "sent_ids": len(sent),
        "linked_participants": len(linker.identities),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
