"""What each event says, in plain words: one sentence per event type, for the pages (the
timeline, the inbox, the meeting packet) and anything else that shows an event to a person.

A sentence is built from the fields the viewer was shown and nothing else: a field the
policy withheld, or that is empty, is left out, never shown as "None". Codes read as words
("SOCIAL_CONTACT" as "social contact"), times in the site's time zone, encrypted fields as
what became of them (a name, sealed, erased, unreadable). The templates are here, once; an
event type without one reads as its name in words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

Fields = Mapping[str, Any]

# codes whose plain reading is not just the code in lower-case words
WORDS = {
    "ARREST_DIVERSION": "instead of arrest",
    "SOCIAL_CONTACT": "after a social contact",
    "COMMUNITY": "by a community partner",
    "NONE": "",
    "MET_PARTICIPANT": "met the participant",
    "PARTICIPANT_GONE": "arrived; the participant had gone",
    "INTAKE_COMPLETED": "intake completed",
    "INTAKE_WINDOW_LAPSED": "the intake window lapsed",
    "IN_PERSON": "in person",
    "SUD_TREATMENT": "substance-use treatment",
    "OTHER_LOW_LEVEL": "another low-level offence",
    "DRUG_DELIVERY_LOW_LEVEL": "low-level drug delivery",
    "UNDER_18": "under 18",
    "HEPATITIS_C": "hepatitis C",
    "AUTOMATIC": "found by the hub",
    "CONFIRMED": "confirmed by case management",
}


CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
ACRONYMS = frozenset({"GA", "HIV", "ID", "IOP", "LEAD", "OTP", "SNAP", "SSDI", "SSI"})


def _word(part: str) -> str:
    return part if part in ACRONYMS else part.lower()


def words(value: Any) -> str:
    """A code, a list of codes, a yes/no, as words (acronyms kept: IOP, SNAP)."""
    if isinstance(value, list | tuple):
        return ", ".join(w for w in (words(v) for v in value) if w)
    if isinstance(value, Mapping):  # a plan goal: its domain and status
        return f"{words(value.get('domain', ''))} ({words(value.get('status', ''))})"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text in WORDS:
        return WORDS[text]
    if CODE.fullmatch(text):
        return " ".join(_word(part) for part in text.split("_"))
    return text


def _given(fields: Fields, name: str) -> bool:
    value = fields.get(name)
    return value is not None and words(value) != ""


class Story:
    """Sentences for one site: its time zone."""

    def __init__(self, zone: str = "UTC") -> None:
        self.zone = ZoneInfo(zone)
        self.zone_name = zone

    def when(self, moment: datetime | date | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, datetime):
            return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
        return moment.isoformat()

    def sentence(self, event_type: str, fields: Fields) -> str:
        """The event as one sentence, from ``fields`` (what the viewer was shown)."""
        template = TEMPLATES.get(event_type)
        if template is None:
            return words(event_type.upper()).capitalize()
        return " ".join(template(_Parts(self, fields)).split())


class _Parts:
    """What a template reads a field through: each helper gives "" for a field not shown."""

    def __init__(self, story: Story, fields: Fields) -> None:
        self.story, self.fields = story, fields

    def has(self, name: str) -> bool:
        return _given(self.fields, name)

    def get(self, name: str, text: str = "{}") -> str:
        """``text`` with the field's words in it, or "" if it was not shown."""
        if not self.has(name):
            return ""
        value = self.fields[name]
        shown = self.story.when(value) if isinstance(value, datetime | date) else words(value)
        return text.format(shown)

    def identity(self) -> str:
        value = self.fields.get("identity")
        if not isinstance(value, Mapping):
            return ""
        if "plaintext" in value:
            person = value["plaintext"]
            born = person.get("date_of_birth")
            name = f"{person.get('given_name', '')} {person.get('family_name', '')}".strip()
            return f"; {name}, born {self.story.when(born)}" if born else f"; {name}"
        if value.get("erased"):
            return "; identity erased"
        if value.get("unreadable"):
            return "; identity unreadable (not sealed to this hub)"
        return "; identity sealed"

    def note(self) -> str:
        value = self.fields.get("note")
        if isinstance(value, Mapping) and "plaintext" in value:
            return f". Note: {value['plaintext'].get('text', '')}"
        return ""


def _referral(p: _Parts) -> str:
    door = p.fields.get("door")
    who = "Referred by police" if door in ("ARREST_DIVERSION", "SOCIAL_CONTACT") else "Referred"
    return (
        f"{who} {p.get('door')}{p.get('offence_category', ', for {}')}"
        f"{p.get('referring_partner', ' ({})')}{p.get('catchment_area', ', {} district')}"
        f"{p.get('arrest_ref', ', arrest {}')}{p.identity()}"
    )


def _hold(p: _Parts) -> str:
    return (
        f"Charges held{p.get('case_ref', ' (case {})')}{p.get('charge_category', ' for {}')}"
        f"{p.get('intake_deadline', '; intake due by {}')}"
    )


def _consent(p: _Parts) -> str:
    part2 = "; includes a written 42 CFR Part 2 consent" if p.has("part2") else ""
    return (
        f"Consent to share given{p.get('recipients', ' to {}')}"
        f"{p.get('expires_at', ', until {}')}{part2}"
    )


def _reminder(p: _Parts) -> str:
    case, by = p.get("case_ref", " for case {}"), p.get("deadline", " by {}")
    return f"Reminder: intake due{case}{by}{p.get('hours_before', ' ({} hours before)')}"


TEMPLATES: dict[str, Callable[[_Parts], str]] = {
    "referral_made": _referral,
    "case_manager_dispatched": lambda p: (
        f"Case manager dispatched{p.get('location_area', ' to the {} district')}"
        f"{p.get('response_target_minutes', ', to arrive within {} minutes')}"
    ),
    "case_manager_arrived": lambda p: f"Case manager {p.get('outcome') or 'arrived'}",
    "intake_completed": lambda p: (
        f"Intake completed{p.get('intake_at', ' on {}')}{p.get('needs', '; needs: {}')}"
    ),
    "intervention_plan_updated": lambda p: (
        f"Intervention plan updated{p.get('plan_version', ' (version {})')}"
        f"{p.get('goals', ': {}')}{p.get('next_review_on', '; next review {}')}"
    ),
    "status_changed": lambda p: (
        f"Status: {p.get('status') or 'changed'}{p.get('reason', ' ({})')}"
        f"{p.get('days_since_last_contact', ', {} days since the last contact')}"
    ),
    "program_exited": lambda p: (
        f"Left LEAD{p.get('reason', ': {}')}"
        f"{', reviewed by the work group' if p.fields.get('owg_reviewed') else ''}"
    ),
    "consent_granted": _consent,
    "consent_revoked": lambda p: (
        f"Consent withdrawn{p.get('revoked_at', ' on {}')}{p.get('scope', ' ({})')}"
    ),
    "consent_expired": lambda p: f"Consent expired{p.get('expires_at', ' on {}')}",
    "consent_expiry_approaching": lambda p: (
        f"Reminder: consent expires{p.get('expires_at', ' on {}')}"
        f"{p.get('days_before', ' ({} days before)')}"
    ),
    "eligibility_decided": lambda p: (
        "Found eligible for LEAD"
        if p.fields.get("eligible")
        else f"Found not eligible for LEAD{p.get('criteria_failed', ': {}')}"
        if "eligible" in p.fields
        else "Eligibility decided"
    ),
    "charges_held": _hold,
    "charges_declined": lambda p: (
        f"Charges declined{p.get('case_ref', ' (case {})')}{p.get('reason', ': {}')}"
    ),
    "charges_filed": lambda p: (
        f"Charges filed{p.get('case_ref', ' (case {})')}{p.get('reason', ': {}')}"
    ),
    "new_arrest_reported": lambda p: (
        f"New arrest reported{p.get('offence_category', ' for {}')}"
        f"{', diverted' if p.fields.get('diverted') else ''}"
    ),
    "intake_window_expired": lambda p: (
        f"Intake window lapsed{p.get('case_ref', ' (case {})')}{p.get('deadline', ' at {}')}"
    ),
    "intake_deadline_approaching": _reminder,
    "case_contact_logged": lambda p: (
        f"Case contact{p.get('contact_type', ', {}')}"
        f"{p.get('duration_minutes', ', {} minutes')}{p.get('domains', ', about {}')}{p.note()}"
    ),
    "benefits_obtained": lambda p: (
        f"Benefits obtained{p.get('benefit', ': {}')}{p.get('applied_on', ' (applied {})')}"
    ),
    "health_service_recorded": lambda p: (
        f"Health service{p.get('service', ': {}')}{p.get('provider', ' by {}')}"
    ),
    "treatment_admitted": lambda p: (
        f"Admitted to treatment{p.get('level_of_care', ' ({})')}{p.get('admitted_at', ' on {}')}"
    ),
    "treatment_discharged": lambda p: (
        f"Discharged from treatment{p.get('reason', ': {}')}{p.get('discharged_at', ' on {}')}"
    ),
    "shelter_entered": lambda p: f"Entered a shelter{p.get('bed_type', ' ({} bed)')}",
    "housed": lambda p: (
        f"Housed{p.get('housing_type', ': {}')}{p.get('move_in_date', ', moved in {}')}"
        f"{p.get('subsidy', ', subsidy: {}')}"
    ),
    "participants_linked": lambda p: (
        f"The same person as {p.get('linked_participant_id') or 'another participant'}"
        f"{p.get('basis', ' ({})')}"
    ),
    "match_suspected": lambda p: (
        f"May be the same person as {p.get('linked_participant_id') or 'another participant'}:"
        " confirm or dismiss"
    ),
    "participants_unlinked": lambda p: (
        f"Not the same person as {p.get('linked_participant_id') or 'another participant'}"
        f"{p.get('reason', ': {}')}"
    ),
    "notice_acknowledged": lambda p: f"Notice acknowledged{p.get('recipient', ' by {}')}",
    "participant_erased": lambda p: f"Participant erased{p.get('basis', ' ({})')}",
    "records_viewed": lambda p: (
        f"Records viewed{p.get('viewer', ' by {}')}{p.get('view', ' ({})')}"
    ),
    "clock_ticked": lambda p: "The hub's clock moved on",
    "policy_published": lambda p: (
        f"Data-sharing policy{p.get('policy_version', ' {}')} put in force"
    ),
}
