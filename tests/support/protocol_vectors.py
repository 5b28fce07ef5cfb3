"""Recompute the test vectors of docs/protocol.md section 15 from their inputs, with the
hub's own code, and write them back: ``python -m tests.support.protocol_vectors``.

The inputs (keys, envelope facts, bodies, the field's data key and nonce) are read from
the document; everything under ``# results`` (and the notice's content, seal and
signature) is computed. HPKE is randomized, so each run wraps the notice's epoch key and
seals the intake field anew. The byte-by-byte tables beside the vectors are prose: check
their offsets by hand after a change of length. ``tests/integration/test_protocol_by_hand.py``
then checks the result."""

from __future__ import annotations

import json
import re
import textwrap
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.crypto.epochs import epoch_info
from hub.crypto.intake import IntakeKey, current_key, intake_info, signed_key_set
from hub.crypto.sealing import seal
from hub.crypto.signing import SigningKey
from hub.domain.notices import NOTICE_AAD_TAG, Notice, content, notice_id
from hub.domain.policy import Policy
from hub.domain.receipts import Receipt, ReceiptStatus, receipt_id
from hub.events.codec import Codec
from hub.events.envelope import signing_input
from hub.events.schemas import SchemaRegistry
from tests.integration.test_protocol_by_hand import (
    RELEASED,
    load_schema,
    micros,
    notice_vector_permit,
    single_object,
)
from tests.support.paths import ROOT, SCHEMAS

DOC = ROOT / "docs" / "protocol.md"
NAME_WIDTH = 19
HEX_WIDTH = 64
Block = list[tuple[str, str]]  # (name, value) in order; a name "#..." is a comment line


def parse(text: str) -> Block:
    block: Block = []
    for line in text.splitlines():
        if line.startswith("#"):
            block.append((line, ""))
        elif line[:1].isspace():
            name, value = block[-1]
            block[-1] = (name, value + line.strip())
        elif line.strip():
            name, _, value = line.partition(" ")
            block.append((name, value.strip()))
    return block


def render(block: Block, wrap: Callable[[str, str], list[str]]) -> str:
    lines: list[str] = []
    for name, value in block:
        if name.startswith("#"):
            lines.append(name)
            continue
        pieces = wrap(name, value)
        lines.append(name.ljust(NAME_WIDTH - 1) + " " + pieces[0])
        lines += [" " * NAME_WIDTH + p for p in pieces[1:]]
    return "\n".join(lines)


def wrapped(name: str, value: str) -> list[str]:
    if name == "content":  # JSON: break after a comma, about as wide as the hex
        pieces, line = [], ""
        for part in re.split(r"(?<=,)", value):
            if line and len(line) + len(part) > HEX_WIDTH - 8:
                pieces.append(line)
                line = ""
            line += part
        return [*pieces, line]
    if re.fullmatch(r"[0-9a-f]+", value) and len(value) > HEX_WIDTH:
        return textwrap.wrap(value, HEX_WIDTH)
    return [value]


def signing(v: dict[str, str], codec: Codec) -> dict[str, str]:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["seed"]))
    subject = v["event_type"]
    schema, fingerprint = load_schema(RELEASED, subject, int(v["version"]))
    payload = single_object(schema, fingerprint, json.loads(v["body"]))
    occurred = datetime.fromisoformat(v["occurred_at"])
    facts: dict[str, Any] = {
        "event_id": uuid.UUID(v["event_id"]),
        "event_type": subject,
        "source": v["source"],
        "key_id": v["key_id"],
        "participant_id": v["participant_id"],
        "occurred_at": occurred,
        "causation_id": None if v["causation_id"] == "null" else uuid.UUID(v["causation_id"]),
        "correlation_id": uuid.UUID(v["correlation_id"]),
        "schema_fingerprint": payload[2:10],
        "payload": payload,
    }
    signed = signing_input(**facts)
    return {
        "public_key": key.public_key().public_bytes_raw().hex(),
        "occurred_at_micros": str(micros(occurred)),
        "schema_fingerprint": payload[2:10].hex(),
        "payload": payload.hex(),
        "signing_input": signed.hex(),
        "signature": key.sign(signed).hex(),
    }


def field(v: dict[str, str], codec: Codec) -> dict[str, str]:
    plaintext = codec.encode("types.Narrative", {"text": v["text"]})
    aad = b"LEADHUB-FIELD-V1\x00" + b"\x00".join(
        [v["participant_id"].encode(), v["plaintext_type"].encode(), v["key_id"].encode()]
    )
    key, nonce = bytes.fromhex(v["data_key"]), bytes.fromhex(v["nonce"])
    return {
        "plaintext": plaintext.hex(),
        "aad": aad.hex(),
        "ciphertext": AESGCM(key).encrypt(nonce, plaintext, aad).hex(),
    }


def intake(v: dict[str, str], codec: Codec) -> dict[str, str]:
    private = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["intake_private_key"]))
    plaintext = codec.encode("types.Narrative", {"text": v["text"]})
    info = intake_info(v["participant_id"], v["plaintext_type"], v["event_id"], v["key_id"])
    return {
        "intake_public_key": private.public_key().public_bytes_raw().hex(),
        "plaintext": plaintext.hex(),
        "info": info.hex(),
        "sealed": seal(plaintext, private.public_key(), info).hex(),
    }


def receipt(v: dict[str, str], codec: Codec) -> dict[str, str]:
    hub_key = SigningKey(
        "hub", v["hub_key_id"], Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["hub_seed"]))
    )
    partition, offset = int(v["ingest_partition"]), int(v["ingest_offset"])
    signed = Receipt(
        receipt_id=receipt_id(v["ingest_topic"], partition, offset),
        agency=v["agency"],
        ingest_topic=v["ingest_topic"],
        ingest_partition=partition,
        ingest_offset=offset,
        event_id=uuid.UUID(v["event_id"]),
        participant_id=v["participant_id"],
        status=ReceiptStatus(v["status"]),
        reason=v["reason"],
        detail=v["detail"],
        decided_at=datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(v["decided_at"])),
        hub_key_id=v["hub_key_id"],
    ).signed(hub_key)
    return {
        "receipt_id": str(signed.receipt_id),
        "signing_input": signed.signing_input().hex(),
        "signature": signed.signature.hex(),
        "value": codec.encode("receipt", dict(signed)).hex(),
    }


def key_set(v: dict[str, str]) -> dict[str, str]:
    hub_private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["hub_seed"]))
    epoch, retention = timedelta(days=7), timedelta(days=int(v["retention_days"]))
    keys = []
    for which in ("newer", "older"):  # newest first
        starts = datetime.fromisoformat(v[f"{which}_starts"])
        private = X25519PrivateKey.from_private_bytes(bytes.fromhex(v[f"{which}_private_key"]))
        key_id = "ik-" + starts.strftime("%Y%m%dT%H%M%SZ")
        keys.append(
            IntakeKey(
                key_id, starts, starts + epoch, starts + epoch + retention, private.public_key()
            )
        )
    note = signed_key_set(v["origin"], keys, hub_private)
    now = datetime.fromisoformat(v["now"])
    return {"current_key_id": current_key(keys, now).key_id, "note_hex": note.encode().hex()}


def notice(v: dict[str, str], event: dict[str, str], codec: Codec) -> dict[str, str]:
    hub_private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["hub_seed"]))
    opd_private = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["opd_private_key"]))
    envelope, decision = notice_vector_permit(v, event, codec)
    text = content(envelope, decision, Policy(version=v["policy_version"], rules=()))
    nid = notice_id(envelope.event_id, v["recipient"])
    epoch_id, epoch_key = uuid.UUID(v["epoch_id"]), bytes.fromhex(v["epoch_key"])
    info = epoch_info(epoch_id)
    wrapped = seal(epoch_key, opd_private.public_key(), info)
    aad = NOTICE_AAD_TAG + nid.bytes
    nonce = bytes.fromhex(v["nonce"])
    sealed = nonce + AESGCM(epoch_key).encrypt(nonce, text, aad)
    unsigned = Notice(
        notice_id=nid,
        recipient=v["recipient"],
        event_id=envelope.event_id,
        event_type=envelope.event_type,
        participant_id=envelope.participant_id,
        occurred_at=envelope.occurred_at,
        recorded_at=envelope.recorded_at,
        policy_version=v["policy_version"],
        rule_id=v["rule_id"],
        consent_id=None if v["consent_id"] == "null" else uuid.UUID(v["consent_id"]),
        purpose=v["purpose"],
        recipient_key_id=v["recipient_key_id"],
        epoch_id=epoch_id,
        wrapped_key=wrapped,
        sealed=sealed,
        hub_key_id=v["hub_key_id"],
        signature=b"",
    )
    signed = unsigned.signing_input()
    at_wrapped = signed.index(wrapped)
    at = signed.index(sealed)
    return {
        "hub_public_key": hub_private.public_key().public_bytes_raw().hex(),
        "opd_public_key": opd_private.public_key().public_bytes_raw().hex(),
        "notice_id": str(nid),
        "participant_id": envelope.participant_id,
        "content": text.decode(),
        "epoch_info": info.hex(),
        "wrapped_key": wrapped.hex(),
        "aad": aad.hex(),
        "sealed": sealed.hex(),
        "signing_input_head": signed[:at_wrapped].hex(),
        "signing_input_mid": signed[at_wrapped + len(wrapped) : at].hex(),
        "signing_input_tail": signed[at + len(sealed) :].hex(),
        "signature": hub_private.sign(signed).hex(),
    }


def regenerate(doc: Path = DOC) -> None:
    text = doc.read_text("utf-8")
    codec = Codec(SchemaRegistry.load(SCHEMAS), max_bytes=256 * 1024)
    blocks: dict[str, Block] = {}

    def found(marker: str) -> re.Match[str]:
        match = re.search(re.escape(f"<!-- {marker} -->") + r"\s*```text\n(.*?)\n```", text, re.S)
        assert match, marker
        return match

    for marker in ("signing", "field", "notice", "intake", "receipt", "key-set"):
        blocks[marker] = parse(found(f"test-vector:{marker}").group(1))
    values = {m: {n: v for n, v in b if not n.startswith("#")} for m, b in blocks.items()}
    computed = {
        "signing": signing(values["signing"], codec),
        "field": field(values["field"], codec),
        "intake": intake(values["intake"], codec),
        "receipt": receipt(values["receipt"], codec),
        "key-set": key_set(values["key-set"]),
    }
    values["signing"].update(computed["signing"])
    computed["notice"] = notice(values["notice"], values["signing"], codec)
    for marker, block in blocks.items():
        new = [(n, computed[marker].get(n, v)) for n, v in block]
        match = found(f"test-vector:{marker}")
        text = text[: match.start(1)] + render(new, wrapped) + text[match.end(1) :]
    doc.write_text(text, "utf-8")


if __name__ == "__main__":
    regenerate()
