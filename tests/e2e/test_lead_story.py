"""The LEAD story end to end through the real worker and broker: agencies publish, the
hub enforces, and the right agencies (only they) are told."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat

from consumers.webhook import verify
from hub.events.envelope import decode_envelope
from hub.events.topics import (
    AUDIT,
    CHECKPOINTS,
    EVENTS,
    REJECTED,
    ingest_topic,
    notify_topic,
    receipts_topic,
)
from producers.demo import EventsWatcher
from producers.simulator import Scenario
from tests.support.hubs import RECIPIENTS, Hub, check_outputs, notices

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def story(hub: Hub, watcher: EventsWatcher) -> tuple[Scenario, dict[str, list[Any]]]:
    scenario = hub.scenario(seed=4242, participants=40)
    hub.publish(scenario, watcher)
    topics = hub.outputs(scenario.expected_on_log(), watcher)
    return scenario, topics


def test_only_permitted_notices_none_missing_and_bad_input_refused(
    hub: Hub, story: tuple[Scenario, dict[str, list[Any]]]
) -> None:
    scenario, topics = story
    sent = check_outputs(hub, scenario, topics)
    assert len(sent) == len({n.notice_id for n in sent}), "no crash here: no repeats either"


def test_the_prosecutor_hears_of_exactly_the_right_intakes_and_lapses(
    hub: Hub, story: tuple[Scenario, dict[str, list[Any]]]
) -> None:
    scenario, topics = story
    told = [n for n in notices(topics, hub.codec) if n.recipient == "sao"]
    intakes = {
        p.participant_id for p in scenario.publications if p.body.event_type == "intake_completed"
    }
    lapsed_holds = {
        p.body.window_expired_event_id  # type: ignore[attr-defined]
        for p in scenario.publications
        if p.body.event_type == "charges_filed"
    }
    events = [decode_envelope(r.value, hub.codec) for r in topics[EVENTS]]
    lapsed = {e.participant_id for e in events if e.event_id in lapsed_holds}
    assert {n.participant_id for n in told if n.event_type == "intake_completed"} == intakes
    assert {n.participant_id for n in told if n.event_type == "intake_window_expired"} == lapsed
    assert lapsed and len(lapsed) == scenario.truth["holds.lapsed"]
    hub_lapses = {e.event_id for e in events if e.event_type == "intake_window_expired"}
    assert hub_lapses == lapsed_holds, "the hub lapsed exactly the holds the story let lapse"
    assert not {n.event_type for n in told} & {
        "case_contact_logged",
        "treatment_admitted",
        "health_service_recorded",
        "housed",
    }


def test_a_revocation_stops_notices_from_the_next_event_on(
    hub: Hub, story: tuple[Scenario, dict[str, list[Any]]]
) -> None:
    scenario, topics = story
    revoked = {
        p.body.consent_id: p.participant_id  # type: ignore[attr-defined]
        for p in scenario.publications
        if p.body.event_type == "consent_revoked"
    }
    assert revoked, "the story's seed revokes consents"
    position = {}
    revocation_at = {}
    for r in topics[EVENTS]:
        e = decode_envelope(r.value, hub.codec)
        position[e.event_id] = (r.partition, r.offset)
        if e.event_type == "consent_revoked":
            revocation_at[e.participant_id] = (r.partition, r.offset)
    relied_on = 0
    for n in notices(topics, hub.codec):
        if n.consent_id in revoked and n.participant_id in revocation_at:
            assert position[n.event_id] < revocation_at[n.participant_id], n
            relied_on += 1
    assert relied_on, "the revoked consents were in use before their revocation"


def test_the_worker_survives_sigkill_and_loses_nothing(
    hub: Hub, watcher: EventsWatcher, story: Any
) -> None:
    """Kill -9 the worker mid-stream, twice, with a replacement started each time: after
    deduplication by notice id nothing is missing, nothing is extra, and decisions after
    the restarts equal a from-scratch replay (so the rebuilt state was right)."""
    scenario = hub.scenario(seed=777, participants=40)
    stop = threading.Event()

    def killer() -> None:
        for delay in (1.5, 3.0):
            if stop.wait(delay):
                return
            victim = hub.worker
            hub.start_worker()
            victim.kill()
            victim.wait(10)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        hub.publish(scenario, watcher)
    finally:
        stop.set()
        thread.join(30)
    kills = sum(1 for w in hub.workers if w.returncode == -9)
    assert kills >= 1
    first, _ = story
    topics = hub.outputs(first.expected_on_log() | scenario.expected_on_log(), watcher)
    both = Scenario(0, 14, first.publications + scenario.publications, first.bad + scenario.bad)
    check_outputs(hub, both, topics)


def test_the_prosecutors_inbox_opens_deduplicates_and_acknowledges(
    hub: Hub, watcher: EventsWatcher, story: tuple[Scenario, dict[str, Any]], tmp_path: Any
) -> None:
    from consumers.inbox import Inbox, acknowledge_with, sync
    from hub.crypto.sealing import load_sealing_key
    from hub.crypto.signing import PublicKeys

    _, topics = story
    key = load_sealing_key(hub.settings.keys_dir, "sao")
    hub_keys = PublicKeys.load(hub.settings.keys_dir)
    box = Inbox.open(tmp_path / "sao.jsonl")
    as_sao = hub.kwargs("sao")  # the prosecutor's office reads and acknowledges as itself
    new = sync(box, hub.bootstrap, "sao", key, hub_keys, hub.codec, as_sao)
    told = {n.notice_id for n in notices(topics, hub.codec) if n.recipient == "sao"}
    assert new >= len(told) and set(box.items) >= {str(t) for t in told}
    assert sync(box, hub.bootstrap, "sao", key, hub_keys, hub.codec, as_sao) == 0  # repeats
    lapse = next(i for i in box.items.values() if i.event_type == "intake_window_expired")
    assert set(lapse.fields) == {"case_ref", "held_event_id", "deadline"}
    acked = acknowledge_with(box, hub.bootstrap, hub.keys["sao"], hub.codec, as_sao)
    assert acked == len(box.items)
    assert Inbox.open(tmp_path / "sao.jsonl").items[lapse.notice_id].acknowledged_at
    assert acknowledge_with(box, hub.bootstrap, hub.keys["sao"], hub.codec, as_sao) == 0
    acks = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(acks) < acked:
        for r in hub.read(EVENTS):
            e = decode_envelope(r.value, hub.codec)
            if e.event_type == "notice_acknowledged" and e.source == "sao":
                acks.add(e.event_id)
        time.sleep(0.3)
    assert len(acks) == acked, "the hub accepted every acknowledgement"


class Receiver(BaseHTTPRequestHandler):
    """An agency's webhook endpoint: checks each delivery's signature, answers 503 to a
    notice's first try and 400 to one notice for ever, 200 otherwise."""

    secret = b"shared with the receiver: 32 bytes"
    got: ClassVar[list[tuple[str, dict[str, Any], bool]]] = []
    flaky: ClassVar[set[str]] = set()
    refused: ClassVar[set[str]] = set()
    tried: ClassVar[Counter[str]] = Counter()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        delivery = self.headers["X-LeadHub-Delivery"]
        self.tried[delivery] += 1
        signed = verify(self.secret, dict(self.headers), body, int(time.time()))
        if delivery in self.refused:
            status = 400
        elif delivery in self.flaky and self.tried[delivery] == 1:
            status = 503
        else:
            status = 200
            self.got.append((delivery, json.loads(body), signed))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_notices_are_pushed_to_the_agencys_endpoint_once_each_signed(
    hub: Hub, story: tuple[Scenario, dict[str, Any]], tmp_path: Any
) -> None:
    """The webhook relay on sao's side: every notice the inbox opened reaches sao's
    endpoint once, signed; a 503 is retried; a 400 goes to the dead-letter list; a second
    run sends nothing again. And the day's digest reads as sentences."""
    from consumers.inbox import Inbox, digest_lines, sync
    from consumers.webhook import Relay
    from hub.crypto.sealing import load_sealing_key
    from hub.crypto.signing import PublicKeys
    from hub.web import Story

    box = Inbox.open(tmp_path / "sao.jsonl")
    key = load_sealing_key(hub.settings.keys_dir, "sao")
    sync(
        box,
        hub.bootstrap,
        "sao",
        key,
        PublicKeys.load(hub.settings.keys_dir),
        hub.codec,
        hub.kwargs("sao"),
    )
    ids = list(box.items)
    assert len(ids) >= 3
    Receiver.flaky, Receiver.refused = {ids[0]}, {ids[1]}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/leadhub"
    waits: list[float] = []
    try:
        relay = Relay(
            box,
            url,
            Receiver.secret,
            tmp_path / "log.jsonl",
            tmp_path / "dead.jsonl",
            sleep=waits.append,
        )
        counts = relay.deliver_pending()
        assert counts == Counter({"delivered": len(ids) - 1, "dead": 1})
        again = Relay(box, url, Receiver.secret, tmp_path / "log.jsonl", tmp_path / "dead.jsonl")
        assert sum(again.deliver_pending().values()) == 0  # the log says what was done
    finally:
        server.shutdown()
    delivered = [d for d, _, _ in Receiver.got]
    assert sorted(delivered) == sorted(ids[:1] + ids[2:]) and all(s for _, _, s in Receiver.got)
    assert waits == [0.5]  # the one retry, after the first backoff
    (dead,) = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert dead["delivery"] == ids[1] and dead["status"] == 400
    payload = next(p for d, p, _ in Receiver.got if d == ids[0])
    assert payload["fields"] == box.items[ids[0]].fields  # the notice as sao opened it

    lapse = next(i for i in box.items.values() if i.event_type == "intake_window_expired")
    day = datetime.fromisoformat(lapse.occurred_at).date()
    text = "\n".join(digest_lines(box, Story("UTC"), day, datetime.now(UTC)))
    assert f"{lapse.participant_id}:" in text and "Intake window lapsed" in text
    assert "intake_window_expired" not in text and "=" not in text


def test_every_record_the_hub_writes_reads_as_a_cloudevent(
    hub: Hub, story: tuple[Scenario, dict[str, list[Any]]]
) -> None:
    """Read with the CloudEvents SDK's own Kafka binding, not the hub's reader: every
    accepted event, notice, receipt, audit decision and checkpoint, every ingest record the hub
    accepted, and every dead letter that says it is one (the others have no ce_ header)."""
    _, topics = story
    accepted = {dict(r.headers)["ce_id"] for r in hub.read(EVENTS)}
    checked: Counter[str] = Counter()
    ingest = [ingest_topic(a) for a in [*RECIPIENTS, "hub"]]
    written = [*map(notify_topic, RECIPIENTS), *map(receipts_topic, RECIPIENTS)]
    for topic in [EVENTS, AUDIT, CHECKPOINTS, REJECTED, *ingest, *written]:
        for r in topics.get(topic) or hub.read(topic):
            headers = dict(r.headers)
            if topic in ingest and headers.get("ce_id") not in accepted:
                continue  # an agency's bad input, refused: not the hub's to vouch for
            if topic == REJECTED and not any(k.startswith("ce_") for k in headers):
                continue  # a dead letter of a record that was no CloudEvent claims none
            event = from_binary(KafkaMessage(headers, r.key, r.value), JSONFormat())
            assert event.get_id() == headers["ce_id"].decode(), (topic, r.offset)
            assert event.get_source().startswith("/leadhub/agencies/"), (topic, r.offset)
            per_agency = topic.startswith(("lead.notify.", "lead.receipts."))
            checked[topic.rsplit(".", 1)[0] if per_agency else topic] += 1
    for topic in (
        EVENTS,
        AUDIT,
        CHECKPOINTS,
        "lead.notify",
        "lead.receipts",
        "lead.ingest.bpd",
        REJECTED,
    ):
        assert checked[topic] > 0, (topic, checked)
