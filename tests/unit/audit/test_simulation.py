"""The whole LEAD story through the hub's stream handlers on an in-memory bus, no broker:
a seeded scenario's events pass the gatekeeper, exactly the holds the story let lapse do
lapse, the prosecutor is told of exactly those, bad input becomes dead letters with its
reason, every notice opens only for its recipient, and Part 2 never reaches enforcement."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from hub.audit.replay import Comparison, Replay, diff, replay_events
from hub.domain.audit_records import read_decisions
from hub.domain.notices import Notice, open_notice
from hub.domain.rejections import parse
from hub.events import record_headers
from hub.events.envelope import (
    decode_envelope,
    encode_envelope,
)
from hub.events.topics import AUDIT, EVENTS, REJECTED
from producers.simulator import plan
from tests.support.fakes import fake_seal
from tests.support.histories import RECIPIENTS
from tests.support.stories import POLICY, Logged, Story


def test_the_plan_is_reproducible_from_its_seed() -> None:
    a = plan(5, 40, lambda pid, event_id: fake_seal)
    b = plan(5, 40, lambda pid, event_id: fake_seal)
    assert [(p.event_id, p.body) for p in a.publications] == [
        (p.event_id, p.body) for p in b.publications
    ]
    assert plan(6, 40, lambda pid, event_id: fake_seal).publications != a.publications


def test_bad_input_becomes_dead_letters_with_its_reason(story: Story) -> None:
    letters = [parse(o.headers)[0] for o in story.bus.topics[REJECTED]]
    assert Counter(r.reason.value for r in letters) == Counter(
        b.expected.value for b in story.scenario.bad
    )
    assert {"BAD_SIGNATURE", "TYPE_NOT_ALLOWED", "MALFORMED", "UNKNOWN_SCHEMA", "DUPLICATE"} <= {
        r.reason.value for r in letters
    }
    originals = {bytes(b.value) for b in story.scenario.bad}
    assert {o.value for o in story.bus.topics[REJECTED]} <= originals  # kept byte for byte


def test_exactly_the_holds_the_story_let_lapse_do_lapse(story: Story) -> None:
    lapses = {e.event_id for e in story.events() if e.event_type == "intake_window_expired"}
    filed_after_lapse = {
        p.body.window_expired_event_id  # type: ignore[attr-defined]
        for p in story.scenario.publications
        if p.body.event_type == "charges_filed"
    }
    assert len(lapses) == story.scenario.truth["holds.lapsed"] > 0
    assert lapses == filed_after_lapse


def test_the_prosecutor_is_told_of_exactly_those_lapses(story: Story) -> None:
    lapsed = {e.participant_id for e in story.events() if e.event_type == "intake_window_expired"}
    notices = [Notice.model_validate(n) for n in story.decoded("lead.notify.sao", "notice")]
    told = {n.participant_id for n in notices if n.event_type == "intake_window_expired"}
    assert told == lapsed
    opened = open_notice(
        next(n for n in notices if n.event_type == "intake_window_expired"),
        story.sealing["sao"],
        story.hub_keys,
    )
    assert set(opened["fields"]) == {"case_ref", "held_event_id", "deadline"}


def test_every_notice_opens_for_its_recipient_only(story: Story) -> None:
    for agency in RECIPIENTS:
        for raw in story.decoded(f"lead.notify.{agency}", "notice"):
            notice = Notice.model_validate(raw)
            assert notice.recipient == agency
            opened = open_notice(notice, story.sealing[agency], story.hub_keys)
            assert opened["event_id"] == str(notice.event_id)
            other = next(a for a in RECIPIENTS if a != agency)
            with pytest.raises(Exception, match="does not open"):
                open_notice(notice, story.sealing[other], story.hub_keys)


def test_audit_has_a_record_for_every_decided_event_and_permits_match_notices(
    story: Story,
) -> None:
    records = story.decoded(AUDIT, "audit_record")
    assert len({r["event_id"] for r in records}) == len(records), "one record per event"
    audit = story.decisions()
    assert len(audit) == sum(len(r["decisions"]) for r in records)
    permits = {(r["event_id"], r["recipient"]) for r in audit if r["permit"]}
    notices = {
        (n["event_id"], n["recipient"])
        for a in RECIPIENTS
        for n in story.decoded(f"lead.notify.{a}", "notice")
    }
    assert permits == notices and permits
    decided_events = {r["event_id"] for r in audit}
    assert decided_events == {e.event_id for e in story.events()}


def test_part2_never_reaches_enforcement(story: Story) -> None:
    audit = story.decisions()
    part2 = [r for r in audit if r["event_type"].startswith("treatment_")]
    assert part2
    assert not [r for r in part2 if r["permit"] and r["recipient"] in {"bpd", "sao"}]
    assert {r["reason"] for r in part2 if r["recipient"] in {"bpd", "sao"}} == {"PROHIBITED"}
    assert any(r["permit"] for r in part2 if r["recipient"] == "cm")
    for agency in ("bpd", "sao"):
        kinds = {n["event_type"] for n in story.decoded(f"lead.notify.{agency}", "notice")}
        assert not kinds & {
            "treatment_admitted",
            "treatment_discharged",
            "case_contact_logged",
            "health_service_recorded",
            "shelter_entered",
            "housed",
        }


_replays: dict[int, tuple[Story, Replay]] = {}  # the story is kept, so its id stays its own


def _compared(story: Story, audit: list[Logged], submitted: Collection[UUID] = ()) -> Comparison:
    """The story's lead.audit, as given, against its replay (derived once per story: the
    tests below compare one replay with many versions of lead.audit)."""
    if id(story) in _replays:
        derived = _replays[id(story)][1]
    else:
        events = [
            Logged(EVENTS, 0, i, o.value, o.key, o.headers)
            for i, o in enumerate(story.bus.topics[EVENTS])
        ]
        derived = replay_events(
            events, story.codec, story.agency_keys, [POLICY], RECIPIENTS, signature_threads=3
        )
        _replays[id(story)] = (story, derived)
    return diff(derived, audit, story.codec, frozenset(submitted))


def _audit_findings(story: Story, audit: list[Logged]) -> tuple[list[str], int]:
    compared = _compared(story, audit)
    assert compared.pending_decisions == compared.pending_due == 0
    return compared.findings, compared.logged


def test_replay_reproduces_the_audit_log_and_finds_every_change(story: Story) -> None:
    """Replay derives exactly lead.audit; an edited, missing, extra, repeated-but-different
    or unreadable record is each a finding, and a record that lost only its header is not."""
    audit = [
        Logged(AUDIT, 0, i, o.value, o.key, o.headers)
        for i, o in enumerate(story.bus.topics[AUDIT])
    ]
    findings, logged = _audit_findings(story, audit)
    assert findings == []
    decisions = len(story.decisions())
    assert logged == decisions > len(audit)

    def record_of(r: Logged) -> dict[str, Any]:
        return story.codec.decode(r.value, "audit_record").datum

    permit = next(r for r in audit if any(d["permit"] for d in record_of(r)["decisions"]))
    record = record_of(permit)
    first, *others = record["decisions"]
    assert others, "the record holds more than one decision"

    def with_first(**changed: Any) -> bytes:
        decisions = [{**first, **changed}, *others]
        return story.codec.encode("audit_record", {**record, "decisions": decisions})

    edited, extra = with_first(rule_id="sao.everything"), with_first(decision_id=uuid.uuid4())
    i = audit.index(permit)
    cases = {
        "edited": ([*audit[:i], replace(permit, value=edited), *audit[i + 1 :]], "differs", 1),
        "missing": (audit[:i] + audit[i + 1 :], "missing from lead.audit", 1 + len(others)),
        "extra": ([*audit, replace(permit, value=extra, headers=[])], "no such decision", 1),
        "repeated": ([*audit, replace(permit, value=edited)], "differs", 1),
        "unreadable": ([*audit, replace(permit, value=b"\xc3\x01garbage")], "unreadable", 1),
    }
    for name, (tampered, expect, count) in cases.items():
        findings, _ = _audit_findings(story, tampered)
        assert len(findings) == count and all(expect in f for f in findings), (name, findings)
    headless = [*audit[:i], replace(permit, headers=[]), *audit[i + 1 :]]
    assert _audit_findings(story, headless) == ([], decisions)


def test_a_log_that_began_one_record_per_decision_replays_without_a_finding(story: Story) -> None:
    """Hubs wrote one audit_decision record per decision before audit_record: a log whose
    first part is written so still reads, and replay finds nothing in it."""
    records = story.bus.topics[AUDIT]
    half = len(records) // 2
    before = [
        Logged(AUDIT, 0, 0, story.codec.encode("audit_decision", d), o.key, headers)
        for o in records[:half]
        for d in read_decisions(story.codec, o.value)
        for headers in [record_headers(str(d["decision_id"]), "audit_decision", "hub")]
    ]
    after = [Logged(AUDIT, 0, 0, o.value, o.key, o.headers) for o in records[half:]]
    mixed = [replace(r, offset=i) for i, r in enumerate(before + after)]
    assert len(before) > half > 0
    assert _audit_findings(story, mixed) == ([], len(story.decisions()))


def test_work_in_flight_at_the_end_of_the_log_is_pending_not_a_finding(story: Story) -> None:
    """A hub stopped mid-stream leaves the last events of a partition undecided, and its
    lapses on lead.ingest.hub: pending, counted, not findings. A decision missing before
    a decided event is still one."""
    audit = [
        Logged(AUDIT, 0, i, o.value, o.key, o.headers)
        for i, o in enumerate(story.bus.topics[AUDIT])
    ]
    events = [decode_envelope(o.value, story.codec) for o in story.bus.topics[EVENTS]]
    lapses = {e.event_id for e in events if e.event_type == "intake_window_expired"}
    assert lapses, "the story has lapses"

    def event_of(record: Logged) -> UUID:
        return UUID(str(story.codec.decode(record.value, "audit_record").datum["event_id"]))

    # the worker stopped before the last 20 events: neither their decisions nor the lapses
    # among them (which it had published on lead.ingest.hub) reached lead.events' readers
    cut = {e.event_id for e in events[-20:]}
    decided = [r for r in audit if event_of(r) not in cut]
    compared = _compared(story, decided)
    assert compared.findings == []
    undecided = [r for r in audit if event_of(r) in cut]
    pending = sum(len(read_decisions(story.codec, r.value)) for r in undecided)
    assert compared.pending_decisions == pending > 0

    # a lapse due by an event the hub decided, not yet admitted: the log read just before
    # it reached lead.events. On lead.ingest.hub it is pending, else it is missing.
    last = max(i for i, e in enumerate(events) if e.event_type == "intake_window_expired")
    lapse_id = events[last].event_id
    before = {e.event_id for e in events[:last]}
    derived = replay_events(
        [
            Logged(EVENTS, 0, i, o.value, o.key, o.headers)
            for i, o in enumerate(story.bus.topics[EVENTS][:last])
        ],
        story.codec,
        story.agency_keys,
        [POLICY],
        RECIPIENTS,
    )
    logged = [r for r in audit if event_of(r) in before]
    in_flight = diff(derived, logged, story.codec, frozenset({lapse_id}))
    assert (in_flight.findings, in_flight.pending_due) == ([], 1)
    never = diff(derived, logged, story.codec)
    assert never.findings == [f"intake_window_expired {lapse_id}: due by replay, never published"]

    # a gap before a decided event is a finding, however late in the log
    gap = [r for r in audit if event_of(r) != events[-21].event_id]
    assert len(gap) < len(audit)
    assert all("missing from lead.audit" in f for f in _compared(story, gap).findings)
    assert _compared(story, gap).findings


def test_replay_names_an_event_whose_signature_does_not_verify(story: Story) -> None:
    events = [
        Logged(EVENTS, 0, i, o.value, o.key, o.headers)
        for i, o in enumerate(story.bus.topics[EVENTS])
    ]
    victim = 7
    envelope = decode_envelope(events[victim].value, story.codec)
    forged = envelope.model_copy(update={"signature": bytes(64)})
    events[victim] = replace(events[victim], value=encode_envelope(forged, story.codec))
    derived = replay_events(events, story.codec, story.agency_keys, [POLICY], RECIPIENTS)
    assert derived.findings == [
        f"{EVENTS}/0@{victim}: BAD_SIGNATURE: signature does not verify with "
        f"{envelope.source}/{envelope.key_id}"
    ]
