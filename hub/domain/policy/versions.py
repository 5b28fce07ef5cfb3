"""Which policy version is in force at each log position.

A policy takes effect where its ``policy_published`` event stands in the log, not when a
file changed on disk, so replay applies exactly the rules that were in force. Before any
publication, or after one naming a version or hash the hub does not hold, no policy is in
force and every decision is a deny (NO_POLICY): ignorance never widens sharing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.domain.policy.rules import Policy

POLICY_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0004")


def policy_event_id(policy: Policy) -> uuid.UUID:
    """One policy_published per policy content: restarting the hub never republishes it."""
    return uuid.uuid5(POLICY_NAMESPACE, policy.sha256)


@dataclass(frozen=True)
class PolicyBook:
    versions: Mapping[str, Policy] = field(default_factory=dict)  # by sha256 of the file
    in_force: Policy | None = None

    @classmethod
    def of(cls, policies: Iterable[Policy]) -> PolicyBook:
        return cls(versions={p.sha256: p for p in policies})

    def apply(self, event_type: str, body: Mapping[str, Any]) -> PolicyBook:
        if event_type != "policy_published":
            return self
        policy = self.versions.get(str(body["policy_sha256"]))
        if policy is None or policy.version != body["policy_version"]:
            policy = None
        return PolicyBook(self.versions, policy)
