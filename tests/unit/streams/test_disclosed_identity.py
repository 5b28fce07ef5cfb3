"""A referral's identity, disclosed to cm by the policy, reaches cm inside its sealed notice
in clear (cm's system needs no data key) and no one else; with the data key destroyed the
field says "erased" and nothing more, and after participant_erased nothing is sent. The
real gatekeeper, fold, codec, data keys and HPKE; no broker."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.crypto import IntakeKeyring, PublicKeys, SigningKey, generate_sealing_key
from hub.crypto.epochs import EpochSealer
from hub.domain import (
    Gatekeeper,
    LogClock,
    Notice,
    PartitionProcessor,
    PolicyBook,
    issue_participant_id,
    jsonable,
    open_notice,
)
from hub.domain.agencies import AgencyRegistry
from hub.events import (
    Codec,
    DataKeyStore,
    EncryptedField,
    decode_body,
    decode_envelope,
    open_field,
    seal_field,
    seal_for_intake,
    sign_event,
)
from hub.events.models import (
    CaseContactLogged,
    ErasureBasis,
    Identity,
    Narrative,
    ParticipantErased,
    PolicyPublished,
    ReferralMade,
)
from hub.events.topics import EVENTS, REJECTED, notify_topic
from hub.streams.handlers import CanonicalHandler, IngestHandler
from hub.web.view import ERASED_FIELD, DisclosureView, named, redacted
from producers.samples import sample_event
from tests.support.fakes import fake_seal
from tests.support.histories import RECIPIENTS, default_policy
from tests.support.stories import MemoryBus

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
CANARY = Identity(
    given_name="Quillon",
    family_name="Zedmartin",
    aliases=["QZ-canary"],
    date_of_birth=date(1990, 2, 3),
    local_record_numbers=[],
)


@dataclass
class World:
    """The worker's two handlers over memory topics, with a key store, the recipients'
    sealing keys and the pages' view; the policy already published."""

    bus: MemoryBus
    datakeys: DataKeyStore
    sealing: dict[str, Any]
    view: DisclosureView
    codec: Codec
    keys: dict[str, SigningKey]
    intake: IntakeKeyring

    def publish(
        self, body: Any, agency: str, pid: str, at: datetime, event_id: uuid.UUID | None = None
    ) -> None:
        key = self.keys[agency]
        envelope = sign_event(
            body, codec=self.codec, key=key, participant_id=pid, occurred_at=at, event_id=event_id
        )
        self.bus.publish(envelope, self.codec)

    def refer_sealed(
        self, pid: str, at: datetime, *, bound_to: tuple[str, uuid.UUID] | None = None
    ) -> uuid.UUID:
        """bpd refers CANARY as an agency outside the hub does: its identity sealed to the
        current intake key, bound to this participant and event (or to ``bound_to``)."""
        event_id = uuid.uuid4()
        key = self.intake.current(at)
        seal_pid, seal_event = bound_to or (pid, event_id)
        sealed = seal_for_intake(
            CANARY,
            participant_id=seal_pid,
            event_id=str(seal_event),
            key_id=key.key_id,
            public=key.public,
            codec=self.codec,
        )
        body = sample_event("referral_made", random.Random(1), lambda plain: sealed)
        self.publish(body, "bpd", pid, at, event_id)
        return event_id

    def rejected(self) -> list[tuple[str, str]]:
        return [
            (dict(o.headers)["leadhub-reason"].decode(), dict(o.headers)["leadhub-detail"].decode())
            for o in self.bus.topics[REJECTED]
        ]

    def refer(self, pid: str, identity: EncryptedField, at: datetime) -> None:
        body = sample_event("referral_made", random.Random(1), fake_seal)
        referral = ReferralMade.model_validate({**body.model_dump(), "identity": identity})
        self.publish(referral, "bpd", pid, at)

    def seal(self, pid: str, plaintext: Identity | Narrative) -> EncryptedField:
        key_id, key = self.datakeys.get_or_create(pid)
        return seal_field(plaintext, participant_id=pid, key_id=key_id, key=key, codec=self.codec)

    def opened(self) -> dict[str, list[dict[str, Any]]]:
        """Every notice sent so far, opened by its recipient (the hub's signature checked)."""
        hub = self.keys["hub"]
        hub_keys = PublicKeys({("hub", hub.key_id): hub.public})
        return {
            a: [
                open_notice(
                    Notice(**self.codec.decode(o.value, "notice").datum), self.sealing[a], hub_keys
                )
                for o in self.bus.topics[notify_topic(a)]
            ]
            for a in RECIPIENTS
        }


@pytest.fixture
def world(
    tmp_path: Path,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> World:
    datakeys = DataKeyStore(tmp_path / "datakeys")
    intake = IntakeKeyring(tmp_path / "intake", timedelta(days=7), timedelta(days=7))
    view = DisclosureView()
    sealing = {a: generate_sealing_key(a, demo=True) for a in RECIPIENTS}
    policy = default_policy()
    bus = MemoryBus(
        IngestHandler(
            Gatekeeper(codec, agencies, public_keys, intake_keys=intake),
            LogClock(),
            events_partitions=1,
            datakeys=datakeys,
        ),
        CanonicalHandler(
            codec,
            PartitionProcessor(PolicyBook.of([policy]), RECIPIENTS),
            EpochSealer({a: (k.key_id, k.public) for a, k in sealing.items()}),
            agency_keys["hub"],
            datakeys=datakeys,
            observe=view.record,
        ),
    )
    w = World(bus, datakeys, sealing, view, codec, agency_keys, intake)
    published = PolicyPublished(
        policy_version=policy.version, policy_sha256=policy.sha256, effective_at=START
    )
    w.publish(published, "hub", "SYSTEM", START)
    return w


def test_the_identity_reaches_cm_alone_in_clear_and_after_erasure_is_erased(
    world: World,
) -> None:
    pid = issue_participant_id(random.Random(5).randbytes)
    sealed = world.seal(pid, CANARY)
    world.refer(pid, sealed, START + timedelta(hours=1))
    notices = world.opened()
    (cm,) = notices["cm"]
    assert cm["fields"]["identity"] == {
        "plaintext_type": "IDENTITY",
        "plaintext": jsonable(CANARY.model_dump()),
    }
    # nowhere else: in no other agency's notice, in no record in clear (the audit record
    # keeps the field as the log has it, encrypted)
    assert all("identity" not in n["fields"] for a in notices if a != "cm" for n in notices[a])
    assert all(b"Zedmartin" not in o.value for rs in world.bus.topics.values() for o in rs)

    # a key already destroyed when a notice is built (an erasure further on in the log,
    # folded just before a crash, so this step runs again): the field says so, no more
    key_id = world.datakeys.get(pid)[0]  # type: ignore[index]
    assert world.datakeys.erase(pid)
    world.refer(pid, sealed, START + timedelta(hours=2))
    again = world.opened()["cm"]
    assert len(again) == 2
    assert again[-1]["fields"]["identity"] == {"plaintext_type": "IDENTITY", "erased": True}
    # once participant_erased is on the log, nothing about the person is sent at all
    erased = ParticipantErased(basis=ErasureBasis.EXPUNGEMENT, key_id=key_id, authorised_by="adm-1")
    world.publish(erased, "hub", pid, START + timedelta(hours=3))
    world.refer(pid, sealed, START + timedelta(hours=4))
    assert len(world.opened()["cm"]) == 2


def test_an_identity_no_key_of_the_hub_opens_is_unreadable_not_a_crash(world: World) -> None:
    pid, other = (issue_participant_id(random.Random(n).randbytes) for n in (6, 16))
    world.datakeys.get_or_create(pid)
    wrong = seal_field(CANARY, participant_id=pid, key_id="dk-x", key=bytes(32), codec=world.codec)
    world.refer(pid, wrong, START + timedelta(hours=1))
    world.refer(other, wrong, START + timedelta(hours=2))  # no key was ever made for other
    cm = world.opened()["cm"]
    assert [n["fields"]["identity"] for n in cm] == [
        {"plaintext_type": "IDENTITY", "unreadable": True}
    ] * 2
    assert world.bus.canonical.counts["unreadable_fields"] > 0  # counted, for the operator


def test_cm_pages_show_the_name_others_never_and_an_erasure_removes_it(world: World) -> None:
    """The pages' view, fed by the same handler: cm's caseload names the person, no other
    agency's view holds the name anywhere, and participant_erased takes it out of the
    view at once (not only at the next start)."""
    view = world.view
    pid = issue_participant_id(random.Random(7).randbytes)
    world.refer(pid, world.seal(pid, CANARY), START + timedelta(hours=1))
    cm = view.timeline(pid, "cm")
    assert named(cm) == ("Quillon Zedmartin", cm[0])
    assert redacted(cm[0].fields)["identity"]["family_name"] == "Zedmartin"
    for agency in RECIPIENTS:
        if agency not in ("cm", "bpd"):
            shown = [redacted(s.fields) for s in view.timeline(pid, agency)]
            assert "Zedmartin" not in repr(shown) and named(view.timeline(pid, agency)) is None
    # bpd published the referral: its own event, with the identity it sealed itself, opened
    assert redacted(view.timeline(pid, "bpd")[0].fields)["identity"]["given_name"] == "Quillon"

    key_id = world.datakeys.get(pid)[0]  # type: ignore[index]
    erased = ParticipantErased(basis=ErasureBasis.EXPUNGEMENT, key_id=key_id, authorised_by="adm-1")
    world.publish(erased, "hub", pid, START + timedelta(hours=2))
    assert named(view.timeline(pid, "cm")) == (ERASED_FIELD, view.timeline(pid, "cm")[0])
    assert "Zedmartin" not in repr(view.items)
    # nor in the caseload's index, whose rows were made from it before
    assert "Zedmartin" not in repr(view.cases) and view.cases["cm"][pid].name == ERASED_FIELD
    assert view.cases["cm"][pid].count == len(view.timeline(pid, "cm"))  # each event once


def test_cm_reads_its_own_contact_notes_and_no_one_else_does(world: World) -> None:
    """An agency's own encrypted fields (cm's contact notes) open on its own pages; no
    other agency's view or notice holds the text, whatever consent is on file."""
    pid = issue_participant_id(random.Random(8).randbytes)
    text = Narrative(text="Met near the Zedmartin clinic; housing form started.")
    body = sample_event("case_contact_logged", random.Random(2), fake_seal)
    contact = CaseContactLogged.model_validate({**body.model_dump(), "note": world.seal(pid, text)})
    world.publish(contact, "cm", pid, START + timedelta(hours=1))
    (own,) = world.view.timeline(pid, "cm")
    assert redacted(own.fields)["note"] == {"text": text.text}
    for agency in RECIPIENTS:
        if agency != "cm":
            assert "Zedmartin" not in repr([s.fields for s in world.view.timeline(pid, agency)])
    assert "Zedmartin" not in repr(world.opened())


# ---------------------------------------------------------------- sealed to the intake key


def test_an_identity_sealed_to_the_intake_key_is_resealed_and_reaches_cm(world: World) -> None:
    """An agency with no data key refers a person: the hub opens the identity, re-encrypts
    it under the participant's data key beside the payload the agency signed (which still
    verifies), and cm reads the name in its notice as before."""
    pid = issue_participant_id(random.Random(8).randbytes)
    event_id = world.refer_sealed(pid, START + timedelta(hours=1))
    assert world.rejected() == []
    (record,) = [o for o in world.bus.topics[EVENTS] if o.key == pid.encode()]
    envelope = decode_envelope(record.value, world.codec)
    assert envelope.event_id == event_id and envelope.resealed is not None
    (ingested,) = [o for o in world.bus.topics["lead.ingest.bpd"] if o.key == pid.encode()]
    assert envelope.payload == decode_envelope(ingested.value, world.codec).payload
    assert envelope.signing_input() == decode_envelope(ingested.value, world.codec).signing_input()
    body = decode_body(envelope, world.codec)
    assert isinstance(body, ReferralMade) and body.sealed_identity is None
    held = world.datakeys.get(pid)
    assert held is not None and body.identity is not None
    assert body.identity.key_id == held[0]  # made at first sight
    assert open_field(body.identity, participant_id=pid, key=held[1], codec=world.codec) == CANARY
    (cm,) = world.opened()["cm"]
    assert cm["fields"]["identity"]["plaintext"] == jsonable(CANARY.model_dump())


def test_a_sealed_identity_moved_to_another_event_or_person_is_refused(world: World) -> None:
    pid, other = (issue_participant_id(random.Random(s).randbytes) for s in (9, 10))
    at = START + timedelta(hours=1)
    world.refer_sealed(pid, at, bound_to=(pid, uuid.uuid4()))  # sealed for another event
    world.refer_sealed(pid, at, bound_to=(other, uuid.uuid4()))  # for another person
    reasons = world.rejected()
    assert [r for r, _ in reasons] == ["BAD_SEALED_FIELD", "BAD_SEALED_FIELD"]
    assert all("does not open" in d and "Zedmartin" not in d for _, d in reasons)
    assert world.datakeys.get(pid) is None  # nothing admitted, no key made
    assert not world.opened()["cm"]


def test_a_field_sealed_to_a_destroyed_intake_key_is_refused(world: World) -> None:
    pid = issue_participant_id(random.Random(11).randbytes)
    at = START + timedelta(hours=1)
    key = world.intake.current(at)
    assert world.intake.destroy_expired(key.destroyed_at - timedelta(seconds=1)) == []
    assert world.intake.destroy_expired(key.destroyed_at) == [key.key_id]
    world.refer_sealed(pid, key.starts + timedelta(days=400))  # a new epoch's key: opens
    assert world.rejected() == []
    sealed = seal_for_intake(
        CANARY,
        participant_id=pid,
        event_id=str(event_id := uuid.uuid4()),
        key_id=key.key_id,
        public=key.public,
        codec=world.codec,
    )
    body = sample_event("referral_made", random.Random(1), lambda plain: sealed)
    world.publish(body, "bpd", pid, at, event_id)
    ((reason, detail),) = world.rejected()
    assert reason == "BAD_SEALED_FIELD" and key.key_id in detail and "destroyed" in detail


def test_an_erased_participant_is_not_given_a_new_data_key(world: World) -> None:
    pid = issue_participant_id(random.Random(12).randbytes)
    world.refer_sealed(pid, START + timedelta(hours=1))
    assert world.datakeys.erase(pid)
    world.refer_sealed(pid, START + timedelta(hours=2))
    ((reason, detail),) = world.rejected()
    assert reason == "INVALID_PARTICIPANT_ID" and "erased" in detail
    assert world.datakeys.get(pid) is None


def test_an_accepted_event_sent_again_after_its_key_is_gone_is_a_duplicate(world: World) -> None:
    """Its sealed field opened when it was accepted: a retry (or the hub's own re-read
    after a restore) is a duplicate, not a field that no longer opens."""
    pid = issue_participant_id(random.Random(13).randbytes)
    at = START + timedelta(hours=1)
    world.refer_sealed(pid, at)
    (first,) = [o for o in world.bus.topics["lead.ingest.bpd"] if o.key == pid.encode()]
    key = world.intake.current(at)
    assert world.intake.destroy_expired(key.destroyed_at) == [key.key_id]
    world.bus.send(first)  # the same record again
    ((reason, _),) = world.rejected()
    assert reason == "DUPLICATE"
