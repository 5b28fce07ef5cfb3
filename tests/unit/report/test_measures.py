"""The program report against ground truth: a seeded scenario goes through the hub's own
gatekeeper and processor (no broker), the report is derived from what they logged, and
every table must equal what the simulator's plan says happened, computed here from the
plan directly. Then: nothing personal in any output, and no suppressed count recoverable."""

from __future__ import annotations

import calendar
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from hub.crypto.signing import PublicKeys, SigningKey
from hub.domain.agencies import AgencyRegistry
from hub.domain.audit_records import read_decisions
from hub.events import decode_envelope
from hub.events import models as m
from hub.events.codec import Codec
from hub.events.topics import AUDIT, EVENTS
from hub.report.charts import charts
from hub.report.measures import derive
from hub.report.records import Period, ReportLog
from hub.report.render import markdown, to_html, to_json
from hub.report.summary import summary
from hub.report.suppress import HIGH, LOW, Published, suppress
from hub.report.tables import Measures, Table
from producers.simulator import Planned, Scenario
from tests.support.reports import Run, lines_with_one_hidden, peel, run_scenario, solvable

SEED, PARTICIPANTS, WINDOW = 20261201, 150, 14
READS = {"sao": 14, "opd": 12}  # records_viewed the hub logs for reads through its API


@pytest.fixture(scope="module")
def run(
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> Run:
    return run_scenario(SEED, PARTICIPANTS, codec, agencies, agency_keys, public_keys, reads=READS)


@pytest.fixture(scope="module")
def measures(run: Run) -> Measures:
    return derive(run.log, Period(), WINDOW)


@pytest.fixture(scope="module")
def published(measures: Measures) -> Published:
    return suppress(measures.tables)


# ------------------------------------------------------------------ truth from the plan


def month(t: datetime | date) -> str:
    return t.strftime("%Y-%m")


def months_later(t: datetime, n: int) -> datetime:
    y, mo = t.year + (t.month - 1 + n) // 12, (t.month - 1 + n) % 12 + 1
    return t.replace(year=y, month=mo, day=min(t.day, calendar.monthrange(y, mo)[1]))


class Plan:
    """The scenario's publications by type, and the period a default report covers."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.of: dict[str, list[Planned]] = defaultdict(list)
        for p in scenario.publications:
            self.of[p.body.event_type].append(p)
        self.start = scenario.publications[0].occurred_at.date()
        last = max(p.occurred_at for p in scenario.publications)
        self.horizon = datetime.combine(last.date(), time.max, UTC)

    def first(self, event_type: str, when: Any) -> dict[str, Planned]:
        found: dict[str, Planned] = {}
        for p in self.of[event_type]:
            if p.participant_id not in found or when(p) < when(found[p.participant_id]):
                found[p.participant_id] = p
        return found


def cells(t: Table) -> dict[tuple[str, str], int]:
    return {
        (t.rows[r], t.columns[c]): v
        for r, row in enumerate(t.cells)
        for c, v in enumerate(row)
        if v
    }


def counted(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    return dict(Counter(pairs))


@pytest.fixture(scope="module")
def truth(run: Run) -> Plan:
    return Plan(run.scenario)


def test_referrals_by_month_door_and_area(measures: Measures, truth: Plan) -> None:
    refs = truth.of["referral_made"]
    assert cells(measures.table("referrals_by_door")) == counted(
        [(month(p.occurred_at), p.body.door.value) for p in refs]  # type: ignore[attr-defined]
    )
    assert cells(measures.table("referrals_by_area")) == counted(
        [(month(p.occurred_at), p.body.catchment_area) for p in refs]  # type: ignore[attr-defined]
    )
    doors = measures.table("referrals_by_door")
    for c, door in enumerate(doors.columns):
        assert doors.value((None, c)) == truth.scenario.truth[f"door.{door}"]
    assert doors.value((None, None)) == PARTICIPANTS


def test_arrest_diversions_met_within_30_minutes(measures: Measures, truth: Plan) -> None:
    dispatched = {p.event_id: p for p in truth.of["case_manager_dispatched"]}
    expected = []
    for ref in truth.of["referral_made"]:
        if ref.body.door is not m.ReferralDoor.ARREST_DIVERSION:  # type: ignore[attr-defined]
            continue
        (arrival,) = [
            a
            for a in truth.of["case_manager_arrived"]
            if a.body.referral_event_id == ref.event_id  # type: ignore[attr-defined]
        ]
        met = arrival.body.outcome is m.ArrivalOutcome.MET_PARTICIPANT  # type: ignore[attr-defined]
        dispatch = dispatched[arrival.body.dispatch_event_id]  # type: ignore[attr-defined]
        quick = arrival.occurred_at - dispatch.occurred_at <= timedelta(minutes=30)
        outcome = "not_met" if not met else "within_30" if quick else "later"
        expected.append((month(ref.occurred_at), outcome))
    assert cells(measures.table("handoff")) == counted(expected)
    assert 0 < measures.table("handoff").value((None, 0)) < len(expected)


def test_holds_end_as_the_story_says(measures: Measures, truth: Plan) -> None:
    declined = {p.body.case_ref for p in truth.of["charges_declined"]}  # type: ignore[attr-defined]
    filed = {p.body.case_ref for p in truth.of["charges_filed"]}  # type: ignore[attr-defined]
    expected = []
    for p in truth.of["charges_held"]:
        body = p.body
        assert isinstance(body, m.ChargesHeld)
        outcome = "declined" if body.case_ref in declined else "filed_after_lapse"
        assert body.case_ref in declined | filed  # every hold of the story is decided
        expected.append((month(body.held_at), outcome))
    holds = measures.table("holds")
    assert cells(holds) == counted(expected)
    t = truth.scenario.truth
    assert holds.value((None, None)) == t["holds.started"]
    assert holds.value((None, holds.columns.index("declined"))) == t["holds.declined"]
    assert holds.value((None, holds.columns.index("filed_after_lapse"))) == t["holds.lapsed"]
    waits = sorted(
        (p.body.decided_at - h.body.held_at).total_seconds() / 86400  # type: ignore[attr-defined]
        for p in truth.of["charges_declined"]
        for h in truth.of["charges_held"]
        if h.body.case_ref == p.body.case_ref  # type: ignore[attr-defined]
    )
    stat = next(s for s in measures.statistics if s.name == "days_to_declined")
    assert stat.n == len(waits)
    assert stat.value == pytest.approx((waits[len(waits) // 2] + waits[(len(waits) - 1) // 2]) / 2)


def test_the_hubs_reminders_and_lapses_are_counted_as_they_are_on_the_log(
    measures: Measures, run: Run, codec: Codec
) -> None:
    on_log = Counter(decode_envelope(o.value, codec).event_type for o in run.bus.topics[EVENTS])
    reminders = measures.table("reminders")
    for c, kind in enumerate(reminders.columns):
        assert reminders.value((None, c)) == on_log[kind], kind
    assert on_log["intake_window_expired"] == run.scenario.truth["holds.lapsed"]
    assert on_log["intake_deadline_approaching"] > 0  # the story's holds that were met late


def test_time_from_referral_to_intake(measures: Measures, truth: Plan) -> None:
    intakes = truth.first("intake_completed", lambda p: p.body.intake_at)
    referrals = truth.first("referral_made", lambda p: p.occurred_at)
    expected = []
    for pid, intake in intakes.items():
        days = (intake.body.intake_at - referrals[pid].occurred_at) / timedelta(days=1)  # type: ignore[attr-defined]
        edge = next((e for e in (1, 3, 7, WINDOW) if days < e), None)
        expected.append((f"<{edge}" if edge else f">={WINDOW}", ""))
    assert cells(measures.table("time_to_intake")) == counted(expected)
    assert measures.table("time_to_intake").value((None, 0)) == truth.scenario.truth["intakes"]


def test_status_contacts_and_participant_months(measures: Measures, truth: Plan) -> None:
    assert cells(measures.table("status")) == {("ACTIVE", ""): truth.scenario.truth["intakes"]}
    active_from = {p.participant_id: p.occurred_at for p in truth.of["status_changed"]}
    expected = [(month(p.occurred_at), "case_contacts") for p in truth.of["case_contact_logged"]]
    for mo in measures.table("contacts").rows:
        y, mm = int(mo[:4]), int(mo[5:])
        end = datetime(y, mm, calendar.monthrange(y, mm)[1], 23, 59, 59, tzinfo=UTC)
        expected += [(mo, "active_participants")] * sum(
            1 for t in active_from.values() if t <= min(end, truth.horizon)
        )
    assert cells(measures.table("contacts")) == counted(expected)


def test_housing_treatment_and_benefits(measures: Measures, truth: Plan) -> None:
    expected = [(month(p.occurred_at), "shelter_entries") for p in truth.of["shelter_entered"]]
    expected += [
        (month(p.body.move_in_date), "housed")  # type: ignore[attr-defined]
        for p in truth.of["housed"]
        if p.body.move_in_date <= truth.horizon.date()  # type: ignore[attr-defined]
    ]
    expected += [
        (month(p.body.admitted_at), "treatment_admissions")  # type: ignore[attr-defined]
        for p in truth.of["treatment_admitted"]
    ]
    expected += [(month(p.occurred_at), "benefits_obtained") for p in truth.of["benefits_obtained"]]
    assert cells(measures.table("services")) == counted(expected)
    assert cells(measures.table("benefits")) == counted(
        [(p.body.benefit.value, "") for p in truth.of["benefits_obtained"]]  # type: ignore[attr-defined]
    )


def test_new_arrests_after_entry(measures: Measures, truth: Plan) -> None:
    intakes = truth.first("intake_completed", lambda p: p.body.intake_at)
    expected = []
    for pid, intake in intakes.items():
        entry = intake.body.intake_at  # type: ignore[attr-defined]
        later = sorted(
            p.occurred_at
            for p in truth.of["new_arrest_reported"]
            if p.participant_id == pid and p.occurred_at > entry
        )
        if not later:
            expected.append(("none", ""))
        elif later[0] <= months_later(entry, 6):
            expected.append(("within_6", ""))
        elif later[0] <= months_later(entry, 12):
            expected.append(("within_12", ""))
        else:
            expected.append(("after_12", ""))
    assert cells(measures.table("rearrest")) == counted(expected)
    assert any(k == ("within_6", "") for k in cells(measures.table("rearrest")))


def test_consent_states(measures: Measures, truth: Plan) -> None:
    revoked = {p.body.consent_id for p in truth.of["consent_revoked"]}  # type: ignore[attr-defined]

    def state(grant: Any) -> str:
        if grant.consent_id in revoked:  # revoked wins over expired, as in consent_state
            return "revoked"
        return "expired" if truth.horizon >= grant.expires_at else "active"

    expected = [
        (state(p.body), "part2" if p.body.part2 else "general")  # type: ignore[attr-defined]
        for p in truth.of["consent_granted"]
    ]
    consent = measures.table("consent")
    assert cells(consent) == counted(expected)
    t = truth.scenario.truth
    assert consent.value((None, None)) == t["consents.granted"]
    assert consent.value((None, consent.columns.index("part2"))) == t["consents.part2"]
    assert consent.value((consent.rows.index("revoked"), None)) == t["consents.revoked"]


def test_data_sharing_health(measures: Measures, run: Run, codec: Codec) -> None:
    notices = Counter(
        topic.removeprefix("lead.notify.")
        for topic, outs in run.bus.topics.items()
        if topic.startswith("lead.notify.")
        for _ in outs
    )
    audit = [d for o in run.bus.topics[AUDIT] for d in read_decisions(codec, o.value)]
    real = [  # not the policy's own event, not the reads
        d for d in audit if d["participant_id"] != "SYSTEM" and d["event_type"] != "records_viewed"
    ]
    assert cells(measures.table("reads")) == {(viewer, ""): k for viewer, k in READS.items()}
    table = measures.table("notices")
    assert {r: table.value((i, 0)) for i, r in enumerate(table.rows)} == dict(notices)
    assert cells(table) == counted(
        [(d["recipient"], "permit" if d["permit"] else "deny") for d in real]
    )
    assert cells(measures.table("denials")) == counted(
        [(d["reason"], "") for d in real if not d["permit"]]
    )
    assert cells(measures.table("rejections")) == {
        (k.removeprefix("rejected."), ""): v
        for k, v in run.scenario.truth.items()
        if k.startswith("rejected.")
    }
    latency = next(s for s in measures.statistics if s.name == "notice_latency")
    assert latency.n == sum(notices.values()) and latency.value is not None and latency.value > 0
    stamp = next(s for s in measures.statistics if s.name == "decision_stamp")
    assert stamp.n == len(real) + sum(READS.values()) and stamp.value == 0  # the log clock


def test_a_period_and_an_as_of_cut_the_log(run: Run, truth: Plan) -> None:
    september = derive(run.log, Period(date(2026, 9, 1), date(2026, 9, 30)), WINDOW)
    refs = september.table("referrals_by_door")
    assert refs.rows == ("2026-09",)
    assert cells(refs) == counted(
        [
            (month(p.occurred_at), p.body.door.value)  # type: ignore[attr-defined]
            for p in truth.of["referral_made"]
            if p.occurred_at.month == 9
        ]
    )
    cut = datetime(2026, 9, 20, 12, tzinfo=UTC)
    early = derive(run.log, Period(as_of=cut), WINDOW)
    assert early.table("referrals_by_door").value((None, None)) == sum(
        1 for p in truth.of["referral_made"] if p.occurred_at <= cut
    )
    assert early.facts["period_end"] == "2026-09-20"
    known = sum(1 for p in truth.of["charges_held"] if p.occurred_at <= cut)
    assert early.table("holds").value((None, None)) == known
    assert early.table("holds").value((None, early.table("holds").columns.index("open"))) > 0


# ------------------------------------------------------------------ safe to share


def test_every_small_count_is_suppressed_and_none_can_be_recovered(published: Published) -> None:
    assert published.hidden, "the scenario must have small cells for this test to mean anything"
    for t in published.tables:
        for p in t.positions():
            if LOW <= t.value(p) <= HIGH:
                assert published.shown(t, p) is None, (t.name, p)
    assert lines_with_one_hidden(published) == []
    assert peel(published) == {}
    assert solvable(published) == set()


def test_totals_minus_published_cells_never_give_a_suppressed_cell(published: Published) -> None:
    """The spreadsheet attack on every line of the JSON itself, table by table."""
    for t in published.tables:
        for line in t.lines():
            *inner, total = line
            shown = [published.shown(t, p) for p in inner]
            total_shown = published.shown(t, total)
            hidden = [t.value(p) for p, v in zip(inner, shown, strict=True) if v is None]
            if total_shown is None or not hidden:
                continue
            rest = total_shown - sum(v for v in shown if v is not None)
            assert len(hidden) >= 2 and rest == sum(hidden)
            assert all(rest != h for h in hidden if h), (t.name, line)


def _outputs(published: Published, measures: Measures) -> dict[str, str]:
    return {
        "markdown": markdown(published, measures, {}),
        "html": to_html(published, measures, {}),
        "json": to_json(published, measures),
    }


def test_no_participant_id_name_or_free_text_in_any_output(
    published: Published, measures: Measures, truth: Plan
) -> None:
    private: set[str] = set()
    for p in truth.scenario.publications:
        private.add(p.participant_id)
        body = p.body.model_dump()
        for field in ("case_ref", "arrest_ref", "officer_id", "case_manager_id", "reviewer_id"):
            if isinstance(body.get(field), str):
                private.add(body[field])
    for fmt, text in _outputs(published, measures).items():
        leaked = sorted(s for s in private if s in text)
        assert leaked == [], (fmt, leaked[:5])
        assert "ciphertext" not in text and "dk-test" not in text


def test_json_publishes_counts_only_and_null_where_suppressed(
    published: Published, measures: Measures
) -> None:
    document = json.loads(to_json(published, measures))
    for t, shown in zip(measures.tables, document["tables"], strict=True):
        for r, row in enumerate(shown["rows"]):
            for c, v in enumerate(row["cells"]):
                assert v == published.shown(t, (r, c))
                assert v is None or (isinstance(v, int) and not LOW <= v <= HIGH)
    assert document["summary"] == summary(published, measures)


def test_charts_are_pngs_and_html_embeds_them(published: Published, measures: Measures) -> None:
    drawn = charts(published, measures)
    assert set(drawn) == {"referrals", "holds", "intake", "housing"}
    for _, png in drawn.values():
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    page = to_html(published, measures, drawn)
    assert page.count("data:image/png;base64,") == 4
    assert page.index("At a glance") < page.index("<table>")


def test_the_report_is_deterministic(run: Run) -> None:
    a = derive(run.log, Period(), WINDOW)
    b = derive(run.log, Period(), WINDOW)
    assert to_json(suppress(a.tables), a) == to_json(suppress(b.tables), b)


@pytest.mark.parametrize(("seed", "participants"), [(11, 12), (12, 25), (13, 40)])
def test_a_small_program_is_safe_too(
    seed: int,
    participants: int,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> None:
    """Few participants make most cells small: suppression has the most to do here."""
    small = run_scenario(seed, participants, codec, agencies, agency_keys, public_keys)
    measures = derive(small.log, Period(), WINDOW)
    published = suppress(measures.tables)
    assert len(published.hidden) > len(published.primary)  # complements were needed
    assert lines_with_one_hidden(published) == []
    assert peel(published) == {}
    assert solvable(published) == set()
    assert any("[suppressed]" in line for line in summary(published, measures))


@pytest.mark.parametrize(
    "period",
    [
        Period(),
        Period(date(2030, 1, 1), date(2030, 1, 31)),
        Period(as_of=datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_an_empty_log_or_period_still_reports(period: Period) -> None:
    empty = derive(ReportLog(), period, WINDOW)
    published = suppress(empty.tables)
    assert published.hidden == frozenset()
    assert "0 in the period" in markdown(published, empty, {})
    assert to_html(published, empty, charts(published, empty)).count("data:image/png") == 4
    assert json.loads(to_json(published, empty))["tables"]
