"""The decision: for one event, one verdict per candidate recipient, permit or deny.

Deny is the default and every path that is not a complete permit ends in a deny with a
reason code: no policy in force, participant erased, prohibited, no rule, or no consent
in force (with the reason the nearest consent fails). A permit names its rule, its
consent (when one was needed), the projected fields and the notices to attach.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from uuid import UUID

from hub.domain.policy.consent import ConsentState, Coverage
from hub.domain.policy.rules import ConsentKind, Policy, category_of

RECORDS_VIEWED = "records_viewed"
READ_PURPOSE = "records_access"


class DenyReason(StrEnum):
    NO_POLICY = "NO_POLICY"  # no known policy version is in force at this log position
    ERASED = "ERASED"  # the participant was erased: nothing more is shared
    PROHIBITED = "PROHIBITED"  # a prohibition forbids it whatever rule or consent says
    NO_RULE = "NO_RULE"  # no rule shares this event type with this recipient
    NO_CONSENT = "NO_CONSENT"  # no consent covers recipient, category and purpose
    NO_PART2_CONSENT = "NO_PART2_CONSENT"  # consent exists, but no 2.31 consent names them
    CONSENT_NOT_YET_EFFECTIVE = "CONSENT_NOT_YET_EFFECTIVE"
    CONSENT_EXPIRED = "CONSENT_EXPIRED"
    CONSENT_REVOKED = "CONSENT_REVOKED"


_COVERAGE_REASON = {
    Coverage.NOT_COVERED: DenyReason.NO_CONSENT,
    Coverage.NOT_PART2_FOR_RECIPIENT: DenyReason.NO_PART2_CONSENT,
    Coverage.NOT_YET_EFFECTIVE: DenyReason.CONSENT_NOT_YET_EFFECTIVE,
    Coverage.EXPIRED: DenyReason.CONSENT_EXPIRED,
    Coverage.REVOKED: DenyReason.CONSENT_REVOKED,
}


@dataclass(frozen=True)
class PolicyEvent:
    """What a decision may look at: routing facts, the log's time, the decoded body."""

    event_id: UUID
    event_type: str
    source: str
    participant_id: str
    at: datetime  # the log's time of the event: recorded_at, else occurred_at
    body: Mapping[str, Any]

    @property
    def category(self) -> str:
        return category_of(self.event_type)


@dataclass(frozen=True)
class Decision:
    event_id: UUID
    recipient: str
    permit: bool
    policy_version: str | None
    reason: DenyReason | None = None
    rule_id: str | None = None
    consent_id: UUID | None = None
    purpose: str | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    notices: tuple[str, ...] = ()


def _deny(
    event: PolicyEvent,
    recipient: str,
    policy: Policy | None,
    reason: DenyReason,
    rule_id: str | None = None,
) -> Decision:
    return Decision(
        event_id=event.event_id,
        recipient=recipient,
        permit=False,
        policy_version=policy.version if policy else None,
        reason=reason,
        rule_id=rule_id,
    )


def decide_one(
    event: PolicyEvent, consent: ConsentState, policy: Policy | None, recipient: str
) -> Decision:
    if policy is None:
        return _deny(event, recipient, policy, DenyReason.NO_POLICY)
    if consent.erased:
        return _deny(event, recipient, policy, DenyReason.ERASED)
    category = event.category
    banned = policy.prohibition_for(recipient, category)
    if banned is not None:
        return _deny(event, recipient, policy, DenyReason.PROHIBITED, banned.id)
    rule = policy.rule_for(recipient, event.event_type)
    if rule is None:
        return _deny(event, recipient, policy, DenyReason.NO_RULE)
    consent_id: UUID | None = None
    if rule.consent is not ConsentKind.NONE:
        grant, coverage = consent.find(
            recipient, category, rule.purpose.value, event.at, rule.consent is ConsentKind.PART2
        )
        if grant is None:
            return _deny(event, recipient, policy, _COVERAGE_REASON[coverage], rule.id)
        consent_id = grant.consent_id
    projected = {name: event.body[name] for name in rule.disclose[event.event_type]}
    return Decision(
        event_id=event.event_id,
        recipient=recipient,
        permit=True,
        policy_version=policy.version,
        rule_id=rule.id,
        consent_id=consent_id,
        purpose=rule.purpose.value,
        fields=MappingProxyType(projected),
        notices=rule.notices,
    )


def read_record(event: PolicyEvent, policy: Policy | None) -> Decision:
    """The audit log's entry for a read through the hub's API or pages: the reader was
    shown these events, each already disclosed to it by a permit of its own (or its own
    record). Nothing new is disclosed and no notice goes out; the entry is what lets the
    accounting of disclosures list the read (42 CFR 2.25, HIPAA 164.528)."""
    view = str(getattr(event.body["view"], "value", event.body["view"]))
    return Decision(
        event_id=event.event_id,
        recipient=str(event.body["viewer"]),
        permit=True,
        policy_version=policy.version if policy else None,
        rule_id=f"read.{view.lower()}",
        purpose=READ_PURPOSE,
        fields=MappingProxyType({"event_ids": tuple(event.body["event_ids"])}),
    )


def decide(
    event: PolicyEvent, consent: ConsentState, policy: Policy | None, recipients: Sequence[str]
) -> tuple[Decision, ...]:
    """One decision per candidate recipient other than the event's own source, in the
    order given. ``consent`` is the participant's state including this event. A read
    (records_viewed, only the hub may emit it) is recorded for its reader alone."""
    if event.event_type == RECORDS_VIEWED:
        return (read_record(event, policy),)
    return tuple(decide_one(event, consent, policy, r) for r in recipients if r != event.source)
