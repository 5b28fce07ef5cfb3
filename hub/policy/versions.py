"""Which policy version is in force at each log position.

A policy takes effect where its ``policy_published`` event stands in the log, not when a
file changed on disk, so replay applies exactly the rules that were in force. Before any
publication, or after one naming a version or hash the hub does not hold, no policy is in
force and every decision is a deny (NO_POLICY): ignorance never widens sharing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.policy.rules import Policy


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
