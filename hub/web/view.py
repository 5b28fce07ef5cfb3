"""What each agency may see of the hub's records, kept as the disclosure agent decides.

The pages and the API answer from here, never from the raw log: an item enters an agency's
view only as its own event or through a permit the policy gave it (the same decision that
sent the notice), and carries only that permit's fields. So a page can show no more than
a notice did. Fed by the worker's canonical handlers (``record``), in each partition's
log order, and rebuilt with them from the log at start; pure, so tests feed it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from hub.domain import (
    CLOCK_TICKED,
    JOINING,
    REMINDED_AT,
    Decision,
    Links,
    erased_field,
    jsonable,
    notice_id,
)
from hub.events import Envelope
from hub.web.caseload import Case, Query, Row, row, select
from hub.web.shown import ENCRYPTED, ERASED_FIELD, OWN, UNREADABLE, Shown

ACKNOWLEDGED = "notice_acknowledged"
VIEWED = "records_viewed"
ERASED = "participant_erased"


@dataclass(slots=True)
class _Item:
    envelope: Envelope
    at: datetime
    body: Mapping[str, Any]
    permits: dict[str, Decision]


@dataclass
class DisclosureView:
    """Per participant, every event with the permits it got; per agency, what it acked."""

    items: dict[str, list[_Item]] = field(default_factory=dict)
    joins: list[_Item] = field(default_factory=list)  # links and unlinks, in log order
    # the caseload index: per agency, per participant id, what it has seen (hub.web.caseload)
    cases: dict[str, dict[str, Case]] = field(default_factory=dict)
    # per agency, the events it received a notice of (shared items: erasure reaches them)
    received: dict[str, list[_Item]] = field(default_factory=dict)
    acknowledged: set[UUID] = field(default_factory=set)
    now: datetime | None = None  # the log's time: the latest recorded_at seen

    def record(
        self, envelope: Envelope, body: Mapping[str, Any], decisions: Iterable[Decision]
    ) -> None:
        at = envelope.recorded_at or envelope.occurred_at
        self.now = at if self.now is None else max(self.now, at)
        if envelope.event_type == ACKNOWLEDGED:
            self.acknowledged.add(body["notice_id"])
        if envelope.event_type in (VIEWED, CLOCK_TICKED):
            return  # a read's record is for auditors, a tick only moves the clock
        pid = envelope.participant_id
        if envelope.event_type == ERASED:  # from now on the person's identity is gone here too
            for item in self.items.get(pid, []):
                item.body = _erased(item.body)
                item.permits = {
                    a: replace(d, fields=_erased(d.fields)) for a, d in item.permits.items()
                }
            for agency, cases in self.cases.items():  # the index again, from what is left
                if pid in cases:
                    cases[pid] = Case(pid, self.items[pid][0].at)
                    for left in self._events_of(pid, agency):
                        cases[pid].fold(left)
        permits = {d.recipient: d for d in decisions if d.permit}
        item = _Item(envelope, at, body, permits)
        self.items.setdefault(pid, []).append(item)
        if envelope.event_type in JOINING:
            self.joins.append(item)
        for agency in permits.keys() - {envelope.source}:
            self.received.setdefault(agency, []).append(item)
        for agency in {envelope.source, *permits}:
            shown = _shown(item, agency)
            if shown is not None:
                cases = self.cases.setdefault(agency, {})
                cases.setdefault(pid, Case(pid, self.items[pid][0].at)).fold(shown)

    def caseload(self, agency: str, query: Query, now: datetime) -> list[Row]:
        """The agency's caseload as the query asks: one row per person (linked ids
        merged), from the index, never from the timelines."""
        cases = self.cases.get(agency, {})
        return select(
            (row([cases[i] for i in ids if i in cases], now) for ids in self.people(agency)),
            query,
            now,
        )

    def person(self, participant: str, agency: str, as_of: datetime | None = None) -> list[str]:
        """The ids the agency knows to be this participant's (the participant's first, then
        the rest by their first event): as the links it published or was told of say, so
        a link it was not told of joins nothing on its pages."""
        group = self._links(agency, as_of).group(participant) - {participant}
        return [participant, *sorted(group, key=self._first_seen)]

    def people(self, agency: str) -> list[list[str]]:
        """Everyone of whom the agency has seen anything, once per person: each person's
        ids as in ``person``, led by the one referred first; in pseudonym order of that."""
        links, found, placed = self._links(agency), [], set()
        for participant in self.participants(agency):
            if participant in placed:
                continue
            ids = sorted(links.group(participant), key=self._first_seen)
            placed.update(ids)
            found.append(ids)
        return sorted(found)

    def _links(self, agency: str, as_of: datetime | None = None) -> Links:
        return Links.of(
            (i.envelope.participant_id, i.envelope.event_type, i.body)
            for i in self.joins
            if (as_of is None or i.at <= as_of) and _shown(i, agency) is not None
        )

    def _first_seen(self, participant: str) -> tuple[datetime, str]:
        items = self.items.get(participant)
        return (items[0].at if items else datetime.max.replace(tzinfo=UTC)), participant

    def timeline(self, participant: str, agency: str, as_of: datetime | None = None) -> list[Shown]:
        """The person's events the agency may see, oldest first: its own, in full, and
        others' as permitted, with the permitted fields only; of every id it knows to be
        theirs (``person``), each event showing which id it was recorded under."""
        ids = self.person(participant, agency, as_of)
        if len(ids) == 1:
            return self._events_of(participant, agency, as_of)
        joined = [s for p in ids for s in self._events_of(p, agency, as_of)]
        return sorted(joined, key=lambda s: s.recorded_at)

    def _events_of(
        self, participant: str, agency: str, as_of: datetime | None = None
    ) -> list[Shown]:
        """One id's events the agency may see, in log order."""
        shown = []
        for item in self.items.get(participant, ()):
            if as_of is not None and item.at > as_of:
                continue
            one = _shown(item, agency)
            if one is not None:
                shown.append(one)
        return shown

    def participants(self, agency: str) -> list[str]:
        """Everyone of whom the agency has seen anything, in pseudonym order."""
        return sorted(self.cases.get(agency, {}))

    def inbox(self, agency: str) -> list[Shown]:
        """The notices the agency received (not its own events), newest first."""
        notices = (_shown(item, agency) for item in self.received.get(agency, ()))
        return sorted((s for s in notices if s), key=lambda s: s.recorded_at, reverse=True)

    def open_holds(self, agency: str) -> list[Shown]:
        """charges_held the agency saw with no decline, filing or lapse seen after them."""
        cases = self.cases.get(agency, {}).values()
        holds = [h for case in cases for h in case.holds.values()]
        return sorted(holds, key=lambda s: deadline_of(s) or s.recorded_at)

    def reminders(self, agency: str) -> list[Shown]:
        """The latest reminder the agency received for each held case and each consent still
        pending (a case not yet declined, filed or lapsed; a consent not yet expired or
        revoked), soonest first."""
        cases = self.cases.get(agency, {}).values()
        return sorted((r for case in cases for r in case.reminders.values()), key=reminded_of)


def deadline_of(s: Shown) -> datetime | None:
    value = s.fields.get("intake_deadline")
    return value if isinstance(value, datetime) else None


def reminded_of(s: Shown) -> datetime:
    """The moment a reminder is about: a hold's intake deadline, a consent's expiry."""
    value = s.fields[REMINDED_AT[s.event_type]]
    assert isinstance(value, datetime)
    return value


def _shown(item: _Item, agency: str) -> Shown | None:
    e = item.envelope
    consent = None
    if e.source == agency:
        seen, fields, nid = OWN, item.body, None
    else:
        permit = item.permits.get(agency)
        if permit is None:
            return None
        seen, fields, nid = permit.rule_id or "?", permit.fields, notice_id(e.event_id, agency)
        consent = permit.consent_id
    return Shown(
        e.event_id,
        e.event_type,
        e.source,
        e.participant_id,
        e.occurred_at,
        item.at,
        seen,
        fields,
        nid,
        consent,
    )


def _erased(value: Any) -> Any:
    """``value`` with every opened field (an identity, a note) reduced to its erasure."""
    if isinstance(value, Mapping):
        if {"plaintext_type", "plaintext"} <= value.keys():
            return erased_field(value["plaintext_type"])
        return {k: _erased(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_erased(v) for v in value]
    return value


def redacted(value: Any) -> Any:
    """JSON-ready. An encrypted field shows as its plaintext where the worker opened it for
    this viewer (the identity disclosed to cm, an agency's own notes), else as encrypted,
    erased or unreadable: never as bytes."""
    if isinstance(value, Mapping):
        if "plaintext_type" in value:
            if "plaintext" in value:
                return redacted(value["plaintext"])
            return (
                ERASED_FIELD
                if value.get("erased")
                else (UNREADABLE if value.get("unreadable") else ENCRYPTED)
            )
        return {str(k): redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    return jsonable(value)


def named(entries: Iterable[Shown]) -> tuple[str, Shown] | None:
    """The person's name as the latest entry that disclosed an identity gives it (to cm: the
    referral), and that entry (showing the name is a read of it); erased if it was."""
    for s in reversed(list(entries)):
        identity = s.fields.get("identity")
        if isinstance(identity, Mapping) and "plaintext" in identity:
            person = identity["plaintext"]
            return f"{person['given_name']} {person['family_name']}", s
        if isinstance(identity, Mapping) and identity.get("erased"):
            return ERASED_FIELD, s
    return None


def as_json(s: Shown) -> dict[str, Any]:
    return {
        "event_id": str(s.event_id),
        "event_type": s.event_type,
        "source": s.source,
        "participant_id": s.participant_id,
        "occurred_at": jsonable(s.occurred_at),
        "recorded_at": jsonable(s.recorded_at),
        "seen": s.seen,
        "notice_id": str(s.notice_id) if s.notice_id else None,
        "fields": redacted(s.fields),
    }
