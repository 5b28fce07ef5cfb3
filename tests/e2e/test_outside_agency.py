"""An agency outside the hub takes part in LEAD with docs/protocol.md, its keys, a Kafka
client and HTTP, and nothing of the project (tests/support/outside_agency.py): bpd gets a
participant id and refers a person with an identity sealed to the hub's intake key, cm and
sao carry the story on, each reads its receipts for its good and bad records, and cm opens
the identity in its own notice. The name appears in clear on no topic, in no log line and
on no agency's pages but cm's (and the referring bpd's own: it sealed the name itself). A
real worker on a real, secured broker."""

from __future__ import annotations

import ast
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.audit.auditor import Auditor, read_log
from hub.audit.erasure import publish_erasure
from hub.context import HubContext
from hub.crypto import load_sealing_key
from hub.domain.linkage.tokens import TOKEN_BYTES, blocking_tokens
from hub.events import EVENTS, Identity, decode_envelope
from hub.events.codec import Codec
from hub.events.topics import load_topic_specs
from hub.web.auth import issue_session
from tests.integration.test_protocol_by_hand import READER_LIBRARIES, doc_example
from tests.support import outside_agency
from tests.support.hubs import RECIPIENTS, Hub, serving_hub
from tests.support.outside_agency import OutsideAgency
from tests.support.paths import DEPLOY, ROOT

pytestmark = pytest.mark.timeout(600)
GIVEN, FAMILY = "Quorvane", "Thistlewick"  # the canary: synthetic, and nowhere else
LINKAGE_EVENTS = {"participants_linked", "match_suspected", "participants_unlinked"}
AGENCY_LIBRARIES = READER_LIBRARIES | {"base64", "hashlib", "time", "urllib", "kafka"}


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory, codec: Codec) -> Iterator[tuple[Hub, str]]:
    with serving_hub(tmp_path_factory.mktemp("outside"), codec) as (hub, _, base, _):
        yield hub, base


def agency(hub: Hub, base: str, name: str) -> OutsideAgency:
    """What the hub's operator hands an agency (its registered keys, the hub's public key,
    the log's origin, Kafka credentials) and what it takes from the document."""
    doc = {**doc_example("example:publish", AGENCY_LIBRARIES), **doc_example("example:notice")}
    sealing = load_sealing_key(hub.settings.keys_dir, name)
    hub_key = hub.keys["hub"]
    return OutsideAgency(
        agency=name,
        key_id=hub.keys[name].key_id,
        signing_key=hub.keys[name].private,
        sealing_keys={sealing.key_id: sealing.private},
        hub_keys={hub_key.key_id: hub_key.public},
        origin=hub.settings.audit.origin,
        api=base,
        kafka={"bootstrap_servers": hub.bootstrap, **hub.kwargs(name)},
        released=ROOT / "schemas" / "released",
        doc=doc,
    )


def test_the_agency_code_imports_nothing_of_the_project() -> None:
    tree = ast.parse(Path(outside_agency.__file__).read_text("utf-8"))
    imported = {
        (n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])  # type: ignore[attr-defined]
    }
    assert imported <= AGENCY_LIBRARIES | {"__future__", "dataclasses"}, imported


def _wait(what: Any, until: Any, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = what()
        if until(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_a_lead_story_told_by_agencies_outside_the_hub(outside: tuple[Hub, str]) -> None:
    hub, base = outside
    bpd, sao, cm = (agency(hub, base, a) for a in ("bpd", "sao", "cm"))
    identity = {
        "given_name": GIVEN,
        "family_name": FAMILY,
        "middle_name": None,
        "aliases": [],
        "date_of_birth": datetime(1991, 6, 2).date(),
        "local_record_numbers": [{"system": "bpd-rms", "value": "RMS-2026-7781"}],
    }
    # bpd: an id from the hub, the identity sealed to its intake key, the referral
    pid = bpd.new_participant_id()
    referral_id = uuid.uuid4()
    referral = {
        "door": "ARREST_DIVERSION",
        "offence_category": "DRUG_POSSESSION",
        "catchment_area": "western",
        "officer_id": "ofc-2207",
        "referring_partner": None,
        "identity": None,
        "sealed_identity": bpd.sealed("IDENTITY", identity, pid, referral_id),
        "arrest_ref": "arr-00c0ffee01",
    }
    bpd.publish("referral_made", 2, pid, referral, event_id=referral_id)
    moved = {**referral, "sealed_identity": bpd.sealed("IDENTITY", identity, pid, uuid.uuid4())}
    bpd.publish("referral_made", 2, pid, moved)  # sealed for another event: refused
    # cm dispatches a case manager and logs a contact with a sealed note; sao holds
    cm.publish(
        "case_manager_dispatched",
        1,
        pid,
        {
            "case_manager_id": "cm-3310",
            "referral_event_id": str(referral_id),
            "location_area": "western",
            "response_target_minutes": 30,
        },
    )
    contact_id = uuid.uuid4()
    note = {"text": f"Met {GIVEN} at the precinct; housing form started."}
    cm.publish(
        "case_contact_logged",
        2,
        pid,
        {
            "case_manager_id": "cm-3310",
            "contact_type": "IN_PERSON",
            "duration_minutes": 40,
            "domains": ["HOUSING"],
            "note": None,
            "sealed_note": cm.sealed("NARRATIVE", note, pid, contact_id),
        },
        event_id=contact_id,
    )
    held = datetime.now(UTC).replace(microsecond=0)
    hold = {
        "case_ref": "SAO-2026-004411",
        "charge_category": "DRUG_POSSESSION",
        "referral_event_id": str(referral_id),
        "held_at": held,
        "intake_deadline": held + timedelta(days=14),
        "window_days": 14,
    }
    sao.publish("charges_held", 1, pid, hold)
    sao.publish("charges_held", 1, pid, hold, unsigned=True)  # refused: not signed

    # each agency's receipts, read with its own credentials, each signature checked
    expected = {
        "bpd": [("ACCEPTED", None), ("REJECTED", "BAD_SEALED_FIELD")],
        "cm": [("ACCEPTED", None), ("ACCEPTED", None)],
        "sao": [("ACCEPTED", None), ("REJECTED", "MISSING_SIGNATURE")],
    }
    for who, want in zip((bpd, cm, sao), expected.values(), strict=True):
        count = len(want)
        got = _wait(who.receipts, lambda r: len(r) >= count)  # noqa: B023 (used at once)
        got.sort(key=lambda r: (r["ingest_partition"], r["ingest_offset"]))
        assert sorted((r["status"], r["reason"]) for r in got) == sorted(want), who.agency
        for r in got:
            accepted = r["status"] == "ACCEPTED"
            assert (r["events_offset"] is not None) == accepted
            assert r["detail"] is None or GIVEN not in r["detail"]

    # cm opens the identity in its own notice of the referral, and nobody else can
    opened = _wait(cm.notices, lambda ns: any(n["event_type"] == "referral_made" for n, _ in ns))
    (content,) = [c for n, c in opened if n["event_type"] == "referral_made"]
    assert content["fields"]["identity"]["plaintext"]["family_name"] == FAMILY
    for other in ("bpd", "sao", "opd"):
        told = agency(hub, base, other).notices()
        assert told and not any(FAMILY in str(c) or GIVEN in str(c) for _, c in told), other

    _the_name_is_nowhere_in_clear_but_on_cms_pages(hub, base, pid)


def _the_name_is_nowhere_in_clear_but_on_cms_pages(hub: Hub, base: str, pid: str) -> None:
    topics = [s.name for s in load_topic_specs(DEPLOY / "topics.yaml", [*RECIPIENTS, "hub"])]
    canary = (GIVEN.encode(), FAMILY.encode())
    for topic in topics:
        for r in hub.read(topic):
            raw = b"".join([r.key or b"", r.value or b"", *(v for _, v in r.headers)])
            assert not any(c in raw for c in canary), topic
    for log in (hub.settings.paths.worker_log, hub.settings.paths.broker_log):
        text = log.read_bytes()
        assert b"participant_id_issued" in text or log.name == "broker.log"  # not vacuous
        assert not any(c in text for c in canary), log.name
    hub_key = hub.keys["hub"]
    for who in RECIPIENTS:
        with httpx.Client(base_url=base, follow_redirects=True, timeout=60) as client:
            client.get(f"/login?token={issue_session(hub_key, who, 1)}")
            pages = [client.get(p) for p in ("/caseload", f"/participants/{pid}", "/inbox")]
            shown = "".join(p.text for p in pages if p.status_code == 200)
        # cm, to whom the policy discloses it; bpd, which sealed it: its own referral
        assert (FAMILY in shown) == (who in ("cm", "bpd")), who


def _referral(agency: OutsideAgency, identity: dict[str, Any], door: str) -> tuple[str, str]:
    """``agency`` refers a person under a new id, the identity sealed to the intake key."""
    pid, event_id = agency.new_participant_id(), uuid.uuid4()
    police = door != "COMMUNITY"
    body = {
        "door": door,
        "offence_category": "NONE",
        "catchment_area": "eastern",
        "officer_id": "ofc-4410" if police else None,
        "referring_partner": None if police else "outreach-east",
        "identity": None,
        "sealed_identity": agency.sealed("IDENTITY", identity, pid, event_id),
        "arrest_ref": None,
    }
    agency.publish("referral_made", 2, pid, body, event_id=event_id)
    return pid, str(event_id)


def _notice(agency: OutsideAgency, event_type: str, pid: str) -> dict[str, Any]:
    """The agency's one notice of ``event_type`` about ``pid``, once it has it: its content."""
    (content,) = _wait(
        lambda: [
            c
            for n, c in agency.notices()
            if n["event_type"] == event_type and n["participant_id"] == pid
        ],
        bool,
    )
    return content


def test_a_person_referred_twice_is_linked_and_only_cm_learns_it(
    outside: tuple[Hub, str], codec: Codec
) -> None:
    """bpd refers a person; weeks later it refers them again under a nickname, the day and
    month of birth swapped (a new id, as an officer on the street would get). The hub links
    the two ids and tells cm alone, as the policy says; bpd, sao and opd learn nothing of
    it. A third referral that is only probably them is cm's task, which cm confirms. Once
    every id is erased, the person can no longer be matched to any."""
    hub, base = outside
    bpd, cm = agency(hub, base, "bpd"), agency(hub, base, "cm")
    first = {
        "given_name": "Robert",
        "family_name": "Quillfeather",
        "middle_name": None,
        "aliases": [],
        "date_of_birth": datetime(1988, 4, 9).date(),
        "local_record_numbers": [],
    }
    again = {**first, "given_name": "Bob", "date_of_birth": datetime(1988, 9, 4).date()}
    a, _ = _referral(bpd, first, "SOCIAL_CONTACT")
    _notice(cm, "referral_made", a)
    b, referred_b = _referral(bpd, again, "SOCIAL_CONTACT")

    content = _notice(cm, "participants_linked", b)
    fields = content["fields"]
    assert fields["linked_participant_id"] == a and fields["basis"] == "AUTOMATIC"
    assert fields["weight"] >= 20 and "dob=swapped" in fields["levels"]
    assert set(fields["token_kinds"]) <= {"gd", "fd", "gsy", "ssd"} and fields["token_kinds"]
    assert "Quillfeather" not in str(content) and "Robert" not in str(content)
    # on the log: the hub's signed event, caused by the second referral
    (linked,) = [
        e
        for r in hub.read(EVENTS)
        for e in (decode_envelope(r.value, codec),)
        if e.event_type == "participants_linked" and e.participant_id == b
    ]
    assert linked.source == "hub" and str(linked.causation_id) == referred_b
    for other in ("bpd", "sao", "opd"):
        heard = [n for n, _ in agency(hub, base, other).notices() if n["participant_id"] == b]
        assert not [n for n in heard if n["event_type"] in LINKAGE_EVENTS], other

    _no_token_is_on_any_topic_or_on_disk(hub, [first, again])

    # the auditor's replay decides the link's disclosures as the hub did, and joins the
    # timelines for whom the link was disclosed
    auditor = Auditor(HubContext(hub.settings), read_log(hub.settings, "kafka", hub.bootstrap))
    assert auditor.replay_findings()[0] == []
    later = datetime.now(UTC) + timedelta(days=1)
    assert auditor.person(b, later) == auditor.person(b, later, "cm") == {a, b}
    assert {r["participant_id"] for r in auditor.timeline(b, later, "cm")} == {a, b}
    assert auditor.person(b, later, "sao") == {b}
    assert auditor.timeline(b, later, "sao") and not any(
        "participant_id" in r for r in auditor.timeline(b, later, "sao")
    )

    # a probable match (the same name with one typo, born the same year on another day)
    # is cm's task; cm confirms it, and the three ids are one person on cm's pages
    near = {**first, "family_name": "Quilfeather", "date_of_birth": datetime(1988, 6, 15).date()}
    d, _ = _referral(bpd, near, "SOCIAL_CONTACT")
    asked = _notice(cm, "match_suspected", d)["fields"]
    assert asked["linked_participant_id"] in {a, b} and 12 <= asked["weight"] < 20
    assert "family=typo" in asked["levels"] and "dob=year" in asked["levels"]
    confirmed = {**asked, "basis": "CONFIRMED"}
    cm.publish("participants_linked", 1, d, confirmed)
    joined = _wait(
        lambda: cm.request("GET", f"/v1/participants/{d}/timeline"),
        lambda t: len(t["linked_ids"]) == 2,
    )
    assert set(joined["linked_ids"]) == {a, b}
    assert {e["participant_id"] for e in joined["entries"]} == {a, b, d}
    assert len(bpd.request("GET", f"/v1/participants/{d}/timeline")["linked_ids"]) == 0
    with httpx.Client(base_url=base, follow_redirects=True, timeout=60) as client:
        client.get(f"/login?token={issue_session(hub.keys['hub'], 'cm', 1)}")
        caseload = client.get("/caseload").text
    (row,) = [r for r in caseload.split("<tr>") if a in r or b in r or d in r]  # one row
    assert all(i in row for i in (a, b, d)) and "also" in row

    # erased (every id): their tokens go with their data keys; a new referral is no one
    for erased in (a, b, d):
        publish_erasure(HubContext(hub.settings), hub.bootstrap, erased, "EXPUNGEMENT", "admin-7")
        key = hub.settings.paths.datakeys / f"{erased}.key"
        _wait(key.exists, lambda held: not held)
    time.sleep(1.0)  # every worker's follower reads the erasures too
    c, referred_c = _referral(bpd, first, "SOCIAL_CONTACT")
    _notice(cm, "referral_made", c)
    # the answer would have been sent in the same transaction as cm's notice: none was
    hub_events = [decode_envelope(r.value, codec) for r in hub.read("lead.ingest.hub")]
    assert not [e for e in hub_events if str(e.causation_id) == referred_c]
    assert [e for e in hub_events if str(e.causation_id) == referred_b]  # not vacuous


def _no_token_is_on_any_topic_or_on_disk(hub: Hub, identities: list[dict[str, Any]]) -> None:
    """No plaintext identity index, and no keyed one either: the tokens live in the
    workers' memory only, and the secret that makes them in a file of its own (0600)."""
    secret_file = hub.settings.paths.linkage_secret
    assert secret_file.stat().st_mode & 0o777 == 0o600
    secret = secret_file.read_bytes()
    tokens = {
        t.to_bytes(TOKEN_BYTES, "big")
        for i in identities
        for t in blocking_tokens(Identity(**i), secret)
    }
    assert len(tokens) > 8
    topics = [s.name for s in load_topic_specs(DEPLOY / "topics.yaml", [*RECIPIENTS, "hub"])]
    for topic in topics:
        for r in hub.read(topic):
            raw = b"".join([r.key or b"", r.value or b"", *(v for _, v in r.headers)])
            assert not any(t in raw for t in tokens), topic
    for path in hub.settings.paths.root.rglob("*"):
        if path.is_file() and path != secret_file:
            data = path.read_bytes()
            assert not any(t in data for t in tokens), path
