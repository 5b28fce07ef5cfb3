"""The period as instants, and the calendar the measures count in (months as evaluations
state them)."""

from __future__ import annotations

import calendar
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hub.events import SYSTEM_PARTICIPANT
from hub.report.records import LoggedEvent, Period, ReportLog

DAY = timedelta(days=1)


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


def median_of(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def in_days(delta: timedelta) -> float:
    return delta.total_seconds() / 86_400


@dataclass
class Scope:
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


def scope_of(log: ReportLog, period: Period) -> tuple[Scope, list[LoggedEvent]]:
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
    scope = Scope(start, horizon, months(start.date(), max(start, horizon).date()), by_type)
    return scope, known
