"""What `leadhub audit verify` says for each kind of fault: one finding at its place, the
later checkpoints that fail with it on the same line, and no "ok" for anything unproved."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit.checkpoints import signed_checkpoint, tree_of
from hub.audit.log_check import Place, Problem, verify_log
from hub.audit.verification import (
    Findings,
    Leaf,
    Status,
    check_rows,
    exit_code,
    log_findings,
    result_row,
)
from hub.crypto import note

ORIGIN = "leadhub.test/audit"
HUB = Ed25519PrivateKey.generate()
LOG_KEYS = [note.NoteKey(ORIGIN, HUB.public_key(), note.ED25519)]
EVERY = 8  # records between checkpoints


def _log(n: int) -> list[tuple[Place, bytes]]:
    # offsets step by two, as a transaction's marker follows each record on lead.audit
    return [(("lead.audit", 0, 2 * i), f"decision {i}".encode()) for i in range(n)]


def _notes(values: list[bytes]) -> list[tuple[Place, str]]:
    sizes = [*range(EVERY, len(values), EVERY), len(values)]
    return [
        (("lead.checkpoints", 0, i), signed_checkpoint(ORIGIN, tree_of(values[:n]), HUB))
        for i, n in enumerate(sizes)
    ]


def _verify(
    log: list[tuple[Place, bytes]], notes: list[tuple[Place, str]], evidence: list[Problem]
) -> list[dict[str, Any]]:
    """The rows the auditor prints, from the log as found and the evidence other checks
    (the archive's chains, replay) give about single records."""
    check = verify_log([v for _, v in log], notes, ORIGIN, LOG_KEYS)
    leaves = [Leaf(place, f"event d{place[2]}") for place, _ in log]
    findings = Findings()
    for e in evidence:
        findings.add(e.place, e.what)
    rows = check_rows(check)
    log_findings(check, leaves, findings)
    rows += findings.rows(leaves)
    return [*rows, result_row(rows)]


def _by_check(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {r["check"]: r["status"] for r in rows if r["check"] != "finding"}


def _found(rows: list[dict[str, Any]]) -> list[str]:
    return [r["detail"] for r in rows if r["check"] == "finding"]


ORIGINAL = _log(40)
NOTES = _notes([v for _, v in ORIGINAL])


def test_an_honest_log_is_all_ok_with_whole_counts() -> None:
    rows = _verify(ORIGINAL, NOTES, [])
    assert _found(rows) == []
    checks = _by_check(rows)
    assert checks.pop("witnesses") == checks.pop("result") == Status.NOT_CHECKED
    assert set(checks.values()) == {Status.OK} and exit_code(rows) == 2
    details = {r["check"]: r["detail"] for r in rows}
    assert details["inclusion"] == "40 of 40 records proved included in checkpoint 40"
    assert details["consistency"].startswith("4 of 4 consecutive checkpoints")
    assert details["result"] == "no finding; not checked: witnesses", "no cosignature yet"


def test_an_edited_decision_is_one_finding_with_the_checkpoints_it_breaks() -> None:
    log = list(ORIGINAL)
    log[10] = (log[10][0], b"decision 10, now a permit")
    said = "replay derives this record differently (edited)"
    rows = _verify(log, NOTES, [Problem(log[10][0], said)])
    assert _found(rows) == [
        f"lead.audit/0 offset 20 (event d20): {said}; the first checkpoint that no longer "
        "matches is 16 (lead.checkpoints/0 offset 1), and the 3 checkpoints after it"
    ]
    checks = _by_check(rows)
    assert (checks["tree"], checks["inclusion"], checks["consistency"]) == (
        Status.FAIL,
        Status.NOT_CHECKED,
        Status.NOT_CHECKED,
    )
    inclusion = next(r["detail"] for r in rows if r["check"] == "inclusion")
    assert inclusion.startswith("8 of 40 records proved included (in checkpoint 8")
    assert exit_code(rows) == 1 and rows[-1]["status"] == Status.FAIL


def test_without_other_evidence_the_finding_is_the_records_between_two_checkpoints() -> None:
    log = list(ORIGINAL)
    log[10] = (log[10][0], b"edited")
    assert _found(_verify(log, NOTES, [])) == [
        "lead.audit records 8..15 (offsets 16..30): one of these records was edited, removed, "
        "inserted or reordered, and nothing else places it closer; the first checkpoint that "
        "no longer matches is 16 (lead.checkpoints/0 offset 1), and the 3 checkpoints after it"
    ]


def test_a_deleted_record_is_placed_where_the_chain_breaks() -> None:
    log = ORIGINAL[:25] + ORIGINAL[26:]
    said = "does not continue the chain: edited, or a record before it removed (from 50..51)"
    missing = Problem(ORIGINAL[26][0], said)
    assert _found(_verify(log, NOTES, [missing])) == [
        f"lead.audit/0 offset 52 (event d52): {said}; the first checkpoint that no longer "
        "matches is 32 (lead.checkpoints/0 offset 3), and the checkpoint after it"
    ]


def test_an_inserted_forgery_and_a_swap_are_placed_on_their_record() -> None:
    forged = (("lead.audit", 0, 5), b"a forged permit")
    log = [*ORIGINAL[:3], forged, *ORIGINAL[3:]]
    why = "replay derives no such record (forged or inserted)"
    found = _found(_verify(log, NOTES, [Problem(forged[0], why)]))
    assert found == [
        f"lead.audit/0 offset 5 (event d5): {why}; the first checkpoint that no longer "
        "matches is 8 (lead.checkpoints/0 offset 0), and the 4 checkpoints after it"
    ]
    swapped = list(ORIGINAL)
    swapped[33], swapped[34] = swapped[34], swapped[33]
    why = "reordered: found after offset 68"
    found = _found(_verify(swapped, NOTES, [Problem(ORIGINAL[33][0], why)]))
    assert found == [
        f"lead.audit/0 offset 66 (event d66): {why}; the first checkpoint that no longer "
        "matches is 40 (lead.checkpoints/0 offset 4)"
    ]


def test_a_truncated_log_says_how_much_is_gone() -> None:
    rows = _verify(ORIGINAL[:37], NOTES, [])
    assert _found(rows) == [
        "lead.audit after offset 72: records removed from its end (truncated): checkpoint 40 "
        "vouches for 40 records, the log holds 37; the first checkpoint that no longer "
        "matches is 40 (lead.checkpoints/0 offset 4)"
    ]
    assert exit_code(rows) == 1


def test_a_dropped_or_forged_checkpoint() -> None:
    # a dropped checkpoint leaves the others to check: nothing the log proves is lost
    rows = _verify(ORIGINAL, NOTES[:2] + NOTES[3:], [])
    assert _found(rows) == [] and _by_check(rows)["tree"] == Status.OK
    forger = Ed25519PrivateKey.generate()
    forged = (("lead.checkpoints", 0, 9), signed_checkpoint(ORIGIN, tree_of([b"x"]), forger))
    rows = _verify(ORIGINAL, [*NOTES, forged], [])
    assert _found(rows) == [
        "lead.checkpoints/0 offset 9: not a checkpoint signed by the hub: note has no "
        "signature from a known key"
    ]
    assert _by_check(rows)["checkpoints"] == Status.FAIL and exit_code(rows) == 1


def test_no_checkpoint_at_all_is_not_checked_not_ok() -> None:
    rows = _verify(ORIGINAL, [], [])
    checks = _by_check(rows)
    assert checks["checkpoints"] == checks["inclusion"] == Status.NOT_CHECKED
    assert Status.OK not in checks.values() and exit_code(rows) == 2


def test_records_after_the_latest_checkpoint_are_not_checked() -> None:
    rows = _verify(ORIGINAL + _log(43)[40:], NOTES, [])
    assert _by_check(rows)["coverage"] == Status.NOT_CHECKED
    assert "records 40..42 come after the latest checkpoint" in str(rows)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["edit", "delete", "insert", "swap", "truncate"]),
    at=st.integers(0, 38),
    placed=st.booleans(),
)
def test_any_single_fault_is_exactly_one_finding_and_never_ok(
    kind: str, at: int, placed: bool
) -> None:
    """Whatever the fault and wherever it is, one finding names it (at its record when
    evidence places it, else between the two checkpoints around it), every check that it
    stopped is not ok, and the exit code is 1."""
    log = list(ORIGINAL)
    place = ORIGINAL[at][0]
    if kind == "edit":
        log[at] = (place, b"edited")
    elif kind == "delete":
        del log[at]
    elif kind == "insert":
        place = ("lead.audit", 0, 2 * at + 1)  # in the gap a marker leaves after ``at``
        log.insert(at + 1, (place, b"forged"))
    elif kind == "swap":
        log[at], log[at + 1] = log[at + 1], log[at]
    else:
        log = log[:at]
        place = ORIGINAL[at][0]
    evidence = [Problem(place, f"{kind} here")] if placed else []
    rows = _verify(log, NOTES, evidence)
    found = _found(rows)
    assert len(found) == 1, found
    if placed:
        assert found[0].startswith(f"lead.audit/0 offset {place[2]}")
    assert "the first checkpoint that no longer matches" in found[0]
    checks = _by_check(rows)
    assert checks["tree"] == Status.FAIL and checks["inclusion"] != Status.OK
    assert exit_code(rows) == 1
