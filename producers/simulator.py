"""A synthetic LEAD program, reproducible from a seed: who is referred through which door,
what each agency publishes and when, and a small share of bad input.

Everything is fictional (names from made-up syllables, random ids) and lives on a
simulated clock. The plan is pure data: publishing it is the runner's job, and tests can
check it (or feed it through the gatekeeper) without a broker. The scenario's ``truth``
is what the hub must find: which holds end declined, filed, or lapsed.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.domain import Hold, issue_participant_id
from hub.events import Reason
from hub.events import models as m
from producers.samples import Seal, part2_consent, sample_event
from producers.variants import KINDS, namesake, variant

SCENARIO_START = datetime(2026, 9, 1, 7, 0, tzinfo=UTC)
CARE_AGENCIES = ["bpd", "sao", "opd", "cm", "bchd", "tx", "hsg"]
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Planned:
    """One event an agency will publish, in simulated time."""

    agency: str
    participant_id: str
    occurred_at: datetime
    body: m.EventBody
    event_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BadRecord:
    """A record no hub may accept, and the reason it must give."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    expected: Reason


@dataclass
class Scenario:
    seed: int
    intake_window_days: int
    publications: list[Planned] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    truth: Counter[str] = field(default_factory=Counter)
    # linkage's ground truth: each referral under a new id of someone already referred
    # (new id -> first id), and each namesake's (new id -> the id of whom it is not)
    same_person: dict[str, str] = field(default_factory=dict)
    namesakes: dict[str, str] = field(default_factory=dict)

    def expected_on_log(self) -> set[str]:
        """The event ids lead.events holds once the hub has handled the scenario: every
        publication, and the lapse each filing after a lapse cites. (The hub's reminders
        and consent expiries come on top: which fall due depends on how the partitions'
        clocks move, so they are not waited for by id.)"""
        ids = {str(p.event_id) for p in self.publications}
        for p in self.publications:
            lapse = getattr(p.body, "window_expired_event_id", None)
            if lapse is not None:
                ids.add(str(lapse))
        return ids


# How a story seals a participant's identity or a note in one event: under the data key (code
# beside the hub), or to the hub's intake key, bound to the participant and the event.
SealFor = Callable[[str, uuid.UUID], Seal]


def _unsealed(plaintext: m.Identity | m.Narrative) -> m.EncryptedField:
    raise AssertionError("only sealed() samples event types that carry a sealed field")


def _with(body: m.EventBody, **updates: Any) -> m.EventBody:
    """A sample body with the story's facts put in, validated again."""
    return type(body).model_validate({**body.model_dump(), **updates})


class _Story:
    """One participant's path through LEAD."""

    def __init__(
        self,
        rng: random.Random,
        scenario: Scenario,
        seal_for: SealFor,
        start: datetime,
    ) -> None:
        self.rng = rng
        self.scenario = scenario
        self.pid = issue_participant_id(rng.randbytes)  # as the hub issues them
        self.seal_for = seal_for
        self.correlation = self._id()
        self.consent_id = self.correlation
        self.start = self.t = start
        self.identity: m.Identity | None = None  # as the first referral gives it

    def _id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def emit(
        self,
        agency: str,
        body: m.EventBody,
        after: timedelta,
        cause: uuid.UUID | None = None,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        self.t += after
        event_id = event_id or self._id()
        self.scenario.publications.append(
            Planned(agency, self.pid, self.t, body, event_id, self.correlation, cause)
        )
        self.scenario.truth[f"events.{body.event_type}"] += 1
        return event_id

    def sample(self, event_type: str, **updates: Any) -> m.EventBody:
        return _with(sample_event(event_type, self.rng, _unsealed), **updates)

    def sealed(self, event_type: str, **updates: Any) -> tuple[m.EventBody, uuid.UUID]:
        """A body whose identity or note is sealed, and the id of the event the seal is
        bound to (a field sealed to the hub's intake key opens in that event only)."""
        event_id = self._id()
        seal = self.seal_for(self.pid, event_id)

        def keeping(plain: m.Identity | m.Narrative) -> m.EncryptedField | m.SealedField:
            if isinstance(plain, m.Identity) and self.identity is None:
                self.identity = plain
            return seal(plain)

        return _with(sample_event(event_type, self.rng, keeping), **updates), event_id

    def run(self) -> None:
        rng = self.rng
        door = rng.choices(list(m.ReferralDoor), weights=[6, 3, 1])[0]
        police = door is not m.ReferralDoor.COMMUNITY
        arrest = door is m.ReferralDoor.ARREST_DIVERSION
        referral, ref_id = self.sealed(
            "referral_made",
            door=door,
            offence_category=rng.choice(
                [
                    m.OffenceCategory.DRUG_POSSESSION,
                    m.OffenceCategory.PROSTITUTION,
                    m.OffenceCategory.DRUG_DELIVERY_LOW_LEVEL,
                ]
            )
            if arrest
            else m.OffenceCategory.NONE,
            officer_id=f"ofc-{rng.randint(1000, 9999)}" if police else None,
            referring_partner=None if police else "cp-outreach-1",
            arrest_ref=f"arr-{rng.getrandbits(40):010x}" if arrest else None,
        )
        self.scenario.truth[f"door.{door.value}"] += 1
        referrer = "cm" if door is m.ReferralDoor.COMMUNITY else "bpd"
        self.emit(referrer, referral, after=timedelta(0), event_id=ref_id)
        dispatched = self.emit(
            "cm",
            self.sample("case_manager_dispatched", referral_event_id=ref_id),
            after=rng.randint(2, 15) * MINUTE,
            cause=ref_id,
        )
        met = rng.random() < 0.88
        self.emit(
            "cm",
            self.sample(
                "case_manager_arrived",
                referral_event_id=ref_id,
                dispatch_event_id=dispatched,
                outcome=m.ArrivalOutcome.MET_PARTICIPANT
                if met
                else m.ArrivalOutcome.PARTICIPANT_GONE,
            ),
            after=rng.randint(8, 70) * MINUTE,
            cause=dispatched,
        )
        consent_id = self._consent()
        held = self._hold(door, ref_id)
        intake_on_time = met and rng.random() < 0.75
        if held is not None:
            hold_id, case_ref, deadline = held
            if intake_on_time:
                intake_at = self.t + rng.randint(1, self.scenario.intake_window_days - 1) * DAY
                intake = self._intake(intake_at, consent_id)
                self.emit(
                    "sao",
                    self.sample(
                        "charges_declined",
                        case_ref=case_ref,
                        decided_at=self.t + 2 * DAY,
                        reason=m.DeclineReason.INTAKE_COMPLETED,
                        intake_event_id=intake,
                    ),
                    after=rng.randint(1, 4) * DAY,
                    cause=intake,
                )
                self.scenario.truth["holds.declined"] += 1
            else:
                expiry = Hold(hold_id, self.pid, case_ref, deadline).expiry_event_id
                self.t = max(self.t, deadline)
                self.emit(
                    "sao",
                    self.sample(
                        "charges_filed",
                        case_ref=case_ref,
                        decided_at=deadline + DAY,
                        reason=m.FilingReason.INTAKE_WINDOW_LAPSED,
                        window_expired_event_id=expiry,
                    ),
                    after=DAY + rng.randint(1, 120) * MINUTE,
                    cause=expiry,
                )
                self.scenario.truth["holds.lapsed"] += 1
                self.scenario.truth["holds.filed"] += 1
                return
        elif intake_on_time:
            self._intake(self.t + rng.randint(1, 10) * DAY, consent_id)
        else:
            return
        self._engagement()

    def _consent(self) -> uuid.UUID:
        rng = self.rng
        part2 = rng.random() < 0.5
        body = self.sample("consent_granted")
        updates: dict[str, Any] = {
            "effective_at": self.t,
            "expires_at": self.t + 365 * DAY,
            "recipients": CARE_AGENCIES,
            "purposes": [
                m.Purpose.CARE_COORDINATION,
                m.Purpose.CASE_MANAGEMENT,
                m.Purpose.CRIMINAL_JUSTICE_DIVERSION,
                m.Purpose.LEGAL_DEFENSE,
                m.Purpose.TREATMENT,
            ],
            "criminal_justice_lock": None,
        }
        categories = [
            m.DataCategory.PROGRAM,
            m.DataCategory.JUSTICE,
            m.DataCategory.CASE_MANAGEMENT,
            m.DataCategory.HEALTH,
            m.DataCategory.HOUSING,
        ]
        updates["part2"] = None
        if part2:  # a written 42 CFR 2.31 consent naming the case manager
            categories.append(m.DataCategory.SUD_TREATMENT)
            updates["part2"] = part2_consent(self.t.date(), ["cm"]).model_dump()
        updates["categories"] = categories
        consent_id = self.consent_id = self._id()
        updates["consent_id"] = consent_id
        self.emit("cm", _with(body, **updates), after=rng.randint(5, 40) * MINUTE)
        self.scenario.truth["consents.granted"] += 1
        self.scenario.truth["consents.part2"] += int(part2)
        return consent_id

    def _hold(
        self, door: m.ReferralDoor, ref_id: uuid.UUID
    ) -> tuple[uuid.UUID, str, datetime] | None:
        if door is not m.ReferralDoor.ARREST_DIVERSION:
            return None
        rng = self.rng
        eligible = rng.random() < 0.92
        self.emit(
            "sao",
            self.sample(
                "eligibility_decided",
                referral_event_id=ref_id,
                eligible=eligible,
                criteria_failed=[]
                if eligible
                else [m.EligibilityCriterion.OVER_QUANTITY_THRESHOLD],
            ),
            after=rng.randint(30, 180) * MINUTE,
            cause=ref_id,
        )
        if not eligible:
            return None
        window = self.scenario.intake_window_days
        held_at = self.t + rng.randint(10, 90) * MINUTE
        case_ref = f"hold-{rng.getrandbits(40):010x}"
        hold_id = self.emit(
            "sao",
            self.sample(
                "charges_held",
                case_ref=case_ref,
                referral_event_id=ref_id,
                held_at=held_at,
                intake_deadline=held_at + window * DAY,
                window_days=window,
                charge_category=m.OffenceCategory.DRUG_POSSESSION,
            ),
            after=held_at - self.t,
            cause=ref_id,
        )
        self.scenario.truth["holds.started"] += 1
        return hold_id, case_ref, held_at + window * DAY

    def _intake(self, at: datetime, consent_id: uuid.UUID) -> uuid.UUID:
        intake = self.emit(
            "cm",
            self.sample("intake_completed", intake_at=at, consent_id=consent_id),
            after=max(at - self.t, MINUTE),
        )
        self.emit(
            "cm",
            self.sample(
                "status_changed",
                status=m.ParticipantStatus.ACTIVE,
                reason=m.StatusReason.INTAKE_COMPLETED,
            ),
            after=MINUTE,
        )
        self.scenario.truth["intakes"] += 1
        return intake

    def _engagement(self) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 6)):
            contact, contact_id = self.sealed("case_contact_logged")
            self.emit("cm", contact, after=rng.randint(2, 10) * DAY, event_id=contact_id)
        if rng.random() < 0.4:
            self.emit("cm", self.sample("benefits_obtained"), after=rng.randint(1, 20) * DAY)
        if rng.random() < 0.3:
            self.emit(
                "bchd", self.sample("health_service_recorded"), after=rng.randint(1, 20) * DAY
            )
        if rng.random() < 0.35:
            admitted = self.emit(
                "tx",
                self.sample("treatment_admitted", admitted_at=self.t + DAY),
                after=rng.randint(1, 30) * DAY,
            )
            if rng.random() < 0.5:
                self.emit(
                    "tx",
                    self.sample(
                        "treatment_discharged",
                        admission_event_id=admitted,
                        discharged_at=self.t + 20 * DAY,
                    ),
                    after=rng.randint(20, 60) * DAY,
                )
        if rng.random() < 0.4:
            self.emit("hsg", self.sample("shelter_entered"), after=rng.randint(1, 30) * DAY)
            if rng.random() < 0.5:
                self.emit(
                    "hsg",
                    self.sample("housed", move_in_date=(self.t + 40 * DAY).date()),
                    after=rng.randint(20, 90) * DAY,
                )
        if rng.random() < 0.15:
            self.emit("bpd", self.sample("new_arrest_reported"), after=rng.randint(10, 180) * DAY)
        if rng.random() < 0.05:
            self.scenario.truth["consents.revoked"] += 1
            self.emit(
                "cm",
                self.sample(
                    "consent_revoked",
                    consent_id=self.consent_id,
                    revoked_at=self.t,
                    scope=m.RevocationScope.ALL,
                    recipients=[],
                ),
                after=rng.randint(1, 30) * DAY,
            )


def _referred_again(
    rng: random.Random,
    scenario: Scenario,
    seal_for: SealFor,
    identity: m.Identity,
    at: datetime,
) -> str:
    """A referral under a new id (as an officer on the street gets one) by police, after a
    social contact: the person met again, or a namesake. Only the referral: what the hub
    makes of it is the question."""
    story = _Story(rng, scenario, seal_for, at)
    event_id = story._id()
    sealed = seal_for(story.pid, event_id)(identity)
    body = _with(
        sample_event("referral_made", rng, lambda _: sealed),
        door=m.ReferralDoor.SOCIAL_CONTACT,
        offence_category=m.OffenceCategory.NONE,
        officer_id=f"ofc-{rng.randint(1000, 9999)}",
        referring_partner=None,
        arrest_ref=None,
    )
    story.emit("bpd", body, after=timedelta(0), event_id=event_id)
    scenario.truth["door.SOCIAL_CONTACT"] += 1
    return story.pid


def plan(
    seed: int,
    participants: int,
    seal_for: SealFor,
    intake_window_days: int = 14,
    span_days: int = 60,
    again: float = 0.0,
    namesakes: float = 0.0,
) -> Scenario:
    """Participants referred over ``span_days``; events sorted by simulated time. Then a
    share ``again`` of them referred again 20 to 90 days after their first referral, each
    with one kind of difference in turn (producers.variants: a nickname, a typo, day and
    month swapped, a changed or double family name, or none), and a share ``namesakes`` of
    new people with an earlier person's name and birth year. These come from a generator of
    their own, so a scenario with none is the same as before they existed."""
    rng = random.Random(seed)
    scenario = Scenario(seed, intake_window_days)
    stories = []
    for _ in range(participants):
        start = SCENARIO_START + timedelta(seconds=rng.randint(0, span_days * 86_400))
        story = _Story(rng, scenario, seal_for, start)
        story.run()
        stories.append(story)
    others = random.Random(f"{seed}/referred again")
    for n, story in enumerate(others.sample(stories, int(participants * again))):
        assert story.identity is not None
        changed = variant(others, story.identity, KINDS[n % len(KINDS)])
        at = story.start + others.randint(20, 90) * DAY
        scenario.same_person[_referred_again(others, scenario, seal_for, changed, at)] = story.pid
    for story in others.sample(stories, int(participants * namesakes)):
        assert story.identity is not None
        someone = namesake(others, story.identity)
        at = story.start + others.randint(1, 90) * DAY
        scenario.namesakes[_referred_again(others, scenario, seal_for, someone, at)] = story.pid
    scenario.publications.sort(key=lambda p: (p.occurred_at, str(p.event_id)))
    return scenario
