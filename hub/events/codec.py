"""Avro single-object encoding, bounded and typed.

Every payload names its writer schema (``C3 01`` + 8-byte CRC-64-AVRO fingerprint), so a
reader years later still knows how to read it. Decoding is bounded: the size limit is
checked before a byte is parsed, and the registry refuses schemas whose repeated items
can be zero bytes, so a count can never exceed the bytes that back it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from hub.events.errors import MalformedPayload, OversizedPayload, UnexpectedSchema, UnknownSchema
from hub.events.schemas import SchemaRegistry, SchemaVersion

MAGIC = b"\xc3\x01"
HEADER_BYTES = len(MAGIC) + 8
DEFAULT_MAX_BYTES = 256 * 1024

# What fastavro raises on hostile bytes (seen: EOFError on short reads, IndexError on bad
# enum or union indexes, ValueError on bad uuids, UnicodeDecodeError, OverflowError on
# out-of-range dates). Each becomes MALFORMED; nothing else escapes.
_DECODE_FAILURES = (
    EOFError,
    IndexError,
    ValueError,
    OverflowError,
    TypeError,
    KeyError,
    AttributeError,
    MemoryError,
    RecursionError,
)


@dataclass(frozen=True)
class Decoded:
    """A decoded datum, the writer schema it came in, and the reader schema it now fits."""

    writer: SchemaVersion
    reader: SchemaVersion
    datum: dict[str, Any]


class Codec:
    """Encodes with the head schema of a subject; decodes any version the registry knows."""

    def __init__(self, registry: SchemaRegistry, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.registry = registry
        self.max_bytes = max_bytes

    def encode(self, subject: str, datum: Mapping[str, Any]) -> bytes:
        schema = self.registry.head(subject)
        buf = io.BytesIO()
        buf.write(MAGIC)
        buf.write(schema.fingerprint)
        schemaless_writer(buf, schema.parsed, datum)
        data = buf.getvalue()
        if len(data) > self.max_bytes:
            raise OversizedPayload(f"{subject} encodes to {len(data)} bytes > {self.max_bytes}")
        return data

    def decode(self, data: bytes, subject: str | None = None, *, canonical: bool = True) -> Decoded:
        """Decode single-object bytes; with ``subject``, refuse any other subject. Only the
        hub's own log, which only the hub writes and always canonically, is read with
        ``canonical`` False (the re-encoding costs as much as the decoding)."""
        if len(data) > self.max_bytes:
            raise OversizedPayload(f"{len(data)} bytes > limit {self.max_bytes}")
        if len(data) < HEADER_BYTES or data[:2] != MAGIC:
            raise MalformedPayload("not Avro single-object encoding (no C3 01 header)")
        fp = bytes(data[2:HEADER_BYTES])
        writer = self.registry.writer(fp)
        if writer is None:
            raise UnknownSchema(f"no schema with fingerprint {fp.hex()}")
        if subject is not None and writer.subject != subject:
            raise UnexpectedSchema(f"expected {subject}, got {writer.subject}")
        reader = self.registry.head(writer.subject)
        body = io.BytesIO(data)
        body.seek(HEADER_BYTES)
        try:
            datum = schemaless_reader(body, writer.parsed, reader.parsed)
        except _DECODE_FAILURES as exc:
            raise MalformedPayload(
                f"{writer.subject}: undecodable at byte {body.tell()} ({type(exc).__name__})"
            ) from None
        if body.tell() != len(data):
            raise MalformedPayload(f"{writer.subject}: {len(data) - body.tell()} trailing bytes")
        if not isinstance(datum, dict):
            raise MalformedPayload(f"{writer.subject}: not a record")
        if canonical:
            self._check_canonical(data, writer, datum if writer is reader else None)
        return Decoded(writer, reader, datum)

    @staticmethod
    def _check_canonical(data: bytes, writer: Any, datum: dict[str, Any] | None) -> None:
        """Only the canonical encoding of a datum is accepted: Avro readers also take
        negative enum and union indexes (counted from the end), overlong varints and
        multi-block arrays, so one datum has many spellings; the signature and the Merkle
        leaves are over bytes, and there must be one spelling per meaning."""
        own: Any = datum
        if own is None:  # an older writer: read its own shape, without resolution
            own = schemaless_reader(io.BytesIO(data[HEADER_BYTES:]), writer.parsed, None)
        again = io.BytesIO()
        try:
            schemaless_writer(again, writer.parsed, own)
        except (ValueError, TypeError, OverflowError) as exc:
            raise MalformedPayload(f"{writer.subject}: cannot be encoded again ({exc})") from None
        if again.getvalue() != data[HEADER_BYTES:]:
            raise MalformedPayload(f"{writer.subject}: not the canonical encoding of its data")
