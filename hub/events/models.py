"""Pydantic models of the Avro event bodies and shared types in ``schemas/``.

GENERATED from schemas/types/*.avsc and schemas/events/*.avsc by ``leadhub schemas generate``
(hub/events/codegen.py): do not edit. Change the schemas, or hub/events/rules.py for the
rules that are not types, and run the command again (``python -m hub.events.codegen`` if
this module cannot be imported); ``leadhub schemas check`` fails while this file differs
from what the generator writes.

Mapping: string -> str, uuid -> UUID, timestamp-micros -> AwareDatetime, date -> dt.date,
int/long -> int, boolean -> bool, bytes -> bytes, fixed(n) -> bytes of length n,
enum -> StrEnum of the same name and symbols, record -> frozen model of the same name,
array -> list, ["null", T] -> ``T | None = None``; a field's ``leadhub.constraints`` and
``leadhub.item_constraints`` become pydantic ``Field`` bounds.
"""

import datetime as dt
from enum import StrEnum
from typing import Annotated, ClassVar, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from hub.events import rules
from hub.events.rules import PART2_ELEMENTS, AvroRecord, EventBody

__all__ = [
    "EVENT_MODELS",
    "PART2_ELEMENTS",
    "SHARED_TYPES",
    "ArrivalOutcome",
    "AvroRecord",
    "BedType",
    "BenefitType",
    "BenefitsObtained",
    "CaseContactLogged",
    "CaseManagerArrived",
    "CaseManagerDispatched",
    "ChargesDeclined",
    "ChargesFiled",
    "ChargesHeld",
    "ClockTicked",
    "ConsentExpired",
    "ConsentExpiryApproaching",
    "ConsentGranted",
    "ConsentRevoked",
    "ContactType",
    "CriminalJusticeLock",
    "DataCategory",
    "DeclineReason",
    "DischargeReason",
    "EligibilityCriterion",
    "EligibilityDecided",
    "EncryptedField",
    "ErasureBasis",
    "EventBody",
    "ExitReason",
    "FilingReason",
    "Goal",
    "GoalStatus",
    "HealthService",
    "HealthServiceRecorded",
    "Housed",
    "HousingType",
    "Id",
    "Identity",
    "IntakeCompleted",
    "IntakeDeadlineApproaching",
    "IntakeWindowExpired",
    "InterventionPlanUpdated",
    "LevelOfCare",
    "LinkBasis",
    "LocalRecordNumber",
    "MatchSuspected",
    "Medication",
    "Narrative",
    "NeedDomain",
    "NewArrestReported",
    "Nonce96",
    "NoticeAcknowledged",
    "OffenceCategory",
    "Part2Consent",
    "ParticipantErased",
    "ParticipantStatus",
    "ParticipantsLinked",
    "ParticipantsUnlinked",
    "PlaintextType",
    "PolicyPublished",
    "ProgramExited",
    "Purpose",
    "RecordsViewed",
    "ReferralDoor",
    "ReferralMade",
    "RevocationScope",
    "SealedField",
    "ShelterEntered",
    "SignerRole",
    "StatusChanged",
    "StatusReason",
    "TreatmentAdmitted",
    "TreatmentDischarged",
    "UnlinkReason",
    "ViewKind",
]

Id = Annotated[str, Field(min_length=1)]
"""An id (agency, staff, program, key, opaque reference): a string whose schema says
``"leadhub.constraints": {"min_length": 1}``, since empty ids would match nothing."""


class DataCategory(StrEnum):
    """Data category of an event, the unit the data-sharing policy and consents are written in.
    SUD_TREATMENT is 42 CFR Part 2 data."""

    PROGRAM = "PROGRAM"
    CONSENT = "CONSENT"
    JUSTICE = "JUSTICE"
    CASE_MANAGEMENT = "CASE_MANAGEMENT"
    HEALTH = "HEALTH"
    SUD_TREATMENT = "SUD_TREATMENT"
    HOUSING = "HOUSING"
    SYSTEM = "SYSTEM"


class PlaintextType(StrEnum):
    """Which plaintext record the ciphertext decodes to once decrypted."""

    IDENTITY = "IDENTITY"
    NARRATIVE = "NARRATIVE"


Nonce96 = Annotated[bytes, Field(min_length=12, max_length=12)]
"""A 96-bit AES-GCM nonce, unique per encryption under one key."""


class EncryptedField(rules.EncryptedFieldMethods, AvroRecord):
    """Identifying data and free text only ever travel encrypted under a per-participant data
    key, so that erasing the key erases the person from the immutable log (crypto-shredding).
    The plaintext is the Avro single-object encoding (C3 01, fingerprint, binary) of the
    record named by plaintext_type (org.leadhub.types.Identity or
    org.leadhub.types.Narrative)."""

    plaintext_type: PlaintextType
    """Which record schema the decrypted plaintext must be decoded with: IDENTITY =
    org.leadhub.types.Identity, NARRATIVE = org.leadhub.types.Narrative."""
    key_id: Id
    """Id of the participant's data key in the hub key store; destroying this key shreds every
    field sealed under it."""
    nonce: Nonce96
    """AES-256-GCM nonce (12 bytes), never reused with the same key."""
    ciphertext: Annotated[bytes, Field(min_length=16)]
    """AES-256-GCM ciphertext followed by its 16-byte authentication tag."""


class LocalRecordNumber(AvroRecord):
    """A number identifying the person or their case in one agency's own system."""

    system: Id
    """The agency system that issued the number, e.g. "bpd-rms", "sao-case", "hmis"."""
    value: Id
    """The number as issued by that system."""


class Identity(AvroRecord):
    """PLAINTEXT identity of a participant. Never sent in clear: it is Avro-encoded and then
    sealed into an org.leadhub.types.EncryptedField (plaintext_type IDENTITY) under the
    participant's data key."""

    given_name: Id
    """Given (first) name."""
    family_name: Id
    """Family (last) name."""
    middle_name: str | None = None
    """Middle name or initial, if known."""
    aliases: list[Id]
    """Other names the person is known by (street names, prior names); may be empty."""
    date_of_birth: dt.date
    """Date of birth."""
    local_record_numbers: list[LocalRecordNumber]
    """Local record numbers (police RMS number, court docket, HMIS id) that let each agency match
    the participant to its own records; may be empty."""


class Narrative(AvroRecord):
    """PLAINTEXT free text (contact notes and the like). Never sent in clear: it is Avro-encoded
    and sealed into an org.leadhub.types.EncryptedField (plaintext_type NARRATIVE) because
    free text routinely contains identifying details."""

    text: str
    """The free text, UTF-8."""


class NeedDomain(StrEnum):
    """Life domain a need, goal or contact addresses (shared by intake, intervention plan and
    case contacts so they aggregate together)."""

    HOUSING = "HOUSING"
    SUBSTANCE_USE = "SUBSTANCE_USE"
    MENTAL_HEALTH = "MENTAL_HEALTH"
    PHYSICAL_HEALTH = "PHYSICAL_HEALTH"
    INCOME = "INCOME"
    LEGAL = "LEGAL"
    FAMILY = "FAMILY"


class OffenceCategory(StrEnum):
    """Coarse offence category, shared by referrals, held charges and new arrests.
    NOT_LEAD_ELIGIBLE covers any offence outside the LEAD categories; NONE means no offence
    (social-contact or community referral)."""

    DRUG_POSSESSION = "DRUG_POSSESSION"
    DRUG_DELIVERY_LOW_LEVEL = "DRUG_DELIVERY_LOW_LEVEL"
    PROSTITUTION = "PROSTITUTION"
    SOLICITATION = "SOLICITATION"
    OTHER_LOW_LEVEL = "OTHER_LOW_LEVEL"
    NOT_LEAD_ELIGIBLE = "NOT_LEAD_ELIGIBLE"
    NONE = "NONE"


class SealedField(rules.SealedFieldMethods, AvroRecord):
    """Identifying data or free text sealed by the publishing agency to the hub's intake key
    (HPKE, RFC 9180 base mode: X25519, HKDF-SHA256, AES-256-GCM), so that an agency needs no
    secret shared with the hub. The hub opens it when it admits the event and re-encrypts the
    plaintext under the participant's data key (the envelope's resealed field on lead.events);
    each intake key is destroyed once the ingest records sealed to it have expired. The
    plaintext is the Avro single-object encoding of the record named by plaintext_type, as in
    org.leadhub.types.EncryptedField."""

    plaintext_type: PlaintextType
    """Which record the opened plaintext decodes to: IDENTITY = org.leadhub.types.Identity,
    NARRATIVE = org.leadhub.types.Narrative."""
    key_id: Id
    """Id of the hub intake key the field is sealed to (ik-...), from the hub's published intake
    key set."""
    sealed: bytes
    """HPKE single-shot output: the 32-byte encapsulated key followed by the AES-256-GCM
    ciphertext and its 16-byte tag. The HPKE info binds it to its participant, plaintext type,
    event and intake key (docs/protocol.md)."""


class ReferralDoor(StrEnum):
    """The LEAD door the person came in by."""

    ARREST_DIVERSION = "ARREST_DIVERSION"
    SOCIAL_CONTACT = "SOCIAL_CONTACT"
    COMMUNITY = "COMMUNITY"


class ReferralMade(EventBody):
    """A person is referred into LEAD through one of its three doors. Emitted by bpd, or by a
    community partner (COMMUNITY door). The referral time is the envelope's occurred_at."""

    event_type: ClassVar[str] = "referral_made"
    category: ClassVar[str] = "program"

    door: ReferralDoor
    """Door: ARREST_DIVERSION (officer diverts instead of booking), SOCIAL_CONTACT (officer
    refers without an arrest) or COMMUNITY (partner referral)."""
    offence_category: OffenceCategory
    """Category of the offence behind the referral; NONE when there is no offence (social-contact
    or community referral)."""
    catchment_area: Id
    """Configured catchment-area code the referral came from (e.g. "western"); an area, never an
    address."""
    officer_id: Id | None = None
    """Pseudonymous id of the referring officer (police doors only)."""
    referring_partner: Id | None = None
    """Id of the referring community partner organisation (COMMUNITY door only)."""
    identity: EncryptedField | None = None
    """The person's org.leadhub.types.Identity under the participant's data key (plaintext_type
    IDENTITY). Exactly one of identity and sealed_identity is set; on lead.events the hub puts
    here what it re-encrypted from sealed_identity (the envelope's resealed field)."""
    sealed_identity: SealedField | None = None
    """The person's org.leadhub.types.Identity sealed to the hub's intake key (plaintext_type
    IDENTITY): how an agency outside the hub, which holds no data key, sends it."""
    arrest_ref: Id | None = None
    """Hub-issued opaque reference to the arrest (ARREST_DIVERSION only); the real RMS or booking
    number goes inside identity.local_record_numbers."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.referral_made(self)
        return self


class CaseManagerDispatched(EventBody):
    """A case manager is sent to meet a referred person (ideally within 30 minutes of an arrest
    diversion). The dispatch time is the envelope's occurred_at."""

    event_type: ClassVar[str] = "case_manager_dispatched"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    """Pseudonymous staff id of the case manager (never a name)."""
    referral_event_id: UUID
    """Event id of the referral_made being answered."""
    location_area: Id
    """Configured area code where the meeting will happen (precinct, district); never an address."""
    response_target_minutes: Annotated[int, Field(ge=1, le=1440)]
    """Site target for the case manager to arrive, in minutes after dispatch (e.g. 30 for an
    arrest diversion)."""


class ArrivalOutcome(StrEnum):
    """What happened when the case manager arrived."""

    MET_PARTICIPANT = "MET_PARTICIPANT"
    PARTICIPANT_GONE = "PARTICIPANT_GONE"
    PARTICIPANT_DECLINED = "PARTICIPANT_DECLINED"


class CaseManagerArrived(EventBody):
    """The dispatched case manager arrived. The arrival time is the envelope's occurred_at, so
    response time = arrival occurred_at - dispatch occurred_at."""

    event_type: ClassVar[str] = "case_manager_arrived"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    """Pseudonymous staff id of the case manager (never a name)."""
    referral_event_id: UUID
    """Event id of the referral_made being answered."""
    dispatch_event_id: UUID | None = None
    """Event id of the case_manager_dispatched this arrival answers, if there was a dispatch."""
    location_area: Id
    """Configured area code where the case manager met (or tried to meet) the person; never an
    address."""
    outcome: ArrivalOutcome
    """Whether the case manager met the person, found them gone, or they declined to meet."""


class IntakeCompleted(EventBody):
    """The participant completed LEAD intake (assessment and consent). This is what satisfies a
    prosecutor's charge hold."""

    event_type: ClassVar[str] = "intake_completed"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    """Pseudonymous staff id of the case manager (never a name)."""
    intake_at: AwareDatetime
    """Instant the intake was completed, as recorded by the case manager; this is the time
    compared with a charge hold's intake_deadline."""
    needs: list[NeedDomain]
    """Domains the intake assessment identified as needs; unique, may be empty."""
    assessment_version: Id
    """Version id of the intake assessment instrument used."""
    consent_id: UUID | None = None
    """consent_id of the consent_granted signed at this intake, if any."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.intake_completed(self)
        return self


class GoalStatus(StrEnum):
    """Progress of one goal."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    MET = "MET"
    DROPPED = "DROPPED"


class Goal(AvroRecord):
    """One coded goal of the plan."""

    domain: NeedDomain
    """Life domain the goal addresses."""
    summary_code: Id
    """Site-configured goal code (e.g. "HSG-APPLY-PSH"); never free text."""
    status: GoalStatus
    """Progress of the goal in this plan version."""


class InterventionPlanUpdated(EventBody):
    """A new version of the participant-directed intervention plan. Goals are coded: no free text
    travels in clear."""

    event_type: ClassVar[str] = "intervention_plan_updated"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    """Pseudonymous staff id of the case manager (never a name)."""
    plan_version: Annotated[int, Field(ge=1, le=2147483647)]
    """Plan version, starting at 1 and increasing by 1."""
    goals: list[Goal]
    """The plan's goals, in the participant's order of priority; may be empty."""
    participant_agreed: bool
    """True if the participant agreed this version of the plan (LEAD plans are
    participant-directed)."""
    next_review_on: dt.date | None = None
    """Date of the next planned plan review, if set."""


class ParticipantStatus(StrEnum):
    """LEAD participation status."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class StatusReason(StrEnum):
    """Why the status changed."""

    INTAKE_COMPLETED = "INTAKE_COMPLETED"
    RE_ENGAGED = "RE_ENGAGED"
    NO_RECENT_CONTACT = "NO_RECENT_CONTACT"
    IN_CUSTODY = "IN_CUSTODY"
    HOSPITALIZED = "HOSPITALIZED"
    PARTICIPANT_REQUEST = "PARTICIPANT_REQUEST"
    OTHER = "OTHER"


class StatusChanged(EventBody):
    """The participant became active or inactive. Participants cannot fail out of LEAD; they are
    only ever active or inactive until they exit."""

    event_type: ClassVar[str] = "status_changed"
    category: ClassVar[str] = "program"

    status: ParticipantStatus
    """The new status."""
    reason: StatusReason
    """Why the status changed; INTAKE_COMPLETED and RE_ENGAGED only make a participant ACTIVE,
    NO_RECENT_CONTACT, IN_CUSTODY and HOSPITALIZED only INACTIVE."""
    days_since_last_contact: Annotated[int, Field(ge=0, le=2147483647)] | None = None
    """Days since the last successful contact, when the change is about contact."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.status_changed(self)
        return self


class ExitReason(StrEnum):
    """Why the participant left LEAD."""

    GRADUATED_GOALS_MET = "GRADUATED_GOALS_MET"
    MOVED_AWAY = "MOVED_AWAY"
    DECEASED = "DECEASED"
    INCARCERATED_LONG_TERM = "INCARCERATED_LONG_TERM"
    DECLINED_SERVICES = "DECLINED_SERVICES"
    OTHER = "OTHER"


class ProgramExited(EventBody):
    """The participant left LEAD. The exit time is the envelope's occurred_at."""

    event_type: ClassVar[str] = "program_exited"
    category: ClassVar[str] = "program"

    case_manager_id: Id
    """Pseudonymous staff id of the case manager (never a name)."""
    reason: ExitReason
    """Why the participant left LEAD."""
    owg_reviewed: bool
    """True if the Operational Work Group reviewed the exit before it was recorded."""


class Purpose(StrEnum):
    """Purpose a disclosure may serve."""

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


class Part2Consent(AvroRecord):
    """The required elements of a written 42 CFR 2.31 consent, one field per element, so the hub
    can refuse a Part 2 disclosure under an incomplete form."""

    patient_acknowledged: bool
    """2.31(a)(1): the form names the patient (the name itself is sealed in the participant's
    identity, not here)."""
    disclosing_program: str
    """2.31(a)(2): agency id of the Part 2 program permitted to disclose (e.g. tx)."""
    information_description: str
    """2.31(a)(3): coded description of the information that may be disclosed (e.g.
    "ADMISSION_DISCHARGE_ATTENDANCE")."""
    recipients_named: list[str]
    """2.31(a)(4): agency ids of the recipients named on the form; non-empty, unique, each also
    in recipients."""
    purpose: str
    """2.31(a)(5): coded purpose of the disclosure as stated on the form."""
    revocation_right_stated: bool
    """2.31(a)(6): the form states the patient's right to revoke and its exceptions."""
    expiry_description: str
    """2.31(a)(7): the date, event or condition on which the consent expires, as stated on the
    form."""
    signed: bool
    """2.31(a)(8): the form is signed."""
    signed_on: dt.date
    """2.31(a)(9): date the form was signed."""
    signer_role: SignerRole
    """Who signed: the patient, or a guardian or personal representative where 2.15 allows."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.part2_consent(self)
        return self


class CriminalJusticeLock(AvroRecord):
    """A 42 CFR 2.35 criminal-justice consent: the participant's consent to disclose to the
    agency withholding charges, irrevocable until the named event."""

    regulation: Id
    """Citation the lock rests on, e.g. "42 CFR 2.35"."""
    justice_agency: Id
    """Agency id of the criminal-justice recipient relying on the consent (e.g. sao); also in
    recipients."""
    case_ref: Id | None = None
    """Hub-issued opaque reference of the held case the lock relates to."""
    locked_until_event: Id
    """Event type that ends irrevocability (e.g. "charges_declined" or "charges_filed" for final
    disposition)."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.criminal_justice_lock(self)
        return self


class ConsentGranted(EventBody):
    """The participant signed a multi-party release of information naming LEAD partners, scoped
    by recipient, data category, purpose and period. Part 2 (SUD treatment) data additionally
    needs the 42 CFR 2.31 elements in part2; a 42 CFR 2.35 criminal-justice consent may be
    irrevocable until a named event."""

    event_type: ClassVar[str] = "consent_granted"
    category: ClassVar[str] = "consent"

    consent_id: UUID
    """Id of this consent, referenced by its revocation."""
    form_version: Id
    """Version id of the consent form the participant signed."""
    recipients: list[Id]
    """Agency ids the consent allows the hub to disclose to; non-empty, unique. Agency id as
    configured in deploy/ (e.g. bpd, sao, opd, cm, bchd, tx, hsg, hub)."""
    categories: list[DataCategory]
    """Data categories covered; non-empty, unique. SUD_TREATMENT requires part2."""
    purposes: list[Purpose]
    """Purposes disclosures may serve; non-empty, unique."""
    effective_at: AwareDatetime
    """Instant from which the consent is in force."""
    expires_at: AwareDatetime
    """Instant the consent expires; after effective_at."""
    part2: Part2Consent | None = None
    """Present iff the consent covers Part 2 (SUD_TREATMENT) data: the 2.31 elements of the
    written consent."""
    criminal_justice_lock: CriminalJusticeLock | None = None
    """Present for a 2.35 criminal-justice consent; revocation of the locked recipients is
    refused until locked_until_event occurs."""
    signed_form_sha256: str | None = None
    """Lowercase hex SHA-256 of the signed form as held by the case-management provider, to tie
    this event to the paper."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.consent_granted(self)
        return self


class RevocationScope(StrEnum):
    """How much of the consent is revoked."""

    ALL = "ALL"
    RECIPIENTS = "RECIPIENTS"


class ConsentRevoked(EventBody):
    """The participant revoked a consent, wholly or for some recipients. It takes effect at this
    event's position in the log; action already taken in reliance on the consent is not
    undone."""

    event_type: ClassVar[str] = "consent_revoked"
    category: ClassVar[str] = "consent"

    consent_id: UUID
    """consent_id of the consent_granted being revoked."""
    revoked_at: AwareDatetime
    """Instant the participant revoked (signed the revocation, or said so where oral revocation
    is allowed)."""
    in_writing: bool
    """True if the revocation was made in writing (HIPAA requires writing; Part 2 also accepts
    oral revocation)."""
    scope: RevocationScope
    """ALL revokes the whole consent; RECIPIENTS only for the listed recipients."""
    recipients: list[Id]
    """Agency ids no longer covered; non-empty and unique when scope is RECIPIENTS, empty when
    ALL."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.consent_revoked(self)
        return self


class EligibilityCriterion(StrEnum):
    """A LEAD exclusion criterion."""

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
    """The prosecutor screened a referral against the site's LEAD eligibility criteria."""

    event_type: ClassVar[str] = "eligibility_decided"
    category: ClassVar[str] = "justice"

    referral_event_id: UUID
    """Event id of the referral_made screened."""
    reviewer_id: Id
    """Pseudonymous staff id of the screening prosecutor."""
    eligible: bool
    """True if the person is eligible for LEAD."""
    criteria_failed: list[EligibilityCriterion]
    """Exclusion criteria met; empty iff eligible, unique."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.eligibility_decided(self)
        return self


class ChargesHeld(EventBody):
    """The prosecutor holds a charge while the person completes intake; the charge is declined on
    intake, or may be filed if the window lapses."""

    event_type: ClassVar[str] = "charges_held"
    category: ClassVar[str] = "justice"

    case_ref: Id
    """Hub-issued opaque reference of the held case; the real docket number goes inside
    identity.local_record_numbers."""
    charge_category: OffenceCategory
    """Category of the held charge (never NONE)."""
    referral_event_id: UUID | None = None
    """Event id of the referral_made, if any."""
    held_at: AwareDatetime
    """Instant the prosecutor placed the hold."""
    intake_deadline: AwareDatetime
    """Instant by which intake must be completed; after held_at. Authoritative for the deadlines
    processor."""
    window_days: Annotated[int, Field(ge=1, le=60)]
    """Site-configured intake window in days (1 to 60; typically 7 to 30)."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.charges_held(self)
        return self


class DeclineReason(StrEnum):
    """Why the charge was declined."""

    INTAKE_COMPLETED = "INTAKE_COMPLETED"
    INTERESTS_OF_JUSTICE = "INTERESTS_OF_JUSTICE"
    INSUFFICIENT_EVIDENCE = "INSUFFICIENT_EVIDENCE"
    OTHER = "OTHER"


class ChargesDeclined(EventBody):
    """The prosecutor declined the held charge."""

    event_type: ClassVar[str] = "charges_declined"
    category: ClassVar[str] = "justice"

    case_ref: Id
    """Hub-issued opaque reference of the held case."""
    decided_at: AwareDatetime
    """Instant of the charging decision of record."""
    reason: DeclineReason
    """Why the charge was declined (INTAKE_COMPLETED is the usual LEAD outcome)."""
    intake_event_id: UUID | None = None
    """Event id of the intake_completed that satisfied the hold, if that is the reason."""


class FilingReason(StrEnum):
    """Why the held charge was filed."""

    INTAKE_WINDOW_LAPSED = "INTAKE_WINDOW_LAPSED"
    PARTICIPANT_DECLINED_LEAD = "PARTICIPANT_DECLINED_LEAD"
    INELIGIBLE = "INELIGIBLE"
    OTHER = "OTHER"


class ChargesFiled(EventBody):
    """The prosecutor filed the held charge."""

    event_type: ClassVar[str] = "charges_filed"
    category: ClassVar[str] = "justice"

    case_ref: Id
    """Hub-issued opaque reference of the held case."""
    decided_at: AwareDatetime
    """Instant of the charging decision of record."""
    reason: FilingReason
    """Why the charge was filed."""
    window_expired_event_id: UUID | None = None
    """Event id of the intake_window_expired behind the filing, if any."""


class NewArrestReported(EventBody):
    """Police report a new arrest of a participant (the participant id already identifies the
    person, so no identity is carried)."""

    event_type: ClassVar[str] = "new_arrest_reported"
    category: ClassVar[str] = "justice"

    offence_category: OffenceCategory
    """Category of the new arrest's offence (never NONE)."""
    arrest_ref: Id | None = None
    """Hub-issued opaque reference to the arrest."""
    diverted: bool
    """True if the officer diverted the arrest to LEAD instead of booking."""
    officer_id: Id | None = None
    """Pseudonymous id of the arresting officer."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.new_arrest_reported(self)
        return self


class ContactType(StrEnum):
    """Kind of case-management contact."""

    IN_PERSON = "IN_PERSON"
    PHONE = "PHONE"
    OUTREACH = "OUTREACH"
    ACCOMPANIED_APPOINTMENT = "ACCOMPANIED_APPOINTMENT"
    ATTEMPTED = "ATTEMPTED"


class CaseContactLogged(EventBody):
    """A case manager logged a contact with (or an attempt to reach) the participant."""

    event_type: ClassVar[str] = "case_contact_logged"
    category: ClassVar[str] = "case_management"

    case_manager_id: Id
    """Pseudonymous staff id of the case manager (never a name)."""
    contact_type: ContactType
    """Kind of contact; ATTEMPTED means the participant was not reached."""
    duration_minutes: Annotated[int, Field(ge=0, le=1440)]
    """Length of the contact in minutes (0 to 1440)."""
    domains: list[NeedDomain]
    """Life domains the contact worked on; unique, may be empty."""
    note: EncryptedField | None = None
    """Contact note: an org.leadhub.types.Narrative under the participant's data key
    (plaintext_type NARRATIVE). At most one of note and sealed_note is set."""
    sealed_note: SealedField | None = None
    """Contact note: an org.leadhub.types.Narrative sealed to the hub's intake key
    (plaintext_type NARRATIVE), for an agency that holds no data key."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.case_contact_logged(self)
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
    """The participant obtained a benefit or document with case-management help. The approval
    time is the envelope's occurred_at."""

    event_type: ClassVar[str] = "benefits_obtained"
    category: ClassVar[str] = "case_management"

    case_manager_id: Id
    """Pseudonymous staff id of the case manager (never a name)."""
    benefit: BenefitType
    """Benefit or document obtained (GA = general assistance)."""
    applied_on: dt.date | None = None
    """Date the application was submitted, to measure time to benefit."""


class HealthService(StrEnum):
    """Kind of health service."""

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
    """The health department recorded a (non-Part 2) health service for the participant. The
    service time is the envelope's occurred_at."""

    event_type: ClassVar[str] = "health_service_recorded"
    category: ClassVar[str] = "health"

    service: HealthService
    """Kind of health service provided."""
    provider: Id
    """Configured id of the provider organisation or clinic."""
    referred_by_case_manager: bool
    """True if a LEAD case manager made the referral that led to the service."""


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
    """A Part 2 program admitted the participant to substance-use treatment. 42 CFR Part 2 data:
    disclosed only under a 2.31 consent naming the recipient."""

    event_type: ClassVar[str] = "treatment_admitted"
    category: ClassVar[str] = "sud_treatment"

    program_id: Id
    """Configured id of the treatment program."""
    level_of_care: LevelOfCare
    """Level of care: OTP (opioid treatment program), IOP (intensive outpatient), OUTPATIENT,
    RESIDENTIAL or WITHDRAWAL_MANAGEMENT."""
    medication: Medication
    """Medication started or continued at admission, if any."""
    admitted_at: AwareDatetime
    """Instant of admission as recorded by the program."""


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
    """A Part 2 program discharged the participant. 42 CFR Part 2 data."""

    event_type: ClassVar[str] = "treatment_discharged"
    category: ClassVar[str] = "sud_treatment"

    program_id: Id
    """Configured id of the treatment program."""
    reason: DischargeReason
    """Why the participant was discharged."""
    discharged_at: AwareDatetime
    """Instant of discharge as recorded by the program."""
    admission_event_id: UUID | None = None
    """Event id of the matching treatment_admitted, if known."""


class BedType(StrEnum):
    """Kind of shelter bed."""

    EMERGENCY = "EMERGENCY"
    LOW_BARRIER = "LOW_BARRIER"
    MEDICAL_RESPITE = "MEDICAL_RESPITE"
    SAFE_HAVEN = "SAFE_HAVEN"
    BRIDGE = "BRIDGE"


class ShelterEntered(EventBody):
    """The participant entered a shelter bed. The entry time is the envelope's occurred_at."""

    event_type: ClassVar[str] = "shelter_entered"
    category: ClassVar[str] = "housing"

    shelter_program_id: Id
    """Configured id of the shelter program."""
    bed_type: BedType
    """Kind of bed."""
    lead_reserved_bed: bool
    """True if the bed is one reserved for LEAD."""


class HousingType(StrEnum):
    """Kind of housing."""

    PERMANENT_SUPPORTIVE = "PERMANENT_SUPPORTIVE"
    RAPID_REHOUSING = "RAPID_REHOUSING"
    TRANSITIONAL = "TRANSITIONAL"
    FAMILY_OR_FRIENDS = "FAMILY_OR_FRIENDS"
    MARKET_RENTAL = "MARKET_RENTAL"
    OTHER = "OTHER"


class Housed(EventBody):
    """The participant moved into housing."""

    event_type: ClassVar[str] = "housed"
    category: ClassVar[str] = "housing"

    housing_type: HousingType
    """Kind of housing."""
    subsidy: bool
    """True if the housing is subsidised."""
    move_in_date: dt.date
    """Move-in date (HMIS housing move-in date)."""
    housing_program_id: Id | None = None
    """Configured id of the housing program, if it is a program placement."""


class IntakeWindowExpired(EventBody):
    """The hub's deadlines processor saw a charge hold's intake deadline pass without an
    intake_completed."""

    event_type: ClassVar[str] = "intake_window_expired"
    category: ClassVar[str] = "system"

    case_ref: Id
    """Hub-issued opaque reference of the held case."""
    held_event_id: UUID
    """Event id of the charges_held whose window lapsed."""
    deadline: AwareDatetime
    """The intake_deadline that passed (copied from charges_held)."""


class PolicyPublished(EventBody):
    """A version of the data-sharing policy came into force; replay uses it to know which policy
    governed each decision."""

    event_type: ClassVar[str] = "policy_published"
    category: ClassVar[str] = "system"

    policy_version: Id
    """Version id of the policy (e.g. "2025.1")."""
    policy_sha256: str
    """Lowercase hex SHA-256 (64 characters) of the canonical policy file."""
    effective_at: AwareDatetime
    """Instant from which decisions use this version."""
    supersedes_version: Id | None = None
    """policy_version this one replaces; null for the first policy."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.policy_published(self)
        return self


class ErasureBasis(StrEnum):
    """Lawful basis for erasure."""

    EXPUNGEMENT = "EXPUNGEMENT"
    RETENTION_ENDED = "RETENTION_ENDED"
    PARTICIPANT_REQUEST_WHERE_LAWFUL = "PARTICIPANT_REQUEST_WHERE_LAWFUL"


class ParticipantErased(EventBody):
    """The hub destroyed the participant's data key, crypto-shredding every encrypted field about
    them. The destruction time is the envelope's occurred_at."""

    event_type: ClassVar[str] = "participant_erased"
    category: ClassVar[str] = "system"

    basis: ErasureBasis
    """Lawful basis for the erasure."""
    key_id: Id
    """Id of the destroyed data key."""
    authorised_by: Id
    """Pseudonymous id of the hub administrator who authorised the erasure."""


class NoticeAcknowledged(EventBody):
    """A recipient agency acknowledged a sealed notice from the hub."""

    event_type: ClassVar[str] = "notice_acknowledged"
    category: ClassVar[str] = "system"

    notice_id: UUID
    """Id of the notice acknowledged."""
    recipient: Id
    """Agency id of the acknowledging recipient. Agency id as configured in deploy/ (e.g. bpd,
    sao, opd, cm, bchd, tx, hsg, hub)."""
    acknowledged_at: AwareDatetime
    """Instant the recipient's system or staff acknowledged the notice."""


class ViewKind(StrEnum):
    """Which reading of the hub's records."""

    TIMELINE = "TIMELINE"
    INBOX = "INBOX"
    CASELOAD = "CASELOAD"
    MEETING_PACKET = "MEETING_PACKET"


class RecordsViewed(EventBody):
    """An agency read, through the hub's API or pages, what the hub had disclosed to it about the
    participant. A read is a disclosure too, so the hub logs it before it answers, and the
    accounting of disclosures lists it."""

    event_type: ClassVar[str] = "records_viewed"
    category: ClassVar[str] = "system"

    viewer: Id
    """Agency id of the reader, as authenticated. Agency id as configured in deploy/ (e.g. bpd,
    sao, opd, cm, bchd, tx, hsg, hub)."""
    view: ViewKind
    """The API endpoint or page that showed the records."""
    event_ids: list[UUID]
    """Every event about the participant whose disclosed fields the reader was shown, in log
    order."""
    request_id: UUID
    """Id of the HTTP request, shared by the records_viewed of every participant one request
    showed."""


class ClockTicked(EventBody):
    """The hub's clock entered the log of one lead.events partition, so that deadlines, reminders
    and consent expiries due on a quiet partition are decided on time, from the log alone
    (replay reads the same ticks). Published by the worker that folds the partition, only when
    something there is due; its time is its recorded_at. Discloses nothing and is decided for
    no recipient."""

    event_type: ClassVar[str] = "clock_ticked"
    category: ClassVar[str] = "system"

    partition: Annotated[int, Field(ge=0)]
    """The lead.events partition the tick is for; the gatekeeper writes it there."""


class IntakeDeadlineApproaching(EventBody):
    """A reminder: a held case's intake deadline is near and intake is not yet completed. The hub
    publishes one per reminder mark the policy sets (hours before the deadline), when the
    log's clock passes the mark with the hold still open; a mark already overtaken by a nearer
    one is not sent."""

    event_type: ClassVar[str] = "intake_deadline_approaching"
    category: ClassVar[str] = "system"

    case_ref: Id
    """Hub-issued opaque reference of the held case."""
    held_event_id: UUID
    """Event id of the charges_held whose deadline approaches."""
    deadline: AwareDatetime
    """The intake_deadline (copied from charges_held)."""
    hours_before: Annotated[int, Field(ge=1)]
    """The reminder mark: how many hours before the deadline it falls due."""


class ConsentExpired(EventBody):
    """A consent reached its expires_at while not revoked as a whole: from that instant it covers
    no disclosure. The hub publishes it when the log's clock passes expires_at, so the agency
    that obtained it knows sharing under it has stopped."""

    event_type: ClassVar[str] = "consent_expired"
    category: ClassVar[str] = "consent"

    consent_id: UUID
    """Id of the consent (from its consent_granted)."""
    obtained_by: Id
    """The agency that published the consent_granted. Agency id as configured in deploy/."""
    expires_at: AwareDatetime
    """The instant it expired (copied from consent_granted)."""


class ConsentExpiryApproaching(EventBody):
    """A reminder: a consent expires soon and no later consent of the same participant renews it
    (covers at least its recipients, categories and purposes past its expiry), so the agency
    that obtained it can ask for a renewal before sharing stops. One per reminder mark the
    policy sets (days before expires_at)."""

    event_type: ClassVar[str] = "consent_expiry_approaching"
    category: ClassVar[str] = "consent"

    consent_id: UUID
    """Id of the consent (from its consent_granted)."""
    obtained_by: Id
    """The agency that published the consent_granted. Agency id as configured in deploy/."""
    expires_at: AwareDatetime
    """The instant it expires (copied from consent_granted)."""
    days_before: Annotated[int, Field(ge=1)]
    """The reminder mark: how many days before expires_at it falls due."""


class LinkBasis(StrEnum):
    """Who decided the two ids are one person."""

    AUTOMATIC = "AUTOMATIC"
    CONFIRMED = "CONFIRMED"


class ParticipantsLinked(EventBody):
    """This participant and linked_participant_id are one person: from this position of the log
    their timelines are read as one, in every view, report and replay. The hub publishes it
    when a new referral's identity scores a match against an earlier participant's (basis
    AUTOMATIC); the case-management agency publishes it when it confirms a suspected match
    (basis CONFIRMED). A later participants_unlinked undoes it."""

    event_type: ClassVar[str] = "participants_linked"
    category: ClassVar[str] = "program"

    linked_participant_id: Id
    """The earlier participant id of the same person (a hub-issued id, never this event's own)."""
    basis: LinkBasis
    """AUTOMATIC: the hub's score reached the policy's match weight. CONFIRMED: the
    case-management agency confirmed a suspected match."""
    weight: float
    """The Fellegi-Sunter weight of the pair, in bits (for CONFIRMED, the weight of the suspected
    match confirmed)."""
    levels: list[str]
    """The evidence: each compared field and the level it agreed at, as field=level (for example
    given=nickname, dob=swapped). Never a value."""
    token_kinds: list[str]
    """The kinds of keyed blocking token the two identities shared (gd, fd, gsy, ssd): how the
    earlier participant was found. Never a token."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.participants_linked(self)
        return self


class MatchSuspected(EventBody):
    """A task for the policy's linkage reviewer (the case-management agency): a new referral's
    identity scored a probable match, not a certain one, against an earlier participant's. The
    reviewer confirms it (participants_linked, basis CONFIRMED) or tells the two apart
    (participants_unlinked); until then the timelines stay apart."""

    event_type: ClassVar[str] = "match_suspected"
    category: ClassVar[str] = "program"

    linked_participant_id: Id
    """The earlier participant id the person may be (a hub-issued id, never this event's own)."""
    weight: float
    """The Fellegi-Sunter weight of the pair, in bits: at or above the policy's probable weight,
    below its match weight."""
    levels: list[str]
    """The evidence: each compared field and the level it agreed at, as field=level. Never a
    value."""
    token_kinds: list[str]
    """The kinds of keyed blocking token the two identities shared. Never a token."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        rules.match_suspected(self)
        return self


class UnlinkReason(StrEnum):
    """Why the two ids are not one person."""

    DIFFERENT_PEOPLE = "DIFFERENT_PEOPLE"
    ENTERED_IN_ERROR = "ENTERED_IN_ERROR"


class ParticipantsUnlinked(EventBody):
    """The case-management agency tells two participant ids apart: a link between them (automatic
    or confirmed) is undone from this position of the log, and a suspected match between them
    is dismissed. Either id may carry it. Decisions already made stand (they were made on the
    log as it was); views, reports and replay read the timelines apart from here on."""

    event_type: ClassVar[str] = "participants_unlinked"
    category: ClassVar[str] = "program"

    linked_participant_id: Id
    """The other participant id (a hub-issued id, never this event's own)."""
    reason: UnlinkReason
    """DIFFERENT_PEOPLE: the reviewer found them to be two people (a namesake). ENTERED_IN_ERROR:
    the link was recorded by mistake."""


EVENT_MODELS: dict[str, type[EventBody]] = {
    "referral_made": ReferralMade,
    "case_manager_dispatched": CaseManagerDispatched,
    "case_manager_arrived": CaseManagerArrived,
    "intake_completed": IntakeCompleted,
    "intervention_plan_updated": InterventionPlanUpdated,
    "status_changed": StatusChanged,
    "program_exited": ProgramExited,
    "consent_granted": ConsentGranted,
    "consent_revoked": ConsentRevoked,
    "eligibility_decided": EligibilityDecided,
    "charges_held": ChargesHeld,
    "charges_declined": ChargesDeclined,
    "charges_filed": ChargesFiled,
    "new_arrest_reported": NewArrestReported,
    "case_contact_logged": CaseContactLogged,
    "benefits_obtained": BenefitsObtained,
    "health_service_recorded": HealthServiceRecorded,
    "treatment_admitted": TreatmentAdmitted,
    "treatment_discharged": TreatmentDischarged,
    "shelter_entered": ShelterEntered,
    "housed": Housed,
    "intake_window_expired": IntakeWindowExpired,
    "policy_published": PolicyPublished,
    "participant_erased": ParticipantErased,
    "notice_acknowledged": NoticeAcknowledged,
    "records_viewed": RecordsViewed,
    "clock_ticked": ClockTicked,
    "intake_deadline_approaching": IntakeDeadlineApproaching,
    "consent_expired": ConsentExpired,
    "consent_expiry_approaching": ConsentExpiryApproaching,
    "participants_linked": ParticipantsLinked,
    "match_suspected": MatchSuspected,
    "participants_unlinked": ParticipantsUnlinked,
}
"""Event type -> body model, one per ``schemas/events/*.avsc``, by leadhub.order."""

SHARED_TYPES: dict[str, type[AvroRecord] | type[StrEnum]] = {
    "org.leadhub.types.EncryptedField": EncryptedField,
    "org.leadhub.types.Identity": Identity,
    "org.leadhub.types.Narrative": Narrative,
    "org.leadhub.types.SealedField": SealedField,
    "org.leadhub.types.DataCategory": DataCategory,
    "org.leadhub.types.NeedDomain": NeedDomain,
    "org.leadhub.types.OffenceCategory": OffenceCategory,
    "org.leadhub.types.PlaintextType": PlaintextType,
}
"""Avro full name -> model or enum, one per ``schemas/types/<Name>.avsc``."""
