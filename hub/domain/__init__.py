"""The pure domain: every decision the hub makes, as a function of the log and nothing else
(no I/O; the time an event was accepted is handed in), so that replaying the log gives an
auditor the same decisions. Policy and consent, admission of an event (the gatekeeper),
deadlines and lapses, timelines, notices, rejections, what "already seen" means, and the
partition processor that folds one canonical event into all of them."""

from typing import TYPE_CHECKING

from hub.surface import lazy_surface

__all__ = [
    "AUDIT_RECORD",
    "BROADCAST",
    "CLOCK_TICKED",
    "DUE_TYPES",
    "JOINING",
    "LINKER_FOLLOWS",
    "PREFIX",
    "RECORDS_VIEWED",
    "REJECTION_ID",
    "REMINDED_AT",
    "RENDERERS",
    "Accepted",
    "AcceptedIds",
    "AgencyRegistry",
    "Clock",
    "ConsentState",
    "Decision",
    "Due",
    "FirstSeen",
    "Gatekeeper",
    "Grant",
    "Hold",
    "Linker",
    "Links",
    "LogClock",
    "Notice",
    "OnTheLog",
    "PartitionProcessor",
    "Policy",
    "PolicyBook",
    "Positions",
    "Receipt",
    "Rejected",
    "Rejection",
    "Screened",
    "Thresholds",
    "acknowledgement_id",
    "audit_record",
    "audited",
    "build_notice",
    "decisions_of",
    "erased_field",
    "issue_participant_id",
    "jsonable",
    "keep",
    "load_all",
    "load_policy",
    "notice_id",
    "open_notice",
    "parse",
    "policy_event_id",
    "read_decisions",
    "read_participant_id",
    "receipts",
    "tick_id",
    "time_left",
    "wall_clock",
]

# Loaded name by name (hub.surface): every command imports hub.context, which needs only
# the agencies and the policy; the gatekeeper, processor and notices wait for the worker.
if TYPE_CHECKING:
    from hub.domain import receipts
    from hub.domain.agencies import AgencyRegistry
    from hub.domain.audit_records import (
        AUDIT_RECORD,
        audit_record,
        decisions_of,
        read_decisions,
    )
    from hub.domain.deadlines import (
        CLOCK_TICKED,
        DUE_TYPES,
        REMINDED_AT,
        Due,
        Hold,
        tick_id,
        time_left,
    )
    from hub.domain.gatekeeper import (
        Accepted,
        Clock,
        Gatekeeper,
        LogClock,
        Rejected,
        Screened,
        wall_clock,
    )
    from hub.domain.linkage import (
        JOINING,
        LINKER_FOLLOWS,
        Linker,
        Links,
        Thresholds,
    )
    from hub.domain.notices import (
        Notice,
        acknowledgement_id,
        build_notice,
        erased_field,
        jsonable,
        notice_id,
        open_notice,
    )
    from hub.domain.participant_ids import (
        issue_participant_id,
        read_participant_id,
    )
    from hub.domain.policy import (
        ConsentState,
        Decision,
        Grant,
        Policy,
        PolicyBook,
        load_policy,
        policy_event_id,
    )
    from hub.domain.policy.archive import keep, load_all
    from hub.domain.policy.decide import RECORDS_VIEWED
    from hub.domain.policy.explain import RENDERERS
    from hub.domain.processor import BROADCAST, PartitionProcessor, audited
    from hub.domain.receipts import Receipt
    from hub.domain.rejections import PREFIX, REJECTION_ID, Rejection, parse
    from hub.domain.seen import AcceptedIds, FirstSeen, OnTheLog, Positions
else:
    __getattr__ = lazy_surface(
        __name__,
        {
            "hub.domain.agencies": ("AgencyRegistry",),
            "hub.domain.deadlines": (
                "CLOCK_TICKED",
                "DUE_TYPES",
                "Due",
                "Hold",
                "REMINDED_AT",
                "tick_id",
                "time_left",
            ),
            "hub.domain.linkage": (
                "JOINING",
                "LINKER_FOLLOWS",
                "Linker",
                "Links",
                "Thresholds",
            ),
            "hub.domain.gatekeeper": (
                "Accepted",
                "Clock",
                "Gatekeeper",
                "LogClock",
                "Rejected",
                "Screened",
                "wall_clock",
            ),
            "hub.domain.audit_records": (
                "AUDIT_RECORD",
                "audit_record",
                "decisions_of",
                "read_decisions",
            ),
            "hub.domain.notices": (
                "Notice",
                "acknowledgement_id",
                "build_notice",
                "erased_field",
                "jsonable",
                "notice_id",
                "open_notice",
            ),
            "hub.domain.participant_ids": (
                "issue_participant_id",
                "read_participant_id",
                "receipts",
            ),
            "hub.domain.policy": (
                "ConsentState",
                "Decision",
                "Grant",
                "Policy",
                "PolicyBook",
                "load_policy",
                "policy_event_id",
            ),
            "hub.domain.policy.archive": ("keep", "load_all"),
            "hub.domain.policy.decide": ("RECORDS_VIEWED",),
            "hub.domain.policy.explain": ("RENDERERS",),
            "hub.domain.processor": ("BROADCAST", "PartitionProcessor", "audited"),
            "hub.domain.receipts": ("Receipt",),
            "hub.domain.rejections": ("PREFIX", "REJECTION_ID", "Rejection", "parse"),
            "hub.domain.seen": ("AcceptedIds", "FirstSeen", "OnTheLog", "Positions"),
        },
    )
