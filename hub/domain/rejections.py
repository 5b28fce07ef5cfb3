"""Dead letters: a refused ingest record, kept whole, with why and where it came from.

The record on lead.rejected is the original key, value and headers (its ``ce_*`` ones set
aside under ``leadhub-original-`` when they do not make a valid CloudEvent), plus
``leadhub-*`` headers naming the reason code, a one-line detail, the source topic,
partition and offset, and when it was refused. Nothing is lost: once the cause is fixed
(a key registered, an agency's permission granted) the original bytes can be re-driven.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.events import Reason, is_cloudevent

PREFIX = "leadhub-"
REJECTION_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0003")
REJECTION_ID = f"{PREFIX}id"  # the header carrying rejection_id
# A refused record's ce_* headers that do not make a CloudEvent are kept under this
# prefix, so that a dead letter is a CloudEvent exactly when the refused record was one,
# and claims to be none otherwise.
ORIGINAL = f"{PREFIX}original-"


@dataclass(frozen=True)
class Rejection:
    reason: Reason
    detail: str
    topic: str
    partition: int
    offset: int
    rejected_at: datetime

    @property
    def rejection_id(self) -> uuid.UUID:
        """The same refused record always has the same id, however often it is refused."""
        return uuid.uuid5(REJECTION_NAMESPACE, f"{self.topic}/{self.partition}/{self.offset}")

    def headers(self, original: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        ours = {
            "reason": self.reason.value,
            "detail": self.detail,
            "topic": self.topic,
            "partition": str(self.partition),
            "offset": str(self.offset),
            "rejected-at": self.rejected_at.isoformat(),
            "id": str(self.rejection_id),
        }
        kept = _originals(original)
        if not is_cloudevent(kept):  # a CloudEvent, or no ce_ header at all
            kept = [(ORIGINAL + k if k.startswith("ce_") else k, v) for k, v in kept]
        return kept + [(PREFIX + k, v.encode()) for k, v in ours.items()]


def _originals(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The refused record's own headers, in their order: ours dropped, its ``ce_*`` ones
    that a dead letter had to set aside put back under their names."""
    return [
        (k.removeprefix(ORIGINAL), v)
        for k, v in headers
        if k.startswith(ORIGINAL) or not k.startswith(PREFIX)
    ]


def parse(headers: Iterable[tuple[str, bytes]]) -> tuple[Rejection, list[tuple[str, bytes]]]:
    """The rejection and the original headers of a lead.rejected record."""
    pairs = list(headers)
    ours: Mapping[str, str] = {
        k.removeprefix(PREFIX): v.decode(errors="replace") for k, v in pairs if k.startswith(PREFIX)
    }
    rejection = Rejection(
        reason=Reason(ours["reason"]),
        detail=ours.get("detail", ""),
        topic=ours["topic"],
        partition=int(ours["partition"]),
        offset=int(ours["offset"]),
        rejected_at=datetime.fromisoformat(ours["rejected-at"]),
    )
    return rejection, _originals(pairs)
