"""The LEAD evaluation measures, derived from decoded log records: pure, no I/O.

Each measure counts what events actually say, on the log's own dates: a referral's
``occurred_at``, an intake's ``intake_at``, a hold's ``held_at`` and the prosecutor's
``decided_at``, a treatment ``admitted_at``, a housing ``move_in_date``. Point-in-time
measures (a hold's outcome, a participant's status, a consent's state) are as of the end
of the period. Counts only: no participant id, name or free text leaves this module.
"""

from __future__ import annotations

import calendar
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from hub.domain.policy import ConsentState, Grant
from hub.events import models as m
from hub.events.envelope import SYSTEM_PARTICIPANT, Envelope
from hub.report.tables import MEASURE, Measures, Statistic, table

DAY = timedelta(days=1)
HANDOFF_MINUTES = 30


@dataclass(frozen=True)
class LoggedEvent:
    envelope: Envelope
    body: m.EventBody

    @property
    def recorded(self) -> datetime:
        return self.envelope.recorded_at or self.envelope.occurred_at

    @property
    def at(self) -> datetime:
        return self.envelope.occurred_at

    @property
    def pid(self) -> str:
        return self.envelope.participant_id


@dataclass(frozen=True)
class LoggedDecision:
    decision_id: UUID
    event_id: UUID
    recipient: str
    permit: bool
    reason: str | None
    decided_at: datetime
    event_type: str = ""


READ = "records_viewed"
"""A read through the hub's pages or API: logged on lead.audit as the reader's permit, but
it discloses nothing new and sends no notice, so it is counted apart from disclosures."""


@dataclass(frozen=True)
class LoggedRejection:
    reason: str
    rejected_at: datetime


@dataclass
class ReportLog:
    """What the report reads: decoded, deduplicated, in log order.

    ``rejections`` is None when the source holds no lead.rejected. ``published_ms`` and
    ``notified_ms`` are broker timestamps (ms) of each event's first ingest record and of
    each notice's first record, by event id and by notice (= decision) id."""

    events: list[LoggedEvent] = field(default_factory=list)
    decisions: list[LoggedDecision] = field(default_factory=list)
    rejections: list[LoggedRejection] | None = None
    published_ms: dict[UUID, int] = field(default_factory=dict)
    notified_ms: dict[UUID, int] = field(default_factory=dict)
    unreadable: int = 0


@dataclass(frozen=True)
class Period:
    """Dates are inclusive; ``as_of`` keeps only what the hub had recorded by then."""

    start: date | None = None
    end: date | None = None
    as_of: datetime | None = None


# ---------------------------------------------------------------------------- calendar


def month_of(t: datetime | date) -> str:
    return f"{t.year:04d}-{t.month:02d}"


def months(start: date, end: date) -> list[str]:
    found, y, mo = [], start.year, start.month
    while (y, mo) <= (end.year, end.month):
        found.append(f"{y:04d}-{mo:02d}")
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return found


def add_months(t: datetime, n: int) -> datetime:
    """The same day ``n`` calendar months later (the month's last day if it is shorter):
    follow-up windows are stated in months, as evaluations state them."""
    y, mo = divmod(t.month - 1 + n, 12)
    year, month = t.year + y, mo + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86_400


# ---------------------------------------------------------------------------- derivation


@dataclass
class _Scope:
    """The period as instants, and the events known by its end, by type."""

    start: datetime
    horizon: datetime
    month_list: list[str]
    by_type: dict[str, list[LoggedEvent]]

    def within(self, t: datetime) -> bool:
        return self.start <= t <= self.horizon

    def within_day(self, d: date) -> bool:
        return self.start.date() <= d <= self.horizon.date()

    def of(self, event_type: str) -> list[LoggedEvent]:
        return self.by_type.get(event_type, [])


def _scope(log: ReportLog, period: Period) -> tuple[_Scope, list[LoggedEvent]]:
    known = [
        e
        for e in log.events
        if e.pid != SYSTEM_PARTICIPANT and (period.as_of is None or e.recorded <= period.as_of)
    ]
    first = min((e.at for e in known), default=period.as_of or datetime.now(UTC))
    last = max((e.at for e in known), default=first)
    start = datetime.combine(period.start or first.date(), time.min, UTC)
    if period.end is None and period.as_of is not None:
        horizon = period.as_of  # the report of the log as it stood then
    else:
        horizon = datetime.combine(period.end or last.date(), time.max, UTC)
        horizon = min(horizon, period.as_of) if period.as_of is not None else horizon
    by_type: dict[str, list[LoggedEvent]] = defaultdict(list)
    for e in sorted(known, key=lambda e: (e.at, str(e.envelope.event_id))):
        if e.at <= horizon:
            by_type[e.envelope.event_type].append(e)
    scope = _Scope(start, horizon, months(start.date(), max(start, horizon).date()), by_type)
    return scope, known


def derive(log: ReportLog, period: Period, window_days: int) -> Measures:
    """Every table and statistic of the report, before suppression: suppression needs all
    of them at once, since tables share totals."""
    scope, known = _scope(log, period)
    out = Measures()
    out.facts = {
        "period_start": scope.start.date().isoformat(),
        "period_end": scope.horizon.date().isoformat(),
        "as_of": period.as_of.isoformat() if period.as_of else "",
        "intake_window_days": str(window_days),
        "events_read": str(len(known)),
        "unreadable_records": str(log.unreadable),
        "last_month": scope.month_list[-1] if scope.month_list else "",
    }
    _referrals(scope, out)
    _handoff(scope, out)
    _holds(scope, out)
    entered = _intake(scope, out, window_days)
    _status_and_contacts(scope, out)
    _services(scope, out)
    _rearrest(scope, out, entered)
    _consent(known, scope, out)
    _sharing(scope, out, log, period)
    out.notes.append(
        "Counts from 1 to 10 are suppressed, and so is at least one more entry of any row or "
        "column (or of any table sharing its totals) that would let a suppressed count be "
        "worked out; every suppressed entry shows as 'suppressed', whatever its size. "
        "Medians and shares over fewer than 11 are not shown."
    )
    return out


def _referrals(scope: _Scope, out: Measures) -> None:
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


def _handoff(scope: _Scope, out: Measures) -> None:
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


def _holds(scope: _Scope, out: Measures) -> None:
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
            waits[kind].append(_days(decision.body.decided_at - body.held_at))  # type: ignore[attr-defined]
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
                _median(waits[kind]),
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


def first_intakes(scope: _Scope) -> dict[str, LoggedEvent]:
    first: dict[str, LoggedEvent] = {}
    for e in scope.of("intake_completed"):
        assert isinstance(e.body, m.IntakeCompleted)
        seen = first.get(e.pid)
        if seen is None or e.body.intake_at < seen.body.intake_at:  # type: ignore[attr-defined]
            first[e.pid] = e
    return first


def _intake(scope: _Scope, out: Measures, window_days: int) -> dict[str, datetime]:
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
        days = _days(at - min(before))
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
            _median(waits),
            "days",
            len(waits),
        )
    )
    return entered


STATUSES = ["ACTIVE", "INACTIVE", "EXITED", "NO_STATUS"]


def _status_and_contacts(scope: _Scope, out: Measures) -> None:
    changes: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
    latest: dict[str, LoggedEvent] = {}
    for e in sorted(
        [*scope.of("status_changed"), *scope.of("program_exited")],
        key=lambda e: (e.at, str(e.envelope.event_id)),
    ):
        active = isinstance(e.body, m.StatusChanged) and e.body.status is m.ParticipantStatus.ACTIVE
        changes[e.pid].append((e.at, active))
        latest[e.pid] = e
    status: Counter[tuple[str, str]] = Counter()
    for pid in set(changes) | set(first_intakes(scope)):
        last = latest.get(pid)
        if last is None:
            status[("NO_STATUS", "")] += 1
        elif isinstance(last.body, m.StatusChanged):
            status[(last.body.status.value, "")] += 1
        else:
            status[("EXITED", "")] += 1
    out.tables.append(
        table(
            "status",
            "Participants by status at the end of the period",
            measure="participants",
            row_dim="status",
            rows=STATUSES,
            col_dim=None,
            columns=(),
            counts=status,
            row_labels=["active", "inactive", "exited", "entered, no status recorded"],
            note="Everyone with an intake or a status change by the end of the period, by "
            "their latest status_changed (or program_exited, if that came later).",
        )
    )
    contacts: Counter[tuple[str, str]] = Counter()
    for e in scope.of("case_contact_logged"):
        if scope.within(e.at):
            contacts[(month_of(e.at), "case_contacts")] += 1
    for month in scope.month_list:
        lo, hi = _month_bounds(month, scope)
        contacts[(month, "active_participants")] = sum(
            1 for pid in changes if _active_between(sorted(changes[pid]), lo, hi)
        )
    out.tables.append(
        table(
            "contacts",
            "Case-manager contacts and active participants by month",
            measure="case_contacts",
            row_dim="month",
            rows=scope.month_list,
            col_dim=MEASURE,
            columns=["case_contacts", "active_participants"],
            counts=contacts,
            col_labels=["case contacts", "participants active"],
            note="case_contact_logged events by month; participants active at any time in the "
            "month (from an ACTIVE status_changed until an INACTIVE one or program_exited). The "
            "total of the second column is participant-months: contacts per participant-month "
            "is the first total over the second.",
        )
    )


def _month_bounds(month: str, scope: _Scope) -> tuple[datetime, datetime]:
    y, mo = int(month[:4]), int(month[5:])
    lo = datetime(y, mo, 1, tzinfo=UTC)
    hi = add_months(lo, 1) - timedelta(microseconds=1)
    return max(lo, scope.start), min(hi, scope.horizon)


def _active_between(history: list[tuple[datetime, bool]], lo: datetime, hi: datetime) -> bool:
    active_since: datetime | None = None
    for at, active in history:
        if at > hi:
            break
        if active and active_since is None:
            active_since = at
        elif not active and active_since is not None:
            if at >= lo:
                return True
            active_since = None
    return active_since is not None


SERVICES = ["shelter_entries", "housed", "treatment_admissions", "benefits_obtained"]


def _services(scope: _Scope, out: Measures) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    benefits: Counter[tuple[str, str]] = Counter()
    for e in scope.of("shelter_entered"):
        if scope.within(e.at):
            counts[(month_of(e.at), "shelter_entries")] += 1
    for e in scope.of("housed"):
        assert isinstance(e.body, m.Housed)
        if scope.within_day(e.body.move_in_date):
            counts[(month_of(e.body.move_in_date), "housed")] += 1
    for e in scope.of("treatment_admitted"):
        assert isinstance(e.body, m.TreatmentAdmitted)
        if scope.within(e.body.admitted_at):
            counts[(month_of(e.body.admitted_at), "treatment_admissions")] += 1
    for e in scope.of("benefits_obtained"):
        assert isinstance(e.body, m.BenefitsObtained)
        if scope.within(e.at):
            counts[(month_of(e.at), "benefits_obtained")] += 1
            benefits[(e.body.benefit.value, "")] += 1
    out.tables.append(
        table(
            "services",
            "Housing, treatment and benefits by month",
            measure="services",
            row_dim="month",
            rows=scope.month_list,
            col_dim=MEASURE,
            columns=SERVICES,
            counts=counts,
            col_labels=[
                "shelter entries",
                "moves into housing",
                "treatment admissions",
                "benefits",
            ],
            note="shelter_entered by when it occurred; housed by move_in_date; "
            "treatment_admitted by admitted_at; benefits_obtained by when it occurred.",
        )
    )
    out.tables.append(
        table(
            "benefits",
            "Benefits and documents obtained",
            measure="benefits_obtained",
            row_dim="benefit",
            rows=[b.value for b in m.BenefitType],
            col_dim=None,
            columns=(),
            counts=benefits,
            note="benefits_obtained in the period by benefit.",
        )
    )


REARREST = ["within_6", "within_12", "after_12", "none"]


def _rearrest(scope: _Scope, out: Measures, entered: dict[str, datetime]) -> None:
    arrests: dict[str, list[datetime]] = defaultdict(list)
    for e in scope.of("new_arrest_reported"):
        arrests[e.pid].append(e.at)
    counts: Counter[tuple[str, str]] = Counter()
    waits: list[float] = []
    followed = {6: [0, 0], 12: [0, 0]}  # months: [followed that long, re-arrested within]
    for pid, entry in entered.items():
        after = [t for t in arrests.get(pid, []) if t > entry]
        first = min(after, default=None)
        if first is None:
            bucket = "none"
        else:
            waits.append(_days(first - entry))
            bucket = (
                "within_6"
                if first <= add_months(entry, 6)
                else "within_12"
                if first <= add_months(entry, 12)
                else "after_12"
            )
        counts[(bucket, "")] += 1
        for span, tally in followed.items():
            if add_months(entry, span) <= scope.horizon:
                tally[0] += 1
                tally[1] += int(first is not None and first <= add_months(entry, span))
    out.tables.append(
        table(
            "rearrest",
            "Participants who entered, by their first new arrest after intake",
            measure="entered",
            row_dim="rearrest",
            rows=REARREST,
            col_dim=None,
            columns=(),
            counts=counts,
            row_labels=[
                "new arrest within 6 months",
                "within 6 to 12 months",
                "after 12 months",
                "no new arrest recorded",
            ],
            note="new_arrest_reported after the participant's first intake (entry), up to the "
            "end of the period; months are calendar months from the intake date. Recent "
            "entrants have had less time to be re-arrested: the shares below count only "
            "those followed the full 6 or 12 months.",
        )
    )
    for span, (n, hit) in followed.items():
        out.statistics.append(_share(f"rearrest_{span}m", span, hit, n))
    out.statistics.append(
        Statistic(
            "days_to_rearrest",
            "median days from intake to the first new arrest",
            _median(waits),
            "days",
            len(waits),
        )
    )


def _share(name: str, span: int, hit: int, n: int) -> Statistic:
    """A share gives its numerator away with its n: both parts must be large enough."""
    small = 0 < hit < 11 or 0 < n - hit < 11
    return Statistic(
        name,
        f"share re-arrested within {span} months, of those followed {span} months",
        None if small or not n else hit / n,
        "share",
        n,
        note="shown only when both the re-arrested and the others number 0 or 11 and more",
    )


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


def _consent(known: list[LoggedEvent], scope: _Scope, out: Measures) -> None:
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


def _sharing(scope: _Scope, out: Measures, log: ReportLog, period: Period) -> None:
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
            _median(latencies),
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
            _median(stamped),
            "seconds",
            len(stamped),
            note="On the log's own clock a decision is stamped with its event's recorded_at (so "
            "that replay decides the same), so this is 0 unless decisions were stamped otherwise; "
            "the broker-timestamp latency above is the time a recipient actually waited.",
        )
    )
