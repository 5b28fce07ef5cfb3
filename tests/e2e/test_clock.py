"""The hub's clock in wall-clock mode, on a real worker and broker: a hold whose deadline is
seconds away lapses on a partition with no other traffic, its notices sent, at the first or
second tick after the deadline; its 24-hour reminder (the nearest mark already passed) goes
out first; a worker down across a deadline publishes the lapse once when it is back; and
the auditor's replay from Kafka derives exactly lead.audit with the ticks in the log.

The hold is recorded with ``held_at`` a site window before a deadline a few seconds ahead
(a hold entered late, as a prosecutor's office does), so no test-only window is needed.
The test counts ticks on the log, never elapsed time; the delays are printed."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from hub.audit.auditor import Auditor, read_log
from hub.config import load_settings
from hub.context import HubContext
from hub.domain import Hold, issue_participant_id
from hub.domain.audit_records import read_decisions
from hub.domain.deadlines import EXPIRY_NAMESPACE
from hub.domain.policy import policy_event_id
from hub.events import Envelope, decode_envelope
from hub.events.codec import Codec
from hub.events.models import ChargesHeld, OffenceCategory
from hub.events.topics import AUDIT, EVENTS, notify_topic
from hub.log import Publisher
from producers.demo import EventsWatcher, start_worker, wait_for_checkpoint
from tests.support.commands import leadhub_here
from tests.support.hubs import Hub, hub_on_a_broker

pytestmark = pytest.mark.timeout(600)
TICK_S = 1.0


@dataclass
class Clocked:
    hub: Hub
    watcher: EventsWatcher
    config: Path

    def start(self) -> None:
        self.hub.workers.append(
            start_worker(self.hub.settings, self.hub.bootstrap, self.config, log_clock=False)
        )

    def hold(self, seconds_left: float) -> tuple[Envelope, datetime]:
        """sao holds a new participant's charge with its deadline ``seconds_left`` ahead."""
        deadline = datetime.now(UTC) + timedelta(seconds=seconds_left)
        window = self.hub.settings.site.intake_window_days
        body = ChargesHeld(
            case_ref=f"case-{secrets.token_hex(4)}",
            charge_category=OffenceCategory.DRUG_POSSESSION,
            held_at=deadline - timedelta(days=window),
            intake_deadline=deadline,
            window_days=window,
        )
        with Publisher(
            key=self.hub.keys["sao"],
            codec=self.hub.codec,
            bootstrap_servers=self.hub.bootstrap,
            client_kwargs=self.hub.kwargs("sao"),
        ) as sao:
            held = sao.publish(
                body,
                participant_id=issue_participant_id(secrets.token_bytes),
                occurred_at=datetime.now(UTC),
            )
        return held, deadline

    def events(self) -> list[tuple[int, int, Envelope]]:
        return [
            (r.partition, r.offset, decode_envelope(r.value, self.hub.codec, canonical=False))
            for r in self.hub.read(EVENTS)
        ]

    def told(self, agency: str, event_id: uuid.UUID) -> int:
        """How many notices ``agency`` received for ``event_id``."""
        return sum(
            1
            for r in self.hub.read(notify_topic(agency), agency)
            if str(self.hub.codec.decode(r.value, "notice").datum["event_id"]) == str(event_id)
        )


@pytest.fixture(scope="module")
def clocked(tmp_path_factory: pytest.TempPathFactory, codec: Codec) -> Iterator[Clocked]:
    data = tmp_path_factory.mktemp("clock")
    config = data / "hub.yaml"
    settings = {
        "data_dir": str(data),
        "keys_dir": str(data / "keys"),
        "streams": {"tick_interval_s": TICK_S},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with hub_on_a_broker(load_settings(config), codec) as hub:
        watcher = hub.watcher()
        try:
            c = Clocked(hub, watcher, config)
            c.start()
            watcher.wait_for({str(policy_event_id(hub.policy))}, lambda: hub.worker, 90)
            yield c
        finally:
            watcher.stop()


def _lapse_of(held: Envelope) -> str:
    """The id the hub gives the hold's lapse (it depends on the hold's event id alone)."""
    return str(Hold(held.event_id, held.participant_id, "", held.occurred_at).expiry_event_id)


def test_a_hold_lapses_on_a_quiet_partition_within_two_ticks_with_its_notices(
    clocked: Clocked,
) -> None:
    held, deadline = clocked.hold(seconds_left=4)
    lapse = _lapse_of(held)
    clocked.watcher.wait_for({lapse}, lambda: clocked.hub.worker, 60)

    events = clocked.events()
    ((p, held_at, _),) = [(p, o, e) for p, o, e in events if e.event_id == held.event_id]
    ((_, lapse_at, lapsed),) = [(p, o, e) for p, o, e in events if str(e.event_id) == lapse]
    between = [e for q, o, e in events if q == p and held_at < o < lapse_at]
    # nothing but the hub's own clock and the reminder reached the partition meanwhile
    assert {e.event_type for e in between} <= {"clock_ticked", "intake_deadline_approaching"}
    ticks_after = [
        e for e in between if e.event_type == "clock_ticked" and e.recorded_at >= deadline
    ]
    assert 1 <= len(ticks_after) <= 2, [e.recorded_at for e in ticks_after]
    assert lapsed.occurred_at == deadline and lapsed.causation_id == held.event_id
    assert lapsed.recorded_at is not None and lapsed.recorded_at >= deadline
    (reminder,) = [e for e in between if e.event_type == "intake_deadline_approaching"]
    assert reminder.causation_id == held.event_id

    for agency in ("sao", "cm"):  # the lapse and the reminder, once each
        assert clocked.told(agency, lapsed.event_id) == 1
        assert clocked.told(agency, reminder.event_id) == 1
    print(
        f"\nlapse recorded {(lapsed.recorded_at - deadline).total_seconds():.2f} s after its "
        f"deadline (tick interval {TICK_S} s); {len(ticks_after)} tick(s) after the deadline; "
        f"ticks on the partition while the hold was open: "
        f"{sum(1 for e in between if e.event_type == 'clock_ticked')}"
    )


def test_a_worker_down_across_a_deadline_publishes_the_lapse_once_when_back(
    clocked: Clocked,
) -> None:
    held, deadline = clocked.hold(seconds_left=6)
    clocked.watcher.wait_for({str(held.event_id)}, lambda: clocked.hub.worker, 60)
    clocked.hub.worker.kill()  # down before the deadline, no goodbye
    clocked.hub.worker.wait(10)
    time.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 2 * TICK_S)
    assert _lapse_of(held) not in clocked.watcher.seen
    back = datetime.now(UTC)
    clocked.start()
    lapse = _lapse_of(held)
    clocked.watcher.wait_for({lapse}, lambda: clocked.hub.worker, 90)

    copies = [e for _, _, e in clocked.events() if str(e.event_id) == lapse]
    assert len(copies) == 1
    assert copies[0].recorded_at is not None and copies[0].recorded_at >= back
    time.sleep(3 * TICK_S)  # a tick more would have sent it twice
    assert clocked.told("sao", copies[0].event_id) == 1
    print(f"\nlapse recorded {(copies[0].recorded_at - back).total_seconds():.2f} s after restart")


def test_sao_reads_a_pending_reminder_and_the_time_left_with_leadhub_inbox(
    clocked: Clocked,
) -> None:
    """A hold 20 hours from its deadline: the 24-hour reminder goes out at once, and the
    prosecutor's inbox command lists it with the time left."""
    held, deadline = clocked.hold(seconds_left=20 * 3600)
    reminder = str(uuid.uuid5(EXPIRY_NAMESPACE, f"{held.event_id}/24h"))
    clocked.watcher.wait_for({reminder}, lambda: clocked.hub.worker, 60)
    servers = ",".join(clocked.hub.bootstrap)
    done = leadhub_here("inbox", "sao", "-c", str(clocked.config), "--bootstrap-servers", servers)
    assert done.returncode == 0, done.stderr
    line = next(
        ln for ln in done.stdout.splitlines() if held.participant_id in ln and "reminded" in ln
    )
    assert re.search(
        rf"intake deadline, case case-\w+: {deadline:%Y-%m-%d %H:%M}, 19 h \d+ min left "
        r"\(reminded 24 h before\)$",
        line,
    ), line
    print(f"\n{line.strip()}")


def test_replay_from_kafka_derives_the_audit_log_with_the_ticks_in_it(clocked: Clocked) -> None:
    events = clocked.events()
    ticks = sum(1 for _, _, e in events if e.event_type == "clock_ticked")
    assert ticks >= 2
    hub = clocked.hub
    audit = hub.read(AUDIT)
    wait_for_checkpoint(hub.bootstrap, len(audit), lambda: hub.worker, client_kwargs=hub.kwargs())
    auditor = Auditor(HubContext(hub.settings), read_log(hub.settings, "kafka", hub.bootstrap))
    findings, summary = auditor.replay_findings()
    assert findings == []
    decisions = sum(len(read_decisions(hub.codec, r.value)) for r in audit)
    assert summary["decisions_derived"] == summary["decisions_logged"] == decisions
    assert summary["audit_records"] == len(audit)
    assert summary["due_pending"] == 0
    print(
        f"\n{len(events)} records on lead.events, {ticks} of them ticks; {len(audit)} audit "
        f"records, {decisions} decisions"
    )
