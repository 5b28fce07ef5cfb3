"""The agency API against a real worker on a real broker, with real signatures: what an
agency reads is what its notices carried, every read lands on the audit log, refused
callers learn nothing, and submissions get the gatekeeper's own verdict."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.config import Settings
from hub.crypto import PublicKeys
from hub.domain.audit_records import read_decisions
from hub.domain.participant_ids import is_participant_id
from hub.domain.rejections import parse
from hub.errors import HubError
from hub.events.envelope import decode_body, decode_envelope, encode_envelope, sign_event
from hub.events.fields import seal_for_intake
from hub.events.models import CaseContactLogged, CaseManagerDispatched, Narrative, StatusChanged
from hub.events.topics import AUDIT, EVENTS, REJECTED
from hub.web.api import AVRO
from hub.web.auth import sign_request
from producers.samples import sample_event
from producers.sdk import HubApi, ReceiptReader, json_submission
from tests.support.fakes import fake_seal
from tests.support.hubs import WebHub, expected_view

pytestmark = pytest.mark.timeout(600)
AGENCIES = ["bpd", "sao", "opd", "cm", "bchd", "tx", "hsg"]


def call(
    web: WebHub, agency: str | None, method: str, target: str, body: bytes = b"", **kw: Any
) -> httpx.Response:
    headers = dict(kw.pop("headers", {}))
    if agency is not None:
        key = web.hub.keys[agency]
        headers["Authorization"] = sign_request(key, method, target, body)
    return httpx.request(
        method, web.base + target, content=body or None, headers=headers, timeout=60, **kw
    )


def participants(web: WebHub) -> list[str]:
    return sorted({p.participant_id for p in web.scenario.publications})


def test_each_agency_reads_exactly_what_was_disclosed_to_it(web_hub: WebHub) -> None:
    expected = expected_view(web_hub)
    checked = 0
    for agency in AGENCIES:
        for pid in participants(web_hub):
            r = call(web_hub, agency, "GET", f"/v1/participants/{pid}/timeline")
            want = expected.get((agency, pid), {})
            if not want:
                assert r.status_code == 404, (agency, pid, r.text)
                continue
            assert r.status_code == 200, r.text
            got = {e["event_id"]: e for e in r.json()["entries"]}
            assert set(got) == set(want), (agency, pid)
            for event_id, fields in want.items():
                entry = got[event_id]
                if fields is None:
                    assert entry["seen"] == "own event" and entry["source"] == agency
                else:  # minimum necessary: the permit's fields, no more
                    assert tuple(entry["fields"]) == fields
                    assert entry["notice_id"]
                if agency in {"bpd", "sao"}:  # 42 CFR Part 2 never reaches enforcement
                    assert not entry["event_type"].startswith("treatment_")
            checked += 1
    assert checked >= 20


def test_a_read_is_logged_on_lead_audit_before_it_is_answered(web_hub: WebHub) -> None:
    pid = next(p for p in participants(web_hub) if expected_view(web_hub).get(("sao", p)))
    r = call(web_hub, "sao", "GET", f"/v1/participants/{pid}/timeline")
    assert r.status_code == 200
    view_id, shown = r.json()["view_id"], [e["event_id"] for e in r.json()["entries"]]
    codec = web_hub.hub.codec
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reads = {}
        for rec in web_hub.hub.read(EVENTS):
            e = decode_envelope(rec.value, codec, canonical=False)
            if e.event_type == "records_viewed":
                body = decode_body(e, codec, canonical=False)
                if str(body.request_id) == view_id:  # type: ignore[attr-defined]
                    reads[str(e.event_id)] = (e, body)
        audited = [d for rec in web_hub.hub.read(AUDIT) for d in read_decisions(codec, rec.value)]
        logged = [d for d in audited if str(d["event_id"]) in reads]
        if reads and logged:
            break
        time.sleep(0.5)
    [(envelope, body)] = reads.values()
    assert envelope.source == "hub" and envelope.participant_id == pid
    assert body.viewer == "sao" and [str(i) for i in body.event_ids] == shown  # type: ignore[attr-defined]
    [decision] = logged  # the reader's entry alone: no one else is told of the read
    assert decision["recipient"] == "sao" and decision["permit"]
    assert decision["rule_id"] == "read.timeline" and decision["notices"] == []


def test_refusals_say_nothing_about_whether_a_participant_exists(web_hub: WebHub) -> None:
    known = participants(web_hub)[0]
    unknown = "P-DOESNOTEXIST"
    bodies = set()
    for pid in (known, unknown):
        target = f"/v1/participants/{pid}/timeline"
        stale = web_hub.hub.keys["cm"]
        attempts = [
            call(web_hub, None, "GET", target),
            call(web_hub, None, "GET", target, headers={"Authorization": "LEAD-Ed25519 junk"}),
            # signed for another path: a signature does not travel
            httpx.get(
                web_hub.base + target,
                headers={"Authorization": sign_request(stale, "GET", "/v1/notices")},
            ),
            # signed by sao's key but claiming to be cm
            httpx.get(
                web_hub.base + target,
                headers={
                    "Authorization": sign_request(web_hub.hub.keys["sao"], "GET", target).replace(
                        "agency=sao", "agency=cm"
                    )
                },
            ),
        ]
        for r in attempts:
            assert r.status_code == 401
            assert r.headers["content-type"] == "application/problem+json"
            bodies.add(r.text)
    assert len(bodies) == 1, bodies
    # authenticated, but never told of them: the same answer as for no one at all
    hsg_unseen = next(
        p for p in participants(web_hub) if not expected_view(web_hub).get(("hsg", p))
    )
    a = call(web_hub, "hsg", "GET", f"/v1/participants/{hsg_unseen}/timeline")
    b = call(web_hub, "hsg", "GET", f"/v1/participants/{unknown}/timeline")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()


def test_a_stale_signature_is_refused(web_hub: WebHub, monkeypatch: pytest.MonkeyPatch) -> None:
    target = "/v1/notices"
    past = time.time() - 3600
    monkeypatch.setattr(time, "time", lambda: past)
    header = sign_request(web_hub.hub.keys["sao"], "GET", target)
    monkeypatch.undo()
    r = httpx.get(web_hub.base + target, headers={"Authorization": header})
    assert r.status_code == 401


def _dispatch(web: WebHub, agency: str = "cm") -> tuple[Any, Any]:
    referral = next(p for p in web.scenario.publications if p.body.event_type == "referral_made")
    body = CaseManagerDispatched(
        case_manager_id="cm-web-1",
        referral_event_id=referral.event_id,
        location_area="central",
        response_target_minutes=30,
    )
    envelope = sign_event(
        body,
        codec=web.hub.codec,
        key=web.hub.keys[agency],
        participant_id=referral.participant_id,
        occurred_at=referral.occurred_at + timedelta(minutes=3),
    )
    return envelope, body


def test_a_json_event_goes_through_the_gatekeeper_and_its_verdict_comes_back(
    web_hub: WebHub,
) -> None:
    envelope, body = _dispatch(web_hub)
    doc = json.dumps(json_submission(envelope, body)).encode()
    json_type = {"Content-Type": "application/json"}
    r = call(web_hub, "cm", "POST", "/v1/events", doc, headers=json_type)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted" and r.json()["event_id"] == str(envelope.event_id)
    again = call(web_hub, "cm", "POST", "/v1/events", doc, headers=json_type)
    assert again.status_code == 422 and again.json()["reason"] == "DUPLICATE"
    # the same event with one field changed after signing: a forgery
    forged = json.loads(doc)
    forged["body"]["response_target_minutes"] = 31
    bad = json.dumps(forged).encode()
    r = call(web_hub, "cm", "POST", "/v1/events", bad, headers=json_type)
    assert r.status_code == 422 and r.json()["reason"] == "BAD_SIGNATURE"
    # problem details never quote payloads (the text as a whole may hold "31" by chance:
    # in its request id)
    assert "response_target_minutes" not in r.text and 31 not in r.json().values()
    # a body that fits no schema is answered, and the record is still kept
    broken = json.loads(doc)
    broken["body"]["response_target_minutes"] = "soon"
    r = call(web_hub, "cm", "POST", "/v1/events", json.dumps(broken).encode(), headers=json_type)
    assert r.status_code == 422 and r.json()["reason"] == "INVALID_EVENT"


def test_a_referrer_gets_ids_from_the_hub_and_a_mistyped_one_is_refused(
    web_hub: WebHub,
) -> None:
    """The agency SDK asks for ids (POST /v1/participants, signed); the gatekeeper takes an
    event under one, and refuses the same event under the id with two neighbouring symbols
    swapped, as a person copying it might; only a referring agency gets ids. (A case
    contact, not a referral: it is disclosed to no one, so the other tests' inboxes stay
    the scenario's.)"""
    api = HubApi(web_hub.base, web_hub.hub.keys["cm"])
    ids = {api.new_participant_id() for _ in range(20)}
    assert len(ids) == 20 and all(is_participant_id(i) for i in ids)
    pid = min(ids)
    at = next(i for i in range(len(pid) - 2, 2, -1) if pid[i] != pid[i + 1])
    typo = pid[:at] + pid[at + 1] + pid[at] + pid[at + 2 :]
    avro = {"Content-Type": AVRO}
    contact = sample_event("case_contact_logged", random.Random(9), fake_seal)
    last = max(p.occurred_at for p in web_hub.scenario.publications)  # on the scenario's clock
    for participant, status, reason in ((typo, 422, "INVALID_PARTICIPANT_ID"), (pid, 201, None)):
        envelope = sign_event(
            contact,
            codec=web_hub.hub.codec,
            key=web_hub.hub.keys["cm"],
            participant_id=participant,
            occurred_at=last,
        )
        value = encode_envelope(envelope, web_hub.hub.codec)
        r = call(web_hub, "cm", "POST", "/v1/events", value, headers=avro)
        assert r.status_code == status and r.json().get("reason") == reason, r.text
        assert participant not in r.text or status == 201  # a refusal does not quote the id
    with pytest.raises(HubError, match="403 NOT_A_REFERRER"):
        HubApi(web_hub.base, web_hub.hub.keys["sao"]).new_participant_id()


def test_an_agency_seals_a_note_to_the_published_intake_key_and_reads_it_back(
    web_hub: WebHub,
) -> None:
    """The agency SDK fetches the intake key set, checks the hub's signature on it, and
    seals a note to the current key; the hub opens it, keeps it under the participant's
    data key, and cm reads its own note through the API; a key set that the hub's key did
    not sign is refused. (A case contact: disclosed to no one, so the other tests' inboxes
    stay the scenario's.)"""
    hub, codec = web_hub.hub, web_hub.hub.codec
    api = HubApi(web_hub.base, hub.keys["cm"])
    origin = Settings().audit.origin
    key = api.intake_key(origin, hub.keys["hub"].public)
    assert key.key_id.startswith("ik-")
    with pytest.raises(HubError, match="no signature from a known key"):
        api.intake_key(origin, Ed25519PrivateKey.generate().public_key())
    pid, event_id = api.new_participant_id(), uuid.uuid4()
    text = Narrative(text="Met Yarrowby at the day centre; benefits form started.")
    sealed = seal_for_intake(
        text,
        participant_id=pid,
        event_id=str(event_id),
        key_id=key.key_id,
        public=key.public,
        codec=codec,
    )
    sample = sample_event("case_contact_logged", random.Random(5), fake_seal)
    body = CaseContactLogged.model_validate(
        {**sample.model_dump(), "note": None, "sealed_note": sealed}
    )
    last = max(p.occurred_at for p in web_hub.scenario.publications)
    envelope = sign_event(
        body,
        codec=codec,
        key=hub.keys["cm"],
        participant_id=pid,
        occurred_at=last,
        event_id=event_id,
    )
    value = encode_envelope(envelope, codec)
    assert b"Yarrowby" not in value
    r = call(web_hub, "cm", "POST", "/v1/events", value, headers={"Content-Type": AVRO})
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 30  # 201 is the gatekeeper's: the view learns the event
    while (r := call(web_hub, "cm", "GET", f"/v1/participants/{pid}/timeline")).status_code == 404:
        assert time.monotonic() < deadline, r.text  # when the disclosure step folds it in
        time.sleep(0.3)
    assert r.status_code == 200, r.text
    (entry,) = r.json()["entries"]
    assert entry["fields"]["note"] == {"text": text.text}
    assert entry["fields"].get("sealed_note") is None


def test_the_http_answer_and_the_receipt_say_the_same(web_hub: WebHub) -> None:
    """An accepted and a refused submission: the receipts cm reads on its own topic, with
    its own credentials and the hub's signature checked, say what the answers said."""
    hub, codec = web_hub.hub, web_hub.hub.codec
    pid = HubApi(web_hub.base, hub.keys["cm"]).new_participant_id()
    contact = sample_event("case_contact_logged", random.Random(13), fake_seal)
    last = max(p.occurred_at for p in web_hub.scenario.publications)
    good = sign_event(
        contact, codec=codec, key=hub.keys["cm"], participant_id=pid, occurred_at=last
    )
    unsigned = good.model_copy(update={"event_id": uuid.uuid4(), "signature": b""})
    published_at = datetime.now(UTC)
    answers = [
        call(
            web_hub,
            "cm",
            "POST",
            "/v1/events",
            encode_envelope(e, codec),
            headers={"Content-Type": AVRO},
        )
        for e in (good, unsigned)
    ]
    assert [a.status_code for a in answers] == [201, 422]
    hub_key = hub.keys["hub"]
    reader = ReceiptReader(
        "cm",
        codec=codec,
        hub_keys=PublicKeys({("hub", hub_key.key_id): hub_key.public}),
        bootstrap_servers=hub.bootstrap,
        client_kwargs=hub.kwargs("cm"),
    )
    accepted = reader.wait_for(published_at=published_at, event_id=good.event_id)
    place = f"{accepted.ingest_topic}/{accepted.ingest_partition}/{accepted.ingest_offset}"
    assert (accepted.status.value, place) == ("ACCEPTED", answers[0].json()["ingest"])
    assert accepted.events_offset is not None and accepted.participant_id == pid
    refused = reader.wait_for(published_at=published_at, event_id=unsigned.event_id)
    problem = answers[1].json()
    assert (refused.status.value, refused.reason, refused.detail) == (
        "REJECTED",
        problem["reason"],
        problem["detail"],
    )
    assert refused.reason == "MISSING_SIGNATURE"


def test_avro_submissions_and_their_dead_letters(web_hub: WebHub) -> None:
    avro = {"Content-Type": AVRO}
    envelope, _ = _dispatch(web_hub)
    r = call(
        web_hub,
        "cm",
        "POST",
        "/v1/events",
        encode_envelope(envelope, web_hub.hub.codec),
        headers=avro,
    )
    assert r.status_code == 201 and r.json()["event_id"] == str(envelope.event_id)
    # the prosecutor may not report a case manager's status change
    status = StatusChanged.model_validate({"status": "INACTIVE", "reason": "NO_RECENT_CONTACT"})
    wrong = sign_event(
        status,
        codec=web_hub.hub.codec,
        key=web_hub.hub.keys["sao"],
        participant_id=envelope.participant_id,
        occurred_at=envelope.occurred_at,
    )
    r = call(
        web_hub,
        "sao",
        "POST",
        "/v1/events",
        encode_envelope(wrong, web_hub.hub.codec),
        headers=avro,
    )
    assert r.status_code == 422 and r.json()["reason"] == "TYPE_NOT_ALLOWED"
    garbage = random.Random(5).randbytes(300)
    r = call(web_hub, "bpd", "POST", "/v1/events", garbage, headers=avro)
    assert r.status_code == 422 and r.json()["reason"] in {"MALFORMED", "UNKNOWN_SCHEMA"}
    ingest = r.json()["detail"]
    # nothing lost: the refused bytes are on lead.rejected, whole
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        letters = [rec for rec in web_hub.hub.read(REJECTED) if rec.value == garbage]
        if letters:
            break
        time.sleep(0.3)
    assert letters, ingest
    rejection, _ = parse(letters[0].headers or [])
    assert rejection.topic == "lead.ingest.bpd"
    r = call(web_hub, "cm", "POST", "/v1/events", b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415


def test_inbox_and_auditor_endpoints(web_hub: WebHub) -> None:
    expected = expected_view(web_hub)
    r = call(web_hub, "sao", "GET", "/v1/notices?limit=500")
    assert r.status_code == 200
    notices = r.json()["notices"]
    want = {
        event_id
        for (agency, _), seen in expected.items()
        if agency == "sao"
        for event_id, fields in seen.items()
        if fields is not None
    }
    assert {n["event_id"] for n in notices} == want
    assert all(not n["event_type"].startswith("treatment_") for n in notices)
    verify = call(web_hub, "bchd", "GET", "/v1/audit/verify")
    assert verify.status_code == 200
    rows = {row["check"]: row["status"] for row in verify.json()["rows"]}
    assert rows["checkpoints"] == "ok" and rows["inclusion"] == "ok"
    assert call(web_hub, "cm", "GET", "/v1/audit/verify").status_code == 403
    pid = participants(web_hub)[0]
    acct = call(web_hub, "bchd", "GET", f"/v1/audit/participants/{pid}/disclosures")
    assert acct.status_code == 200 and acct.json()["rows"]


def test_metrics_count_by_agency_and_reason_without_ids(web_hub: WebHub) -> None:
    text = httpx.get(web_hub.base + "/metrics", timeout=10).text
    assert 'leadhub_notices_total{agency="sao"}' in text
    assert "leadhub_rejected_events_total{reason=" in text
    assert "leadhub_consumer_lag" in text
    for pid in participants(web_hub):
        assert pid not in text


def test_openapi_document_is_served(web_hub: WebHub) -> None:
    doc = httpx.get(web_hub.base + "/openapi.json", timeout=10).json()
    assert {"/v1/events", "/v1/notices", "/v1/participants/{participant_id}/timeline"} <= set(
        doc["paths"]
    )


def test_one_trace_follows_a_submission_from_http_through_the_agents(web_hub: WebHub) -> None:
    envelope, body = _dispatch(web_hub)
    doc = json.dumps(json_submission(envelope, body)).encode()
    r = call(web_hub, "cm", "POST", "/v1/events", doc, headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    log = web_hub.hub.settings.paths.worker_log
    deadline = time.monotonic() + 30
    while True:
        spans = [
            json.loads(line)
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.startswith("{") and '"trace_id"' in line
        ]
        http = [
            s for s in spans if s["name"] == "POST /v1/events" and s["kind"] == "SpanKind.SERVER"
        ]
        trace_id = http[-1]["context"]["trace_id"] if http else None
        names = {s["name"] for s in spans if s["context"]["trace_id"] == trace_id}
        if {
            "lead.ingest.cm process",
            "lead.events process",
        } <= names or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert {"lead.ingest.cm process", "lead.events process"} <= names, names
    for s in spans:  # spans name topics and offsets; never a payload
        assert "cm-web-1" not in json.dumps(s)
