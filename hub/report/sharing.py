"""Consent and data sharing: releases of information as the hub enforced them, decisions
and notices by recipient, denials by reason, reads, and how fast the hub decided."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from uuid import UUID

from hub.domain import ConsentState, Grant
from hub.events import models as m
from hub.report.records import READ, LoggedEvent, Period, ReportLog
from hub.report.scope import Scope, median_of
from hub.report.tables import Measures, Statistic, table

CONSENT_STATES = [
    "active",
    "not_yet_effective",
    "partly_revoked",
    "revocation_pending",
    "revoked",
    "expired",
    "erased",
]


def consent_state(grant: Grant, at: datetime) -> str:
    """One release of information as the hub enforces it at ``at``, given the grant as the
    policy's own consent state left it (hub.domain.policy.consent)."""
    if grant.revoked_for >= grant.recipients:
        return "revoked"
    if grant.pending_revocation:
        return "revocation_pending"  # a 2.35 lock holds it for the justice agency
    if at >= grant.expires_at:
        return "expired"
    if at < grant.effective_at:
        return "not_yet_effective"
    return "partly_revoked" if grant.revoked_for else "active"


def consent_tables(known: list[LoggedEvent], scope: Scope, out: Measures) -> None:
    """Each participant's events recorded by the end of the period, in log order, folded by
    the very state machine the hub decides with: so a 2.35 lock, an erasure and a consent
    not yet in effect count here as they counted when the hub disclosed, or did not."""
    states: dict[str, ConsentState] = {}
    granted: dict[str, dict[UUID, str]] = defaultdict(dict)  # participant -> consent -> kind
    for e in known:
        if e.recorded > scope.horizon:
            continue
        event_type = e.envelope.event_type
        states[e.pid] = states.get(e.pid, ConsentState()).apply(event_type, e.body.model_dump())
        if isinstance(e.body, m.ConsentGranted):
            kind = "part2" if e.body.part2 is not None else "general"
            granted[e.pid].setdefault(e.body.consent_id, kind)
    counts: Counter[tuple[str, str]] = Counter()
    for pid, consents in granted.items():
        state = states[pid]  # it keeps every grant, until an erasure ends them all
        grants = {g.consent_id: g for g in state.grants}
        for consent_id, kind in consents.items():
            name = "erased" if state.erased else consent_state(grants[consent_id], scope.horizon)
            counts[(name, kind)] += 1
    out.tables.append(
        table(
            "consent",
            "Releases of information by state at the end of the period",
            measure="consents",
            row_dim="state",
            rows=CONSENT_STATES,
            col_dim="kind",
            columns=["general", "part2"],
            counts=counts,
            row_labels=[
                "active",
                "not yet in effect",
                "active, revoked for some recipients",
                "revoked, held for the justice agency by a 2.35 lock",
                "revoked",
                "expired",
                "ended by erasure",
            ],
            col_labels=["LEAD release", "with a 42 CFR Part 2 consent"],
            note="Every consent_granted recorded by the end of the period, as the hub enforced "
            "it then (the participant's events in log order, through the policy's consent "
            "state): a revocation waits for the event a 2.35 lock names, erasure ends every "
            "release, and a release counts as in effect from its effective_at.",
        )
    )


def sharing_tables(scope: Scope, out: Measures, log: ReportLog, period: Period) -> None:
    decisions = [
        d
        for d in log.decisions
        if scope.within(d.decided_at) and (period.as_of is None or d.decided_at <= period.as_of)
    ]
    outcome: Counter[tuple[str, str]] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    reads: Counter[tuple[str, str]] = Counter()
    latencies: list[float] = []
    recorded = {e.envelope.event_id: e.recorded for e in log.events}
    stamped: list[float] = []
    for d in decisions:
        if d.event_id in recorded:
            stamped.append((d.decided_at - recorded[d.event_id]).total_seconds())
        if d.event_type == READ:
            reads[(d.recipient, "")] += 1
            continue
        outcome[(d.recipient, "permit" if d.permit else "deny")] += 1
        if not d.permit:
            reasons[(d.reason or "UNSTATED", "")] += 1
        else:
            sent, told = log.published_ms.get(d.event_id), log.notified_ms.get(d.decision_id)
            if sent is not None and told is not None:
                latencies.append((told - sent) / 1000)
    out.tables.append(
        table(
            "notices",
            "Disclosure decisions by recipient agency",
            measure="decisions",
            row_dim="recipient",
            rows=sorted({r for r, _ in outcome}),
            col_dim="outcome",
            columns=["permit", "deny"],
            counts=outcome,
            col_labels=["notice sent", "denied"],
            note="lead.audit decisions in the period (one per event and agency), permits being "
            "the sealed notices sent; reads (records_viewed) are counted apart, below.",
        )
    )
    out.tables.append(
        table(
            "denials",
            "Denials by reason",
            measure="decisions",
            fixed={"outcome": "deny"},
            row_dim="reason",
            rows=sorted({r for r, _ in reasons}),
            col_dim=None,
            columns=(),
            counts=reasons,
            note="The deny reason code of each decision on lead.audit.",
        )
    )
    out.tables.append(
        table(
            "reads",
            "Reads through the hub's pages and API by agency",
            measure="reads",
            row_dim="reader",
            rows=sorted({r for r, _ in reads}),
            col_dim=None,
            columns=(),
            counts=reads,
            note="records_viewed events: an agency looked at what had been disclosed to it "
            "(a timeline, its inbox, a caseload, a meeting packet). Each is on lead.audit as "
            "the reader's entry for the accounting of disclosures; none discloses anything new.",
        )
    )
    if log.rejections is not None:
        rejected: Counter[tuple[str, str]] = Counter(
            (r.reason, "")
            for r in log.rejections
            if scope.within(r.rejected_at)
            and (period.as_of is None or r.rejected_at <= period.as_of)
        )
        out.tables.append(
            table(
                "rejections",
                "Input refused by the gatekeeper, by reason",
                measure="rejections",
                row_dim="reason",
                rows=sorted({r for r, _ in rejected}),
                col_dim=None,
                columns=(),
                counts=rejected,
                note="Dead letters on lead.rejected, dated by the hub's clock when it refused "
                "them (leadhub-rejected-at).",
            )
        )
    else:
        out.notes.append("lead.rejected is not in this source: rejections are not reported.")
    out.statistics.append(
        Statistic(
            "notice_latency",
            "median seconds from an agency's publication to the recipient's notice",
            median_of(latencies),
            "seconds",
            len(latencies),
            note="Broker timestamps: the event's first record on lead.ingest.<agency> to the "
            "notice's first record on lead.notify.<recipient>.",
        )
    )
    out.statistics.append(
        Statistic(
            "decision_stamp",
            "median seconds from an event's recorded_at to its decisions' decided_at",
            median_of(stamped),
            "seconds",
            len(stamped),
            note="On the log's own clock a decision is stamped with its event's recorded_at (so "
            "that replay decides the same), so this is 0 unless decisions were stamped otherwise; "
            "the broker-timestamp latency above is the time a recipient actually waited.",
        )
    )
