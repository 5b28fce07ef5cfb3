"""The program's front door and the charge hold: referrals by door, the warm hand-off to a
case manager, holds and how they ended, intake and how long it took."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from uuid import UUID

from hub.events import models as m
from hub.report.records import LoggedEvent
from hub.report.scope import Scope, in_days, median_of, month_of
from hub.report.tables import Measures, Statistic, table

HANDOFF_MINUTES = 30


def referral_tables(scope: Scope, out: Measures) -> None:
    refs = [e for e in scope.of("referral_made") if scope.within(e.at)]
    doors = [d.value for d in m.ReferralDoor]
    by_door: Counter[tuple[str, str]] = Counter()
    by_area: Counter[tuple[str, str]] = Counter()
    for e in refs:
        assert isinstance(e.body, m.ReferralMade)
        by_door[(month_of(e.at), e.body.door.value)] += 1
        by_area[(month_of(e.at), e.body.catchment_area)] += 1
    areas = sorted({a for _, a in by_area})
    out.tables.append(
        table(
            "referrals_by_door",
            "Referrals by month and door",
            measure="referrals",
            row_dim="month",
            rows=scope.month_list,
            col_dim="door",
            columns=doors,
            counts=by_door,
            col_labels=["arrest diversion", "social contact", "community"],
            note="referral_made events by the month they occurred, by the door in.",
        )
    )
    out.tables.append(
        table(
            "referrals_by_area",
            "Referrals by month and catchment area",
            measure="referrals",
            row_dim="month",
            rows=scope.month_list,
            col_dim="area",
            columns=areas,
            counts=by_area,
            note="referral_made events by the catchment area the referral names.",
        )
    )


HANDOFF = ["within_30", "later", "not_met"]


def handoff_tables(scope: Scope, out: Measures) -> None:
    dispatches = {e.envelope.event_id: e for e in scope.of("case_manager_dispatched")}
    first_dispatch: dict[UUID, LoggedEvent] = {}
    for e in scope.of("case_manager_dispatched"):
        assert isinstance(e.body, m.CaseManagerDispatched)
        first_dispatch.setdefault(e.body.referral_event_id, e)
    met: dict[UUID, LoggedEvent] = {}
    for e in scope.of("case_manager_arrived"):
        assert isinstance(e.body, m.CaseManagerArrived)
        if e.body.outcome is m.ArrivalOutcome.MET_PARTICIPANT:
            met.setdefault(e.body.referral_event_id, e)
    counts: Counter[tuple[str, str]] = Counter()
    for ref in scope.of("referral_made"):
        assert isinstance(ref.body, m.ReferralMade)
        if ref.body.door is not m.ReferralDoor.ARREST_DIVERSION or not scope.within(ref.at):
            continue
        counts[(month_of(ref.at), handoff_outcome(ref, met, dispatches, first_dispatch))] += 1
    out.tables.append(
        table(
            "handoff",
            "Arrest diversions met by a case manager",
            measure="referrals",
            fixed={"door": m.ReferralDoor.ARREST_DIVERSION.value},
            row_dim="month",
            rows=scope.month_list,
            col_dim="handoff",
            columns=HANDOFF,
            counts=counts,
            col_labels=[f"met within {HANDOFF_MINUTES} min", "met later", "not met"],
            note=f"Met within {HANDOFF_MINUTES} min: a case_manager_arrived with outcome "
            "MET_PARTICIPANT at most 30 minutes after the case_manager_dispatched it answers "
            "(the arrival's dispatch_event_id, else the referral's first dispatch). Met later: "
            "met after longer, or with no dispatch logged. Not met: no arrival met the person "
            "(gone, declined, or none logged) by the end of the period.",
        )
    )


def handoff_outcome(
    ref: LoggedEvent,
    met: dict[UUID, LoggedEvent],
    dispatches: dict[UUID, LoggedEvent],
    first_dispatch: dict[UUID, LoggedEvent],
) -> str:
    arrival = met.get(ref.envelope.event_id)
    if arrival is None:
        return "not_met"
    assert isinstance(arrival.body, m.CaseManagerArrived)
    dispatch = (
        dispatches.get(arrival.body.dispatch_event_id) if arrival.body.dispatch_event_id else None
    ) or first_dispatch.get(ref.envelope.event_id)
    if dispatch is None:
        return "later"
    within = arrival.at - dispatch.at <= timedelta(minutes=HANDOFF_MINUTES)
    return "within_30" if within else "later"


HOLD_OUTCOMES = ["declined", "filed_after_lapse", "filed", "lapsed_pending", "open"]
# what the hub's clock made due, by the month it fell due
REMINDER_KINDS = {
    "intake_deadline_approaching": "intake deadline reminders",
    "intake_window_expired": "intake windows lapsed",
    "consent_expiry_approaching": "consent expiry reminders",
    "consent_expired": "consents expired",
}


def reminder_tables(scope: Scope, out: Measures) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for kind in REMINDER_KINDS:
        for e in scope.of(kind):
            if scope.within(e.at):
                counts[(month_of(e.at), kind)] += 1
    out.tables.append(
        table(
            "reminders",
            "The hub's reminders, lapses and consent expiries by month",
            measure="hub events",
            row_dim="month",
            rows=scope.month_list,
            col_dim="kind",
            columns=list(REMINDER_KINDS),
            counts=counts,
            col_labels=list(REMINDER_KINDS.values()),
            note="hub events the log's clock made due (docs/protocol.md 13.1), by the month "
            "each fell due: a reminder before a held case's intake deadline (at the policy's "
            "marks, the nearest passed), the window's lapse, a reminder before a consent "
            "expires (unless renewed), and the expiry.",
        )
    )


def hold_tables(scope: Scope, out: Measures) -> None:
    def by_case(event_type: str) -> dict[tuple[str, str], LoggedEvent]:
        found: dict[tuple[str, str], LoggedEvent] = {}
        for e in scope.of(event_type):
            found.setdefault((e.pid, e.body.case_ref), e)  # type: ignore[attr-defined]
        return found

    declined, filed = by_case("charges_declined"), by_case("charges_filed")
    lapsed = by_case("intake_window_expired")
    counts: Counter[tuple[str, str]] = Counter()
    waits: dict[str, list[float]] = {"declined": [], "filed": []}
    for e in scope.of("charges_held"):
        body = e.body
        assert isinstance(body, m.ChargesHeld)
        if not scope.within(body.held_at):
            continue
        case = (e.pid, body.case_ref)
        decision = declined.get(case) or filed.get(case)
        if case in declined:
            outcome = "declined"
        elif case in filed:
            outcome = "filed_after_lapse" if case in lapsed else "filed"
        else:
            outcome = "lapsed_pending" if case in lapsed else "open"
        counts[(month_of(body.held_at), outcome)] += 1
        if decision is not None:
            kind = "declined" if case in declined else "filed"
            waits[kind].append(in_days(decision.body.decided_at - body.held_at))  # type: ignore[attr-defined]
    out.tables.append(
        table(
            "holds",
            "Charge holds by month held and how they ended",
            measure="holds",
            row_dim="month",
            rows=scope.month_list,
            col_dim="outcome",
            columns=HOLD_OUTCOMES,
            counts=counts,
            col_labels=[
                "declined",
                "filed after lapse",
                "filed, no lapse",
                "lapsed, not yet decided",
                "open",
            ],
            note="charges_held by held_at; outcome as of the end of the period: declined "
            "(charges_declined), filed (charges_filed) after or without the hub's "
            "intake_window_expired for the same case, lapsed with no decision yet, or still "
            "open (within its window).",
        )
    )
    for kind in ("declined", "filed"):
        out.statistics.append(
            Statistic(
                f"days_to_{kind}",
                f"median days from hold to the prosecutor's decision ({kind})",
                median_of(waits[kind]),
                "days",
                len(waits[kind]),
                note="held_at to the decision's decided_at.",
            )
        )


def intake_bins(window_days: int) -> list[tuple[str, str, float]]:
    """(id, label, upper bound in days), the window's length the last bound."""
    edges = [(1, "under 1 day"), (3, "1 to 2 days"), (7, "3 to 6 days")]
    found = [(f"<{u}", label, float(u)) for u, label in edges if u < window_days]
    if window_days > 7:
        found.append((f"<{window_days}", f"7 to {window_days - 1} days", float(window_days)))
    found.append((f">={window_days}", f"{window_days} days or more", float("inf")))
    return found


NO_REFERRAL = "no_referral"


def first_intakes(scope: Scope) -> dict[str, LoggedEvent]:
    first: dict[str, LoggedEvent] = {}
    for e in scope.of("intake_completed"):
        assert isinstance(e.body, m.IntakeCompleted)
        seen = first.get(e.pid)
        if seen is None or e.body.intake_at < seen.body.intake_at:  # type: ignore[attr-defined]
            first[e.pid] = e
    return first


def intake_tables(scope: Scope, out: Measures, window_days: int) -> dict[str, datetime]:
    """Participants who entered LEAD (first intake) in the period, with when."""
    entered = {
        pid: e.body.intake_at  # type: ignore[attr-defined]
        for pid, e in first_intakes(scope).items()
        if scope.within(e.body.intake_at)  # type: ignore[attr-defined]
    }
    referred: dict[str, list[datetime]] = defaultdict(list)
    for e in scope.of("referral_made"):
        referred[e.pid].append(e.at)
    bins = intake_bins(window_days)
    counts: Counter[tuple[str, str]] = Counter()
    waits: list[float] = []
    for pid, at in entered.items():
        before = [t for t in referred.get(pid, []) if t <= at]
        if not before:
            counts[(NO_REFERRAL, "")] += 1
            continue
        days = in_days(at - min(before))
        waits.append(days)
        counts[(next(b for b, _, upper in bins if days < upper), "")] += 1
    out.tables.append(
        table(
            "time_to_intake",
            "Participants who entered: days from referral to intake",
            measure="entered",
            row_dim="days_to_intake",
            rows=[b for b, _, _ in bins] + [NO_REFERRAL],
            col_dim=None,
            columns=(),
            counts=counts,
            row_labels=[label for _, label, _ in bins] + ["referral not in the log"],
            note=f"Participants whose first intake_completed (intake_at) falls in the period, "
            f"by the time since their first referral; the site's intake window is "
            f"{window_days} days (settings.site.intake_window_days).",
        )
    )
    out.statistics.append(
        Statistic(
            "days_to_intake",
            "median days from referral to intake",
            median_of(waits),
            "days",
            len(waits),
        )
    )
    return entered
