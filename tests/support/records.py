"""A valid datum of every record model, taken from the synthetic sample events, for tests
that change one field of a record and watch what its model says."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel

from hub.events import models as m
from producers.samples import SAMPLE_TYPES, sample_event


def _walk(model: BaseModel, found: dict[str, dict[str, Any]]) -> None:
    found.setdefault(type(model).__name__, model.model_dump())
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                _walk(item, found)


def sample_records(
    seal: Callable[[m.Identity | m.Narrative], m.EncryptedField], seeds: Iterable[int] = range(12)
) -> dict[str, dict[str, Any]]:
    """Model class name -> the first datum of it in the samples, nested records and the
    plaintexts handed to ``seal`` included."""
    found: dict[str, dict[str, Any]] = {}

    def sealing(plaintext: m.Identity | m.Narrative) -> m.EncryptedField:
        _walk(plaintext, found)
        return seal(plaintext)

    def sealed_to_intake(plaintext: m.Identity | m.Narrative) -> m.SealedField:
        kind = (
            m.PlaintextType.IDENTITY
            if isinstance(plaintext, m.Identity)
            else m.PlaintextType.NARRATIVE
        )
        return m.SealedField(plaintext_type=kind, key_id="ik-19700101T000000Z", sealed=bytes(80))

    for seed in seeds:
        for event_type in SAMPLE_TYPES:
            _walk(sample_event(event_type, random.Random(seed), sealing), found)
    _walk(sample_event("referral_made", random.Random(0), sealed_to_intake), found)
    return found
