"""Pydantic mirrors of the Avro event bodies in ``schemas/``.

The ``.avsc`` files are the contract with agencies; these models exist so that Python
code (producers, the gatekeeper, processors) builds and checks bodies with types and
with the semantic rules Avro cannot express (deadlines after holds, consent scopes that
make sense, sealed fields of the right kind). ``tests/unit/events/test_models_match_schemas.py``
keeps the two in step: same field names and order, same types, same optionality.

Mapping: string -> str, uuid -> UUID, timestamp-micros -> AwareDatetime, date -> date,
int/long -> int, boolean -> bool, bytes -> bytes, fixed(n) -> bytes of length n,
enum -> StrEnum of the same name and symbols, record -> frozen model of the same name,
array -> list, ["null", T] -> ``T | None = None``.
"""

import datetime as dt
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# --------------------------------------------------------------------------- scalar aliases

Id = Annotated[str, Field(min_length=1)]
"""An id (agency, staff, program, key, opaque reference): empty ids would match nothing."""

Nonce96 = Annotated[bytes, Field(min_length=12, max_length=12)]
"""Avro ``fixed`` Nonce96: the 96-bit AES-GCM nonce."""

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _require_unique(values: Sequence[str], what: str) -> None:
    """Duplicates in a set-like list are a producer bug that would skew policy matching."""
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat values")


def _require_sha256_hex(value: str | None, what: str) -> None:
    if value is not None and not _SHA256_HEX.fullmatch(value):
        raise ValueError(f"{what} must be 64 lowercase hex characters")


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


# --------------------------------------------------------------------------- shared types


class PlaintextType(StrEnum):
    """Which plaintext record an EncryptedField decrypts to."""

    IDENTITY = "IDENTITY"
    NARRATIVE = "NARRATIVE"


class EncryptedField(AvroRecord):
    """Identifying data and free text travel only sealed under a per-participant key, so
    destroying the key erases the person from the immutable log (crypto-shredding)."""

    plaintext_type: PlaintextType
    key_id: Id
    nonce: Nonce96
    ciphertext: Annotated[bytes, Field(min_length=16)]  # at least the 16-byte GCM tag

    def require(self, kind: PlaintextType, what: str) -> None:
        """A field meant for an identity must not carry a narrative, and vice versa:
        consumers choose the decoding schema from the field they read."""
        if self.plaintext_type is not kind:
            raise ValueError(f"{what} must be sealed with plaintext_type {kind.value}")


class LocalRecordNumber(AvroRecord):
    """A number identifying the person in one agency's own system (only ever sealed)."""

    system: Id
    value: Id


class Identity(AvroRecord):
    """PLAINTEXT identity; it is Avro-encoded and sealed into an EncryptedField, never sent
    in clear."""

    given_name: Id
    family_name: Id
    middle_name: str | None = None
    aliases: list[Id]
    date_of_birth: dt.date
    local_record_numbers: list[LocalRecordNumber]


class Narrative(AvroRecord):
    """PLAINTEXT free text; sealed like identity because notes routinely identify people."""

    text: str


class DataCategory(StrEnum):
    """The unit the data-sharing policy and consents are written in."""

    PROGRAM = "PROGRAM"
    CONSENT = "CONSENT"
    JUSTICE = "JUSTICE"
    CASE_MANAGEMENT = "CASE_MANAGEMENT"
    HEALTH = "HEALTH"
    SUD_TREATMENT = "SUD_TREATMENT"
    HOUSING = "HOUSING"
    SYSTEM = "SYSTEM"


class NeedDomain(StrEnum):
    """Life domain of a need, goal or contact; shared so they aggregate together."""

    HOUSING = "HOUSING"
    SUBSTANCE_USE = "SUBSTANCE_USE"
    MENTAL_HEALTH = "MENTAL_HEALTH"
    PHYSICAL_HEALTH = "PHYSICAL_HEALTH"
    INCOME = "INCOME"
    LEGAL = "LEGAL"
    FAMILY = "FAMILY"


class OffenceCategory(StrEnum):
    """Coarse offence category; NONE only where there is no offence (social contact,
    community referral)."""

    DRUG_POSSESSION = "DRUG_POSSESSION"
    DRUG_DELIVERY_LOW_LEVEL = "DRUG_DELIVERY_LOW_LEVEL"
    PROSTITUTION = "PROSTITUTION"
    SOLICITATION = "SOLICITATION"
    OTHER_LOW_LEVEL = "OTHER_LOW_LEVEL"
    NOT_LEAD_ELIGIBLE = "NOT_LEAD_ELIGIBLE"
    NONE = "NONE"


# --------------------------------------------------------------------------- program


class ReferralDoor(StrEnum):
    """The three doors into LEAD."""

    ARREST_DIVERSION = "ARREST_DIVERSION"
    SOCIAL_CONTACT = "SOCIAL_CONTACT"
    COMMUNITY = "COMMUNITY"


class ReferralMade(EventBody):
    """A person is referred into LEAD; the only event that carries their identity."""

    event_type: ClassVar[str] = "referral_made"
    category: ClassVar[str] = "program"

    door: ReferralDoor
    offence_category: OffenceCategory
    catchment_area: Id
    officer_id: Id | None = None
    referring_partner: Id | None = None
    identity: EncryptedField
    arrest_ref: Id | None = None

    @model_validator(mode="after")
    def _door_rules(self) -> Self:
        """Each door has its own referrer; an arrest diversion needs an offence."""
        self.identity.require(PlaintextType.IDENTITY, "identity")
        police = self.door in (ReferralDoor.ARREST_DIVERSION, ReferralDoor.SOCIAL_CONTACT)
        if police and self.officer_id is None:
            raise ValueError("police referrals need officer_id")
        if not police and self.referring_partner is None:
            raise ValueError("community referrals need referring_partner")
        if self.door is ReferralDoor.ARREST_DIVERSION:
            if self.offence_category is OffenceCategory.NONE:
                raise ValueError("an arrest diversion needs an offence_category other than NONE")
        elif self.arrest_ref is not None:
            raise ValueError("arrest_ref is only for arrest diversions")
        return self


class CaseManagerDispatched(EventBody):
    """A case manager is sent to meet a referred person; dispatch time = occurred_at."""

    event_type: ClassVar[str] = "case_manager_dispatched"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    referral_event_id: UUID
    location_area: Id
    response_target_minutes: Annotated[int, Field(ge=1, le=24 * 60)]


class ArrivalOutcome(StrEnum):
    """What the case manager found on arrival."""

    MET_PARTICIPANT = "MET_PARTICIPANT"
    PARTICIPANT_GONE = "PARTICIPANT_GONE"
    PARTICIPANT_DECLINED = "PARTICIPANT_DECLINED"


class CaseManagerArrived(EventBody):
    """The case manager arrived; arrival time = occurred_at (response time is measured)."""

    event_type: ClassVar[str] = "case_manager_arrived"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    referral_event_id: UUID
    dispatch_event_id: UUID | None = None
    location_area: Id
    outcome: ArrivalOutcome


class IntakeCompleted(EventBody):
    """Intake done: what satisfies a prosecutor's charge hold."""

    event_type: ClassVar[str] = "intake_completed"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    intake_at: AwareDatetime
    needs: list[NeedDomain]
    assessment_version: Id
    consent_id: UUID | None = None

    @model_validator(mode="after")
    def _needs_unique(self) -> Self:
        _require_unique(self.needs, "needs")
        return self


class GoalStatus(StrEnum):
    """Progress of one plan goal."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    MET = "MET"
    DROPPED = "DROPPED"


class Goal(AvroRecord):
    """A coded goal: codes, not free text, so plans can be shared without sealing."""

    domain: NeedDomain
    summary_code: Id
    status: GoalStatus


class InterventionPlanUpdated(EventBody):
    """A new version of the participant-directed plan."""

    event_type: ClassVar[str] = "intervention_plan_updated"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    plan_version: Annotated[int, Field(ge=1, le=2**31 - 1)]
    goals: list[Goal]
    participant_agreed: bool
    next_review_on: dt.date | None = None


class ParticipantStatus(StrEnum):
    """Participants are active or inactive; they cannot fail out."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class StatusReason(StrEnum):
    """Why a participant's status changed."""

    INTAKE_COMPLETED = "INTAKE_COMPLETED"
    RE_ENGAGED = "RE_ENGAGED"
    NO_RECENT_CONTACT = "NO_RECENT_CONTACT"
    IN_CUSTODY = "IN_CUSTODY"
    HOSPITALIZED = "HOSPITALIZED"
    PARTICIPANT_REQUEST = "PARTICIPANT_REQUEST"
    OTHER = "OTHER"


_ACTIVATING = {StatusReason.INTAKE_COMPLETED, StatusReason.RE_ENGAGED}
_DEACTIVATING = {StatusReason.NO_RECENT_CONTACT, StatusReason.IN_CUSTODY, StatusReason.HOSPITALIZED}


class StatusChanged(EventBody):
    """Active/inactive transition; the reason must point the same way as the status."""

    event_type: ClassVar[str] = "status_changed"
    category: ClassVar[str] = "program"

    status: ParticipantStatus
    reason: StatusReason
    days_since_last_contact: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None

    @model_validator(mode="after")
    def _reason_matches_status(self) -> Self:
        if self.status is ParticipantStatus.ACTIVE and self.reason in _DEACTIVATING:
            raise ValueError(f"{self.reason.value} cannot make a participant ACTIVE")
        if self.status is ParticipantStatus.INACTIVE and self.reason in _ACTIVATING:
            raise ValueError(f"{self.reason.value} cannot make a participant INACTIVE")
        return self


class ExitReason(StrEnum):
    """Why a participant left LEAD."""

    GRADUATED_GOALS_MET = "GRADUATED_GOALS_MET"
    MOVED_AWAY = "MOVED_AWAY"
    DECEASED = "DECEASED"
    INCARCERATED_LONG_TERM = "INCARCERATED_LONG_TERM"
    DECLINED_SERVICES = "DECLINED_SERVICES"
    OTHER = "OTHER"


class ProgramExited(EventBody):
    """The participant left LEAD; exit time = occurred_at."""

    event_type: ClassVar[str] = "program_exited"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    reason: ExitReason
    owg_reviewed: bool


# --------------------------------------------------------------------------- consent


class Purpose(StrEnum):
    """Purpose a disclosure may serve under a consent."""

    CARE_COORDINATION = "CARE_COORDINATION"
    CASE_MANAGEMENT = "CASE_MANAGEMENT"
    TREATMENT = "TREATMENT"
    PAYMENT = "PAYMENT"
    HEALTH_CARE_OPERATIONS = "HEALTH_CARE_OPERATIONS"
    PROGRAM_EVALUATION = "PROGRAM_EVALUATION"
    CRIMINAL_JUSTICE_DIVERSION = "CRIMINAL_JUSTICE_DIVERSION"
    LEGAL_DEFENSE = "LEGAL_DEFENSE"


class SignerRole(StrEnum):
    """Who signed a Part 2 consent."""

    PATIENT = "PATIENT"
    GUARDIAN = "GUARDIAN"
    PERSONAL_REPRESENTATIVE = "PERSONAL_REPRESENTATIVE"


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


class Part2Consent(AvroRecord):
    """The 42 CFR 2.31(a) elements of a written consent, one field each, so that a form
    missing any element is refused at the door rather than relied on."""

    patient_acknowledged: bool
    disclosing_program: str
    information_description: str
    recipients_named: list[str]
    purpose: str
    revocation_right_stated: bool
    expiry_description: str
    signed: bool
    signed_on: dt.date
    signer_role: SignerRole

    @model_validator(mode="after")
    def _complete(self) -> Self:
        """2.31 makes every element mandatory: name every one that is missing."""
        missing = [
            f"{element} ({name})"
            for name, element in PART2_ELEMENTS.items()
            if not _present(getattr(self, name))
        ]
        if missing:
            raise ValueError(f"Part 2 consent lacks 42 CFR 2.31 element(s): {', '.join(missing)}")
        _require_unique(self.recipients_named, "recipients_named")
        return self


class CriminalJusticeLock(AvroRecord):
    """A 42 CFR 2.35 consent, irrevocable until a named event, for the agency that
    withholds charges in reliance on it."""

    regulation: Id
    justice_agency: Id
    case_ref: Id | None = None
    locked_until_event: Id

    @model_validator(mode="after")
    def _known_event(self) -> Self:
        """An unknown event type would keep the lock in force forever."""
        if self.locked_until_event not in EVENT_MODELS:
            raise ValueError(f"locked_until_event {self.locked_until_event!r} is not an event type")
        return self


class ConsentGranted(EventBody):
    """A multi-party release of information, scoped by recipient, category, purpose and
    period; Part 2 data additionally needs the 2.31 elements."""

    event_type: ClassVar[str] = "consent_granted"
    category: ClassVar[str] = "consent"

    consent_id: UUID
    form_version: Id
    recipients: list[Id]
    categories: list[DataCategory]
    purposes: list[Purpose]
    effective_at: AwareDatetime
    expires_at: AwareDatetime
    part2: Part2Consent | None = None
    criminal_justice_lock: CriminalJusticeLock | None = None
    signed_form_sha256: str | None = None

    @model_validator(mode="after")
    def _scope(self) -> Self:
        """A consent must cover someone, something, for some purpose, for some time."""
        for name in ("recipients", "categories", "purposes"):
            values: list[str] = getattr(self, name)
            if not values:
                raise ValueError(f"{name} must not be empty")
            _require_unique(values, name)
        if self.expires_at <= self.effective_at:
            raise ValueError("expires_at must be after effective_at")
        has_sud = DataCategory.SUD_TREATMENT in self.categories
        if has_sud and self.part2 is None:
            raise ValueError(
                "covers Part 2 (SUD_TREATMENT) data but lacks every 42 CFR 2.31 element: "
                + ", ".join(f"{e} ({n})" for n, e in PART2_ELEMENTS.items())
            )
        if self.part2 is not None and not has_sud:
            raise ValueError("part2 elements given but categories lacks SUD_TREATMENT")
        if self.part2 is not None:
            unknown = set(self.part2.recipients_named) - set(self.recipients)
            if unknown:
                raise ValueError(f"part2 names recipients not in recipients: {sorted(unknown)}")
        lock = self.criminal_justice_lock
        if lock is not None and lock.justice_agency not in self.recipients:
            raise ValueError("criminal_justice_lock.justice_agency must be in recipients")
        _require_sha256_hex(self.signed_form_sha256, "signed_form_sha256")
        return self


class RevocationScope(StrEnum):
    """How much of a consent a revocation withdraws."""

    ALL = "ALL"
    RECIPIENTS = "RECIPIENTS"


class ConsentRevoked(EventBody):
    """A consent withdrawn, wholly or for some recipients, from this log position on."""

    event_type: ClassVar[str] = "consent_revoked"
    category: ClassVar[str] = "consent"

    consent_id: UUID
    revoked_at: AwareDatetime
    in_writing: bool
    scope: RevocationScope
    recipients: list[Id]

    @model_validator(mode="after")
    def _recipients_match_scope(self) -> Self:
        if self.scope is RevocationScope.ALL and self.recipients:
            raise ValueError("recipients must be empty when scope is ALL")
        if self.scope is RevocationScope.RECIPIENTS and not self.recipients:
            raise ValueError("recipients must not be empty when scope is RECIPIENTS")
        _require_unique(self.recipients, "recipients")
        return self


# --------------------------------------------------------------------------- justice


class EligibilityCriterion(StrEnum):
    """A LEAD exclusion criterion a referral can fail."""

    OFFENCE_NOT_ELIGIBLE = "OFFENCE_NOT_ELIGIBLE"
    OVER_QUANTITY_THRESHOLD = "OVER_QUANTITY_THRESHOLD"
    DEALING_FOR_PROFIT = "DEALING_FOR_PROFIT"
    EXPLOITS_MINORS_OR_OTHERS = "EXPLOITS_MINORS_OR_OTHERS"
    PROMOTES_PROSTITUTION = "PROMOTES_PROSTITUTION"
    DISQUALIFYING_HISTORY = "DISQUALIFYING_HISTORY"
    OUTSIDE_CATCHMENT_AREA = "OUTSIDE_CATCHMENT_AREA"
    UNDER_18 = "UNDER_18"
    OTHER = "OTHER"


class EligibilityDecided(EventBody):
    """The prosecutor's eligibility screen of a referral."""

    event_type: ClassVar[str] = "eligibility_decided"
    category: ClassVar[str] = "justice"

    referral_event_id: UUID
    reviewer_id: Id
    eligible: bool
    criteria_failed: list[EligibilityCriterion]

    @model_validator(mode="after")
    def _criteria_match_outcome(self) -> Self:
        if self.eligible == bool(self.criteria_failed):
            raise ValueError("criteria_failed must be empty if and only if eligible")
        _require_unique(self.criteria_failed, "criteria_failed")
        return self


class ChargesHeld(EventBody):
    """A charge held pending intake; the deadlines processor watches intake_deadline."""

    event_type: ClassVar[str] = "charges_held"
    category: ClassVar[str] = "justice"

    case_ref: Id
    charge_category: OffenceCategory
    referral_event_id: UUID | None = None
    held_at: AwareDatetime
    intake_deadline: AwareDatetime
    window_days: Annotated[int, Field(ge=1, le=60)]

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.charge_category is OffenceCategory.NONE:
            raise ValueError("a held charge needs a charge_category other than NONE")
        if self.intake_deadline <= self.held_at:
            raise ValueError("intake_deadline must be after held_at")
        return self


class DeclineReason(StrEnum):
    """Why a held charge was declined."""

    INTAKE_COMPLETED = "INTAKE_COMPLETED"
    INTERESTS_OF_JUSTICE = "INTERESTS_OF_JUSTICE"
    INSUFFICIENT_EVIDENCE = "INSUFFICIENT_EVIDENCE"
    OTHER = "OTHER"


class ChargesDeclined(EventBody):
    """The prosecutor declined the held charge."""

    event_type: ClassVar[str] = "charges_declined"
    category: ClassVar[str] = "justice"

    case_ref: Id
    decided_at: AwareDatetime
    reason: DeclineReason
    intake_event_id: UUID | None = None


class FilingReason(StrEnum):
    """Why a held charge was filed."""

    INTAKE_WINDOW_LAPSED = "INTAKE_WINDOW_LAPSED"
    PARTICIPANT_DECLINED_LEAD = "PARTICIPANT_DECLINED_LEAD"
    INELIGIBLE = "INELIGIBLE"
    OTHER = "OTHER"


class ChargesFiled(EventBody):
    """The prosecutor filed the held charge."""

    event_type: ClassVar[str] = "charges_filed"
    category: ClassVar[str] = "justice"

    case_ref: Id
    decided_at: AwareDatetime
    reason: FilingReason
    window_expired_event_id: UUID | None = None


class NewArrestReported(EventBody):
    """Police report a new arrest; the participant id identifies the person."""

    event_type: ClassVar[str] = "new_arrest_reported"
    category: ClassVar[str] = "justice"

    offence_category: OffenceCategory
    arrest_ref: Id | None = None
    diverted: bool
    officer_id: Id | None = None

    @model_validator(mode="after")
    def _has_offence(self) -> Self:
        if self.offence_category is OffenceCategory.NONE:
            raise ValueError("an arrest needs an offence_category other than NONE")
        return self


# --------------------------------------------------------------------------- case management


class ContactType(StrEnum):
    """Kind of case-management contact."""

    IN_PERSON = "IN_PERSON"
    PHONE = "PHONE"
    OUTREACH = "OUTREACH"
    ACCOMPANIED_APPOINTMENT = "ACCOMPANIED_APPOINTMENT"
    ATTEMPTED = "ATTEMPTED"


class CaseContactLogged(EventBody):
    """A contact or attempt; the note, if any, is sealed narrative."""

    event_type: ClassVar[str] = "case_contact_logged"
    category: ClassVar[str] = "case_management"

    case_manager_id: Id
    contact_type: ContactType
    duration_minutes: Annotated[int, Field(ge=0, le=24 * 60)]
    domains: list[NeedDomain]
    note: EncryptedField | None = None

    @model_validator(mode="after")
    def _checks(self) -> Self:
        _require_unique(self.domains, "domains")
        if self.note is not None:
            self.note.require(PlaintextType.NARRATIVE, "note")
        return self


class BenefitType(StrEnum):
    """Benefit or document obtained."""

    MEDICAID = "MEDICAID"
    SNAP = "SNAP"
    SSI_SSDI = "SSI_SSDI"
    GA = "GA"
    ID_DOCUMENT = "ID_DOCUMENT"
    PHONE = "PHONE"
    OTHER = "OTHER"


class BenefitsObtained(EventBody):
    """A benefit or document obtained; approval time = occurred_at."""

    event_type: ClassVar[str] = "benefits_obtained"
    category: ClassVar[str] = "case_management"

    case_manager_id: Id
    benefit: BenefitType
    applied_on: dt.date | None = None


# --------------------------------------------------------------------------- health


class HealthService(StrEnum):
    """Kind of (non-Part 2) health service."""

    PRIMARY_CARE = "PRIMARY_CARE"
    MENTAL_HEALTH = "MENTAL_HEALTH"
    WOUND_CARE = "WOUND_CARE"
    HEPATITIS_C = "HEPATITIS_C"
    HIV_CARE = "HIV_CARE"
    NALOXONE_DISTRIBUTION = "NALOXONE_DISTRIBUTION"
    SYRINGE_SERVICES = "SYRINGE_SERVICES"
    VACCINATION = "VACCINATION"
    EMERGENCY_DEPARTMENT = "EMERGENCY_DEPARTMENT"
    DENTAL = "DENTAL"
    OTHER = "OTHER"


class HealthServiceRecorded(EventBody):
    """A health service; service time = occurred_at."""

    event_type: ClassVar[str] = "health_service_recorded"
    category: ClassVar[str] = "health"

    service: HealthService
    provider: Id
    referred_by_case_manager: bool


# --------------------------------------------------------------------------- SUD treatment


class LevelOfCare(StrEnum):
    """ASAM-like level of care."""

    OTP = "OTP"
    IOP = "IOP"
    OUTPATIENT = "OUTPATIENT"
    RESIDENTIAL = "RESIDENTIAL"
    WITHDRAWAL_MANAGEMENT = "WITHDRAWAL_MANAGEMENT"


class Medication(StrEnum):
    """Medication for substance-use disorder."""

    NONE = "NONE"
    BUPRENORPHINE = "BUPRENORPHINE"
    METHADONE = "METHADONE"
    NALTREXONE = "NALTREXONE"


class TreatmentAdmitted(EventBody):
    """Admission to a Part 2 program (42 CFR Part 2 data)."""

    event_type: ClassVar[str] = "treatment_admitted"
    category: ClassVar[str] = "sud_treatment"

    program_id: Id
    level_of_care: LevelOfCare
    medication: Medication
    admitted_at: AwareDatetime


class DischargeReason(StrEnum):
    """Why treatment ended."""

    COMPLETED = "COMPLETED"
    LEFT_AGAINST_ADVICE = "LEFT_AGAINST_ADVICE"
    TRANSFERRED = "TRANSFERRED"
    ADMINISTRATIVE = "ADMINISTRATIVE"
    INCARCERATED = "INCARCERATED"
    DIED = "DIED"
    OTHER = "OTHER"


class TreatmentDischarged(EventBody):
    """Discharge from a Part 2 program (42 CFR Part 2 data)."""

    event_type: ClassVar[str] = "treatment_discharged"
    category: ClassVar[str] = "sud_treatment"

    program_id: Id
    reason: DischargeReason
    discharged_at: AwareDatetime
    admission_event_id: UUID | None = None


# --------------------------------------------------------------------------- housing


class BedType(StrEnum):
    """Kind of shelter bed."""

    EMERGENCY = "EMERGENCY"
    LOW_BARRIER = "LOW_BARRIER"
    MEDICAL_RESPITE = "MEDICAL_RESPITE"
    SAFE_HAVEN = "SAFE_HAVEN"
    BRIDGE = "BRIDGE"


class ShelterEntered(EventBody):
    """A shelter entry; entry time = occurred_at."""

    event_type: ClassVar[str] = "shelter_entered"
    category: ClassVar[str] = "housing"

    shelter_program_id: Id
    bed_type: BedType
    lead_reserved_bed: bool


class HousingType(StrEnum):
    """Kind of housing moved into."""

    PERMANENT_SUPPORTIVE = "PERMANENT_SUPPORTIVE"
    RAPID_REHOUSING = "RAPID_REHOUSING"
    TRANSITIONAL = "TRANSITIONAL"
    FAMILY_OR_FRIENDS = "FAMILY_OR_FRIENDS"
    MARKET_RENTAL = "MARKET_RENTAL"
    OTHER = "OTHER"


class Housed(EventBody):
    """A move into housing."""

    event_type: ClassVar[str] = "housed"
    category: ClassVar[str] = "housing"

    housing_type: HousingType
    subsidy: bool
    move_in_date: dt.date
    housing_program_id: Id | None = None


# --------------------------------------------------------------------------- system


class IntakeWindowExpired(EventBody):
    """The hub saw a hold's intake deadline pass without intake."""

    event_type: ClassVar[str] = "intake_window_expired"
    category: ClassVar[str] = "system"

    case_ref: Id
    held_event_id: UUID
    deadline: AwareDatetime


class PolicyPublished(EventBody):
    """A policy version came into force; replay needs to know which one governed."""

    event_type: ClassVar[str] = "policy_published"
    category: ClassVar[str] = "system"

    policy_version: Id
    policy_sha256: str
    effective_at: AwareDatetime
    supersedes_version: Id | None = None

    @model_validator(mode="after")
    def _checks(self) -> Self:
        _require_sha256_hex(self.policy_sha256, "policy_sha256")
        if self.supersedes_version == self.policy_version:
            raise ValueError("a policy version cannot supersede itself")
        return self


class ErasureBasis(StrEnum):
    """Lawful basis for crypto-shredding a participant."""

    EXPUNGEMENT = "EXPUNGEMENT"
    RETENTION_ENDED = "RETENTION_ENDED"
    PARTICIPANT_REQUEST_WHERE_LAWFUL = "PARTICIPANT_REQUEST_WHERE_LAWFUL"


class ParticipantErased(EventBody):
    """The participant's data key was destroyed; destruction time = occurred_at."""

    event_type: ClassVar[str] = "participant_erased"
    category: ClassVar[str] = "system"

    basis: ErasureBasis
    key_id: Id
    authorised_by: Id


class NoticeAcknowledged(EventBody):
    """A recipient acknowledged a sealed notice."""

    event_type: ClassVar[str] = "notice_acknowledged"
    category: ClassVar[str] = "system"

    notice_id: UUID
    recipient: Id
    acknowledged_at: AwareDatetime


class ViewKind(StrEnum):
    TIMELINE = "TIMELINE"
    INBOX = "INBOX"
    CASELOAD = "CASELOAD"
    MEETING_PACKET = "MEETING_PACKET"


class RecordsViewed(EventBody):
    """An agency read what the hub had disclosed to it about the participant."""

    event_type: ClassVar[str] = "records_viewed"
    category: ClassVar[str] = "system"

    viewer: Id
    view: ViewKind
    event_ids: list[UUID]
    request_id: UUID


# --------------------------------------------------------------------------- registries

EVENT_MODELS: dict[str, type[EventBody]] = {
    model.event_type: model
    for model in (
        ReferralMade,
        CaseManagerDispatched,
        CaseManagerArrived,
        IntakeCompleted,
        InterventionPlanUpdated,
        StatusChanged,
        ProgramExited,
        ConsentGranted,
        ConsentRevoked,
        EligibilityDecided,
        ChargesHeld,
        ChargesDeclined,
        ChargesFiled,
        NewArrestReported,
        CaseContactLogged,
        BenefitsObtained,
        HealthServiceRecorded,
        TreatmentAdmitted,
        TreatmentDischarged,
        ShelterEntered,
        Housed,
        IntakeWindowExpired,
        PolicyPublished,
        ParticipantErased,
        NoticeAcknowledged,
        RecordsViewed,
    )
}
"""Event type -> body model, one per ``schemas/events/<event_type>.avsc``."""

SHARED_TYPES: dict[str, type[AvroRecord] | type[StrEnum]] = {
    "org.leadhub.types.EncryptedField": EncryptedField,
    "org.leadhub.types.Identity": Identity,
    "org.leadhub.types.Narrative": Narrative,
    "org.leadhub.types.DataCategory": DataCategory,
    "org.leadhub.types.NeedDomain": NeedDomain,
    "org.leadhub.types.OffenceCategory": OffenceCategory,
}
"""Avro full name -> model or enum, one per ``schemas/types/<Name>.avsc``."""
