"""The policy engine on the LEAD stories it must get right, one at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from hub.domain.policy import ConsentState, DenyReason, PolicyBook, PolicyError, PolicyEvent, decide
from hub.domain.policy.explain import render_html, render_markdown, render_text
from hub.domain.policy.rules import load_policy
from hub.events.models import ConsentGranted
from tests.support.histories import AGENCIES, RECIPIENTS, default_policy
from tests.support.paths import DEPLOY

POLICY = default_policy()
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CONSENT = uuid.UUID("00000000-0000-4000-8000-000000000001")


def ev(event_type: str, source: str, at: datetime, **body: Any) -> PolicyEvent:
    return PolicyEvent(uuid.uuid4(), event_type, source, "P-STORY00001", at, body)


def grant(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "consent_id": CONSENT,
        "form_version": "lead-roi-2026.1",
        "recipients": ["sao", "bpd", "opd", "cm", "tx", "hsg", "bchd"],
        "categories": ["PROGRAM", "JUSTICE", "HEALTH", "HOUSING", "SUD_TREATMENT"],
        "purposes": [
            "CRIMINAL_JUSTICE_DIVERSION",
            "CARE_COORDINATION",
            "CASE_MANAGEMENT",
            "LEGAL_DEFENSE",
            "TREATMENT",
        ],
        "effective_at": T0,
        "expires_at": T0 + timedelta(days=365),
        "part2": {
            "patient_acknowledged": True,
            "disclosing_program": "tx",
            "information_description": "ADMISSION_DISCHARGE",
            "recipients_named": ["cm", "sao"],
            "purpose": "care coordination",
            "revocation_right_stated": True,
            "expiry_description": "one year or end of participation",
            "signed": True,
            "signed_on": date(2026, 3, 2),
            "signer_role": "PATIENT",
        },
    }
    body.update(overrides)
    return ConsentGranted.model_validate(body).model_dump()


def by_recipient(event: PolicyEvent, state: ConsentState) -> dict[str, Any]:
    return {d.recipient: d for d in decide(event, state, POLICY, RECIPIENTS)}


def consented(*extra: tuple[str, dict[str, Any]]) -> ConsentState:
    state = ConsentState().apply("consent_granted", grant())
    for event_type, body in extra:
        state = state.apply(event_type, body)
    return state


def test_no_policy_in_force_denies_everything() -> None:
    event = ev("charges_held", "sao", T0, case_ref="c1")
    decisions = decide(event, consented(), None, RECIPIENTS)
    assert decisions and all(not d.permit and d.reason is DenyReason.NO_POLICY for d in decisions)


def test_source_gets_no_decision_and_unruled_recipients_are_denied() -> None:
    event = ev(
        "charges_held",
        "sao",
        T0,
        case_ref="c1",
        charge_category="DRUG_POSSESSION",
        held_at=T0,
        intake_deadline=T0 + timedelta(days=14),
        window_days=14,
        referral_event_id=None,
    )
    d = by_recipient(event, ConsentState())
    assert "sao" not in d
    assert d["opd"].permit and d["cm"].permit and d["bpd"].permit  # consent "none"
    assert d["tx"].reason is DenyReason.NO_RULE and d["hsg"].reason is DenyReason.NO_RULE
    assert dict(d["bpd"].fields) == {"case_ref": "c1", "intake_deadline": T0 + timedelta(days=14)}


def test_treatment_never_reaches_enforcement_even_with_consent_naming_them() -> None:
    """The consent above names sao in its Part 2 recipients; the prohibition still wins."""
    event = ev(
        "treatment_admitted",
        "tx",
        T0 + timedelta(days=1),
        program_id="tx-1",
        level_of_care="IOP",
        medication="BUPRENORPHINE",
        admitted_at=T0,
    )
    d = by_recipient(event, consented())
    assert d["sao"].reason is DenyReason.PROHIBITED and d["bpd"].reason is DenyReason.PROHIBITED
    assert d["cm"].permit and d["cm"].consent_id == CONSENT
    assert d["cm"].notices == ("part2_redisclosure",)
    assert "medication" not in d["cm"].fields  # minimum necessary


def test_case_manager_needs_a_part2_consent_naming_it() -> None:
    only_sao = grant(part2={**grant()["part2"], "recipients_named": ["sao"]})
    state = ConsentState().apply("consent_granted", only_sao)
    event = ev(
        "treatment_discharged",
        "tx",
        T0 + timedelta(days=2),
        program_id="tx-1",
        reason="COMPLETED",
        discharged_at=T0,
        admission_event_id=None,
    )
    assert by_recipient(event, state)["cm"].reason is DenyReason.NO_PART2_CONSENT


def test_expiry_is_honoured_to_the_microsecond() -> None:
    state = consented()
    expires = T0 + timedelta(days=365)
    for at, permitted in [
        (T0 - timedelta(microseconds=1), False),
        (T0, True),
        (expires - timedelta(microseconds=1), True),
        (expires, False),
    ]:
        d = by_recipient(ev("status_changed", "cm", at, status="ACTIVE", reason="ENGAGED"), state)
        assert d["sao"].permit is permitted, at
    late = by_recipient(ev("status_changed", "cm", expires, status="ACTIVE"), state)
    assert late["sao"].reason is DenyReason.CONSENT_EXPIRED
    early = by_recipient(ev("status_changed", "cm", T0 - timedelta(microseconds=1)), state)
    assert early["sao"].reason is DenyReason.CONSENT_NOT_YET_EFFECTIVE


def test_revocation_applies_from_its_log_position_and_not_before() -> None:
    event = ev("status_changed", "cm", T0 + timedelta(days=3), status="ACTIVE")
    before = consented()
    after = before.apply(
        "consent_revoked", {"consent_id": CONSENT, "scope": "RECIPIENTS", "recipients": ["sao"]}
    )
    assert by_recipient(event, before)["sao"].permit  # disclosed in reliance: stays lawful
    d = by_recipient(event, after)
    assert d["sao"].reason is DenyReason.CONSENT_REVOKED
    assert d["bpd"].permit  # only sao was revoked


def test_a_2_35_lock_holds_until_the_named_event() -> None:
    locked = grant(
        criminal_justice_lock={
            "regulation": "42 CFR 2.35",
            "justice_agency": "sao",
            "case_ref": "c1",
            "locked_until_event": "charges_declined",
        }
    )
    state = ConsentState().apply("consent_granted", locked)
    state = state.apply(
        "consent_revoked", {"consent_id": CONSENT, "scope": "ALL", "recipients": []}
    )
    status = ev("status_changed", "cm", T0 + timedelta(days=5), status="ACTIVE")
    d = by_recipient(status, state)
    assert d["sao"].permit, "the prosecutor relies on the consent while charges are held"
    assert d["bpd"].reason is DenyReason.CONSENT_REVOKED
    state = state.apply("charges_declined", {"case_ref": "other-case"})
    assert by_recipient(status, state)["sao"].permit, "another case does not lift the lock"
    state = state.apply("charges_declined", {"case_ref": "c1"})
    assert by_recipient(status, state)["sao"].reason is DenyReason.CONSENT_REVOKED


def test_erasure_ends_all_sharing() -> None:
    state = consented(("participant_erased", {"basis": "EXPUNGEMENT"}))
    decisions = decide(ev("charges_filed", "sao", T0, case_ref="c1"), state, POLICY, RECIPIENTS)
    assert all(d.reason is DenyReason.ERASED for d in decisions)


def test_policy_versions_apply_from_their_publication() -> None:
    book = PolicyBook.of([POLICY])
    assert book.in_force is None
    book = book.apply(
        "policy_published", {"policy_version": POLICY.version, "policy_sha256": POLICY.sha256}
    )
    assert book.in_force is POLICY
    book = book.apply(
        "policy_published", {"policy_version": POLICY.version, "policy_sha256": "0" * 64}
    )
    assert book.in_force is None, "a hash we do not hold is not our policy"


def test_part2_consent_lacking_elements_is_rejected_naming_them() -> None:
    incomplete = {
        **grant()["part2"],
        "signed": False,
        "expiry_description": " ",
        "disclosing_program": "",
    }
    with pytest.raises(ValidationError) as err:
        grant(part2=incomplete)
    message = str(err.value)
    for element in (
        "who may disclose (disclosing_program)",
        "expiry (expiry_description)",
        "signature (signed)",
    ):
        assert element in message
    assert "date (signed_on)" not in message
    with pytest.raises(ValidationError, match=r"lacks every 42 CFR 2\.31 element"):
        grant(part2=None)


POLICY_ERRORS = [
    (lambda d: d["rules"][0].update(recipient="fbi"), "unknown agency 'fbi'"),
    (lambda d: d["rules"][0]["disclose"].update(not_an_event=[]), "unknown event type"),
    (lambda d: d["rules"][0]["disclose"].update(referral_made=["door", "name"]), "no field 'name'"),
    (lambda d: d["rules"][0].update(notices=["nope"]), "unknown notice 'nope'"),
    (lambda d: d["rules"][1].update(id=d["rules"][0]["id"]), "duplicate rule id"),
    (
        lambda d: d["rules"][0]["disclose"].update(treatment_admitted=["program_id"]),
        "breaks prohibition part2-never-to-enforcement",
    ),
    (
        lambda d: d["rules"][0]["disclose"].update(case_contact_logged=["contact_type"]),
        "breaks prohibition care-never-to-enforcement",
    ),
    (lambda d: d["rules"].append({**d["rules"][0], "id": "again"}), "already decided by"),
    (
        lambda d: next(r for r in d["rules"] if r["id"] == "cm.treatment").update(
            consent="program"
        ),
        "consent must be part2",
    ),
    (
        lambda d: next(r for r in d["rules"] if r["id"] == "cm.treatment").update(notices=[]),
        "must carry 'part2_redisclosure'",
    ),
    (lambda d: d["rules"][0].update(purpose="CURIOSITY"), "purpose"),
    (lambda d: d["linkage"].update(reviewer="nsa"), "unknown reviewer 'nsa'"),
    (lambda d: d["linkage"].update(reviewer="hsg"), "tasks would reach no one"),
    (lambda d: d["linkage"].update(probable_weight=25), "probable_weight is above match_weight"),
]


@pytest.mark.parametrize(("mutate", "expected"), POLICY_ERRORS)
def test_policy_check_names_what_is_wrong(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = yaml.safe_load((DEPLOY / "policy.yaml").read_text())
    mutate(data)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError) as err:
        load_policy(path, AGENCIES)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_policy_written_before_linkage_still_loads(tmp_path: Path) -> None:
    """An archived version with no linkage section (and so no rule for its events) is
    still put in force by replay: linkage's defaults hold, its events are denied to all."""
    data = yaml.safe_load((DEPLOY / "policy.yaml").read_text())
    del data["linkage"]
    data["rules"] = [r for r in data["rules"] if r["id"] != "cm.linkage"]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    older = load_policy(path, AGENCIES)
    assert older.linkage.thresholds.match == 20.0
    assert older.rule_for("cm", "match_suspected") is None


def test_explain_reads_as_the_golden_rule() -> None:
    emits = {"sao": {"charges_held"}, "tx": {"treatment_admitted"}}
    text = render_text(POLICY, RECIPIENTS, emits)
    rows = {line.split()[0]: line.split()[2:] for line in text.splitlines() if "[" in line[:40]}
    assert rows["treatment_admitted"][:2] == ["NEVER", "NEVER"]  # bpd, sao
    assert rows["case_contact_logged"][:2] == ["NEVER", "NEVER"]
    assert "own" in rows["charges_held"]
    assert "Part" in rows["treatment_admitted"]  # Part 2 to cm
    md = render_markdown(POLICY, RECIPIENTS, emits)
    assert "| `treatment_admitted` | sud_treatment | NEVER | NEVER |" in md
    page = render_html(POLICY, RECIPIENTS, emits)
    assert page.startswith("<!doctype html>") and "<td class='NEVER'" in page
