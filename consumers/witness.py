"""An agency as a witness of the hub's decision log (C2SP tlog-witness, in spirit).

A witness remembers the last checkpoint it cosigned. Shown a newer one, it checks the
hub's signature and a consistency proof from its remembered tree to the new one, and only
then cosigns: once two agencies have cosigned, the hub cannot show one auditor a history
and another a different one, nor rewrite what it showed, without a witness noticing.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.audit import AuditLog, MerkleTree, log_keys, merkle, tree_of, witness_name
from hub.context import HubContext
from hub.crypto import Checkpoint, SigningKey, note, parse_note
from hub.errors import HubError
from hub.events import AUDIT, CHECKPOINTS, NOTE_TEXT, record_headers
from hub.log import client_kwargs, read_topics


@dataclass(frozen=True)
class WitnessState:
    size: int
    root: bytes

    @classmethod
    def load(cls, path: Path) -> WitnessState | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(int(data["size"]), base64.b64decode(data["root"]))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"size": self.size, "root": base64.b64encode(self.root).decode()})
        )
        tmp.replace(path)


def cosign_latest(
    notes: list[str],
    proofs: MerkleTree,
    *,
    origin: str,
    hub_keys: list[note.NoteKey],
    witness: SigningKey,
    state_file: Path,
    now: int | None = None,
) -> str | None:
    """Cosign the newest hub checkpoint among ``notes`` if it extends what this witness saw.

    ``hub_keys`` are the log's keys (``log_keys``); ``proofs`` is the proof service (a
    tree over lead.audit); returns the cosigned note
    (the hub's signature and ours) to publish, or None if there is nothing new.
    """
    newest: tuple[note.Checkpoint, str] | None = None
    for text in notes:
        try:
            body, _ = note.open_note(text, hub_keys)
            cp = note.Checkpoint.parse(body)
        except note.NoteError:
            continue  # not the hub's, or malformed: a witness ignores it
        if cp.origin == origin and (newest is None or cp.size > newest[0].size):
            newest = (cp, text)
    if newest is None:
        return None
    cp, text = newest
    state = WitnessState.load(state_file)
    if state is not None:
        if cp.size < state.size:
            return None
        if cp.size == state.size and cp.root != state.root:
            raise HubError(f"checkpoint {cp.size} contradicts the one this witness cosigned")
        if cp.size == state.size:
            return None
        try:
            proof = proofs.consistency_proof(state.size, cp.size) if state.size else []
            if state.size:
                merkle.verify_consistency(state.size, cp.size, proof, state.root, cp.root)
        except (merkle.ProofError, ValueError) as exc:
            raise HubError(
                f"checkpoint {cp.size} does not extend checkpoint {state.size} that this "
                f"witness cosigned: {exc}"
            ) from None
    line = note.cosign(
        cp,
        witness_name(origin, witness.agency),
        witness.private,
        int(time.time()) if now is None else now,
    )
    WitnessState(cp.size, cp.root).save(state_file)
    return _with_line(text, line)


def _with_line(text: str, line: str) -> str:
    """The hub's signed note with one more signature line."""
    body, signatures = note.parse_note(text)
    return note.format_note(body, [*signatures, line])


def witness(hub: HubContext, bootstrap: Sequence[str], agency: str) -> int | None:
    """Cosign the newest checkpoint as ``agency`` and publish the cosigned note."""
    from kafka import KafkaProducer

    settings, keys, key = hub.settings, hub.public_keys, hub.signing_key(agency)
    kwargs = client_kwargs(settings, agency, witness=True)
    log = AuditLog().add(read_topics(bootstrap, [AUDIT, CHECKPOINTS], client_kwargs=kwargs))
    origin = settings.audit.origin
    cosigned = cosign_latest(
        [r.value.decode("utf-8", "replace") for r in log.checkpoints],
        tree_of(r.value for r in log.audit),
        origin=origin,
        hub_keys=log_keys(origin, keys),
        witness=key,
        state_file=settings.paths.witness(agency),
    )
    if cosigned is None:
        return None
    size = Checkpoint.parse(parse_note(cosigned)[0]).size
    producer = KafkaProducer(
        bootstrap_servers=list(bootstrap), acks="all", enable_idempotence=True, **kwargs
    )
    try:
        headers = record_headers(f"checkpoint-{size}-{agency}", "cosignature", agency, NOTE_TEXT)
        producer.send(
            CHECKPOINTS, key=str(size).encode(), value=cosigned.encode(), headers=headers
        ).get(30)
    finally:
        producer.close()
    return size
