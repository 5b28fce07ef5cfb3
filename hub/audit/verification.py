"""What ``leadhub audit verify`` reports: each check's outcome, and one finding per fault.

Every check ends one of three ways, and the exit code says which was the worst:
ok (with what it proved, out of the whole population), FAIL (and where: the findings
below it), or NOT CHECKED (and why: which earlier failure, or what is missing). A check
that proved nothing is never ok. Findings are merged by place, so one altered record is
one line however many checks noticed it: the archive's record chain, replay, and the first
signed checkpoint the log no longer matches, with the later ones that fail only because of
it counted on the same line. Pure: the auditor gathers the evidence, this module words it.
"""

from __future__ import annotations

import base64
import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hub.audit.checkpoints import witness_agency
from hub.audit.log_check import LogCheck, Mismatch, Place, place_text
from hub.events import AUDIT


class Status(StrEnum):
    OK = "ok"
    FAIL = "FAIL"
    NOT_CHECKED = "NOT CHECKED"


def exit_code(rows: Sequence[dict[str, Any]]) -> int:
    """0 when everything was checked and passed, 1 on any failure, 2 when something could
    not be checked and nothing failed."""
    statuses = {r["status"] for r in rows}
    if Status.FAIL in statuses:
        return 1
    return 2 if Status.NOT_CHECKED in statuses else 0


def result_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The last row: the worst outcome, as the exit code says it, in words."""
    failed = sum(1 for r in rows if r["check"] == "finding")
    unchecked = [r["check"] for r in rows if r["status"] == Status.NOT_CHECKED]
    status = [Status.OK, Status.FAIL, Status.NOT_CHECKED][exit_code(rows)]
    parts = [f"{failed} finding(s)" if failed else "no finding"]
    if unchecked:
        parts.append(f"not checked: {', '.join(unchecked)}")
    elif not failed:
        parts.append("every check passed")
    return {"check": "result", "status": status, "detail": "; ".join(parts)}


@dataclass(frozen=True)
class Leaf:
    """A lead.audit record as the tree sees it: its place and what it names ("event <id>",
    or "decision <id>" for a record of one decision)."""

    place: Place
    label: str | None


@dataclass
class Findings:
    """Problems grouped by place, in the order first found."""

    by_place: dict[Place | str, list[str]] = field(default_factory=dict)

    def add(self, place: Place | None, what: str, where: str = "") -> None:
        key: Place | str = place if place is not None else where
        whats = self.by_place.setdefault(key, [])
        if what not in whats:
            whats.append(what)

    def rows(self, leaves: Sequence[Leaf]) -> list[dict[str, Any]]:
        labels = {leaf.place: leaf.label for leaf in leaves}
        rows = []
        for key, whats in self.by_place.items():
            if isinstance(key, tuple):
                label = labels.get(key)
                named = f" ({label})" if label else ""
                where = f"{place_text(key)}{named}"
            else:
                where = key
            rows.append(
                {
                    "check": "finding",
                    "status": Status.FAIL,
                    "detail": f"{where}: {'; '.join(whats)}",
                }
            )
        return rows


def _locate(mismatch: Mismatch, leaves: Sequence[Leaf], suspects: Sequence[Place]) -> Place | None:
    """The first suspect place within the records that hold the first fault: a record
    found altered there, or the place where one was found missing (which is where the
    records after it shifted from)."""
    offsets = [leaf.place[2] for leaf in leaves]
    topic_partition = leaves[0].place[:2] if leaves else (AUDIT, 0)
    best: tuple[int, Place] | None = None
    for place in suspects:
        if place[:2] != topic_partition:
            continue
        index = bisect.bisect_left(offsets, place[2])
        if mismatch.start <= index <= mismatch.end and (best is None or index < best[0]):
            best = (index, place)
    return best[1] if best else None


def _first_fault(mismatch: Mismatch, leaves: Sequence[Leaf]) -> tuple[str, str]:
    """What to say, and where, about the first fault when no other evidence places it on
    one record."""
    said = _checkpoint_said(mismatch)
    if mismatch.truncated:
        size = mismatch.checkpoint.checkpoint.size
        return (
            f"records removed from its end (truncated): checkpoint {size} vouches for {size} "
            f"records, the log holds {mismatch.end}; {said}",
            f"lead.audit after offset {leaves[-1].place[2]}" if leaves else "lead.audit",
        )
    first, last = leaves[mismatch.start].place, leaves[mismatch.end - 1].place
    return (
        "one of these records was edited, removed, inserted or reordered, and nothing else "
        f"places it closer; {said}",
        f"lead.audit records {mismatch.start}..{mismatch.end - 1} (offsets {first[2]}..{last[2]})",
    )


def _checkpoint_said(mismatch: Mismatch) -> str:
    cp = mismatch.checkpoint
    later = mismatch.later
    after = {0: "", 1: ", and the checkpoint after it"}.get(
        later, f", and the {later} checkpoints after it"
    )
    return (
        f"the first checkpoint that no longer matches is {cp.checkpoint.size} "
        f"({place_text(cp.place)}){after}"
    )


def check_rows(check: LogCheck) -> list[dict[str, Any]]:
    """The rows of the log's own checks: checkpoints, witnesses, the tree against the
    checkpoints, inclusion, consistency, and what no checkpoint covers yet."""
    rows: list[dict[str, Any]] = []

    def row(name: str, status: Status, detail: str) -> None:
        rows.append({"check": name, "status": status, "detail": detail})

    latest = check.latest
    bad_notes = len(check.problems)
    if latest is None:
        why = "no signed checkpoint of lead.audit"
        why += f": nothing vouches for its {check.records} records" if check.records else ""
        status = Status.FAIL if bad_notes else Status.NOT_CHECKED
        row("checkpoints", status, why + (f"; {bad_notes} invalid (below)" if bad_notes else ""))
        for name in ("witnesses", "tree", "inclusion", "consistency"):
            row(name, Status.NOT_CHECKED, "no signed checkpoint to check against")
        return rows
    sizes = sorted(check.checkpoints)
    root = base64.b64encode(latest.checkpoint.root).decode()
    valid = f"{len(sizes)} signed by the hub (sizes {sizes[0]}..{sizes[-1]}); latest root {root}"
    if bad_notes:
        row("checkpoints", Status.FAIL, f"{valid}; {bad_notes} not valid (below)")
    else:
        row("checkpoints", Status.OK, valid)
    row(*_witnesses(check))
    mismatch = check.mismatch
    matched = len(check.matched)
    if mismatch is None:
        row("tree", Status.OK, f"the log reproduces the root of all {len(sizes)} checkpoints")
    else:
        row(
            "tree",
            Status.FAIL,
            f"the log reproduces {matched} of {len(sizes)} checkpoints' roots; the first it "
            f"does not covers records {mismatch.start}..{mismatch.end - 1}, where the first "
            "fault is (below)",
        )
    size = latest.checkpoint.size
    proved = check.inclusion_proofs
    if proved == size and mismatch is None:
        proof = f"{size} of {size} records proved included in checkpoint {size}"
        row("inclusion", Status.OK, proof)
    else:
        upto = f" (in checkpoint {check.matched[-1]}, the last the log matches)" if proved else ""
        row(
            "inclusion",
            Status.NOT_CHECKED,
            f"{proved} of {size} records proved included{upto}; the other {size - proved} "
            "not checked: the log no longer matches the checkpoints that cover them",
        )
    pairs, consistent = check.pairs, check.consistency_proofs
    if consistent == pairs:
        row(
            "consistency",
            Status.OK,
            f"{consistent} of {pairs} consecutive checkpoints proved to extend the one before"
            if pairs
            else "one checkpoint: no pair to prove",
        )
    else:
        row(
            "consistency",
            Status.NOT_CHECKED,
            f"{consistent} of {pairs} consecutive checkpoints proved to extend the one before; "
            f"the other {pairs - consistent} not checked: they need records the log no longer "
            "matches",
        )
    if check.records > size:
        row(
            "coverage",
            Status.NOT_CHECKED,
            f"records {size}..{check.records - 1} come after the latest checkpoint: none vouches "
            "for them yet",
        )
    return rows


def _witnesses(check: LogCheck) -> tuple[str, Status, str]:
    witnessed = [w for w in check.checkpoints.values() if w.cosigners]
    problems = len(check.witness_problems)
    if problems:
        return "witnesses", Status.FAIL, f"{problems} cosignature(s) invalid (below)"
    if not witnessed:
        return "witnesses", Status.NOT_CHECKED, "no agency has cosigned a checkpoint yet"
    newest = max(witnessed, key=lambda w: w.checkpoint.size)
    names = sorted(witness_agency(n) for n in newest.cosigners)
    return (
        "witnesses",
        Status.OK,
        f"{len(witnessed)} checkpoint(s) cosigned, every cosignature valid; the newest, size "
        f"{newest.checkpoint.size}, by {', '.join(names)}",
    )


def log_findings(
    check: LogCheck, leaves: Sequence[Leaf], findings: Findings, unplaced: Sequence[str] = ()
) -> None:
    """Add the log's problems and the first fault to ``findings``, on the record that what
    other checks found there (already in ``findings``) places it at, when there is one;
    ``unplaced`` is what other checks say about the fault without a place (replay's
    decisions missing from the log)."""
    suspects = [k for k in findings.by_place if isinstance(k, tuple)]
    for p in [*check.problems, *check.witness_problems]:
        findings.add(p.place, p.what, "lead.audit")
    mismatch = check.mismatch
    if mismatch is None:
        return
    place = _locate(mismatch, leaves, suspects)
    where = ""
    if place is None:
        what, where = _first_fault(mismatch, leaves)
        findings.add(None, what, where)
    else:
        findings.add(place, _checkpoint_said(mismatch))
    for what in unplaced:
        findings.add(place, what, where)
