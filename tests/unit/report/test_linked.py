"""The report counts a person once, whatever ids their referrals were given: events under
linked ids are counted under the person's first id, as the links stand at the end of the
log; an unlink counts them apart again."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hub.crypto.signing import SigningKey
from hub.events import models as m
from hub.events.codec import Codec
from hub.events.envelope import sign_event
from hub.report.records import LoggedEvent
from hub.report.source import joined
from producers.samples import sample_event
from tests.support.fakes import fake_seal

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRST, SECOND, OTHER = "P-FIRST000001", "P-SECOND00001", "P-OTHER000001"


def _logged(
    codec: Codec, keys: dict[str, SigningKey], story: list[tuple[str, str, m.EventBody]]
) -> list[LoggedEvent]:
    events = []
    for day, (source, pid, body) in enumerate(story):
        at = T0 + timedelta(days=day)
        envelope = sign_event(
            body, codec=codec, key=keys[source], participant_id=pid, occurred_at=at
        )
        events.append(LoggedEvent(envelope.model_copy(update={"recorded_at": at}), body))
    return events


def test_linked_ids_count_as_their_first_id_until_unlinked(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    rng = random.Random(5)
    referral = sample_event("referral_made", rng, fake_seal)
    link = m.ParticipantsLinked(
        linked_participant_id=FIRST,
        basis=m.LinkBasis.CONFIRMED,
        weight=15.0,
        levels=["dob=swapped"],
        token_kinds=["gd"],
    )
    story = [
        ("bpd", FIRST, referral),
        ("bpd", OTHER, referral),
        ("bpd", SECOND, referral),
        ("cm", SECOND, link),
        ("cm", SECOND, sample_event("intake_completed", rng, fake_seal)),
    ]
    events = joined(_logged(codec, agency_keys, story))
    assert [e.pid for e in events] == [FIRST, OTHER, FIRST, FIRST, FIRST]
    assert {e.envelope.participant_id for e in events} == {FIRST, SECOND, OTHER}

    apart = m.ParticipantsUnlinked(
        linked_participant_id=SECOND, reason=m.UnlinkReason.ENTERED_IN_ERROR
    )
    events = joined(_logged(codec, agency_keys, [*story, ("cm", FIRST, apart)]))
    assert [e.pid for e in events] == [FIRST, OTHER, SECOND, SECOND, SECOND, FIRST]
