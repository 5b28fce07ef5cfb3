"""Push, not only pull: an agency's notices delivered to an HTTPS endpoint of its own.

Runs on the agency's side, with its credentials and sealing key: the notices are read,
checked and opened by the agency's inbox (consumers.inbox), then each is POSTed once as
JSON to the endpoint the agency configures, signed with a secret the agency shares with
its receiver (HMAC-SHA256, below; docs/protocol.md 17.7), retried with exponential
backoff on a network error, a 408, a 429 or a 5xx, and set aside in a dead-letter list
after the last attempt or on any other 4xx. Every attempt is a line in the delivery log;
what was delivered or set aside is never sent again (the log is read back at start).

Signature: ``X-LeadHub-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 under the shared secret of ``<t>.<delivery id>.`` followed by the body's bytes,
and ``X-LeadHub-Delivery`` is the delivery id (the notice id). A receiver checks the
signature, refuses a ``t`` far from its clock, and keeps delivery ids it has seen."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consumers.inbox import Inbox, InboxItem

# (url, body, headers) -> HTTP status, or raises OSError for a network failure
Post = Callable[[str, bytes, dict[str, str]], int]
RETRYABLE = frozenset({408, 429})


def signature(secret: bytes, delivery: str, body: bytes, at: int) -> str:
    mac = hmac.new(secret, f"{at}.{delivery}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify(
    secret: bytes, headers: dict[str, str], body: bytes, now: int, skew_s: int = 300
) -> bool:
    """What a receiver does with a delivery (and what the tests' receiver does). Header
    names in any case, as HTTP has them."""
    named = {k.lower(): v for k, v in headers.items()}
    try:
        parts = dict(p.split("=", 1) for p in named["x-leadhub-signature"].split(","))
        at = int(parts["t"])
        delivery = named["x-leadhub-delivery"]
    except (KeyError, ValueError):
        return False
    expected = signature(secret, delivery, body, at)
    return abs(now - at) <= skew_s and hmac.compare_digest(expected, f"t={at},v1={parts['v1']}")


def endpoint(url: str) -> str:
    """An endpoint the relay may post to: HTTPS, or plain HTTP on loopback (a test)."""
    if not url.startswith(("https://", "http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"a webhook endpoint must be https://, not {url!r}")
    return url


def urllib_post(url: str, body: bytes, headers: dict[str, str], timeout_s: float = 10.0) -> int:
    checked = endpoint(url)
    # the scheme is checked above: https, or http on loopback
    request = urllib.request.Request(checked, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:  # an answer, not a network failure
        return int(exc.code)


@dataclass
class Attempt:
    delivery: str  # the notice id
    at: str
    attempt: int
    status: int | None  # None: no answer (network)
    outcome: str  # delivered, retry, dead


@dataclass
class Relay:
    inbox: Inbox
    url: str
    secret: bytes
    log_path: Path  # every attempt, one JSON line each
    dead_path: Path  # what was set aside, with why
    post: Post = urllib_post
    attempts: int = 6
    backoff_s: float = 0.5  # doubled after each failed attempt
    backoff_cap_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    done: set[str] = field(default_factory=set)  # delivered or dead

    def __post_init__(self) -> None:
        endpoint(self.url)
        for path in (self.log_path, self.dead_path):
            if path.exists():
                for line in path.read_text(encoding="utf-8").splitlines():
                    entry = json.loads(line)
                    if entry.get("outcome") in ("delivered", "dead"):
                        self.done.add(entry["delivery"])

    def deliver_pending(self) -> Counter[str]:
        """Every notice of the inbox not yet delivered or set aside, in the order received:
        how many of them were delivered and set aside."""
        counts: Counter[str] = Counter()
        for item in list(self.inbox.items.values()):
            if item.notice_id not in self.done:
                counts[self._deliver(item)] += 1
        return counts

    def _deliver(self, item: InboxItem) -> str:
        body = json.dumps(_payload(item), sort_keys=True).encode()
        wait = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            headers = {
                "Content-Type": "application/json",
                "X-LeadHub-Delivery": item.notice_id,
                "X-LeadHub-Signature": signature(
                    self.secret, item.notice_id, body, int(time.time())
                ),
            }
            try:
                status: int | None = self.post(self.url, body, headers)
            except OSError:
                status = None
            if status is not None and 200 <= status < 300:
                self._log(Attempt(item.notice_id, _now(), attempt, status, "delivered"))
                self.done.add(item.notice_id)
                return "delivered"
            permanent = status is not None and status < 500 and status not in RETRYABLE
            if permanent or attempt == self.attempts:
                last = Attempt(item.notice_id, _now(), attempt, status, "dead")
                self._log(last)
                why = "refused by the endpoint" if permanent else f"no success in {attempt} tries"
                self._append(self.dead_path, {**asdict(last), "why": why})
                self.done.add(item.notice_id)
                return "dead"
            self._log(Attempt(item.notice_id, _now(), attempt, status, "retry"))
            self.sleep(min(wait, self.backoff_cap_s))
            wait *= 2
        raise AssertionError("unreachable")

    def _log(self, attempt: Attempt) -> None:
        self._append(self.log_path, asdict(attempt))

    @staticmethod
    def _append(path: Path, entry: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def _payload(item: InboxItem) -> dict[str, Any]:
    """What the receiver gets: the notice as the agency opened it."""
    return {
        "notice_id": item.notice_id,
        "event_id": item.event_id,
        "event_type": item.event_type,
        "participant_id": item.participant_id,
        "occurred_at": item.occurred_at,
        "rule_id": item.rule_id,
        "purpose": item.purpose,
        "fields": item.fields,
        "notices": item.notices,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat()
