"""Consent state for one participant, folded from the log.

A grant covers (recipient, data category, purpose) between effective_at (inclusive) and
expires_at (exclusive). A revocation takes effect at its log position and never reaches
back: what was disclosed before it was disclosed in reliance on the consent and stays
lawful (42 CFR 2.31(a)(6), the reliance exception), which replay reproduces by position.
A 42 CFR 2.35 criminal-justice consent cannot be revoked as to its justice agency until
the named event (e.g. final disposition) occurs; a revocation received meanwhile waits
and takes effect at that event. Erasure ends all sharing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from uuid import UUID


class Coverage(StrEnum):
    """How a grant stands towards one request, best first (used to explain a deny)."""

    IN_FORCE = "IN_FORCE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_EFFECTIVE = "NOT_YET_EFFECTIVE"
    NOT_PART2_FOR_RECIPIENT = "NOT_PART2_FOR_RECIPIENT"
    NOT_COVERED = "NOT_COVERED"


@dataclass(frozen=True, slots=True)
class Lock:
    """A 2.35 lock: revocation as to ``justice_agency`` waits for ``until_event``."""

    justice_agency: str
    until_event: str
    case_ref: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    consent_id: UUID
    recipients: frozenset[str]
    categories: frozenset[str]  # lower-case, as the schemas' leadhub.category
    purposes: frozenset[str]
    effective_at: datetime
    expires_at: datetime
    part2_recipients: frozenset[str]  # empty unless a 2.31 consent names them
    lock: Lock | None = None
    revoked_for: frozenset[str] = frozenset()
    pending_revocation: frozenset[str] = frozenset()

    def coverage(
        self, recipient: str, category: str, purpose: str, at: datetime, part2: bool
    ) -> Coverage:
        if (
            recipient not in self.recipients
            or category not in self.categories
            or purpose not in self.purposes
        ):
            return Coverage.NOT_COVERED
        if part2 and recipient not in self.part2_recipients:
            return Coverage.NOT_PART2_FOR_RECIPIENT
        if recipient in self.revoked_for:
            return Coverage.REVOKED
        if at < self.effective_at:
            return Coverage.NOT_YET_EFFECTIVE
        if at >= self.expires_at:
            return Coverage.EXPIRED
        return Coverage.IN_FORCE

    def revoke(self, recipients: frozenset[str]) -> Grant:
        locked = frozenset({self.lock.justice_agency}) & recipients if self.lock else frozenset()
        return replace(
            self,
            revoked_for=self.revoked_for | (recipients - locked),
            pending_revocation=self.pending_revocation | locked,
        )

    def lift_lock(self) -> Grant:
        return replace(
            self,
            lock=None,
            revoked_for=self.revoked_for | self.pending_revocation,
            pending_revocation=frozenset(),
        )


@lru_cache(maxsize=4096)
def _shared(items: frozenset[str]) -> frozenset[str]:
    """One object for each set of names: most participants' releases name the same
    recipients, categories and purposes, so the state of 100,000 holds a few sets, not
    400,000."""
    return items


def _grant(body: Mapping[str, Any]) -> Grant:
    lock = body.get("criminal_justice_lock")
    part2 = body.get("part2")
    return Grant(
        consent_id=body["consent_id"],
        recipients=_shared(frozenset(body["recipients"])),
        categories=_shared(frozenset(str(c).lower() for c in body["categories"])),
        purposes=_shared(frozenset(str(p) for p in body["purposes"])),
        effective_at=body["effective_at"],
        expires_at=body["expires_at"],
        part2_recipients=_shared(frozenset(part2["recipients_named"] if part2 else ())),
        lock=Lock(lock["justice_agency"], lock["locked_until_event"], lock.get("case_ref"))
        if lock
        else None,
    )


@dataclass(frozen=True, slots=True)
class ConsentState:
    """Everything consent-related known about one participant at one log position."""

    grants: tuple[Grant, ...] = ()
    erased: bool = False

    def apply(self, event_type: str, body: Mapping[str, Any]) -> ConsentState:
        """The state after one more event of this participant, in log order."""
        if event_type == "participant_erased":
            return ConsentState(grants=(), erased=True)
        grants = tuple(
            g.lift_lock()
            if g.lock
            and g.lock.until_event == event_type
            and (g.lock.case_ref is None or g.lock.case_ref == body.get("case_ref"))
            else g
            for g in self.grants
        )
        if event_type == "consent_granted":
            if any(g.consent_id == body["consent_id"] for g in grants):
                return replace(self, grants=grants)  # a repeated grant changes nothing
            grants = (*grants, _grant(body))
        elif event_type == "consent_revoked":
            target = body["consent_id"]
            grants = tuple(
                g.revoke(
                    g.recipients if str(body["scope"]) == "ALL" else frozenset(body["recipients"])
                )
                if g.consent_id == target
                else g
                for g in grants
            )
        return replace(self, grants=grants)

    def lapsing(self, consent_id: UUID) -> Grant | None:
        """The grant whose expiry the hub announces, unless it was revoked for every
        recipient (or the participant erased): then nothing stops at its expiry."""
        for grant in self.grants:
            if grant.consent_id == consent_id and not grant.recipients <= grant.revoked_for:
                return grant
        return None

    def renews(self, grant: Grant) -> bool:
        """Whether a later consent carries ``grant``'s sharing on past its expiry: in force
        at that instant, and covering at least the recipients it still covers, its
        categories and its purposes. Then a reminder to renew would be noise."""
        needed = grant.recipients - grant.revoked_for
        return any(
            other.consent_id != grant.consent_id
            and other.effective_at <= grant.expires_at < other.expires_at
            and needed <= other.recipients - other.revoked_for
            and grant.categories <= other.categories
            and grant.purposes <= other.purposes
            for other in self.grants
        )

    def find(
        self, recipient: str, category: str, purpose: str, at: datetime, part2: bool
    ) -> tuple[Grant | None, Coverage]:
        """The first grant (in log order) in force for this request, or the best reason why
        none is. Log order makes the choice deterministic."""
        best = Coverage.NOT_COVERED
        order = list(Coverage)
        for grant in self.grants:
            cover = grant.coverage(recipient, category, purpose, at, part2)
            if cover is Coverage.IN_FORCE:
                return grant, cover
            if order.index(cover) < order.index(best):
                best = cover
        return None, best
