"""One event as one agency may see it: what the view hands the pages, the API and the
caseload index alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

OWN = "own event"
# what a page shows for an encrypted field the viewer cannot read
ENCRYPTED = "<encrypted>"
ERASED_FIELD = "<erased>"
UNREADABLE = "<unreadable>"


@dataclass(frozen=True, slots=True)
class Shown:
    """One event as one agency may see it."""

    event_id: UUID
    event_type: str
    source: str
    participant_id: str
    occurred_at: datetime
    recorded_at: datetime
    seen: str  # OWN, or the rule that permitted it
    fields: Mapping[str, Any]
    notice_id: UUID | None  # None for the agency's own events (no notice was sent)
    consent_id: UUID | None = None  # the consent the permit relied on, if it needed one
