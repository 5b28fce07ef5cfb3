"""The hand-written half of ``hub.events.models``: its base classes and the rules that are
not types.

``hub.events.models`` is generated from ``schemas/`` (``leadhub schemas generate``); what
Avro and the ``leadhub.constraints`` attributes cannot say lives here, and the generator
attaches it by name:

- a public function named after a record in snake case (``referral_made`` for
  ``ReferralMade``) becomes that model's after-validator: it gets the validated model and
  raises ``ValueError`` to refuse it;
- a public class named ``<Record>Methods`` becomes a base class of that model.

Every other public name here (the bases, ``PART2_ELEMENTS``) is re-exported by the models
module; helpers are private. This module must not import the models at runtime (they
import it), so it names enum symbols by value: the enums are ``StrEnum``s, whose members
equal their symbols.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from hub.events.models import (
        CaseContactLogged,
        ChargesHeld,
        ConsentGranted,
        ConsentRevoked,
        CriminalJusticeLock,
        EligibilityDecided,
        IntakeCompleted,
        MatchSuspected,
        NewArrestReported,
        Part2Consent,
        ParticipantsLinked,
        PlaintextType,
        PolicyPublished,
        ReferralMade,
        StatusChanged,
    )

# --------------------------------------------------------------------------- base classes


class AvroRecord(BaseModel):
    """Base of every nested Avro record: immutable (log facts never change) and closed
    (an unknown field would be silently dropped by the Avro encoder)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EventBody(BaseModel):
    """Base of every event body; the envelope (ids, agency, participant, times, signature)
    travels separately. ``event_type`` and ``category`` mirror the schema's
    ``leadhub.event_type`` and ``leadhub.category`` attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    category: ClassVar[str]


# --------------------------------------------------------------------------- helpers

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _require_unique(values: Sequence[str], what: str) -> None:
    """Duplicates in a set-like list are a producer bug that would skew policy matching."""
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat values")


def _require_sha256_hex(value: str | None, what: str) -> None:
    if value is not None and not _SHA256_HEX.fullmatch(value):
        raise ValueError(f"{what} must be 64 lowercase hex characters")


def _event_types() -> set[str]:
    """The event types: one generated EventBody subclass per ``schemas/events`` file."""
    return {model.event_type for model in EventBody.__subclasses__()}


# --------------------------------------------------------------------------- shared types


class EncryptedFieldMethods:
    """Methods of the generated EncryptedField and SealedField."""

    if TYPE_CHECKING:
        plaintext_type: PlaintextType

    def require(self, kind: str, what: str) -> None:
        """A field meant for an identity must not carry a narrative, and vice versa:
        consumers choose the decoding schema from the field they read. ``kind`` is a
        PlaintextType (or its symbol)."""
        if self.plaintext_type != kind:
            raise ValueError(f"{what} must be sealed with plaintext_type {kind}")


class SealedFieldMethods(EncryptedFieldMethods):
    """Methods of the generated SealedField: the same as EncryptedField's."""


def _one_of(
    stored: EncryptedFieldMethods | None,
    sealed: EncryptedFieldMethods | None,
    kind: str,
    name: str,
    *,
    required: bool,
) -> None:
    """A field travels either under the participant's data key (``name``) or sealed to the
    hub's intake key (``sealed_<name>``), never both: the hub would not know which to keep."""
    if stored is not None and sealed is not None:
        raise ValueError(f"set {name} or sealed_{name}, not both")
    if required and stored is None and sealed is None:
        raise ValueError(f"{name} (or sealed_{name}) is required")
    for field, what in ((stored, name), (sealed, f"sealed_{name}")):
        if field is not None:
            field.require(kind, what)


# --------------------------------------------------------------------------- program

_POLICE_DOORS = frozenset({"ARREST_DIVERSION", "SOCIAL_CONTACT"})
_ACTIVATING = frozenset({"INTAKE_COMPLETED", "RE_ENGAGED"})
_DEACTIVATING = frozenset({"NO_RECENT_CONTACT", "IN_CUSTODY", "HOSPITALIZED"})


def referral_made(body: ReferralMade) -> None:
    """Each door has its own referrer; an arrest diversion needs an offence."""
    _one_of(body.identity, body.sealed_identity, "IDENTITY", "identity", required=True)
    police = body.door in _POLICE_DOORS
    if police and body.officer_id is None:
        raise ValueError("police referrals need officer_id")
    if not police and body.referring_partner is None:
        raise ValueError("community referrals need referring_partner")
    if body.door == "ARREST_DIVERSION":
        if body.offence_category == "NONE":
            raise ValueError("an arrest diversion needs an offence_category other than NONE")
    elif body.arrest_ref is not None:
        raise ValueError("arrest_ref is only for arrest diversions")


def intake_completed(body: IntakeCompleted) -> None:
    _require_unique(body.needs, "needs")


def status_changed(body: StatusChanged) -> None:
    """The reason must point the same way as the status."""
    if body.status == "ACTIVE" and body.reason in _DEACTIVATING:
        raise ValueError(f"{body.reason.value} cannot make a participant ACTIVE")
    if body.status == "INACTIVE" and body.reason in _ACTIVATING:
        raise ValueError(f"{body.reason.value} cannot make a participant INACTIVE")


_EVIDENCE = re.compile(r"[a-z]+=[a-z]+")


def _evidence(levels: Sequence[str], token_kinds: Sequence[str]) -> None:
    """A link's evidence names fields and levels, never values (no name may ride in it)."""
    for level in levels:
        if not _EVIDENCE.fullmatch(level):
            raise ValueError("levels are field=level, lowercase letters only")
    _require_unique([level.split("=")[0] for level in levels], "levels' fields")
    for kind in token_kinds:
        if not kind.isalpha() or not kind.islower():
            raise ValueError("token_kinds are lowercase letters only")
    _require_unique(token_kinds, "token_kinds")


def participants_linked(body: ParticipantsLinked) -> None:
    _evidence(body.levels, body.token_kinds)


def match_suspected(body: MatchSuspected) -> None:
    _evidence(body.levels, body.token_kinds)


# --------------------------------------------------------------------------- consent

# The nine elements 42 CFR 2.31(a) requires of a written consent, with the field that
# carries each. A form missing any of them is no consent, and the hub says which.
PART2_ELEMENTS: dict[str, str] = {
    "patient_acknowledged": "patient",
    "disclosing_program": "who may disclose",
    "information_description": "description of the information",
    "recipients_named": "recipients",
    "purpose": "purpose",
    "revocation_right_stated": "right to revoke",
    "expiry_description": "expiry",
    "signed": "signature",
    "signed_on": "date",
}


def _present(value: object) -> bool:
    """A 2.31 element is present when stated: true, non-blank, or a non-empty list."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(isinstance(v, str) and v.strip() for v in value)
    return bool(value)


def part2_consent(consent: Part2Consent) -> None:
    """2.31 makes every element mandatory: name every one that is missing."""
    missing = [
        f"{element} ({name})"
        for name, element in PART2_ELEMENTS.items()
        if not _present(getattr(consent, name))
    ]
    if missing:
        raise ValueError(f"Part 2 consent lacks 42 CFR 2.31 element(s): {', '.join(missing)}")
    _require_unique(consent.recipients_named, "recipients_named")


def criminal_justice_lock(lock: CriminalJusticeLock) -> None:
    """An unknown event type would keep the lock in force forever."""
    if lock.locked_until_event not in _event_types():
        raise ValueError(f"locked_until_event {lock.locked_until_event!r} is not an event type")


def consent_granted(body: ConsentGranted) -> None:
    """A consent must cover someone, something, for some purpose, for some time."""
    for name in ("recipients", "categories", "purposes"):
        values: list[str] = getattr(body, name)
        if not values:
            raise ValueError(f"{name} must not be empty")
        _require_unique(values, name)
    if body.expires_at <= body.effective_at:
        raise ValueError("expires_at must be after effective_at")
    has_sud = "SUD_TREATMENT" in body.categories
    if has_sud and body.part2 is None:
        raise ValueError(
            "covers Part 2 (SUD_TREATMENT) data but lacks every 42 CFR 2.31 element: "
            + ", ".join(f"{e} ({n})" for n, e in PART2_ELEMENTS.items())
        )
    if body.part2 is not None and not has_sud:
        raise ValueError("part2 elements given but categories lacks SUD_TREATMENT")
    if body.part2 is not None:
        unknown = set(body.part2.recipients_named) - set(body.recipients)
        if unknown:
            raise ValueError(f"part2 names recipients not in recipients: {sorted(unknown)}")
    lock = body.criminal_justice_lock
    if lock is not None and lock.justice_agency not in body.recipients:
        raise ValueError("criminal_justice_lock.justice_agency must be in recipients")
    _require_sha256_hex(body.signed_form_sha256, "signed_form_sha256")


def consent_revoked(body: ConsentRevoked) -> None:
    if body.scope == "ALL" and body.recipients:
        raise ValueError("recipients must be empty when scope is ALL")
    if body.scope == "RECIPIENTS" and not body.recipients:
        raise ValueError("recipients must not be empty when scope is RECIPIENTS")
    _require_unique(body.recipients, "recipients")


# --------------------------------------------------------------------------- justice


def eligibility_decided(body: EligibilityDecided) -> None:
    if body.eligible == bool(body.criteria_failed):
        raise ValueError("criteria_failed must be empty if and only if eligible")
    _require_unique(body.criteria_failed, "criteria_failed")


def charges_held(body: ChargesHeld) -> None:
    if body.charge_category == "NONE":
        raise ValueError("a held charge needs a charge_category other than NONE")
    if body.intake_deadline <= body.held_at:
        raise ValueError("intake_deadline must be after held_at")


def new_arrest_reported(body: NewArrestReported) -> None:
    if body.offence_category == "NONE":
        raise ValueError("an arrest needs an offence_category other than NONE")


# --------------------------------------------------------------------------- case management


def case_contact_logged(body: CaseContactLogged) -> None:
    _require_unique(body.domains, "domains")
    _one_of(body.note, body.sealed_note, "NARRATIVE", "note", required=False)


# --------------------------------------------------------------------------- system


def policy_published(body: PolicyPublished) -> None:
    _require_sha256_hex(body.policy_sha256, "policy_sha256")
    if body.supersedes_version == body.policy_version:
        raise ValueError("a policy version cannot supersede itself")
