"""The audit story: the embedded hub stopped and started mid-scenario ends where an
uninterrupted run ends; the auditor's replay reproduces lead.audit from Kafka and from the
archive; a participant erased stays unreadable everywhere while every proof verifies."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from consumers.witness import witness
from hub.audit import exit_code
from hub.audit.auditor import AuditLog, Auditor, read_log
from hub.audit.erasure import publish_erasure
from hub.cli import BROKER_FILE
from hub.config import Settings, load_settings
from hub.context import HubContext
from hub.crypto import IntakeKeyring, load_sealing_key
from hub.domain import Notice, jsonable, open_notice
from hub.domain.agencies import AgencyRegistry
from hub.domain.audit_records import read_decisions
from hub.domain.policy import load_policy, policy_event_id
from hub.domain.rejections import parse
from hub.events import EventError, open_for_intake, sealed_fields
from hub.events.codec import Codec
from hub.events.envelope import decode_body, decode_envelope
from hub.events.fields import DataKeyStore, FieldDecryptError, open_field
from hub.events.models import EncryptedField, Identity
from hub.events.topics import AUDIT, EVENTS, REJECTED, notify_topic
from hub.log.access import client_kwargs
from hub.log.archive import Archive
from hub.log.reading import read_topics
from hub.ops.opening import open_broker
from producers.bad_input import add_bad_input
from producers.demo import (
    EventsWatcher,
    demo_keys,
    intake_sealer,
    publish,
    start_worker,
    stop_worker,
    wait_for_checkpoint,
    wait_until_handled,
)
from producers.simulator import Scenario, plan
from tests.support import tamper
from tests.support.paths import DEPLOY

pytestmark = pytest.mark.integration

SEED, PARTICIPANTS = 515, 30
RECIPIENTS = ["bpd", "sao", "opd", "cm", "bchd", "tx", "hsg"]


@dataclass
class Running:
    settings: Settings
    bootstrap: list[str]
    watcher: EventsWatcher
    worker: Callable[[], subprocess.Popen[bytes]]


def _settings(data: Path) -> Settings:
    return load_settings(data_dir=data, keys_dir=data / "keys", audit={"flush_interval_s": 0.5})


@contextlib.contextmanager
def embedded_hub(settings: Settings) -> Iterator[Running]:
    """`leadhub up` as a test runs it: broker (restored from the archive), archiver, and
    a worker process; leaving stops the worker, then drains the archive, then the broker."""
    agencies = AgencyRegistry.load(DEPLOY / "agencies.yaml")
    with open_broker(settings, agencies) as bootstrap:
        worker = start_worker(settings, bootstrap, None)
        try:
            with watched(settings, bootstrap, lambda: worker) as running:
                yield running
        finally:
            stop_worker(worker)


@contextlib.contextmanager
def watched(
    settings: Settings, bootstrap: list[str], worker: Callable[[], subprocess.Popen[bytes]]
) -> Iterator[Running]:
    """A running hub, once its worker has published the policy, with a watcher of
    lead.events."""
    agencies = AgencyRegistry.load(DEPLOY / "agencies.yaml")
    policy = load_policy(DEPLOY / "policy.yaml", agencies)
    watcher = EventsWatcher(bootstrap, client_kwargs(settings))
    watcher.start()
    try:
        watcher.wait_for({str(policy_event_id(policy))}, worker, timeout_s=90)
        yield Running(settings, bootstrap, watcher, worker)
    finally:
        watcher.stop()


def story(settings: Settings, codec: Codec) -> tuple[Scenario, dict[str, Any]]:
    agencies = AgencyRegistry.load(DEPLOY / "agencies.yaml")
    keys = demo_keys(settings, agencies)
    # every identity and note sealed to the hub's intake key, as agencies outside it do
    scenario = plan(SEED, PARTICIPANTS, intake_sealer(HubContext(settings)))
    add_bad_input(scenario, random.Random(SEED), codec, keys)
    return scenario, keys


def halves(scenario: Scenario) -> tuple[Scenario, Scenario]:
    days = sorted({p.occurred_at.date() for p in scenario.publications})
    middle = days[len(days) // 2]
    first = [p for p in scenario.publications if p.occurred_at.date() < middle]
    rest = [p for p in scenario.publications if p.occurred_at.date() >= middle]
    return (
        Scenario(scenario.seed, scenario.intake_window_days, first, scenario.bad),
        Scenario(scenario.seed, scenario.intake_window_days, rest, []),
    )


def run(
    hub: Running, part: Scenario, codec: Codec, keys: Any, expected: Collection[str]
) -> dict[str, Any]:
    publish(part, hub.settings, hub.bootstrap, codec, keys, hub.watcher, hub.worker)
    topics = wait_until_handled(hub.bootstrap, hub.watcher, expected, hub.worker)
    for agency in RECIPIENTS:
        topics[notify_topic(agency)] = list(
            read_topics(
                hub.bootstrap,
                [notify_topic(agency)],
                client_kwargs=client_kwargs(hub.settings, agency),
            )
        )
    wait_for_checkpoint(
        hub.bootstrap, len(topics[AUDIT]), hub.worker, client_kwargs=hub.watcher.kwargs
    )
    return topics


# Reminders fall due at the marks a partition's clock passes, and on the scenario's simulated
# calendar that clock is the latest time the gatekeeper has seen, which depends on the order
# it happened to read the agencies' topics in (as decided_at does, see ``_differences``):
# a mark one run passes with a hold still open, another may pass with the hold's nearer
# mark. So two runs of one scenario may send different reminders; all else is equal.
REMINDERS = {"intake_deadline_approaching", "consent_expiry_approaching"}
REMINDER_CE_TYPES = {f"org.leadhub.{t}".encode() for t in REMINDERS}


def final_state(topics: dict[str, Any], codec: Codec) -> dict[str, Any]:
    """What a run leaves: events, decisions (by id, with content), notices, dead letters;
    reminders aside (see REMINDERS)."""
    notices = (
        codec.decode(r.value, "notice").datum for a in RECIPIENTS for r in topics[notify_topic(a)]
    )
    return {
        "events": {
            dict(r.headers)["ce_id"]
            for r in topics[EVENTS]
            if dict(r.headers)["ce_type"] not in REMINDER_CE_TYPES
        },
        "decisions": {
            str(d["decision_id"]): d
            for d in (d for r in topics[AUDIT] for d in read_decisions(codec, r.value))
            if d["event_type"] not in REMINDERS
        },
        "notices": {str(n["notice_id"]) for n in notices if n["event_type"] not in REMINDERS},
        "rejections": Counter(parse(r.headers)[0].reason.value for r in topics[REJECTED]),
    }


@dataclass
class Interrupted:
    settings: Settings
    scenario: Scenario
    state: dict[str, Any]
    kafka_log: AuditLog
    erased: str
    fields_before: int


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory, codec: Codec) -> Interrupted:
    settings = _settings(tmp_path_factory.mktemp("interrupted"))
    scenario, keys = story(settings, codec)
    first, rest = halves(scenario)
    with embedded_hub(settings) as hub:
        run(hub, first, codec, keys, first.expected_on_log())
    # disaster recovery: the broker's log directory is lost; the next start formats a new
    # one and restores it from the archive, transaction markers' offsets and all
    shutil.rmtree(settings.paths.kafka)
    with embedded_hub(settings) as hub:
        total = scenario.expected_on_log()
        topics = run(hub, rest, codec, keys, total)
        state = final_state(topics, codec)
        for agency in ("opd", "bchd"):
            assert witness(HubContext(settings), hub.bootstrap, agency) is not None
        kafka_log = read_log(settings, "kafka", hub.bootstrap)
        erased = erase_one(hub, settings, codec, topics)
    return Interrupted(settings, scenario, state, kafka_log, erased[0], erased[1])


def _identity_fields(value: Any) -> Iterator[EncryptedField]:
    if isinstance(value, EncryptedField):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _identity_fields(v)
    elif isinstance(value, list):
        for v in value:
            yield from _identity_fields(v)
    elif hasattr(value, "model_fields"):
        for name in type(value).model_fields:
            yield from _identity_fields(getattr(value, name))


def _fields_of(records: Any, codec: Codec, pid: str) -> list[EncryptedField]:
    found = []
    for r in records:
        if r.topic != EVENTS:
            continue
        e = decode_envelope(r.value, codec)
        if e.participant_id == pid:
            found.extend(_identity_fields(decode_body(e, codec)))
    return found


def erase_one(hub: Running, settings: Settings, codec: Codec, topics: Any) -> tuple[str, int]:
    pid = next(
        decode_envelope(r.value, codec).participant_id
        for r in topics[EVENTS]
        if decode_envelope(r.value, codec).event_type == "referral_made"
    )
    store = DataKeyStore(settings.paths.datakeys)
    held = store.get(pid)
    assert held is not None
    fields = _fields_of(topics[EVENTS], codec, pid)
    assert fields, "the referral carries an encrypted identity"
    for f in fields:  # readable before
        open_field(f, participant_id=pid, key=held[1], codec=codec)
    event_id = publish_erasure(HubContext(settings), hub.bootstrap, pid, "EXPUNGEMENT", "admin-7")
    hub.watcher.wait_for({str(event_id)}, hub.worker, timeout_s=60)
    deadline = time.monotonic() + 30
    while store.get(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    topics = wait_until_handled(hub.bootstrap, hub.watcher, set(hub.watcher.seen), hub.worker)
    wait_for_checkpoint(
        hub.bootstrap, len(topics[AUDIT]), hub.worker, client_kwargs=hub.watcher.kwargs
    )
    return pid, len(fields)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, codec: Codec) -> dict[str, Any]:
    settings = _settings(tmp_path_factory.mktemp("uninterrupted"))
    scenario, keys = story(settings, codec)
    with embedded_hub(settings) as hub:
        total = scenario.expected_on_log()
        return final_state(run(hub, scenario, codec, keys, total), codec)


def test_stop_and_start_ends_where_an_uninterrupted_run_ends(
    interrupted: Interrupted, uninterrupted: dict[str, Any]
) -> None:
    got = interrupted.state
    assert got["events"] == uninterrupted["events"]
    assert got["decisions"].keys() == uninterrupted["decisions"].keys()
    # decided_at is the hub's receipt time (recorded_at), which depends on the order the
    # gatekeeper happened to read the agencies' topics in, in either run; all else is equal
    differences = [
        (k, field, got["decisions"][k][field], uninterrupted["decisions"][k][field])
        for k in got["decisions"]
        for field in got["decisions"][k]
        if field != "decided_at"
        and got["decisions"][k][field] != uninterrupted["decisions"][k][field]
    ]
    assert differences == [], "same decisions, same content"
    assert got["notices"] == uninterrupted["notices"]
    assert got["rejections"] == uninterrupted["rejections"]
    assert sum(got["rejections"].values()) == len(interrupted.scenario.bad)


FIRST = "the first checkpoint that no longer matches is "


def _auditor(interrupted: Interrupted, source: str) -> Auditor:
    settings = interrupted.settings
    log = interrupted.kafka_log if source == "kafka" else read_log(settings, "archive")
    return Auditor(HubContext(settings), log)


@pytest.mark.parametrize("source", ["kafka", "archive"])
def test_replay_reproduces_the_audit_log_exactly(interrupted: Interrupted, source: str) -> None:
    findings, summary = _auditor(interrupted, source).replay_findings()
    assert findings == []
    assert summary["decisions_derived"] == summary["decisions_logged"] > 1000
    assert summary["permits"] > 100


def test_the_archive_and_every_proof_verify_after_an_erasure(interrupted: Interrupted) -> None:
    auditor = _auditor(interrupted, "archive")
    rows = auditor.verify()
    assert not [r for r in rows if r["status"] == "FAIL"], rows
    checks = {r["check"]: r for r in rows}
    assert checks["witnesses"]["status"] == "ok" and "bchd, opd" in checks["witnesses"]["detail"]
    assert exit_code(rows) == 0, "every check ok, the whole of each population proved"
    check = auditor.log_check()
    assert check.latest is not None and check.latest.checkpoint.size == len(auditor.log.audit)
    assert check.inclusion_proofs == check.latest.checkpoint.size


FAULTS: dict[str, tuple[Callable[[Path], tuple[str, int]], tuple[str, ...]]] = {
    # what the tamperer does to a copy of the archive, and what the one finding must say
    "edit a decision": (
        lambda d: tamper.edit_decision(d, 40),
        ("does not match its chain value", "replay derives this record differently", FIRST),
    ),
    "delete a record": (
        lambda d: tamper.delete_record(d, 60),
        ("does not continue the chain", "derived by replay, missing from lead.audit", FIRST),
    ),
    "insert a forged one": (
        lambda d: tamper.insert_forged(d, 80),
        ("does not match its chain value", "replay derives no such record", FIRST),
    ),
    # two records swapped in the file, their offsets kept: the archive's chain finds it;
    # read in offset order the log is intact, so every checkpoint still matches
    "swap two": (lambda d: tamper.swap_two(d, 100), ("reordered: found after offset",)),
    "truncate a segment": (
        lambda d: tamper.truncate_segment(d, 30),
        ("removed with every record after it (truncated)", FIRST),
    ),
    "drop a checkpoint": (
        lambda d: tamper.delete_record(d, 3, "lead.checkpoints"),
        ("does not continue the chain",),
    ),
    "forge a checkpoint signature": (
        lambda d: tamper.forge_checkpoint_signature(d, 2),
        ("does not match its chain value", "not a checkpoint signed by the hub"),
    ),
    "edit a witness cosignature": (
        tamper.edit_cosignature,
        ("does not match its chain value", "the cosignature of"),
    ),
    "lose a whole segment file": (
        lambda d: tamper.lose_segment(d, "lead.notify.sao"),
        ("removed with every record after it (truncated)",),
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_kind_of_fault_is_one_finding_at_its_place(
    interrupted: Interrupted, tmp_path: Path, fault: str
) -> None:
    """On a copy of the archive with one fault, verify prints exactly one finding, at the
    record the fault is at, says FAIL, and calls nothing ok that the fault kept it from
    proving; a fault that changes lead.audit names the first checkpoint it breaks."""
    settings = interrupted.settings
    copy = tmp_path / "archive"
    shutil.copytree(settings.paths.archive, copy)
    do, says = FAULTS[fault]
    topic, offset = do(copy)
    rows = Auditor(HubContext(settings), read_log(settings, "archive", archive_dir=copy)).verify()
    found = [r["detail"] for r in rows if r["check"] == "finding"]
    assert len(found) == 1, (fault, found)
    assert found[0].startswith(f"{topic}/0 offset {offset}"), (fault, found)
    for phrase in says:
        assert phrase in found[0], (fault, phrase, found[0])
    status = {r["check"]: r["status"] for r in rows if r["check"] != "finding"}
    assert status["result"] == "FAIL" and exit_code(rows) == 1
    if FIRST in says:  # what the fault kept verify from proving is not called ok
        assert status["tree"] == "FAIL"
        assert status["inclusion"] == status["consistency"] == "NOT CHECKED", status
    else:
        assert FIRST not in found[0] and status["tree"] == "ok"


def test_kafka_and_the_archive_place_the_same_edit_at_the_same_record(
    interrupted: Interrupted, tmp_path: Path
) -> None:
    """The same audit record edited on both sources: the same record, the same replay word
    and the same first checkpoint; only the archive adds its own chain's evidence. And
    replay names that record for each decision it holds, and that verify finds it
    altered."""
    settings = interrupted.settings
    copy = tmp_path / "archive"
    shutil.copytree(settings.paths.archive, copy)
    _, offset = tamper.edit_decision(copy, 40)
    from_archive = Auditor(HubContext(settings), read_log(settings, "archive", archive_dir=copy))
    kafka = interrupted.kafka_log
    edited = [
        r._replace(value=r.value[:-1] + bytes([r.value[-1] ^ 1])) if r.offset == offset else r
        for r in kafka.audit
    ]
    from_kafka = Auditor(
        HubContext(settings),
        AuditLog(events=kafka.events, audit=edited, checkpoints=kafka.checkpoints),
    )
    archive_says, kafka_says = (
        next(r["detail"] for r in a.verify() if r["check"] == "finding")
        for a in (from_archive, from_kafka)
    )
    place, _, rest = kafka_says.partition(": ")
    assert place.startswith(f"lead.audit/0 offset {offset} (event ")
    assert archive_says.startswith(f"{place}: ")
    assert rest.startswith("replay derives this record differently (edited); " + FIRST)
    # the same first checkpoint (Kafka was read before the hub's last few: fewer after it)
    assert rest.split(FIRST)[1].split(",")[0] == archive_says.split(FIRST)[1].split(",")[0]
    [original] = [r for r in kafka.audit if r.offset == offset]
    held = len(read_decisions(HubContext(settings).codec, original.value))
    for auditor in (from_archive, from_kafka):
        findings, _ = auditor.replay_findings()
        assert len(findings) == held  # the record's time is each of its decisions' time
        for f in findings:
            assert "lead.audit differs from replay in decided_at" in f
            assert f.endswith(f"[{place.split(' (')[0]}; audit verify finds this record altered]")


def _intake_copies_stop_opening_when_their_keys_are_destroyed(
    interrupted: Interrupted, codec: Codec, tmp_path: Path
) -> None:
    """What bpd and cm sealed to the intake key stays on the ingest topics and in the
    payloads on lead.events (as signed) and in the archive: it opens with the hub's intake
    key until that key is destroyed, at the epoch's end plus the ingest retention, and then
    with nothing. (On a copy of the keys: the hub's own are not due yet.)"""
    pid, settings = interrupted.erased, interrupted.settings
    copies = []
    for r in Archive(settings.paths.archive, settings.schemas_dir).read():
        if not (r.topic == EVENTS or r.topic.startswith("lead.ingest.")):
            continue
        try:
            e = decode_envelope(r.value, codec)
            as_sent = decode_body(e.model_copy(update={"resealed": None}), codec)
        except EventError:
            continue  # the scenario's bad input
        if e.participant_id == pid:
            copies += [(r.topic, e, f) for _, f in sealed_fields(as_sent)]
    where = {topic for topic, _, _ in copies}
    assert EVENTS in where and any(w.startswith("lead.ingest.") for w in where)
    shutil.copytree(settings.paths.intake, tmp_path / "intake")
    hub = HubContext(settings)
    keyring = IntakeKeyring(tmp_path / "intake", hub.intake_keys.epoch, hub.intake_keys.retention)
    for _, e, f in copies:  # erased from lead.events at once, but these still open
        private = keyring.private(f.key_id)
        assert private is not None
        open_for_intake(
            f, participant_id=pid, event_id=str(e.event_id), private=private, codec=codec
        )
    due = max(k.destroyed_at for k in keyring.held())
    assert due - max(k.starts for k in keyring.held()) == keyring.epoch + keyring.retention
    assert {f.key_id for _, _, f in copies} <= set(keyring.destroy_expired(due))
    assert not list((tmp_path / "intake").iterdir())  # no key that opens them is left


def test_an_erased_identity_cannot_be_read_from_kafka_or_the_archive(
    interrupted: Interrupted, codec: Codec, tmp_path: Path
) -> None:
    pid = interrupted.erased
    settings = interrupted.settings
    assert DataKeyStore(settings.paths.datakeys).get(pid) is None
    assert not list((settings.paths.datakeys).glob(f"{pid}*"))
    archived = list(read_log(settings, "archive").events)
    for source in (interrupted.kafka_log.events, archived):
        fields = _fields_of(source, codec, pid)
        assert len(fields) >= interrupted.fields_before
        for f in fields:  # no key is left; a guessed one does not open it either
            with pytest.raises(FieldDecryptError):
                open_field(f, participant_id=pid, key=bytes(32), codec=codec)
    _intake_copies_stop_opening_when_their_keys_are_destroyed(interrupted, codec, tmp_path)
    auditor = _auditor(interrupted, "archive")
    erasure = [e for e in auditor.replay.envelopes.values() if e.event_type == "participant_erased"]
    assert [e.participant_id for e in erasure] == [pid]
    assert auditor.disclosures(pid), "the accounting of disclosures survives the erasure"


def test_cm_reads_each_referred_name_in_its_own_notice_and_nowhere_is_it_in_clear(
    interrupted: Interrupted, codec: Codec
) -> None:
    """The warm hand-off: every referral's identity reaches cm opened, inside the notice
    only cm's sealing key opens; no other agency's notice carries it; the full name is on
    no topic in clear (the archive holds them all) and in no line of the worker's log."""
    settings = interrupted.settings
    datakeys = DataKeyStore(settings.paths.datakeys)
    records = list(Archive(settings.paths.archive, settings.schemas_dir).read())
    referred: dict[str, Identity] = {}  # event id -> the identity the referral sealed
    for r in records:
        if (
            r.topic == EVENTS
            and (e := decode_envelope(r.value, codec)).event_type == "referral_made"
            and e.source != "cm"  # cm's own referrals (the third door) it has already
        ):
            held = datakeys.get(e.participant_id)  # none for the erased participant
            if held is not None:
                sealed = decode_body(e, codec).identity  # type: ignore[attr-defined]
                plain = open_field(
                    sealed, participant_id=e.participant_id, key=held[1], codec=codec
                )
                assert isinstance(plain, Identity)
                referred[str(e.event_id)] = plain
    assert len(referred) == sum(
        p.body.event_type == "referral_made"
        and p.agency != "cm"
        and p.participant_id != interrupted.erased
        for p in interrupted.scenario.publications
    )
    hub_keys = HubContext(settings).public_keys
    carried: dict[str, dict[str, Any]] = {a: {} for a in RECIPIENTS}
    for r in records:
        agency = r.topic.removeprefix("lead.notify.")
        if agency in carried:
            notice = Notice(**codec.decode(r.value, "notice").datum)
            opened = open_notice(notice, load_sealing_key(settings.keys_dir, agency), hub_keys)
            if "identity" in opened["fields"]:
                carried[agency][opened["event_id"]] = opened["fields"]["identity"]
    for event_id, identity in referred.items():
        assert carried["cm"][event_id] == {
            "plaintext_type": "IDENTITY",
            "plaintext": jsonable(identity.model_dump()),
        }
    assert all(not carried[a] for a in RECIPIENTS if a != "cm")
    worker_log = settings.paths.worker_log.read_bytes()
    for identity in referred.values():
        name = f"{identity.given_name} {identity.family_name}".encode()
        assert not any(name in r.value for r in records) and name not in worker_log


def test_the_accounting_of_disclosures_and_as_of_views(interrupted: Interrupted) -> None:
    auditor = _auditor(interrupted, "archive")
    logged = list(interrupted.state["decisions"].values())
    pid = next(d["participant_id"] for d in logged if d["permit"] and d["recipient"] == "sao")
    rows = auditor.disclosures(pid)
    permits = [d for d in logged if d["participant_id"] == pid and d["permit"]]
    assert len(rows) == len(permits)
    assert {(r["recipient"], str(r["event_id"])) for r in rows} == {
        (d["recipient"], str(d["event_id"])) for d in permits
    }
    assert all(r["rule"] and r["purpose"] and r["policy"] for r in rows)
    everything = auditor.timeline(pid, as_of=max(d["decided_at"] for d in logged))
    assert len(everything) >= len({d["event_id"] for d in permits})
    moment = everything[len(everything) // 2]["recorded_at"]
    earlier = auditor.timeline(pid, as_of=moment)
    assert earlier and all(r["recorded_at"] <= moment for r in earlier)
    assert len(earlier) < len(everything)
    seen = auditor.timeline(pid, as_of=moment, as_seen_by="sao")
    sao_events = {str(d["event_id"]) for d in permits if d["recipient"] == "sao"}
    for row in seen:
        assert row["source"] == "sao" or str(row["event_id"]) in sao_events
        assert "treatment" not in row["event_type"]


@contextlib.contextmanager
def hub_process(settings: Settings) -> Iterator[Running]:
    """`leadhub run` in embedded mode, in a process group of its own: its broker (restored
    from the archive), archiver and worker, so that a test can kill all of them at once."""
    marker = settings.data_dir / BROKER_FILE
    marker.unlink(missing_ok=True)
    env = {
        **os.environ,
        "LEADHUB_DATA_DIR": str(settings.data_dir),
        "LEADHUB_KEYS_DIR": str(settings.keys_dir),
        "LEADHUB_STREAMS__LOG_CLOCK": "true",
        "LEADHUB_AUDIT__FLUSH_INTERVAL_S": "0.5",
    }
    log = (settings.data_dir / "hub.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "hub", "run"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, "the hub exited before its broker was ready"
            assert time.monotonic() < deadline, "the hub's broker never became ready"
            time.sleep(0.1)
        bootstrap = json.loads(marker.read_text())["bootstrap_servers"]
        with watched(settings, bootstrap, lambda: process) as running:
            yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_a_killed_hub_loses_nothing(
    tmp_path_factory: pytest.TempPathFactory, codec: Codec, uninterrupted: dict[str, Any]
) -> None:
    """The whole embedded hub (broker JVM, archiver, worker) killed with SIGKILL at once,
    the archive not waited for: the broker's log is on disk, so the next start carries on
    from it and ends where an uninterrupted run ends, with the same events, decisions,
    notices and dead letters (the decisions' stamps aside, see ``_differences``)."""
    settings = _settings(tmp_path_factory.mktemp("killed"))
    scenario, keys = story(settings, codec)
    first, rest = halves(scenario)
    with hub_process(settings) as hub:
        run(hub, first, codec, keys, first.expected_on_log())
        os.killpg(hub.worker().pid, signal.SIGKILL)
        hub.worker().wait(10)
    with hub_process(settings) as hub:
        total = scenario.expected_on_log()
        state = final_state(run(hub, rest, codec, keys, total), codec)
    assert _differences(state, uninterrupted, but=("decided_at",)) == []


def _differences(got: dict[str, Any], want: dict[str, Any], but: tuple[str, ...] = ()) -> list[str]:
    """What differs between two final states, decision by decision, but the fields named.

    On the scenario's simulated calendar an event is stamped with the latest time the
    gatekeeper has seen, so when two agencies' records of one day come in the other order
    (they are on different topics: the log orders neither before the other) their stamps,
    and the decided_at of their decisions, differ between two runs of one scenario."""
    found = [f"{k} differ" for k in want if k != "decisions" and got[k] != want[k]]
    a, b = got["decisions"], want["decisions"]
    found += [f"decision {i} only in the uninterrupted run" for i in b.keys() - a.keys()]
    found += [f"decision {i} only in this run" for i in a.keys() - b.keys()]
    for i in a.keys() & b.keys():
        fields = {
            k: (a[i][k], b[i].get(k)) for k in a[i] if k not in but and a[i][k] != b[i].get(k)
        }
        if fields:
            found.append(f"decision {i} ({a[i]['event_type']}): {fields}")
    return found
