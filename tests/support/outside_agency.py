"""An agency system built from docs/protocol.md alone: the standard library, kafka-python,
fastavro and cryptography, and the document's own examples, run from the document (its
publisher with the intake sealing of section 14, its notice reader of 12.6). Nothing of
the project is imported here (tests/e2e/test_outside_agency.py checks it): this is what a
police records vendor or a case-management system writes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from kafka import KafkaConsumer, TopicPartition

RECEIPT_SIGNING_TAG = b"LEADHUB-RECEIPT-SIG-V1\x00"  # 16.3
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class OutsideAgency:
    agency: str
    key_id: str
    signing_key: Ed25519PrivateKey  # its public half registered with the hub (section 7)
    sealing_keys: dict[str, X25519PrivateKey]  # what its notices are sealed to (12.4)
    hub_keys: dict[str, Ed25519PublicKey]  # the hub's keys, from the hub's operator
    origin: str  # the hub's log origin: the name its key set and checkpoints are signed under
    api: str  # the hub's HTTP API, e.g. https://hub.example.org
    kafka: dict[str, Any]  # bootstrap_servers and this agency's SASL/TLS settings
    released: Path  # a copy of schemas/released/
    doc: dict[str, Any]  # the document's examples, run: publishing (14) and reading (12.6)

    # -- HTTP (17.1) ----------------------------------------------------------------------

    def request(self, method: str, path: str, body: bytes = b"") -> Any:
        ts = int(time.time())
        digest = hashlib.sha256(body).hexdigest()
        signed = f"leadhub-request-v1\n{method}\n{path}\n{ts}\n{digest}".encode()
        sig = base64.b64encode(self.signing_key.sign(signed)).decode()
        auth = f"LEAD-Ed25519 agency={self.agency},key={self.key_id},ts={ts},sig={sig}"
        request = urllib.request.Request(
            self.api + path, data=body if method == "POST" else None, method=method
        )
        request.add_header("Authorization", auth)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    def new_participant_id(self) -> str:  # 16.1
        return str(self.request("POST", "/v1/participants")["participant_id"])

    def intake_key(self) -> tuple[str, Any]:  # 16.2: checked against the hub's key
        (hub_public,) = self.hub_keys.values()
        key_set = self.request("GET", "/v1/intake-keys")["note"]
        return self.doc["current_intake_key"](key_set, self.origin, hub_public, datetime.now(UTC))

    # -- publishing (section 14) ----------------------------------------------------------

    def publish(
        self,
        event_type: str,
        version: int,
        participant_id: str,
        body: dict[str, Any],
        *,
        event_id: uuid.UUID | None = None,
        unsigned: bool = False,
    ) -> uuid.UUID:
        event_id = event_id or uuid.uuid4()
        key, value, headers = self.doc["ingest_record"](
            self.signing_key,
            released=self.released,
            agency=self.agency,
            key_id=self.key_id,
            event_type=event_type,
            version=version,
            participant_id=participant_id,
            occurred_at=datetime.now(UTC),
            body=body,
            event_id=event_id,
        )
        if unsigned:  # a broken publisher: the envelope without its signature
            schema, fp = self.doc["load_schema"](self.released, "envelope", 1)
            envelope = fastavro.schemaless_reader(io.BytesIO(value[10:]), schema)
            value = self.doc["single_object"](schema, fp, {**envelope, "signature": b""})
        settings = {k: v for k, v in self.kafka.items() if k != "bootstrap_servers"}
        self.doc["publish"](
            self.kafka["bootstrap_servers"], self.agency, (key, value, headers), **settings
        )
        return event_id

    def sealed(self, kind: str, plaintext: dict[str, Any], pid: str, event_id: uuid.UUID) -> Any:
        subject = "types.Identity" if kind == "IDENTITY" else "types.Narrative"
        schema, fp = self.doc["load_schema"](self.released, subject, 1)
        key_id, public = self.intake_key()
        return self.doc["seal_to_hub"](
            kind,
            self.doc["single_object"](schema, fp, plaintext),
            key_id=key_id,
            public=public,
            participant_id=pid,
            event_id=event_id,
        )

    # -- reading its own topics -----------------------------------------------------------

    def _read(self, topic: str) -> list[Any]:
        consumer = KafkaConsumer(
            enable_auto_commit=False, isolation_level="read_committed", **self.kafka
        )
        try:
            tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            records = []
            while any(consumer.position(tp) < ends[tp] for tp in tps):
                for batch in consumer.poll(timeout_ms=500).values():
                    records += batch
            return records
        finally:
            consumer.close()

    def receipts(self) -> list[dict[str, Any]]:
        """Its receipts (16.3), each checked against the hub's key (raises if one is not)."""
        schema = json.loads((self.released / "receipt" / "v1.avsc").read_text("utf-8"))
        names = [f["name"] for f in schema["fields"] if f["name"] != "signature"]
        parsed = fastavro.parse_schema(schema)
        found = []
        for record in self._read(f"lead.receipts.{self.agency}"):
            receipt = fastavro.schemaless_reader(io.BytesIO(record.value[10:]), parsed)
            parts = []
            for name in names:
                value = receipt[name]
                if isinstance(value, datetime):
                    d = value - EPOCH
                    raw = struct.pack(
                        ">q", (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
                    )
                else:
                    raw = b"" if value is None else str(value).encode()
                parts.append(struct.pack(">I", len(raw)) + raw)
            signed = RECEIPT_SIGNING_TAG + b"".join(parts)
            self.hub_keys[receipt["hub_key_id"]].verify(receipt["signature"], signed)
            found.append(receipt)
        return found

    def notices(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Its notices, verified and opened by the document's reader (12.6)."""
        return [
            self.doc["open_notice"](r.value, self.released, self.hub_keys, self.sealing_keys)
            for r in self._read(f"lead.notify.{self.agency}")
        ]
