"""One audit record per event on lead.audit: every decision about it, permit or deny,
naming what was decided and why, never the disclosed values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.domain.notices import notice_id
from hub.domain.policy import Decision
from hub.events import Codec, Envelope, UnexpectedSchema

AUDIT_RECORD = "audit_record"  # what the hub writes on lead.audit: one record per event
LEGACY_DECISION = "audit_decision"  # one record per decision, as hubs wrote before


def audit_record(envelope: Envelope, decisions: Sequence[Decision]) -> dict[str, Any]:
    """Every decision about one event as schemas/audit_record.avsc: names, never values.
    One record per event, not per decision: each record costs a Kafka append, an encoding
    and a Merkle leaf, and an event's decisions share their event, policy and moment."""
    return {
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "participant_id": envelope.participant_id,
        "policy_version": decisions[0].policy_version if decisions else None,
        "decided_at": envelope.recorded_at or envelope.occurred_at,
        "decisions": [
            {
                "decision_id": notice_id(envelope.event_id, d.recipient),
                "recipient": d.recipient,
                "permit": d.permit,
                "reason": d.reason.value if d.reason else None,
                "rule_id": d.rule_id,
                "consent_id": d.consent_id,
                "purpose": d.purpose,
                "fields_disclosed": list(d.fields),
                "notices": list(d.notices),
            }
            for d in decisions
        ],
    }


def decisions_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An audit record's decisions, each whole (with its event's fields): the unit that
    replay compares, the accounting lists and a proof names."""
    shared = {k: v for k, v in record.items() if k != "decisions"}
    return [{**shared, **d} for d in record["decisions"]]


def read_decisions(codec: Codec, value: bytes) -> list[dict[str, Any]]:
    """The decisions in one lead.audit record: an audit_record, or one audit_decision as
    hubs wrote them before (a log is never rewritten, so both are read). Only the canonical
    encoding is read: the leaves are over bytes, and auditors do not take the hub's word."""
    decoded = codec.decode(value)
    if decoded.writer.subject == AUDIT_RECORD:
        return decisions_of(decoded.datum)
    if decoded.writer.subject == LEGACY_DECISION:
        return [decoded.datum]
    raise UnexpectedSchema(f"expected an audit record, got {decoded.writer.subject}")
