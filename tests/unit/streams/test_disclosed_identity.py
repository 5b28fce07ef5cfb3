"""A referral's identity, disclosed to cm by the policy, reaches cm inside its sealed notice
in clear (cm's system needs no data key) and no one else; with the data key destroyed the
field says "erased" and nothing more, and after participant_erased nothing is sent. The
real gatekeeper, fold, codec, data keys and HPKE; no broker."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.crypto import PublicKeys, SigningKey, generate_sealing_key
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
from hub.events import Codec, DataKeyStore, EncryptedField, seal_field, sign_event
from hub.events.models import (
    ErasureBasis,
    Identity,
    ParticipantErased,
    PolicyPublished,
    ReferralMade,
)
from hub.events.topics import notify_topic
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


def _hub(
    tmp_path: Path, codec: Codec, agencies: AgencyRegistry, public_keys: PublicKeys, hub: SigningKey
) -> tuple[MemoryBus, DataKeyStore, dict[str, Any], DisclosureView]:
    datakeys = DataKeyStore(tmp_path / "datakeys")
    view = DisclosureView()
    sealing = {a: generate_sealing_key(a, demo=True) for a in RECIPIENTS}
    policy = default_policy()
    bus = MemoryBus(
        IngestHandler(Gatekeeper(codec, agencies, public_keys), LogClock(), events_partitions=1),
        CanonicalHandler(
            codec,
            PartitionProcessor(PolicyBook.of([policy]), RECIPIENTS),
            {a: (k.key_id, k.public) for a, k in sealing.items()},
            hub,
            datakeys=datakeys,
            observe=view.record,
        ),
    )
    published = PolicyPublished(
        policy_version=policy.version, policy_sha256=policy.sha256, effective_at=START
    )
    bus.publish(
        sign_event(published, codec=codec, key=hub, participant_id="SYSTEM", occurred_at=START),
        codec,
    )
    return bus, datakeys, sealing, view


def _refer(
    bus: MemoryBus, codec: Codec, bpd: SigningKey, pid: str, identity: EncryptedField, at: datetime
) -> None:
    body = sample_event("referral_made", random.Random(1), fake_seal)
    referral = ReferralMade.model_validate({**body.model_dump(), "identity": identity})
    bus.publish(
        sign_event(referral, codec=codec, key=bpd, participant_id=pid, occurred_at=at), codec
    )


def _opened(
    bus: MemoryBus, codec: Codec, sealing: dict[str, Any], hub_keys: PublicKeys
) -> dict[str, list[dict[str, Any]]]:
    return {
        a: [
            open_notice(Notice(**codec.decode(o.value, "notice").datum), sealing[a], hub_keys)
            for o in bus.topics[notify_topic(a)]
        ]
        for a in RECIPIENTS
    }


def test_the_identity_reaches_cm_alone_in_clear_and_after_erasure_is_erased(
    tmp_path: Path,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> None:
    hub_key = agency_keys["hub"]
    bus, datakeys, sealing, _ = _hub(tmp_path, codec, agencies, public_keys, hub_key)
    pid = issue_participant_id(random.Random(5).randbytes)
    key_id, key = datakeys.get_or_create(pid)
    sealed = seal_field(CANARY, participant_id=pid, key_id=key_id, key=key, codec=codec)
    _refer(bus, codec, agency_keys["bpd"], pid, sealed, START + timedelta(hours=1))
    hub_keys = PublicKeys({("hub", hub_key.key_id): hub_key.public})
    notices = _opened(bus, codec, sealing, hub_keys)
    (cm,) = notices["cm"]
    assert cm["fields"]["identity"] == {
        "plaintext_type": "IDENTITY",
        "plaintext": jsonable(CANARY.model_dump()),
    }
    # the canary is nowhere else: not in another agency's notice, not in any record in clear
    for agency, opened in notices.items():
        if agency != "cm":
            assert all("identity" not in n["fields"] for n in opened), agency
    for records in bus.topics.values():
        assert all(b"Zedmartin" not in o.value for o in records)
    # the audit record keeps the field as the log has it: encrypted
    assert all(b"Zedmartin" not in o.value for o in bus.topics["lead.audit"])

    # a key already destroyed when a notice is built (an erasure further on in the log,
    # folded just before a crash, so this step runs again): the field says so, no more
    assert datakeys.erase(pid)
    _refer(bus, codec, agency_keys["bpd"], pid, sealed, START + timedelta(hours=2))
    again = _opened(bus, codec, sealing, hub_keys)["cm"]
    assert len(again) == 2
    assert again[-1]["fields"]["identity"] == {"plaintext_type": "IDENTITY", "erased": True}
    # once participant_erased is on the log, nothing about the person is sent at all
    erased = ParticipantErased(basis=ErasureBasis.EXPUNGEMENT, key_id=key_id, authorised_by="adm-1")
    at = START + timedelta(hours=3)
    bus.publish(
        sign_event(erased, codec=codec, key=hub_key, participant_id=pid, occurred_at=at), codec
    )
    _refer(bus, codec, agency_keys["bpd"], pid, sealed, START + timedelta(hours=4))
    assert len(_opened(bus, codec, sealing, hub_keys)["cm"]) == 2


def test_an_identity_sealed_under_another_key_is_unreadable_not_a_crash(
    tmp_path: Path,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> None:
    hub_key = agency_keys["hub"]
    bus, datakeys, sealing, _ = _hub(tmp_path, codec, agencies, public_keys, hub_key)
    pid = issue_participant_id(random.Random(6).randbytes)
    datakeys.get_or_create(pid)
    wrong = seal_field(CANARY, participant_id=pid, key_id="dk-x", key=bytes(32), codec=codec)
    _refer(bus, codec, agency_keys["bpd"], pid, wrong, START + timedelta(hours=1))
    hub_keys = PublicKeys({("hub", hub_key.key_id): hub_key.public})
    (cm,) = _opened(bus, codec, sealing, hub_keys)["cm"]
    assert cm["fields"]["identity"] == {"plaintext_type": "IDENTITY", "unreadable": True}
    assert bus.canonical.counts["unreadable_fields"] > 0  # counted, for the operator


def test_cm_pages_show_the_name_others_never_and_an_erasure_removes_it(
    tmp_path: Path,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> None:
    """The pages' view, fed by the same handler: cm's caseload names the person, no other
    agency's view holds the name anywhere, and participant_erased takes it out of the
    view at once (not only at the next start)."""
    hub_key = agency_keys["hub"]
    bus, datakeys, _, view = _hub(tmp_path, codec, agencies, public_keys, hub_key)
    pid = issue_participant_id(random.Random(7).randbytes)
    key_id, key = datakeys.get_or_create(pid)
    sealed = seal_field(CANARY, participant_id=pid, key_id=key_id, key=key, codec=codec)
    _refer(bus, codec, agency_keys["bpd"], pid, sealed, START + timedelta(hours=1))
    cm = view.timeline(pid, "cm")
    assert named(cm) == ("Quillon Zedmartin", cm[0])
    assert redacted(cm[0].fields)["identity"]["family_name"] == "Zedmartin"
    for agency in RECIPIENTS:
        if agency not in ("cm", "bpd"):
            shown = [redacted(s.fields) for s in view.timeline(pid, agency)]
            assert "Zedmartin" not in repr(shown) and named(view.timeline(pid, agency)) is None
    # bpd published the referral: its own event, with the identity it sealed itself, opened
    assert redacted(view.timeline(pid, "bpd")[0].fields)["identity"]["given_name"] == "Quillon"

    erased = ParticipantErased(basis=ErasureBasis.EXPUNGEMENT, key_id=key_id, authorised_by="adm-1")
    at = START + timedelta(hours=2)
    bus.publish(
        sign_event(erased, codec=codec, key=hub_key, participant_id=pid, occurred_at=at), codec
    )
    assert named(view.timeline(pid, "cm")) == (ERASED_FIELD, view.timeline(pid, "cm")[0])
    assert "Zedmartin" not in repr(view.items)
