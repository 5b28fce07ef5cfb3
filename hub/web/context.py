"""What the HTTP layer needs from the worker it runs in: submit to the gatekeeper and hear
its verdict, log a read before answering it, and the auditor's views over the live log.

Submissions go onto the agency's ingest topic like any other record, so the same
gatekeeper decides them; the worker reports each ingest record's verdict here by its
topic, partition and offset (``settle``), which is how a request learns what happened to
exactly its record. A worker that does not hold the record's partition never hears, and
the request is answered "submitted, verdict pending" after ``verdict_timeout_s``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from hub.config import Settings
from hub.context import HubContext
from hub.crypto import PublicKeys, SigningKey
from hub.domain import PREFIX, AgencyRegistry, acknowledgement_id
from hub.events import (
    EVENTS,
    REJECTED,
    Codec,
    NoticeAcknowledged,
    RecordsViewed,
    ViewKind,
    cloudevents_headers,
    encode_envelope,
    ingest_topic,
    sign_event,
)
from hub.web.auth import RequestVerifier, SessionVerifier
from hub.web.shown import Shown
from hub.web.story import Story
from hub.web.view import DisclosureView

RECENT_VERDICTS = 50_000
Position = tuple[str, int, int]
# (topic, key, value, headers) -> (partition, offset), once the broker has it
Produce = Callable[[str, bytes | None, bytes, list[tuple[str, bytes]]], Awaitable[tuple[int, int]]]


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    event_id: str | None = None
    reason: str | None = None
    detail: str | None = None


def verdict_of(outs: Sequence[Any]) -> Verdict:
    """The gatekeeper's outputs for one ingest record, read as a verdict."""
    for out in outs:
        headers = dict(out.headers)
        if out.topic == EVENTS:
            return Verdict(True, event_id=headers["ce_id"].decode())
        if out.topic == REJECTED:
            return Verdict(
                False,
                reason=headers[f"{PREFIX}reason"].decode(),
                detail=headers.get(f"{PREFIX}detail", b"").decode(errors="replace"),
            )
    return Verdict(True, detail="a repeat of a record already forwarded")


@dataclass
class WebContext:
    hub: HubContext
    bootstrap: list[str]
    view: DisclosureView = field(default_factory=DisclosureView)
    produce: Produce | None = None  # bound to the worker's producer once it runs
    counts: dict[str, int] = field(default_factory=dict)
    _recent: OrderedDict[Position, Verdict] = field(default_factory=OrderedDict)
    _waiting: dict[Position, asyncio.Future[Verdict]] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.hub.settings

    @cached_property
    def story(self) -> Story:
        """Events as sentences, times in the site's zone (the pages)."""
        return Story(self.settings.site.time_zone)

    @property
    def codec(self) -> Codec:
        return self.hub.codec

    @property
    def agencies(self) -> AgencyRegistry:
        return self.hub.agencies

    @property
    def keys(self) -> PublicKeys:
        return self.hub.public_keys

    @property
    def hub_key(self) -> SigningKey:
        return self.hub.hub_key

    @property
    def requests(self) -> RequestVerifier:
        return RequestVerifier(self.keys, self.settings.web.clock_skew_s)

    @property
    def sessions(self) -> SessionVerifier:
        return SessionVerifier(self.keys, self.hub_key.key_id, frozenset(self.agencies))

    @property
    def auditors(self) -> frozenset[str]:
        return frozenset(self.settings.web.auditors)

    def settle(self, position: Position, outs: Sequence[Any]) -> None:
        """The gatekeeper's verdict on one ingest record (called by the worker, on its loop,
        after the outputs are on the log)."""
        verdict = verdict_of(outs)
        waiter = self._waiting.pop(position, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(verdict)
            return
        self._recent[position] = verdict
        while len(self._recent) > RECENT_VERDICTS:
            self._recent.popitem(last=False)

    async def submit(
        self, agency: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> tuple[Position, Verdict | None]:
        """Onto the agency's ingest topic; the verdict, or None if none came in time."""
        assert self.produce is not None, "the worker binds produce before serving"
        topic = ingest_topic(agency)
        partition, offset = await self.produce(topic, key, value, headers)
        position = (topic, partition, offset)
        known = self._recent.pop(position, None)
        if known is not None:
            return position, known
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[position] = waiter
        try:
            return position, await asyncio.wait_for(waiter, self.settings.web.verdict_timeout_s)
        except TimeoutError:
            return position, None
        finally:
            self._waiting.pop(position, None)

    async def record_views(
        self, viewer: str, view: ViewKind, shown: Mapping[str, Sequence[uuid.UUID]]
    ) -> uuid.UUID:
        """Log, before answering, that ``viewer`` was shown these events of each participant:
        a read is a disclosure, and the accounting of disclosures must list it."""
        assert self.produce is not None, "the worker binds produce before serving"
        request_id = uuid.uuid4()
        now = self.now()
        sends = []
        for participant, event_ids in shown.items():
            body = RecordsViewed(
                viewer=viewer, view=view, event_ids=list(event_ids), request_id=request_id
            )
            envelope = sign_event(
                body,
                codec=self.codec,
                key=self.hub_key,
                participant_id=participant,
                occurred_at=now,
            )
            sends.append(
                self.produce(
                    ingest_topic(self.hub_key.agency),
                    participant.encode(),
                    encode_envelope(envelope, self.codec),
                    cloudevents_headers(envelope),
                )
            )
        await asyncio.gather(*sends)
        self.counts[f"views.{viewer}"] = self.counts.get(f"views.{viewer}", 0) + len(sends)
        return request_id

    async def acknowledge(self, agency: str, notice: Shown) -> Verdict | None:
        """A notice acknowledged by a person signed in to the pages as ``agency``: the hub
        signs notice_acknowledged on the agency's behalf (the agency's private key stays
        in its own system), naming the agency as the recipient; the gatekeeper admits it
        like any event, and its id is derived from the notice, so it is made once."""
        assert notice.notice_id is not None
        body = NoticeAcknowledged(
            notice_id=notice.notice_id, recipient=agency, acknowledged_at=self.now()
        )
        envelope = sign_event(
            body,
            codec=self.codec,
            key=self.hub_key,
            participant_id=notice.participant_id,
            occurred_at=body.acknowledged_at,
            event_id=acknowledgement_id(notice.notice_id),
        )
        value = encode_envelope(envelope, self.codec)
        key = notice.participant_id.encode()
        _, verdict = await self.submit(
            self.hub_key.agency, key, value, cloudevents_headers(envelope)
        )
        self.counts[f"acknowledged.{agency}"] = self.counts.get(f"acknowledged.{agency}", 0) + 1
        return verdict

    def now(self) -> datetime:
        """The hub's time: the wall clock, or on the log's clock (a simulation) the log's
        latest time, since today would lapse every window of a simulated calendar."""
        if self.settings.streams.log_clock and self.view.now is not None:
            return self.view.now
        return datetime.now(UTC)
