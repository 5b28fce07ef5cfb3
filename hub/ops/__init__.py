"""Operations on a site's log: bringing it up for a run (broker or cluster, topics, ACLs, the
archive, restore after a lost log), and the cluster's topics and ACLs as code, so that what
a cluster must hold is derived from deploy/ and shown (``leadhub plan``) before it is made
so (``leadhub apply``)."""

from typing import TYPE_CHECKING

from hub.surface import lazy_surface

__all__ = [
    "AclsUnavailable",
    "admin_client",
    "apply_acls",
    "apply_topics",
    "desired_state",
    "diff",
    "ensure_topics",
    "observe",
    "open_broker",
    "plan_lines",
]

# Loaded name by name (hub.surface): `leadhub plan` and `apply` need the plan and the admin
# client; bringing a log up (the broker, the cluster, the archiver) waits for `up` and `run`.
if TYPE_CHECKING:
    from hub.ops.cluster import (
        AclsUnavailable,
        admin_client,
        apply_acls,
        apply_topics,
        ensure_topics,
        observe,
    )
    from hub.ops.opening import open_broker
    from hub.ops.plan import desired_state, diff, plan_lines
else:
    __getattr__ = lazy_surface(
        __name__,
        {
            "hub.ops.cluster": (
                "AclsUnavailable",
                "admin_client",
                "apply_acls",
                "apply_topics",
                "ensure_topics",
                "observe",
            ),
            "hub.ops.opening": ("open_broker",),
            "hub.ops.plan": ("desired_state", "diff", "plan_lines"),
        },
    )
