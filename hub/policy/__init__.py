"""Who may see what about whom: the data-sharing policy, consent, and the pure decision.

Nothing here does I/O beyond reading the policy file, reads a clock, or draws a random
number: a decision is a function of (event, consent state at that log position, policy
version in force), so an auditor replaying the log gets the same decisions, forever.
"""

from hub.policy.consent import ConsentState, Grant
from hub.policy.decide import Decision, DenyReason, PolicyEvent, decide
from hub.policy.rules import ConsentKind, Policy, PolicyError, Rule, load_policy
from hub.policy.versions import PolicyBook

__all__ = [
    "ConsentKind",
    "ConsentState",
    "Decision",
    "DenyReason",
    "Grant",
    "Policy",
    "PolicyBook",
    "PolicyError",
    "PolicyEvent",
    "Rule",
    "decide",
    "load_policy",
]
