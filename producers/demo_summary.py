"""What `make demo` prints once its story has run: the canonical log by event type, notices
by agency, denials and rejections by reason, how holds ended, the checks against the
scenario's own truth (lapses, rejections, no Part 2 notice to enforcement), one
participant's story as each agency was told it, and what to try next."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hub.config import Settings
from hub.context import HubContext
from hub.crypto import linkage_secret
from hub.domain import Linker, parse, read_decisions
from hub.events import (
    AUDIT,
    EVENTS,
    REJECTED,
    SYSTEM_PARTICIPANT,
    Codec,
    Envelope,
    decode_body,
    decode_envelope,
    identity_opener,
)
from hub.events import models as m
from producers.simulator import Scenario

Out = Callable[[str], None]
Records = dict[str, list[Any]]  # topic -> kafka-python ConsumerRecords


def summarise(
    scenario: Scenario,
    topics: Records,
    notices: Records,
    codec: Codec,
    out: Out,
    seconds: float,
    settings: Settings,
    config: Path | None = None,
) -> int:
    unique: dict[object, Envelope] = {}
    for r in topics[EVENTS]:  # policy_published stands once in every partition
        e = decode_envelope(r.value, codec)
        unique.setdefault(e.event_id, e)
    events = list(unique.values())
    by_type = Counter(e.event_type for e in events)
    audit = [d for r in topics[AUDIT] for d in read_decisions(codec, r.value)]
    denials = Counter(a["reason"] for a in audit if not a["permit"])
    letters = {r.rejection_id: r for r in (parse(x.headers)[0] for x in topics[REJECTED])}
    rejections = Counter(r.reason.value for r in letters.values())
    truth = scenario.truth
    out("")
    out(f"events in the canonical log: {len(events)}")
    for event_type, n in sorted(by_type.items()):
        out(f"  {event_type:28} {n:6}")
    out("notices by agency: " + ", ".join(f"{a} {len(v)}" for a, v in sorted(notices.items())))
    out("denials by reason: " + ", ".join(f"{r} {n}" for r, n in denials.most_common()))
    out("rejections by reason: " + ", ".join(f"{r} {n}" for r, n in rejections.most_common()))
    lapsed = by_type["intake_window_expired"]
    out(
        f"holds: {truth['holds.started']} started; {by_type['charges_declined']} declined "
        f"after intake; {lapsed} lapsed, {by_type['charges_filed']} filed"
    )
    out(
        f"reminders: {by_type['intake_deadline_approaching']} before intake deadlines, "
        f"{by_type['consent_expiry_approaching']} before consents expire; "
        f"{by_type['consent_expired']} consents expired"
    )
    linked = _linkage(scenario, events, codec, out)
    _linkage_cost(events, codec, settings, out)
    expected_rejections = Counter(b.expected.value for b in scenario.bad)
    problems = 0
    for what, got, want in [
        ("lapsed holds", lapsed, truth["holds.lapsed"]),
        ("rejections", rejections, expected_rejections),
        ("Part 2 notices to police or prosecutor", _part2_to_enforcement(notices, codec), 0),
    ]:
        if got != want:
            problems += 1
            out(f"MISMATCH {what}: hub {got}, scenario {want}")
    # a story with a lapse shows the most; a small program may have none
    people = [e for e in events if e.participant_id != SYSTEM_PARTICIPANT]
    with_lapse = [e for e in people if e.event_type == "intake_window_expired"]
    sample = (with_lapse or people)[0].participant_id
    out("")
    out(f"one participant's story ({sample}), and who was told:")
    told: dict[str, list[str]] = {}
    for a, records in notices.items():
        for r in records:
            notice = codec.decode(r.value, "notice").datum
            if notice["participant_id"] == sample:
                told.setdefault(str(notice["event_id"]), []).append(a)
    for e in sorted(events, key=lambda e: e.occurred_at):
        if e.participant_id == sample:
            recipients = ", ".join(sorted(told.get(str(e.event_id), []))) or "nobody"
            out(f"  {e.occurred_at:%Y-%m-%d %H:%M}  {e.source:4} {e.event_type:28} -> {recipients}")
    story = [e for e in events if e.participant_id == sample]
    half = story[len(story) // 2]
    # a minute on: the command's --as-of is to the minute, and the story's first half can
    # fall within one minute of the log's clock
    middle = (half.recorded_at or half.occurred_at) + timedelta(minutes=1)
    _next_steps(out, settings, config, sample, middle, linked)
    out("")
    verdict = "all checks passed" if not problems else f"{problems} MISMATCH(ES)"
    out(f"demo finished in {seconds:.1f} s; {verdict}")
    return problems


def _next_steps(
    out: Out,
    settings: Settings,
    config: Path | None,
    sample: str,
    middle: datetime,
    linked: tuple[str, datetime] | None,
) -> None:
    """What to do with the demo's log once the broker has stopped."""
    out("")
    cfg = f" -c {config}" if config else ""
    auditor = ".venv/bin/leadhub audit"
    out("audit it (from the signed archive, with the broker stopped):")
    out(f"  {auditor} verify{cfg}")
    out(f"  {auditor} replay{cfg}")
    out(f"  {auditor} disclosures{cfg} --participant {sample}")
    out(
        f"  {auditor} timeline{cfg} --participant {sample} "
        f"--as-of {middle:%Y-%m-%dT%H:%M} --as-seen-by sao"
    )
    if linked is not None:  # one person under two ids: cm sees one timeline
        pid, at = linked
        out(
            f"  {auditor} timeline{cfg} --participant {pid} --as-of {at:%Y-%m-%dT%H:%M} "
            "--as-seen-by cm"
        )
    out(f"  .venv/bin/leadhub report{cfg} --format html --output {settings.data_dir}/report.html")
    if settings.web.enabled:
        web = f"http://{settings.web.host}:{settings.web.port}"
        out("")
        out(f"see it as each agency does, in the pages at {web} (the hub starts on the same log):")
        out(f"  .venv/bin/leadhub run{cfg}")
        out(f"  .venv/bin/leadhub web login cm{cfg}    (or sao, opd, bchd...: open the link)")


def _linkage(
    scenario: Scenario, events: list[Envelope], codec: Codec, out: Out
) -> tuple[str, datetime] | None:
    """The hub's links and tasks against the scenario's truth: precision of its links, and
    recall with its links alone and with the case manager's review of its tasks. Returns
    the first id linked, and when."""
    found: dict[str, dict[str, str]] = {"participants_linked": {}, "match_suspected": {}}
    first: tuple[str, datetime] | None = None
    for e in events:
        if e.event_type == "participants_linked" and first is None:
            # a minute on: the command's --as-of is to the minute
            first = e.participant_id, (e.recorded_at or e.occurred_at) + timedelta(minutes=1)
        if e.event_type in found and e.source == "hub":
            body = decode_body(e, codec)
            assert isinstance(body, m.ParticipantsLinked | m.MatchSuspected)
            found[e.event_type][e.participant_id] = body.linked_participant_id
    links, tasks = found["participants_linked"], found["match_suspected"]
    truth = scenario.same_person
    right = sum(1 for b, a in links.items() if truth.get(b) == a)
    asked = sum(1 for b, a in tasks.items() if truth.get(b) == a)
    out(
        f"linkage: {len(truth)} people referred again under a new id, "
        f"{len(scenario.namesakes)} namesakes; the hub linked {len(links)} ({right} rightly), "
        f"asked cm about {len(tasks)} ({asked} the same person)"
    )
    if truth and links:
        out(
            f"  precision {right / len(links):.1%}; recall {right / len(truth):.1%} by the "
            f"hub alone, {(right + asked) / len(truth):.1%} once cm has reviewed its tasks"
        )
    return first


def _linkage_cost(events: list[Envelope], codec: Codec, settings: Settings, out: Out) -> None:
    """What linkage costs per referral: the hub's linker run again over this log's
    referrals in log order, with the hub's data keys and secret, as a worker answers and
    then indexes each (decoding, opening, tokens, candidates, scoring)."""
    hub = HubContext(settings)
    linker = Linker(
        linkage_secret(settings.paths.linkage_secret), identity_opener(hub.datakeys, codec)
    )
    thresholds = hub.policy.linkage.thresholds
    referrals = sorted(
        (e for e in events if e.event_type == "referral_made"),
        key=lambda e: e.recorded_at or e.occurred_at,
    )
    started = time.perf_counter()
    for e in referrals:
        body = decode_body(e, codec).model_dump()
        linker.decide(e.event_id, e.participant_id, body["identity"], thresholds)
        linker.follow(e.participant_id, e.event_type, body)
    if referrals:
        ms = (time.perf_counter() - started) / len(referrals) * 1000
        out(f"  cost: {ms:.2f} ms per referral (the hub's linker over this log's referrals)")


def _part2_to_enforcement(notices: Records, codec: Codec) -> int:
    return sum(
        1
        for agency in ("bpd", "sao")
        for r in notices.get(agency, [])
        if codec.decode(r.value, "notice").datum["event_type"].startswith("treatment_")
    )
