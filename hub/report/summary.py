"""The report's first lines: the program's period at a glance, in sentences.

Every number in them is a published entry of a table, or a sum, difference or ratio of
published entries, so the summary tells nothing the tables do not: a figure that would
need a suppressed entry is itself shown as suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.report.suppress import Published
from hub.report.tables import Measures, Statistic

SUPPRESSED = "suppressed"
IN_TEXT = "[suppressed]"


@dataclass(frozen=True)
class View:
    """Published entries by table name and row/column id (None: the total)."""

    published: Published
    measures: Measures

    def get(self, table: str, row: str | None = None, col: str | None = None) -> int | None:
        t = self.measures.table(table)
        r = None if row is None else _index(t.rows, row)
        c = None if col is None else _index(t.columns, col)
        if (row is not None and r is None) or (col is not None and c is None):
            return 0  # a row or column the period has none of
        if t.col_dim is None:
            c = 0  # a one-column table's count
        return self.published.shown(t, (r, c))

    def stat(self, name: str) -> Statistic:
        return next(s for s in self.measures.statistics if s.name == name)


def _index(values: tuple[str, ...], wanted: str) -> int | None:
    return values.index(wanted) if wanted in values else None


def n(value: int | None) -> str:
    return IN_TEXT if value is None else f"{value:,}"


def pct(part: int | None, whole: int | None) -> str:
    if part is None or whole is None:
        return IN_TEXT
    return "none" if whole == 0 else f"{100 * part / whole:.0f}%"


def minus(a: int | None, *b: int | None) -> int | None:
    if a is None or any(x is None for x in b):
        return None
    return a - sum(x for x in b if x is not None)


def plus(*values: int | None) -> int | None:
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def shown_stat(s: Statistic, digits: int = 1) -> str:
    """A median or share over fewer than 11 is not shown; over nobody it does not exist."""
    if s.value is None or s.n < 11:
        return IN_TEXT if s.n else "n/a"
    if s.unit == "share":
        return f"{100 * s.value:.0f}%"
    return f"{s.value:.{digits}f} {s.unit}"


def summary(published: Published, measures: Measures) -> list[str]:
    v = View(published, measures)
    window = measures.facts.get("intake_window_days", "?")
    last = measures.facts.get("last_month", "")
    arrests = v.get("referrals_by_door", col="ARREST_DIVERSION")
    held = v.get("holds")
    pending = plus(v.get("holds", col="open"), v.get("holds", col="lapsed_pending"))
    entered = v.get("time_to_intake")
    late = v.get("time_to_intake", f">={window}")
    unknown = v.get("time_to_intake", "no_referral")
    pm = v.get("contacts", col="active_participants")
    contacts = v.get("contacts", col="case_contacts")
    rate = (
        IN_TEXT
        if pm is None or contacts is None
        else ("none" if pm == 0 else f"{contacts / pm:.1f}")
    )
    active = plus(v.get("consent", "active"), v.get("consent", "partly_revoked"))
    active_p2 = plus(
        v.get("consent", "active", "part2"), v.get("consent", "partly_revoked", "part2")
    )
    lines = [
        f"In {last}, the period's last month: {n(v.get('referrals_by_door', last))} referrals, "
        f"{n(v.get('holds', last))} charge holds started, "
        f"{n(v.get('contacts', last, 'active_participants'))} participants active, "
        f"{n(v.get('contacts', last, 'case_contacts'))} case-manager contacts, "
        f"{n(v.get('services', last, 'shelter_entries'))} shelter entries, "
        f"{n(v.get('services', last, 'housed'))} moves into housing.",
        f"Referrals: {n(v.get('referrals_by_door'))} in the period "
        f"({n(arrests)} arrest diversions, "
        f"{n(v.get('referrals_by_door', col='SOCIAL_CONTACT'))} social contacts, "
        f"{n(v.get('referrals_by_door', col='COMMUNITY'))} community referrals).",
        f"Warm hand-offs: {pct(v.get('handoff', col='within_30'), arrests)} of arrest "
        f"diversions ({n(v.get('handoff', col='within_30'))} of {n(arrests)}) were met by a "
        "case manager within 30 minutes of dispatch.",
        f"Charge holds: {n(held)} started; {n(v.get('holds', col='declined'))} declined "
        f"after intake, {n(v.get('holds', col='filed_after_lapse'))} filed after the intake "
        f"window lapsed, {n(pending)} awaiting a decision; median "
        f"{shown_stat(v.stat('days_to_declined'))} from hold to decline.",
        f"Intake: {n(entered)} participants entered; median "
        f"{shown_stat(v.stat('days_to_intake'))} from referral; "
        f"{pct(minus(entered, late, unknown), minus(entered, unknown))} within the "
        f"{window}-day window.",
        f"Participants at the end of the period: {n(v.get('status', 'ACTIVE'))} active, "
        f"{n(v.get('status', 'INACTIVE'))} inactive; {rate} case-manager contacts per "
        "participant-month.",
        f"Housing and services: {n(v.get('services', col='shelter_entries'))} shelter entries, "
        f"{n(v.get('services', col='housed'))} moves into housing, "
        f"{n(v.get('services', col='treatment_admissions'))} treatment admissions, "
        f"{n(v.get('services', col='benefits_obtained'))} benefits obtained.",
        f"New arrests: {n(v.get('rearrest', 'within_6'))} of {n(v.get('rearrest'))} entrants "
        f"were arrested again within 6 months of intake "
        f"({shown_stat(v.stat('rearrest_6m'))} of those followed 6 months); median "
        f"{shown_stat(v.stat('days_to_rearrest'), 0)} to a first new arrest.",
        f"Consent: {n(active)} releases in force ({n(active_p2)} with a Part 2 consent), "
        f"{n(v.get('consent', 'revoked'))} revoked, {n(v.get('consent', 'expired'))} expired.",
        f"Data sharing: {n(v.get('notices', col='permit'))} notices sent, "
        f"{n(v.get('notices', col='deny'))} denials, "
        f"{n(v.get('reads'))} reads through the hub's pages and API"
        + (
            f", {n(v.get('rejections'))} inputs refused"
            if any(t.name == "rejections" for t in measures.tables)
            else ""
        )
        + f"; median {shown_stat(v.stat('notice_latency'), 2)} from publication to notice.",
    ]
    return lines
