"""Per-event costs on this machine: the codec, and the bare Ed25519 verify rate that bounds
any pipeline that checks one signature per event."""

from __future__ import annotations

import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.workload import Record
from hub.events import Codec, decode_body, decode_envelope, encode_envelope


def codec_costs(codec: Codec, records: list[Record]) -> dict[str, Any]:
    sample = records[:5000]
    started = time.perf_counter()
    envelopes = [decode_envelope(r.value, codec) for r in sample]
    decode_env = time.perf_counter() - started
    started = time.perf_counter()
    for e in envelopes:
        decode_body(e, codec)
    decode_bodies = time.perf_counter() - started
    started = time.perf_counter()
    for e in envelopes:
        encode_envelope(e, codec)
    encode_env = time.perf_counter() - started
    n = len(sample)
    return {
        "events": n,
        "mean_bytes": sum(len(r.value) for r in sample) / n,
        "decode_envelope_us": decode_env / n * 1e6,
        "decode_body_us": decode_bodies / n * 1e6,
        "encode_envelope_us": encode_env / n * 1e6,
    }


def ed25519_verify_rate(n: int = 5000) -> float:
    key = Ed25519PrivateKey.generate()
    message = b"x" * 600
    signature = key.sign(message)
    public = key.public_key()
    started = time.perf_counter()
    for _ in range(n):
        public.verify(signature, message)
    return n / (time.perf_counter() - started)
