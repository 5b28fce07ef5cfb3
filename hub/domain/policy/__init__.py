"""Who may see what about whom: the data-sharing policy, consent, and the pure decision.

Nothing here does I/O beyond reading the policy file, reads a clock, or draws a random
number: a decision is a function of (event, consent state at that log position, policy
version in force), so an auditor replaying the log gets the same decisions, forever.
"""

from hub.domain.policy.consent import ConsentState, Grant
from hub.domain.policy.decide import Decision, DenyReason, PolicyEvent, decide
from hub.domain.policy.rules import (
    ConsentKind,
    Linkage,
    Policy,
    PolicyError,
    Reminders,
    Rule,
    load_policy,
)
from hub.domain.policy.versions import POLICY_NAMESPACE, PolicyBook, policy_event_id

__all__ = [
    "POLICY_NAMESPACE",
    "ConsentKind",
    "ConsentState",
    "Decision",
    "DenyReason",
    "Grant",
    "Linkage",
    "Policy",
    "PolicyBook",
    "PolicyError",
    "PolicyEvent",
    "Reminders",
    "Rule",
    "decide",
    "load_policy",
    "policy_event_id",
]
