"""The caseload as an index the view keeps, not a scan per request: per agency and
participant, what a person working the list needs (name, status, area, last contact, open
holds, consents in force, the latest event), folded in as each event is recorded, from
exactly what that agency may see. A page then filters, sorts and pages rows, and puts
first the people who need something done: an intake deadline near, no contact for two
weeks, a consent about to expire."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.domain import REMINDED_AT
from hub.web.shown import ERASED_FIELD, Shown

CONTACTS = frozenset({"case_contact_logged", "intake_completed"})
HOLD_ENDS = frozenset({"charges_declined", "charges_filed", "intake_window_expired"})
# what ends the wait a reminder is about
REMINDER_ENDS = HOLD_ENDS | {"consent_expired", "consent_revoked"}
CONSENT_ENDS = frozenset({"consent_revoked", "consent_expired"})
# when a row needs someone: the policy's default reminder marks (72 h, 14 days)
DEADLINE_NEAR = timedelta(hours=72)
UNSEEN = timedelta(days=14)
CONSENT_NEAR = timedelta(days=14)
SORTS = ("action", "id", "name", "contact", "deadline")


@dataclass(slots=True)
class Case:
    """One participant id as one agency has seen it."""

    participant_id: str
    first_at: datetime
    count: int = 0
    latest: Shown | None = None
    name: str | None = None
    named_by: Shown | None = None
    status: str | None = None
    area: str | None = None
    last_contact: datetime | None = None
    holds: dict[str, Shown] = field(default_factory=dict)  # open, by case_ref
    consents: dict[str, datetime] = field(default_factory=dict)  # in force: id -> expires
    # the latest reminder about each held case or consent still pending
    reminders: dict[str, Shown] = field(default_factory=dict)

    def fold(self, s: Shown) -> None:
        self.count += 1
        self.latest = s
        f, t = s.fields, s.event_type
        identity = f.get("identity")
        if isinstance(identity, dict) and "plaintext" in identity:
            person = identity["plaintext"]
            self.name, self.named_by = f"{person['given_name']} {person['family_name']}", s
        elif isinstance(identity, dict) and identity.get("erased"):
            self.name, self.named_by = ERASED_FIELD, s
        if t == "status_changed" and f.get("status"):
            self.status = str(f["status"])
        if t == "referral_made" and f.get("catchment_area"):
            self.area = str(f["catchment_area"])
        met = t == "case_manager_arrived" and f.get("outcome") == "MET_PARTICIPANT"
        if t in CONTACTS or met:
            self.last_contact = max(self.last_contact or s.occurred_at, s.occurred_at)
        case = str(f.get("case_ref") or "")
        if t == "charges_held":
            self.holds[case] = s
        elif t in HOLD_ENDS:
            self.holds.pop(case, None)
        about = str(f.get("case_ref") or f.get("consent_id"))
        if t in REMINDED_AT:
            self.reminders[about] = s
        elif t in REMINDER_ENDS:
            self.reminders.pop(about, None)
        consent = str(f.get("consent_id") or "")
        if t == "consent_granted" and isinstance(f.get("expires_at"), datetime):
            self.consents[consent] = f["expires_at"]
        elif t in CONSENT_ENDS and f.get("scope") in (None, "ALL"):
            self.consents.pop(consent, None)


@dataclass(frozen=True)
class Query:
    """What a person asks of the caseload (the page's form)."""

    text: str = ""  # a name or an id, any part, any case
    status: str = ""  # ACTIVE, INACTIVE, or "unknown"
    area: str = ""
    hold: bool = False  # only people with an open hold
    unseen_days: int | None = None  # only people not seen for this many days
    sort: str = "action"
    page: int = 1
    per: int = 50


@dataclass(frozen=True)
class Row:
    """One person on the caseload: their cases (one per linked id) merged."""

    ids: list[str]
    name: str | None
    status: str | None
    area: str | None
    count: int
    latest: Shown
    last_contact: datetime | None
    deadline: tuple[datetime, Shown] | None  # the nearest open hold's
    consent_expires: datetime | None  # the soonest, of those in force
    needs: list[str]  # what to do, in words
    named_by: Shown | None

    @property
    def shown(self) -> list[Shown]:
        """What the row shows a person: the reading to log."""
        extra = [self.deadline[1]] if self.deadline else []
        return [self.latest, *extra, *([self.named_by] if self.named_by else [])]


def row(cases: list[Case], now: datetime) -> Row:
    """A person's row from their cases, the first-referred first."""
    latest = max(cases, key=_latest_at)
    assert latest.latest is not None
    holds = [
        (d, h)
        for c in cases
        for h in c.holds.values()
        if isinstance(d := h.fields.get("intake_deadline"), datetime)
    ]
    expiries = [e for c in cases for e in c.consents.values() if e > now]
    contacts = [c.last_contact for c in cases if c.last_contact]
    named = [c for c in cases if c.name]
    deadline = min(holds, key=lambda h: h[0]) if holds else None
    last = max(contacts) if contacts else None
    soonest = min(expiries) if expiries else None
    needs = []
    if deadline and deadline[0] - now <= DEADLINE_NEAR:
        needs.append(_left("intake due", deadline[0] - now))
    since = now - (last or cases[0].first_at)
    if since >= UNSEEN:
        seen = "not seen for" if last else "no contact in"
        needs.append(f"{seen} {since.days} days")
    if soonest and soonest - now <= CONSENT_NEAR:
        needs.append(_left("consent expires", soonest - now))
    status = next((c.status for c in sorted(cases, key=_latest_at, reverse=True) if c.status), None)
    return Row(
        ids=[c.participant_id for c in cases],
        name=named[-1].name if named else None,
        status=status,
        area=next((c.area for c in cases if c.area), None),
        count=sum(c.count for c in cases),
        latest=latest.latest,
        last_contact=last,
        deadline=deadline,
        consent_expires=soonest,
        needs=needs,
        named_by=named[-1].named_by if named else None,
    )


def _latest_at(case: Case) -> datetime:
    return case.latest.recorded_at if case.latest else case.first_at


def _left(what: str, span: timedelta) -> str:
    if span < timedelta(0):
        return f"{what}: passed"
    hours = int(span.total_seconds() // 3600)
    return f"{what} in {hours} h" if hours < 48 else f"{what} in {span.days} days"


def select(rows: Iterable[Row], query: Query, now: datetime) -> list[Row]:
    """The rows the query asks for, sorted as it asks (those needing action first by
    default, then the nearest deadline, then the id)."""
    text = query.text.strip().lower()
    found = [
        r
        for r in rows
        if (not text or any(text in i.lower() for i in r.ids) or text in (r.name or "").lower())
        and (not query.status or (r.status or "unknown").lower() == query.status.lower())
        and (not query.area or r.area == query.area)
        and (not query.hold or r.deadline is not None)
        and (
            query.unseen_days is None
            or r.last_contact is None
            or now - r.last_contact >= timedelta(days=query.unseen_days)
        )
    ]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    keys = {
        "action": lambda r: (not r.needs, r.deadline[0] if r.deadline else far, r.ids[0]),
        "id": lambda r: (r.ids[0],),
        "name": lambda r: (r.name is None, (r.name or "").lower(), r.ids[0]),
        "contact": lambda r: (r.last_contact or datetime.min.replace(tzinfo=now.tzinfo), r.ids[0]),
        "deadline": lambda r: (r.deadline[0] if r.deadline else far, r.ids[0]),
    }
    return sorted(found, key=keys.get(query.sort, keys["action"]))
