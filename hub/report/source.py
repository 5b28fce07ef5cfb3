"""Reading the log for a report, as the auditor reads it: from the archive (which
outlives the embedded broker) or from Kafka, then decoded and deduplicated.

Only the topics a report needs are read: lead.events, lead.audit, lead.rejected if the
source has it, and the headers and timestamps (never the sealed contents) of the ingest
and notify topics, which time a publication to its notices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal
from uuid import UUID

from hub.audit import LogRecord
from hub.context import HubContext
from hub.domain import JOINING, FirstSeen, Links, parse, read_decisions
from hub.errors import BrokerError
from hub.events import AUDIT, EVENTS, REJECTED, Codec, EventError, decode_body, decode_envelope
from hub.log import Archive, client_kwargs, read_topics
from hub.report.records import LoggedDecision, LoggedEvent, LoggedRejection, ReportLog

Source = Literal["archive", "kafka"]


def read(hub: HubContext, source: Source, bootstrap: Sequence[str] = ()) -> ReportLog:
    settings, codec = hub.settings, hub.codec
    timing = [s.name for s in hub.topics if s.name.startswith(("lead.ingest.", "lead.notify."))]
    if source == "kafka":
        kwargs = client_kwargs(settings)
        try:
            records = list(
                read_topics(bootstrap, [EVENTS, AUDIT, REJECTED, *timing], client_kwargs=kwargs)
            )
            has_rejected = True
        except BrokerError:  # a broker without the hub's optional topics
            records = list(read_topics(bootstrap, [EVENTS, AUDIT], client_kwargs=kwargs))
            has_rejected = False
        return decode(records, codec, has_rejected)
    archive = Archive.existing(settings.paths.archive, settings.schemas_dir)
    has_rejected = any(topic == REJECTED for topic, _ in archive.streams())
    return decode(archive.read([EVENTS, AUDIT, REJECTED, *timing]), codec, has_rejected)


def _ce_id(r: LogRecord) -> UUID | None:
    raw = next((v for k, v in r.headers or () if k == "ce_id"), None)
    try:
        return UUID(raw.decode()) if raw is not None else None
    except ValueError:
        return None


def _earliest(found: dict[UUID, int], r: LogRecord) -> None:
    at, named = getattr(r, "timestamp", None), _ce_id(r)
    if isinstance(at, int) and at >= 0 and named is not None:
        found[named] = min(found.get(named, at), at)


def decode(records: Iterable[LogRecord], codec: Codec, has_rejected: bool) -> ReportLog:
    """Records of any topics, in any topic order; each partition's own order is kept."""
    log = ReportLog(rejections=[] if has_rejected else None)
    events: FirstSeen[UUID, LoggedEvent] = FirstSeen()
    decisions: FirstSeen[UUID, LoggedDecision] = FirstSeen()
    ingested: dict[UUID, int] = {}
    canonical: dict[UUID, int] = {}
    ordered = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    for r in ordered:
        if r.topic == EVENTS:
            _earliest(canonical, r)
            try:
                envelope = decode_envelope(r.value, codec)
                body = decode_body(envelope, codec)
            except EventError:
                log.unreadable += 1
                continue
            events.keep(envelope.event_id, LoggedEvent(envelope, body))
        elif r.topic == AUDIT:
            try:
                logged = read_decisions(codec, r.value)
            except EventError:
                log.unreadable += 1
                continue
            for d in logged:
                decisions.keep(
                    d["decision_id"],
                    LoggedDecision(
                        d["decision_id"],
                        d["event_id"],
                        d["recipient"],
                        d["permit"],
                        d["reason"],
                        d["decided_at"],
                        d["event_type"],
                    ),
                )
        elif r.topic == REJECTED and log.rejections is not None:
            try:
                rejection, _ = parse(r.headers)
            except (KeyError, ValueError):
                log.unreadable += 1
                continue
            log.rejections.append(LoggedRejection(rejection.reason.value, rejection.rejected_at))
        elif r.topic.startswith("lead.ingest."):
            _earliest(ingested, r)
        elif r.topic.startswith("lead.notify."):
            _earliest(log.notified_ms, r)
    log.events = joined(list(events.values()))
    log.decisions = list(decisions.values())
    log.published_ms = {**canonical, **ingested}
    return log


def joined(events: list[LoggedEvent]) -> list[LoggedEvent]:
    """Each event of a person with linked ids counted under the person's first id (the one
    whose first event came first), as the links stand at the end of the log."""
    linking = sorted(
        (e for e in events if e.envelope.event_type in JOINING), key=lambda e: e.recorded
    )
    joins = [(e.pid, e.envelope.event_type, e.body.model_dump()) for e in linking]
    links = Links.of(joins)
    first_seen = {e.pid: i for i, e in reversed(list(enumerate(events)))}
    person: dict[str, str] = {}
    for pid in {p for one, _, body in joins for p in (one, body["linked_participant_id"])}:
        group = links.group(pid)
        if len(group) > 1:
            person[pid] = min(group, key=lambda p: first_seen.get(p, len(events)))
    return [replace(e, person=person[e.pid]) if e.pid in person else e for e in events]
