"""The LEAD evaluation measures, derived from decoded log records: pure, no I/O.

Each measure counts what events actually say, on the log's own dates: a referral's
``occurred_at``, an intake's ``intake_at``, a hold's ``held_at`` and the prosecutor's
``decided_at``, a treatment ``admitted_at``, a housing ``move_in_date``. Point-in-time
measures (a hold's outcome, a participant's status, a consent's state) are as of the end
of the period. Counts only: no participant id, name or free text leaves this module.
"""

from __future__ import annotations

from hub.report.outcomes import rearrest_tables, service_tables, status_tables
from hub.report.program import (
    handoff_tables,
    hold_tables,
    intake_tables,
    referral_tables,
    reminder_tables,
)
from hub.report.records import Period, ReportLog
from hub.report.scope import scope_of
from hub.report.sharing import consent_tables, sharing_tables
from hub.report.tables import Measures


def derive(log: ReportLog, period: Period, window_days: int) -> Measures:
    """Every table and statistic of the report, before suppression: suppression needs all
    of them at once, since tables share totals."""
    scope, known = scope_of(log, period)
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
    referral_tables(scope, out)
    handoff_tables(scope, out)
    hold_tables(scope, out)
    reminder_tables(scope, out)
    entered = intake_tables(scope, out, window_days)
    status_tables(scope, out)
    service_tables(scope, out)
    rearrest_tables(scope, out, entered)
    consent_tables(known, scope, out)
    sharing_tables(scope, out, log, period)
    out.notes.append(
        "Counts from 1 to 10 are suppressed, and so is at least one more entry of any row or "
        "column (or of any table sharing its totals) that would let a suppressed count be "
        "worked out; every suppressed entry shows as 'suppressed', whatever its size. "
        "Medians and shares over fewer than 11 are not shown."
    )
    return out
