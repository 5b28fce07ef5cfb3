"""The report's consent figures are what the hub enforced: a revocation held by a 2.35 lock,
an erasure and a release not yet in effect count as the policy's consent state has them
(the report once called the first revoked and the other two active), and each release's
state in the report agrees with whether the hub would disclose under it."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from hub.crypto.signing import SigningKey
from hub.domain.policy import ConsentState
from hub.events import models as m
from hub.events.codec import Codec
from hub.events.envelope import sign_event
from hub.report.measures import derive
from hub.report.records import LoggedEvent, Period, ReportLog
from producers.samples import sample_event
from tests.support.fakes import fake_seal

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASE = "case-lock-1"


def _grant(**changes: object) -> m.ConsentGranted:
    """A LEAD release with a Part 2 consent and a 2.35 lock: revocation as to sao waits for
    charges_declined of CASE."""
    body = sample_event("consent_granted", random.Random(3), fake_seal)
    assert isinstance(body, m.ConsentGranted) and body.criminal_justice_lock is not None
    lock = body.criminal_justice_lock.model_copy(update={"case_ref": CASE})
    return body.model_copy(
        update={
            "consent_id": uuid.uuid4(),
            "effective_at": T0,
            "expires_at": T0 + timedelta(days=365),
            "criminal_justice_lock": lock,
            **changes,
        }
    )


def _revoked(consent: m.ConsentGranted) -> m.ConsentRevoked:
    return m.ConsentRevoked(
        consent_id=consent.consent_id,
        revoked_at=T0 + timedelta(days=2),
        in_writing=True,
        scope=m.RevocationScope.ALL,
        recipients=[],
    )


def _declined() -> m.ChargesDeclined:
    return m.ChargesDeclined(
        case_ref=CASE, decided_at=T0 + timedelta(days=3), reason=m.DeclineReason.INTAKE_COMPLETED
    )


def _erased() -> m.ParticipantErased:
    return m.ParticipantErased(
        basis=m.ErasureBasis.EXPUNGEMENT, key_id="dk-test", authorised_by="hubadmin-1"
    )


def test_locks_erasure_and_effective_dates_count_as_the_hub_enforced_them(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    held, declined, erased = _grant(), _grant(), _grant()
    later = _grant(effective_at=T0 + timedelta(days=30))  # after the period's last event
    active = _grant()
    stories: dict[str, list[m.EventBody]] = {
        "P-HELD000001": [held, _revoked(held)],  # the lock holds the revocation for sao
        "P-DECL000001": [declined, _revoked(declined), _declined()],  # the lock lifted
        "P-ERAS000001": [erased, _erased()],
        "P-LATE000001": [later],
        "P-ACTV000001": [active],
    }
    events: list[LoggedEvent] = []
    states: dict[str, ConsentState] = {}
    for n, (pid, bodies) in enumerate(stories.items()):
        for k, body in enumerate(bodies):
            source = {"consent": "cm", "justice": "sao", "system": "hub"}[body.category]
            at = T0 + timedelta(days=k + 1, minutes=n)
            envelope = sign_event(
                body, codec=codec, key=agency_keys[source], participant_id=pid, occurred_at=at
            )
            events.append(LoggedEvent(envelope, body))
            states[pid] = states.get(pid, ConsentState()).apply(body.event_type, body.model_dump())

    consent = derive(ReportLog(events=events), Period(), 14).table("consent")
    by_state = {
        consent.rows[r]: consent.value((r, consent.columns.index("part2")))
        for r in range(len(consent.rows))
    }
    assert by_state == {
        "active": 1,
        "not_yet_effective": 1,
        "partly_revoked": 0,
        "revocation_pending": 1,
        "revoked": 1,
        "expired": 0,
        "erased": 1,
    }

    # ... and each agrees with disclosure under the same state at the period's end
    horizon = T0 + timedelta(days=4)

    def discloses(pid: str, recipient: str) -> bool:
        grant, _ = states[pid].find(
            recipient, "justice", "CRIMINAL_JUSTICE_DIVERSION", horizon, False
        )
        return grant is not None

    assert discloses("P-HELD000001", "sao") and not discloses("P-HELD000001", "cm")
    assert not discloses("P-DECL000001", "sao")
    assert not discloses("P-ERAS000001", "sao")
    assert not discloses("P-LATE000001", "sao")
    assert discloses("P-ACTV000001", "sao")
