"""What became of participants: status and case-manager contact by month, services
(shelter, housing, treatment, benefits), new arrests after entry."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from hub.events import models as m
from hub.report.program import first_intakes
from hub.report.records import LoggedEvent
from hub.report.scope import Scope, add_months, in_days, median_of, month_of
from hub.report.tables import MEASURE, Measures, Statistic, table

STATUSES = ["ACTIVE", "INACTIVE", "EXITED", "NO_STATUS"]


def status_tables(scope: Scope, out: Measures) -> None:
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


def _month_bounds(month: str, scope: Scope) -> tuple[datetime, datetime]:
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


def service_tables(scope: Scope, out: Measures) -> None:
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


def rearrest_tables(scope: Scope, out: Measures, entered: dict[str, datetime]) -> None:
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
            waits.append(in_days(first - entry))
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
            median_of(waits),
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
