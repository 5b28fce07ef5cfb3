"""Realistic, valid and entirely SYNTHETIC event bodies, one builder per event type.

Used by tests, benchmarks and the scenario simulator. Nothing here is or resembles a
real person: names are built from made-up syllables, numbers are random. The output is
a pure function of the ``rng`` state (no clock, no ``uuid4``), so a seed reproduces a
run byte for byte. Identity and free text are never built into a body in clear: they
go through ``seal``, exactly as an agency's producer would do it.
"""

import datetime as dt
from collections.abc import Callable
from random import Random

from hub.domain import issue_participant_id
from hub.events import models as m
from producers.synthetic import (
    NOTES,
    choice,
    day,
    identity,
    instant,
    random_uuid,
    sample_of,
    staff_id,
)

# Under the participant's data key (an EncryptedField: code beside the hub) or sealed to the
# hub's intake key (a SealedField: an agency outside it); the body carries it either way.
Seal = Callable[[m.Identity | m.Narrative], m.EncryptedField | m.SealedField]


def _placed(name: str, field: m.EncryptedField | m.SealedField | None) -> dict[str, object]:
    """``{name: field}``, or ``{sealed_<name>: field}`` for a field sealed to the intake key."""
    return {f"sealed_{name}" if isinstance(field, m.SealedField) else name: field}


SAMPLE_TYPES: list[str] = list(m.EVENT_MODELS)

AGENCIES = ["bpd", "sao", "opd", "cm", "bchd", "tx", "hsg"]
CATCHMENT_AREAS = ["central", "western", "southern", "eastern", "northwest"]


def _referral_made(rng: Random, seal: Seal) -> m.ReferralMade:
    door = choice(rng, m.ReferralDoor)
    lead_offences = [
        c
        for c in m.OffenceCategory
        if c not in (m.OffenceCategory.NONE, m.OffenceCategory.NOT_LEAD_ELIGIBLE)
    ]
    arrest = door is m.ReferralDoor.ARREST_DIVERSION
    return m.ReferralMade(
        door=door,
        offence_category=choice(rng, lead_offences) if arrest else m.OffenceCategory.NONE,
        catchment_area=choice(rng, CATCHMENT_AREAS),
        officer_id=None if door is m.ReferralDoor.COMMUNITY else staff_id(rng, "ofc"),
        referring_partner="harm-reduction-coalition" if door is m.ReferralDoor.COMMUNITY else None,
        **_placed("identity", seal(identity(rng))),
        arrest_ref=f"arr-{rng.getrandbits(48):012x}" if arrest else None,
    )


def _case_manager_dispatched(rng: Random, seal: Seal) -> m.CaseManagerDispatched:
    return m.CaseManagerDispatched(
        case_manager_id=staff_id(rng, "cm"),
        referral_event_id=random_uuid(rng),
        location_area=choice(rng, CATCHMENT_AREAS),
        response_target_minutes=choice(rng, [30, 60, 240]),
    )


def _case_manager_arrived(rng: Random, seal: Seal) -> m.CaseManagerArrived:
    return m.CaseManagerArrived(
        case_manager_id=staff_id(rng, "cm"),
        referral_event_id=random_uuid(rng),
        dispatch_event_id=random_uuid(rng),
        location_area=choice(rng, CATCHMENT_AREAS),
        outcome=choice(rng, m.ArrivalOutcome),
    )


def _intake_completed(rng: Random, seal: Seal) -> m.IntakeCompleted:
    return m.IntakeCompleted(
        case_manager_id=staff_id(rng, "cm"),
        intake_at=instant(rng),
        needs=sample_of(rng, m.NeedDomain, low=1),
        assessment_version="lead-intake-2024.2",
        consent_id=random_uuid(rng),
    )


def _intervention_plan_updated(rng: Random, seal: Seal) -> m.InterventionPlanUpdated:
    codes = {m.NeedDomain.HOUSING: "HSG-APPLY-PSH", m.NeedDomain.SUBSTANCE_USE: "SUD-MOUD-START"}
    goals = [
        m.Goal(
            domain=domain,
            summary_code=codes.get(domain, f"{domain.value[:3]}-GOAL-{rng.randint(1, 9)}"),
            status=choice(rng, m.GoalStatus),
        )
        for domain in sample_of(rng, m.NeedDomain, low=1)[:4]
    ]
    return m.InterventionPlanUpdated(
        case_manager_id=staff_id(rng, "cm"),
        plan_version=rng.randint(1, 6),
        goals=goals,
        participant_agreed=rng.random() < 0.9,
        next_review_on=day(rng),
    )


def _status_changed(rng: Random, seal: Seal) -> m.StatusChanged:
    if rng.random() < 0.5:
        status = m.ParticipantStatus.ACTIVE
        reason = choice(rng, [m.StatusReason.INTAKE_COMPLETED, m.StatusReason.RE_ENGAGED])
        days = None
    else:
        status = m.ParticipantStatus.INACTIVE
        reason = choice(rng, [m.StatusReason.NO_RECENT_CONTACT, m.StatusReason.IN_CUSTODY])
        days = rng.randint(30, 120)
    return m.StatusChanged(status=status, reason=reason, days_since_last_contact=days)


def _program_exited(rng: Random, seal: Seal) -> m.ProgramExited:
    return m.ProgramExited(
        case_manager_id=staff_id(rng, "cm"),
        reason=choice(rng, m.ExitReason),
        owg_reviewed=True,
    )


def part2_consent(signed_on: dt.date, recipients_named: list[str]) -> m.Part2Consent:
    """A complete written 42 CFR 2.31 consent from the treatment program."""
    return m.Part2Consent(
        patient_acknowledged=True,
        disclosing_program="tx",
        information_description="ADMISSION_DISCHARGE_ATTENDANCE",
        recipients_named=recipients_named,
        purpose="CARE_COORDINATION",
        revocation_right_stated=True,
        expiry_description="ONE_YEAR_OR_PROGRAM_EXIT",
        signed=True,
        signed_on=signed_on,
        signer_role=m.SignerRole.PATIENT,
    )


def _consent_granted(rng: Random, seal: Seal) -> m.ConsentGranted:
    effective = instant(rng)
    signed_on = effective.date()
    with_part2 = rng.random() < 0.6
    categories = [
        m.DataCategory.PROGRAM,
        m.DataCategory.JUSTICE,
        m.DataCategory.CASE_MANAGEMENT,
        m.DataCategory.HEALTH,
        m.DataCategory.HOUSING,
    ]
    if with_part2:
        categories.insert(4, m.DataCategory.SUD_TREATMENT)
    part2 = part2_consent(signed_on, ["cm", "bchd"]) if with_part2 else None
    lock = (
        m.CriminalJusticeLock(
            regulation="42 CFR 2.35",
            justice_agency="sao",
            case_ref=f"case-{rng.getrandbits(48):012x}",
            locked_until_event="charges_declined",
        )
        if rng.random() < 0.5
        else None
    )
    return m.ConsentGranted(
        consent_id=random_uuid(rng),
        form_version="lead-roi-2024.1",
        recipients=list(AGENCIES),
        categories=categories,
        purposes=[
            m.Purpose.CARE_COORDINATION,
            m.Purpose.CASE_MANAGEMENT,
            m.Purpose.CRIMINAL_JUSTICE_DIVERSION,
        ],
        effective_at=effective,
        expires_at=effective + dt.timedelta(days=365),
        part2=part2,
        criminal_justice_lock=lock,
        signed_form_sha256=f"{rng.getrandbits(256):064x}",
    )


def _consent_revoked(rng: Random, seal: Seal) -> m.ConsentRevoked:
    scope = choice(rng, m.RevocationScope)
    return m.ConsentRevoked(
        consent_id=random_uuid(rng),
        revoked_at=instant(rng),
        in_writing=rng.random() < 0.8,
        scope=scope,
        recipients=["bpd"] if scope is m.RevocationScope.RECIPIENTS else [],
    )


def _eligibility_decided(rng: Random, seal: Seal) -> m.EligibilityDecided:
    eligible = rng.random() < 0.8
    return m.EligibilityDecided(
        referral_event_id=random_uuid(rng),
        reviewer_id=staff_id(rng, "dda"),
        eligible=eligible,
        criteria_failed=[] if eligible else [choice(rng, m.EligibilityCriterion)],
    )


def _charges_held(rng: Random, seal: Seal) -> m.ChargesHeld:
    held = instant(rng)
    window = choice(rng, [7, 14, 30])
    return m.ChargesHeld(
        case_ref=f"case-{rng.getrandbits(48):012x}",
        charge_category=choice(
            rng, [m.OffenceCategory.DRUG_POSSESSION, m.OffenceCategory.PROSTITUTION]
        ),
        referral_event_id=random_uuid(rng),
        held_at=held,
        intake_deadline=held + dt.timedelta(days=window),
        window_days=window,
    )


def _charges_declined(rng: Random, seal: Seal) -> m.ChargesDeclined:
    return m.ChargesDeclined(
        case_ref=f"case-{rng.getrandbits(48):012x}",
        decided_at=instant(rng),
        reason=m.DeclineReason.INTAKE_COMPLETED,
        intake_event_id=random_uuid(rng),
    )


def _charges_filed(rng: Random, seal: Seal) -> m.ChargesFiled:
    return m.ChargesFiled(
        case_ref=f"case-{rng.getrandbits(48):012x}",
        decided_at=instant(rng),
        reason=m.FilingReason.INTAKE_WINDOW_LAPSED,
        window_expired_event_id=random_uuid(rng),
    )


def _new_arrest_reported(rng: Random, seal: Seal) -> m.NewArrestReported:
    return m.NewArrestReported(
        offence_category=choice(
            rng, [c for c in m.OffenceCategory if c is not m.OffenceCategory.NONE]
        ),
        arrest_ref=f"arr-{rng.getrandbits(48):012x}",
        diverted=rng.random() < 0.6,
        officer_id=staff_id(rng, "ofc"),
    )


def _case_contact_logged(rng: Random, seal: Seal) -> m.CaseContactLogged:
    kind = choice(rng, m.ContactType)
    attempted = kind is m.ContactType.ATTEMPTED
    return m.CaseContactLogged(
        case_manager_id=staff_id(rng, "cm"),
        contact_type=kind,
        duration_minutes=rng.randint(0, 10) if attempted else rng.randint(10, 180),
        domains=[] if attempted else sample_of(rng, m.NeedDomain, low=1)[:3],
        **_placed(
            "note", seal(m.Narrative(text=choice(rng, NOTES))) if rng.random() < 0.7 else None
        ),
    )


def _benefits_obtained(rng: Random, seal: Seal) -> m.BenefitsObtained:
    return m.BenefitsObtained(
        case_manager_id=staff_id(rng, "cm"),
        benefit=choice(rng, m.BenefitType),
        applied_on=day(rng),
    )


def _health_service_recorded(rng: Random, seal: Seal) -> m.HealthServiceRecorded:
    return m.HealthServiceRecorded(
        service=choice(rng, m.HealthService),
        provider=choice(rng, ["bchd-clinic-east", "bchd-mobile-van", "street-medicine"]),
        referred_by_case_manager=rng.random() < 0.5,
    )


def _treatment_admitted(rng: Random, seal: Seal) -> m.TreatmentAdmitted:
    level = choice(rng, m.LevelOfCare)
    medication = (
        choice(rng, [m.Medication.METHADONE, m.Medication.BUPRENORPHINE])
        if level is m.LevelOfCare.OTP
        else choice(rng, [m.Medication.NONE, m.Medication.BUPRENORPHINE, m.Medication.NALTREXONE])
    )
    return m.TreatmentAdmitted(
        program_id=choice(rng, ["tx-otp-north", "tx-iop-central", "tx-residential-1"]),
        level_of_care=level,
        medication=medication,
        admitted_at=instant(rng),
    )


def _treatment_discharged(rng: Random, seal: Seal) -> m.TreatmentDischarged:
    return m.TreatmentDischarged(
        program_id=choice(rng, ["tx-otp-north", "tx-iop-central", "tx-residential-1"]),
        reason=choice(rng, m.DischargeReason),
        discharged_at=instant(rng),
        admission_event_id=random_uuid(rng),
    )


def _shelter_entered(rng: Random, seal: Seal) -> m.ShelterEntered:
    return m.ShelterEntered(
        shelter_program_id=choice(rng, ["hsg-shelter-a", "hsg-safe-haven", "hsg-respite"]),
        bed_type=choice(rng, m.BedType),
        lead_reserved_bed=rng.random() < 0.5,
    )


def _housed(rng: Random, seal: Seal) -> m.Housed:
    housing_type = choice(rng, m.HousingType)
    program = housing_type in (
        m.HousingType.PERMANENT_SUPPORTIVE,
        m.HousingType.RAPID_REHOUSING,
        m.HousingType.TRANSITIONAL,
    )
    return m.Housed(
        housing_type=housing_type,
        subsidy=program,
        move_in_date=day(rng),
        housing_program_id=f"hsg-{housing_type.value.lower()}" if program else None,
    )


def _intake_window_expired(rng: Random, seal: Seal) -> m.IntakeWindowExpired:
    return m.IntakeWindowExpired(
        case_ref=f"case-{rng.getrandbits(48):012x}",
        held_event_id=random_uuid(rng),
        deadline=instant(rng),
    )


def _intake_deadline_approaching(rng: Random, seal: Seal) -> m.IntakeDeadlineApproaching:
    return m.IntakeDeadlineApproaching(
        case_ref=f"case-{rng.getrandbits(48):012x}",
        held_event_id=random_uuid(rng),
        deadline=instant(rng),
        hours_before=rng.choice([72, 24]),
    )


def _consent_expired(rng: Random, seal: Seal) -> m.ConsentExpired:
    return m.ConsentExpired(consent_id=random_uuid(rng), obtained_by="cm", expires_at=instant(rng))


def _consent_expiry_approaching(rng: Random, seal: Seal) -> m.ConsentExpiryApproaching:
    return m.ConsentExpiryApproaching(
        consent_id=random_uuid(rng), obtained_by="cm", expires_at=instant(rng), days_before=14
    )


_LEVELS = ("given=nickname", "family=exact", "dob=swapped", "middle=missing", "records=missing")


def _participants_linked(rng: Random, seal: Seal) -> m.ParticipantsLinked:
    return m.ParticipantsLinked(
        linked_participant_id=issue_participant_id(rng.randbytes),
        basis=m.LinkBasis.CONFIRMED,  # an agency's (AUTOMATIC is the hub's own)
        weight=round(rng.uniform(20, 40), 2),
        levels=list(_LEVELS),
        token_kinds=["gd", "fd"],
    )


def _match_suspected(rng: Random, seal: Seal) -> m.MatchSuspected:
    return m.MatchSuspected(
        linked_participant_id=issue_participant_id(rng.randbytes),
        weight=round(rng.uniform(12, 20), 2),
        levels=list(_LEVELS),
        token_kinds=["gsy"],
    )


def _participants_unlinked(rng: Random, seal: Seal) -> m.ParticipantsUnlinked:
    return m.ParticipantsUnlinked(
        linked_participant_id=issue_participant_id(rng.randbytes),
        reason=rng.choice(list(m.UnlinkReason)),
    )


def _clock_ticked(rng: Random, seal: Seal) -> m.ClockTicked:
    return m.ClockTicked(partition=rng.randrange(6))


def _policy_published(rng: Random, seal: Seal) -> m.PolicyPublished:
    minor = rng.randint(1, 9)
    return m.PolicyPublished(
        policy_version=f"2025.{minor}",
        policy_sha256=f"{rng.getrandbits(256):064x}",
        effective_at=instant(rng),
        supersedes_version=f"2025.{minor - 1}" if minor > 1 else None,
    )


def _participant_erased(rng: Random, seal: Seal) -> m.ParticipantErased:
    return m.ParticipantErased(
        basis=choice(rng, m.ErasureBasis),
        key_id=f"dk-{rng.getrandbits(64):016x}",
        authorised_by=staff_id(rng, "hubadmin"),
    )


def _records_viewed(rng: Random, seal: Seal) -> m.RecordsViewed:
    return m.RecordsViewed(
        viewer=choice(rng, AGENCIES),
        view=choice(rng, m.ViewKind),
        event_ids=[random_uuid(rng) for _ in range(rng.randint(0, 4))],
        request_id=random_uuid(rng),
    )


def _notice_acknowledged(rng: Random, seal: Seal) -> m.NoticeAcknowledged:
    return m.NoticeAcknowledged(
        notice_id=random_uuid(rng),
        recipient=choice(rng, AGENCIES),
        acknowledged_at=instant(rng),
    )


_BUILDERS: dict[str, Callable[[Random, Seal], m.EventBody]] = {
    "referral_made": _referral_made,
    "case_manager_dispatched": _case_manager_dispatched,
    "case_manager_arrived": _case_manager_arrived,
    "intake_completed": _intake_completed,
    "intervention_plan_updated": _intervention_plan_updated,
    "status_changed": _status_changed,
    "program_exited": _program_exited,
    "consent_granted": _consent_granted,
    "consent_revoked": _consent_revoked,
    "eligibility_decided": _eligibility_decided,
    "charges_held": _charges_held,
    "charges_declined": _charges_declined,
    "charges_filed": _charges_filed,
    "new_arrest_reported": _new_arrest_reported,
    "case_contact_logged": _case_contact_logged,
    "benefits_obtained": _benefits_obtained,
    "health_service_recorded": _health_service_recorded,
    "treatment_admitted": _treatment_admitted,
    "treatment_discharged": _treatment_discharged,
    "shelter_entered": _shelter_entered,
    "housed": _housed,
    "intake_window_expired": _intake_window_expired,
    "intake_deadline_approaching": _intake_deadline_approaching,
    "consent_expired": _consent_expired,
    "consent_expiry_approaching": _consent_expiry_approaching,
    "clock_ticked": _clock_ticked,
    "participants_linked": _participants_linked,
    "match_suspected": _match_suspected,
    "participants_unlinked": _participants_unlinked,
    "policy_published": _policy_published,
    "participant_erased": _participant_erased,
    "notice_acknowledged": _notice_acknowledged,
    "records_viewed": _records_viewed,
}


def sample_event(event_type: str, rng: Random, seal: Seal) -> m.EventBody:
    """A valid synthetic body of ``event_type``; deterministic for a given ``rng`` state.

    ``seal`` turns plaintext Identity/Narrative into an EncryptedField (in production:
    ``hub.events.fields.seal_field`` bound to the participant's key)."""
    try:
        builder = _BUILDERS[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None
    return builder(rng, seal)
