"""An agency's inbox: the notices on its lead.notify.<agency> topic, checked, opened and
kept once each; acknowledged back to the hub with ``notice_acknowledged``.

Generic for every agency; the prosecutor's office uses it for holds, intakes and lapses.
Each sync reads the topic from its start, so the inbox keeps each notice once, by notice
id (the same disclosure always has the same id). A notice whose hub signature does not verify, or
that does not open with the agency's sealing key, is counted and never shown.
The inbox lives in one JSON-lines file on the agency's side (it holds what was disclosed
to that agency, and nothing else).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hub.crypto import PublicKeys, SealError, SealingKey, SigningKey
from hub.domain import REMINDED_AT, Notice, open_notice, time_left
from hub.events import Codec, EventError, NoticeAcknowledged, notify_topic
from hub.log import read_topics
from hub.web import Story
from producers.sdk import Publisher


@dataclass
class InboxItem:
    notice_id: str
    event_id: str
    event_type: str
    participant_id: str
    occurred_at: str
    rule_id: str
    purpose: str
    fields: dict[str, Any]
    notices: dict[str, str]
    acknowledged_at: str | None = None


@dataclass
class Inbox:
    path: Path
    items: dict[str, InboxItem] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def open(cls, path: Path) -> Inbox:
        inbox = cls(path)
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                item = InboxItem(**json.loads(line))
                inbox.items[item.notice_id] = item  # a later line (an ack) wins
        return inbox

    def _append(self, item: InboxItem) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(item), sort_keys=True) + "\n")
        self.items[item.notice_id] = item

    def receive(self, notice: Notice, key: SealingKey, hub_keys: PublicKeys) -> bool:
        """Check, open and keep a notice; False for a repeat or a notice that fails."""
        if str(notice.notice_id) in self.items:
            self.counts["duplicates"] += 1
            return False
        try:
            content = open_notice(notice, key, hub_keys)
        except (EventError, SealError):
            self.counts["invalid"] += 1
            return False
        self._append(
            InboxItem(
                notice_id=str(notice.notice_id),
                event_id=str(notice.event_id),
                event_type=notice.event_type,
                participant_id=notice.participant_id,
                occurred_at=notice.occurred_at.isoformat(),
                rule_id=notice.rule_id,
                purpose=notice.purpose,
                fields=content["fields"],
                notices=content["notices"],
            )
        )
        self.counts["received"] += 1
        return True

    def acknowledge(self, publisher: Publisher, now: datetime | None = None) -> int:
        """Tell the hub every notice not yet acknowledged was received."""
        done = 0
        for item in list(self.items.values()):
            if item.acknowledged_at is not None:
                continue
            at = now or datetime.now(UTC)
            body = NoticeAcknowledged(
                notice_id=item.notice_id, recipient=publisher.key.agency, acknowledged_at=at
            )
            publisher.publish(body, participant_id=item.participant_id, occurred_at=at)
            item.acknowledged_at = at.isoformat()
            self._append(item)
            done += 1
        return done


# what ends the wait a reminder is about
REMINDER_ENDS = frozenset(
    {"charges_declined", "charges_filed", "intake_window_expired", "consent_expired"}
)


def pending_reminders(inbox: Inbox) -> list[tuple[datetime, InboxItem]]:
    """The latest reminder for each held case and consent still pending (no decline,
    filing, lapse or expiry received since), with the moment it is about, soonest first."""
    pending: dict[tuple[str, str], InboxItem] = {}
    for item in sorted(inbox.items.values(), key=lambda i: i.occurred_at):
        about = (
            item.participant_id,
            str(item.fields.get("case_ref") or item.fields.get("consent_id")),
        )
        if item.event_type in REMINDED_AT:
            pending[about] = item
        elif item.event_type in REMINDER_ENDS:
            pending.pop(about, None)
    return sorted(
        (datetime.fromisoformat(str(i.fields[REMINDED_AT[i.event_type]])), i)
        for i in pending.values()
    )


def reminder_lines(inbox: Inbox, now: datetime) -> list[str]:
    """What the hub's reminders point at and is still pending, with the time left."""
    pending = pending_reminders(inbox)
    lines = [f"reminders still pending, as of {now:%Y-%m-%d %H:%M} UTC:"] if pending else []
    for due, item in pending:
        if item.event_type == "intake_deadline_approaching":
            about = f"intake deadline, case {item.fields.get('case_ref')}"
            mark = f"{item.fields.get('hours_before')} h"
        else:
            about, mark = "consent expires", f"{item.fields.get('days_before')} days"
        lines.append(
            f"  {item.participant_id}  {about}: {due:%Y-%m-%d %H:%M}, "
            f"{time_left(due, now)} (reminded {mark} before)"
        )
    return lines


def sync(
    inbox: Inbox,
    bootstrap_servers: Sequence[str],
    agency: str,
    key: SealingKey,
    hub_keys: PublicKeys,
    codec: Codec,
    client_kwargs: dict[str, object] | None = None,
) -> int:
    """Read the agency's notify topic from the start; return how many notices were new."""
    new = 0
    for record in read_topics(
        bootstrap_servers, [notify_topic(agency)], client_kwargs=client_kwargs
    ):
        try:
            notice = Notice.model_validate(codec.decode(record.value, "notice").datum)
        except (EventError, ValueError):
            inbox.counts["invalid"] += 1
            continue
        new += inbox.receive(notice, key, hub_keys)
    return new


def acknowledge_with(
    inbox: Inbox,
    bootstrap_servers: Sequence[str],
    key: SigningKey,
    codec: Codec,
    client_kwargs: dict[str, object] | None = None,
) -> int:
    with Publisher(
        key=key, codec=codec, bootstrap_servers=bootstrap_servers, client_kwargs=client_kwargs
    ) as publisher:
        return inbox.acknowledge(publisher)


def digest_lines(inbox: Inbox, story: Story, day: date, now: datetime) -> list[str]:
    """One day's notices (by when they happened, in the site's zone), each as a sentence,
    grouped by participant; then the reminders still pending."""
    on_day: dict[str, list[InboxItem]] = {}
    for item in sorted(inbox.items.values(), key=lambda i: i.occurred_at):
        happened = datetime.fromisoformat(item.occurred_at).astimezone(story.zone)
        if happened.date() == day:
            on_day.setdefault(item.participant_id, []).append(item)
    count = sum(len(items) for items in on_day.values())
    lines = [f"{count} notice(s) on {day.isoformat()} ({story.zone_name} time)"]
    for participant, items in sorted(on_day.items()):
        lines.append(f"{participant}:")
        for item in items:
            at = story.when(datetime.fromisoformat(item.occurred_at))
            lines.append(f"  {at[11:]}  {story.sentence(item.event_type, item.fields)}")
    return lines + reminder_lines(inbox, now)
