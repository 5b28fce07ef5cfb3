"""A seeded LEAD scenario run through the hub's own handlers on an in-memory bus (as in
test_simulation), with a send counter standing in for broker timestamps, and the bus
read back as the report reads a log."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from hub.crypto.signing import PublicKeys, SigningKey
from hub.domain.agencies import AgencyRegistry
from hub.events.codec import Codec
from hub.events.envelope import sign_event
from hub.events.models import RecordsViewed, ViewKind
from hub.log.archive import ArchivedRecord
from hub.report.records import ReportLog
from hub.report.source import decode
from hub.report.suppress import Published
from hub.report.tables import Key
from hub.streams.handlers import Out
from producers.bad_input import add_bad_input
from producers.simulator import Scenario, plan
from tests.support.fakes import fake_seal
from tests.support.histories import default_policy
from tests.support.stories import MemoryBus, told

POLICY = default_policy()


@dataclass
class TimedBus(MemoryBus):
    """Each record sent gets the next tick of one counter: its 'broker timestamp'."""

    ticks: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    tick: int = 0

    def send(self, out: Out) -> None:
        self.tick += 1
        self.ticks[out.topic].append(self.tick)
        super().send(out)

    def records(self) -> list[ArchivedRecord]:
        return [
            ArchivedRecord(topic, 0, i, self.ticks[topic][i], o.key, o.value, tuple(o.headers))
            for topic, outs in self.topics.items()
            for i, o in enumerate(outs)
        ]


@dataclass
class Run:
    scenario: Scenario
    bus: TimedBus
    log: ReportLog


def run_scenario(
    seed: int,
    participants: int,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
    reads: Mapping[str, int] | None = None,
) -> Run:
    """``reads``: how many records_viewed the hub logs for each reading agency, at the end."""
    scenario = plan(seed, participants, lambda pid, event_id: fake_seal)
    add_bad_input(scenario, random.Random(seed), codec, agency_keys)
    bus, _ = told(TimedBus, scenario, codec, agencies, agency_keys, public_keys)
    hub_key = agency_keys["hub"]
    last = scenario.publications[-1]
    for viewer, count in (reads or {}).items():
        for i in range(count):
            viewed = RecordsViewed(
                viewer=viewer,
                view=ViewKind.TIMELINE,
                event_ids=[last.event_id],
                request_id=uuid.UUID(int=i + 1),
            )
            bus.publish(
                sign_event(
                    viewed,
                    codec=codec,
                    key=hub_key,
                    participant_id=last.participant_id,
                    occurred_at=last.occurred_at,
                ),
                codec,
            )
    for bad in scenario.bad:
        bus.send(Out(bad.topic, bad.key, bad.value, bad.headers))
    return Run(scenario, bus, decode(bus.records(), codec, has_rejected=True))


# ------------------------------------------------------------------------------- attackers


def peel(published: Published) -> dict[Key, int]:
    """The attack a spreadsheet makes: any published sum missing one entry gives it back,
    and every value recovered is used again, across all tables (they share keys)."""
    known = {
        t.key(p): t.value(p)
        for t in published.tables
        for p in t.positions()
        if t.key(p) not in published.hidden
    }
    recovered: dict[Key, int] = {}
    progress = True
    while progress:
        progress = False
        for t in published.tables:
            for line in t.lines():
                *inner, total = (t.key(p) for p in line)
                unknown = {k for k in (*inner, total) if k not in known}
                if len(unknown) != 1:
                    continue
                (k,) = unknown
                if k == total:
                    value = sum(known[i] for i in inner)
                else:
                    value = known[total] - sum(known[i] for i in inner if i != k)
                known[k] = recovered[k] = value
                progress = True
    return recovered


def solvable(published: Published) -> set[Key]:
    """The attack linear algebra makes (numpy's rank, not the suppressor's own elimination):
    a hidden x is determined iff adding its unit row leaves the rank of the equations
    over the hidden entries unchanged."""
    hidden = sorted(published.hidden)
    if not hidden:
        return set()
    index = {k: i for i, k in enumerate(hidden)}
    rows = []
    for t in published.tables:
        for line in t.lines():
            row = np.zeros(len(hidden))
            *inner, total = (t.key(p) for p in line)
            for k in inner:
                if k in index:
                    row[index[k]] += 1
            if total in index:
                row[index[total]] -= 1
            rows.append(row)
    a = np.array(rows) if rows else np.zeros((0, len(hidden)))
    rank = np.linalg.matrix_rank(a) if rows else 0
    found = set()
    for k, i in index.items():
        unit = np.zeros(len(hidden))
        unit[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.add(k)
    return found


def lines_with_one_hidden(published: Published) -> list[tuple[str, list[Key]]]:
    found = []
    for t in published.tables:
        for line in t.lines():
            keys = [t.key(p) for p in line]
            if sum(k in published.hidden for k in set(keys)) == 1:
                found.append((t.name, keys))
    return found
