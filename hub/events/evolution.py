"""The schema evolution gate: no change may stop the hub reading what agencies wrote.

``released/lock.json`` lists, per subject, every released version and its fingerprint;
``released/<subject>/v<N>.avsc`` holds it frozen and expanded. ``check`` proves the
released files are untouched, that no subject disappeared, and that each head can read
every released version (BACKWARD_TRANSITIVE, via avro's own compatibility checker).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from hub.events.schemas import LOCK_FILE, fingerprint64, load_current, load_lock, released_path


class Status(StrEnum):
    UNCHANGED = "unchanged"  # head equals the latest release
    COMPATIBLE = "compatible"  # head differs, reads every release: release it when ready
    NEW = "new"  # never released
    INCOMPATIBLE = "incompatible"
    REMOVED = "removed"  # released, but no head any more: old events would be unreadable
    TAMPERED = "tampered"  # a released file no longer matches its locked fingerprint


@dataclass(frozen=True)
class SubjectReport:
    subject: str
    status: Status
    latest_release: int | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status not in (Status.INCOMPATIBLE, Status.REMOVED, Status.TAMPERED)


def _avro(schema: Any) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(schema))


def reads(reader: Any, writer: Any) -> tuple[bool, str]:
    """Whether data written with ``writer`` can be read with ``reader``, and why not."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(_avro(reader), _avro(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return True, ""
    messages = "; ".join(sorted(result.messages)) or "incompatible"
    where = "; ".join(sorted(result.locations))
    return False, f"{messages} at {where}" if where else messages


def check(schemas_dir: Path) -> list[SubjectReport]:
    heads = load_current(schemas_dir)
    lock = load_lock(schemas_dir)
    reports: list[SubjectReport] = []
    for subject in sorted(set(heads) | set(lock)):
        releases = lock.get(subject, [])
        latest = max((int(r["version"]) for r in releases), default=None)
        if subject not in heads:
            reports.append(SubjectReport(subject, Status.REMOVED, latest, "released, now missing"))
            continue
        head = heads[subject]
        report = SubjectReport(subject, Status.NEW if latest is None else Status.UNCHANGED, latest)
        for release in sorted(releases, key=lambda r: int(r["version"])):
            version = int(release["version"])
            frozen = json.loads(released_path(schemas_dir, subject, version).read_text("utf-8"))
            if fingerprint64(frozen).hex() != release["fingerprint"]:
                report = SubjectReport(subject, Status.TAMPERED, latest, f"v{version} was edited")
                break
            ok, why = reads(head, frozen)
            if not ok:
                report = SubjectReport(
                    subject, Status.INCOMPATIBLE, latest, f"cannot read v{version}: {why}"
                )
                break
        else:
            if latest is not None and fingerprint64(head).hex() != releases[-1]["fingerprint"]:
                report = SubjectReport(subject, Status.COMPATIBLE, latest)
        reports.append(report)
    return reports


def release(schemas_dir: Path) -> list[str]:
    """Freeze every new or changed head as its next version; refuses if the gate fails."""
    reports = check(schemas_dir)
    failing = [r for r in reports if not r.ok]
    if failing:
        first = failing[0]
        raise ValueError(f"{first.subject}: {first.status.value}: {first.detail}")
    heads = load_current(schemas_dir)
    lock = load_lock(schemas_dir)
    released: list[str] = []
    for r in reports:
        if r.status not in (Status.NEW, Status.COMPATIBLE):
            continue
        version = (r.latest_release or 0) + 1
        path = released_path(schemas_dir, r.subject, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(heads[r.subject], indent=2) + "\n", encoding="utf-8")
        fp = fingerprint64(heads[r.subject]).hex()
        lock.setdefault(r.subject, []).append({"version": version, "fingerprint": fp})
        released.append(f"{r.subject} v{version}")
    lock_path = schemas_dir / "released" / LOCK_FILE
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return released
