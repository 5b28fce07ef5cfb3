"""The auditor's views of the log: integrity, lawfulness, accounting and point in time.

Everything here reads. Sources are the running broker or the archive, which auditors can
hold years after the broker is gone. The pure checks are the rest of ``hub.audit``; this
module gathers the records and shapes rows for a person, a program or a spreadsheet (the
command line and the API render them).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from hub.audit.checkpoints import log_keys, tree_of, witness_keys
from hub.audit.log_check import LogCheck, place_text, verify_log
from hub.audit.replay import (
    MISSING,
    Comparison,
    LogRecord,
    Replay,
    decision_named,
    diff,
    logged_decisions,
    replay_events,
    suspects,
)
from hub.audit.verification import (
    Findings,
    Leaf,
    Status,
    check_rows,
    log_findings,
    result_row,
)
from hub.config import Settings
from hub.context import HubContext
from hub.domain import Links, jsonable, load_all, notice_id, read_decisions
from hub.errors import HubError
from hub.events import (
    AUDIT,
    CHECKPOINTS,
    ENCRYPTED,
    EVENTS,
    HUB,
    Envelope,
    EventError,
    decode_envelope,
    ingest_topic,
)
from hub.log import AUDITOR, Archive, ArchivedRecord, check_archive, client_kwargs, read_topics

Source = Literal["archive", "kafka"]
SUBMITTED = ingest_topic(HUB)  # the hub's own events (lapses) on their way to lead.events


@dataclass
class AuditLog:
    """The topics an auditor needs, each in log order per partition."""

    events: list[LogRecord] = field(default_factory=list)
    audit: list[LogRecord] = field(default_factory=list)
    checkpoints: list[LogRecord] = field(default_factory=list)
    submitted: list[LogRecord] = field(default_factory=list)  # lead.ingest.hub
    archive: Archive | None = None

    def add(self, records: Iterable[LogRecord]) -> AuditLog:
        by_topic = {
            EVENTS: self.events,
            AUDIT: self.audit,
            CHECKPOINTS: self.checkpoints,
            SUBMITTED: self.submitted,
        }
        for r in records:
            target = by_topic.get(r.topic)
            if target is not None:
                target.append(r)
        for records_of in by_topic.values():
            records_of.sort(key=lambda r: (r.partition, r.offset))
        return self


def read_log(
    settings: Settings,
    source: Source,
    bootstrap: Sequence[str] = (),
    archive_dir: Path | None = None,
) -> AuditLog:
    """The log from the running broker, or from the archive (the hub's own, or a copy of it
    at ``archive_dir``)."""
    topics = [EVENTS, AUDIT, CHECKPOINTS, SUBMITTED]
    if source == "kafka":
        kwargs = client_kwargs(settings, AUDITOR)
        return AuditLog().add(read_topics(bootstrap, topics, client_kwargs=kwargs))
    archive = Archive.existing(archive_dir or settings.paths.archive, settings.schemas_dir)
    records: Iterable[ArchivedRecord] = archive.read(topics)
    log = AuditLog(archive=archive)
    return log.add(records)


def _at(e: Envelope) -> datetime:
    return e.recorded_at or e.occurred_at


def _shown(fields: Any) -> str:
    def value(v: Any) -> Any:
        if isinstance(v, dict) and {"plaintext_type", "ciphertext"} <= v.keys():
            return ENCRYPTED
        return jsonable(v)

    return " ".join(f"{k}={json.dumps(value(v), ensure_ascii=False)}" for k, v in fields.items())


def _label(r: LogRecord) -> str | None:
    """What a lead.audit record names: an event (one record per event), or one decision
    (as hubs wrote them before)."""
    headers = dict(r.headers or [])
    named = headers.get("ce_id")
    if named is None:
        return None
    kind = "decision" if headers.get("ce_type", b"").endswith(b".audit_decision") else "event"
    return f"{kind} {named.decode('utf-8', 'replace')}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class _Checks:
    """The auditor's integrity checks and proof service (mixed into Auditor)."""

    hub: HubContext
    log: AuditLog
    processes: int
    _replay: Replay | None
    _comparison: Comparison | None
    _verified: tuple[list[dict[str, Any]], Findings] | None

    @property
    def replay(self) -> Replay:
        if self._replay is None:
            hub = self.hub
            policies = load_all(hub.paths.policies, hub.agencies, hub.settings.policy_file)
            self._replay = replay_events(
                self.log.events,
                hub.codec,
                hub.public_keys,
                policies,
                hub.recipients,
                processes=self.processes,
            )
        return self._replay

    def log_check(self) -> LogCheck:
        origin = self.hub.settings.audit.origin
        notes = [
            ((r.topic, r.partition, r.offset), r.value.decode("utf-8", "replace"))
            for r in self.log.checkpoints
        ]
        return verify_log(
            [r.value for r in self.log.audit],
            notes,
            origin,
            log_keys(origin, self.hub.public_keys),
            witness_keys(origin, self.hub.public_keys),
        )

    def verify(self) -> list[dict[str, Any]]:
        """Each check's outcome, then one finding per fault (hub.audit.verification)."""
        checks, findings = self._verification()
        rows = [*checks, *findings.rows(self._leaves())]
        return [*rows, result_row(rows)]

    def _compared(self) -> Comparison:
        if self._comparison is None:
            submitted = set()
            for r in self.log.submitted:
                try:
                    submitted.add(decode_envelope(r.value, self.hub.codec).event_id)
                except EventError:
                    continue  # the gatekeeper refuses it from lead.ingest.hub like any other
            self._comparison = diff(self.replay, self.log.audit, self.hub.codec, submitted)
        return self._comparison

    def _leaves(self) -> list[Leaf]:
        return [Leaf((r.topic, r.partition, r.offset), _label(r)) for r in self.log.audit]

    def _decisions_in(self, r: LogRecord) -> list[str]:
        """The ids of the decisions a lead.audit record holds (none if it is unreadable)."""
        try:
            return [str(d["decision_id"]) for d in read_decisions(self.hub.codec, r.value)]
        except EventError:
            return []

    def _verification(self) -> tuple[list[dict[str, Any]], Findings]:
        if self._verified is not None:
            return self._verified
        rows: list[dict[str, Any]] = []
        findings = Findings()
        if self.log.archive is not None:
            rows.append(self._archive_row(findings))
        check = self.log_check()
        rows += check_rows(check)
        leaves = self._leaves()
        missing: list[str] = []
        if check.mismatch is not None:  # replay's word on the records the checkpoints lost
            for index, why in suspects(self.replay, self.log.audit, self.hub.codec):
                if index >= check.mismatch.start:
                    findings.add(leaves[index].place, why)
            missing = [f for f in self._compared().findings if f.endswith(MISSING)]
        log_findings(check, leaves, findings, missing)
        self._verified = rows, findings
        return self._verified

    def _archive_row(self, findings: Findings) -> dict[str, Any]:
        archive = self.log.archive
        assert archive is not None
        origin = self.hub.settings.audit.origin
        found = check_archive(archive, origin, log_keys(origin, self.hub.public_keys))
        for f in found:
            if f.place is None:
                findings.add(None, f.problem, f.where)
            else:
                findings.add(f.place, f"{f.problem} ({f.where})")
        segments = sum(len(archive.segment_files(*s)) for s in archive.streams())
        scope = f"{len(archive.streams())} streams, {segments} segments"
        if found:
            return {"check": "archive", "status": Status.FAIL, "detail": f"{scope}: see below"}
        return {
            "check": "archive",
            "status": Status.OK,
            "detail": f"{scope}: every record chain, segment link and signed head verified",
        }

    def prove(self, *, decision: str | None, since: int | None) -> dict[str, Any]:
        check = self.log_check()
        latest = check.latest
        if latest is None or not check.intact:
            raise HubError("the log does not verify: run `leadhub audit verify`")
        cp = latest.checkpoint
        tree = tree_of(r.value for r in self.log.audit[: cp.size])
        proof: dict[str, Any] = {"origin": cp.origin, "tree_size": cp.size}
        if decision is not None:
            index = next(
                (
                    i
                    for i, r in enumerate(self.log.audit[: cp.size])
                    if decision in self._decisions_in(r)
                ),
                None,
            )
            if index is None:
                raise HubError(f"decision {decision!r} is not in a checkpointed part of the log")
            proof |= {
                "leaf_index": index,
                "leaf_hash": _b64(tree.leaf(index)),
                "inclusion_proof": [_b64(h) for h in tree.inclusion_proof(index, cp.size)],
            }
        else:
            assert since is not None
            if not 0 < since <= cp.size:
                raise HubError(f"--since must be between 1 and {cp.size}")
            proof |= {
                "size1": since,
                "root1": _b64(tree.root(since)),
                "consistency_proof": [_b64(h) for h in tree.consistency_proof(since, cp.size)],
            }
        proof["checkpoint"] = self._note_of(cp.size)
        return proof

    def _note_of(self, size: int) -> str:
        for r in self.log.checkpoints:
            if r.key == str(size).encode():
                return r.value.decode()
        raise HubError(f"no checkpoint note of size {size}")


@dataclass
class Auditor(_Checks):
    """One auditor session over one log: replay runs once and serves every view, in
    ``processes`` forked processes (the command line takes as many as its cores pay for,
    ``processes_for``; a process serving pages, with threads of its own, replays in
    itself)."""

    hub: HubContext
    log: AuditLog
    processes: int = 1
    _replay: Replay | None = None
    _comparison: Comparison | None = None
    _verified: tuple[list[dict[str, Any]], Findings] | None = None

    def replay_findings(self) -> tuple[list[str], dict[str, int]]:
        """Findings, and the counts: ``decisions_pending`` and ``due_pending`` are what
        the hub had still in flight when the log was read (see hub.audit.replay). A finding
        about a decision on lead.audit names its record, and says when ``verify`` finds
        that record altered: the same fault, seen from both sides."""
        compared = self._compared()
        summary = {
            "events": self.replay.events,
            "decisions_derived": len(self.replay.decisions),
            "decisions_logged": compared.logged,
            "decisions_pending": compared.pending_decisions,
            "due_pending": compared.pending_due,
            "audit_records": len(self.log.audit),
            "permits": sum(1 for d in self.replay.decisions.values() if d["permit"]),
        }
        if not compared.findings:
            return [], summary
        places = {
            decision: (r.topic, r.partition, r.offset)
            for r in self.log.audit
            for decision in self._decisions_in(r)
        }
        altered = self._verification()[1].by_place
        placed = []
        for f in compared.findings:
            place = places.get(decision_named(f) or "")
            if place is not None:
                seen = "; audit verify finds this record altered" if place in altered else ""
                placed.append(f"{f} [{place_text(place)}{seen}]")
                continue
            # a decision missing from the log: verify may have found where it was taken out
            where = next((k for k, whats in altered.items() if f in whats), None)
            if isinstance(where, tuple):
                f = f"{f} [audit verify finds the log broken at {place_text(where)}]"  # noqa: PLW2901
            placed.append(f)
        return placed, summary

    def disclosures(self, participant: str) -> list[dict[str, Any]]:
        """The accounting of disclosures (42 CFR 2.25, HIPAA 164.528): every permit about
        the participant on lead.audit, as logged (not as replay says: what happened)."""
        logged, _ = logged_decisions(self.log.audit, self.hub.codec)
        rows = [
            {
                "disclosed_at": d["decided_at"],
                "recipient": d["recipient"],
                "event_type": d["event_type"],
                "event_id": d["event_id"],
                "fields": ", ".join(d["fields_disclosed"]),
                "purpose": d["purpose"],
                "rule": d["rule_id"],
                "consent": d["consent_id"],
                "policy": d["policy_version"],
                "notices": ", ".join(d["notices"]),
            }
            for d in logged.values()
            if d["participant_id"] == participant and d["permit"]
        ]
        self._known(participant)
        return sorted(rows, key=lambda r: (r["disclosed_at"], r["recipient"]))

    def timeline(
        self, participant: str, as_of: datetime, as_seen_by: str | None = None
    ) -> list[dict[str, Any]]:
        """What the hub had recorded about the participant by ``as_of`` (by the log's
        time, recorded_at: offsets_for_times is broken on the embedded broker), and, for an
        agency, what of it that agency had been shown: its own events and its permits. With
        the events of every id linked to the participant by then (for an agency: by the
        links it was shown), each row naming the id it was recorded under."""
        self._known(participant)
        if as_seen_by is not None and as_seen_by not in self.hub.agencies:
            raise HubError(f"unknown agency {as_seen_by!r}")
        ids = self.person(participant, as_of, as_seen_by)
        rows: list[dict[str, Any]] = []
        for e in self.replay.envelopes.values():
            if e.participant_id not in ids or _at(e) > as_of:
                continue
            row: dict[str, Any] = {
                "recorded_at": e.recorded_at,
                "occurred_at": e.occurred_at,
                "source": e.source,
                "event_type": e.event_type,
                "event_id": e.event_id,
            }
            if len(ids) > 1:
                row["participant_id"] = e.participant_id
            if as_seen_by is not None:
                seen = self._seen_by(e, as_seen_by)
                if seen is None:
                    continue
                row["seen"], row["shown"] = seen
            rows.append(row)
        return sorted(rows, key=lambda r: r["recorded_at"]) if len(ids) > 1 else rows

    def person(
        self, participant: str, as_of: datetime, as_seen_by: str | None = None
    ) -> frozenset[str]:
        """The participant's ids by ``as_of``: linked by the log (for an agency, by the
        links it published or was shown)."""
        joins = sorted(self.replay.joins, key=lambda j: _at(j[0]))
        return Links.of(
            (e.participant_id, e.event_type, body)
            for e, body in joins
            if _at(e) <= as_of and (as_seen_by is None or self._seen_by(e, as_seen_by))
        ).group(participant)

    def _seen_by(self, e: Envelope, agency: str) -> tuple[str, str] | None:
        """How ``agency`` saw the event (seen, shown), or None if it did not."""
        if e.source == agency:
            return "own event", "all (its own record)"
        decision = self.replay.disclosed.get(notice_id(e.event_id, agency))
        if decision is None:
            return None
        return f"notice ({decision.rule_id})", _shown(decision.fields)

    def _known(self, participant: str) -> None:
        if not any(e.participant_id == participant for e in self.replay.envelopes.values()):
            raise HubError(f"no events about participant {participant!r} in the log")
