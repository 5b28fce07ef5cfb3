"""What one recipient was told in a window of time: the first question after a suspected
breach of an agency's systems or credentials (which disclosures, about whom, since when).

The accounting of disclosures answers it for one participant; this answers it for one
recipient across every participant, from the same logged permits on lead.audit (what was
sent, not what replay says should have been), so the two always agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.audit.auditor import Auditor
from hub.audit.replay import logged_decisions
from hub.errors import HubError


def exposure(
    auditor: Auditor, recipient: str, since: datetime, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Every permit to ``recipient`` decided in [since, until), oldest first."""
    if recipient not in auditor.hub.recipients:
        raise HubError(
            f"unknown recipient {recipient!r} (known: {', '.join(auditor.hub.recipients)})"
        )
    if until is not None and until <= since:
        raise HubError("--until must be after --since")
    logged, _ = logged_decisions(auditor.log.audit, auditor.hub.codec)
    rows = [
        {
            "disclosed_at": d["decided_at"],
            "participant": d["participant_id"],
            "event_type": d["event_type"],
            "event_id": d["event_id"],
            "fields": ", ".join(d["fields_disclosed"]),
            "rule": d["rule_id"],
            "consent": d["consent_id"],
            "policy": d["policy_version"],
        }
        for d in logged.values()
        if d["recipient"] == recipient
        and d["permit"]
        and d["decided_at"] >= since
        and (until is None or d["decided_at"] < until)
    ]
    return sorted(rows, key=lambda r: (r["disclosed_at"], r["participant"], str(r["event_id"])))
