"""Who a new referral may already be, as the log goes by.

The linker follows every partition of lead.events (each in its own order): it keeps the
keyed blocking tokens of each participant's referrals, the identities to compare with as
they are on the log (encrypted under the participant's data key), and the latest linkage
event between any two ids. When a referral is decided, it scores the referral's identity
against each earlier participant a token points to and answers with the hub's event to
publish: ``participants_linked`` (a match), ``match_suspected`` (a probable match: the
reviewer's task) or nothing. Pure: the secret is handed in, and identities are opened by
the caller's ``open_identity`` (which holds the data keys), one at a time, only to be
compared; the linker holds tokens and participant ids, never a name.

What a worker's linker knows depends on how far it has read the other partitions, so a
decision is not re-derived by replay but logged, with its evidence (the weight, each
field's level, the kinds of token shared): replay folds the link like any event, and an
auditor holding the hub's keys can score the two identities again."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.domain.linkage.index import TokenIndex
from hub.domain.linkage.scoring import Scored, Thresholds, Verdict, score
from hub.domain.linkage.tokens import blocking_tokens, kinded_tokens
from hub.events import Identity

LINKAGE_NAMESPACE = uuid.UUID("6f1c7d3e-2b0a-5c1e-9a4f-1ead0b0c0005")

REFERRAL = "referral_made"
ERASED = "participant_erased"
LINKED = "participants_linked"
SUSPECTED = "match_suspected"
UNLINKED = "participants_unlinked"
LINKAGE_TYPES = frozenset({LINKED, SUSPECTED, UNLINKED})
# the event types a linker folds in: what any worker's follower decodes for it
LINKER_FOLLOWS = frozenset({REFERRAL, ERASED, *LINKAGE_TYPES})

# (participant id, an identity field's nonce and ciphertext as on lead.events, under the
# participant's one data key) -> the identity, or None if it no longer opens (the
# participant erased) or never did
OpenIdentity = Callable[[str, bytes, bytes], Identity | None]


NONCE = 12  # AES-GCM's (docs/protocol.md section 8)


def linkage_event_id(referral: uuid.UUID) -> uuid.UUID:
    """One answer per referral, whichever worker gives it and however often."""
    return uuid.uuid5(LINKAGE_NAMESPACE, str(referral))


@dataclass(frozen=True)
class Finding:
    """The hub's event to publish about a referral: a link or a task."""

    event_type: str
    participant_id: str  # the referral's
    body: Mapping[str, Any]
    event_id: uuid.UUID
    cause: uuid.UUID  # the referral


@dataclass
class Linker:
    secret: bytes
    open_identity: OpenIdentity
    index: TokenIndex = field(default_factory=TokenIndex)
    # each participant's identity fields as on the log, encrypted under their data key:
    # nonce and ciphertext in one string of bytes (a tuple of them for a person referred
    # under one id more than once), as every worker holds every participant's
    identities: dict[str, bytes | tuple[bytes, ...]] = field(default_factory=dict)
    # the latest linkage event between two ids: linked, asked about, or told apart
    pairs: dict[frozenset[str], str] = field(default_factory=dict)

    def follow(self, participant: str, event_type: str, body: Mapping[str, Any]) -> None:
        """Fold in one event of lead.events (any partition's, in its partition's order)."""
        if event_type == REFERRAL and body.get("identity") is not None:
            kept = body["identity"]["nonce"] + body["identity"]["ciphertext"]
            identity = self._open(participant, kept)
            if identity is None:
                return
            self.index.add(participant, blocking_tokens(identity, self.secret))
            held = self.identities.get(participant)
            self.identities[participant] = (
                kept if held is None else (*((held,) if isinstance(held, bytes) else held), kept)
            )
        elif event_type in LINKAGE_TYPES:
            pair = frozenset({participant, body["linked_participant_id"]})
            if not (event_type == SUSPECTED and self.pairs.get(pair) == LINKED):
                self.pairs[pair] = event_type
        elif event_type == ERASED:  # the tokens go with the data key
            self.index.remove(participant)
            self.identities.pop(participant, None)

    def decide(
        self,
        referral: uuid.UUID,
        participant: str,
        identity_field: Mapping[str, Any] | None,
        thresholds: Thresholds,
    ) -> Finding | None:
        """The answer to one referral: the best-scoring earlier participant its tokens point
        to (not one already linked to it, asked about, or told apart from it), if it scores
        at least a probable match."""
        if identity_field is None:
            return None
        identity = self._open(participant, identity_field["nonce"] + identity_field["ciphertext"])
        if identity is None:
            return None
        tokens = kinded_tokens(identity, self.secret)
        best: tuple[Scored, str] | None = None
        for other in sorted(self.index.candidates(tokens) - {participant}):
            if frozenset({participant, other}) in self.pairs:
                continue
            held = self.identities.get(other, ())
            for kept in (held,) if isinstance(held, bytes) else held:
                known = self._open(other, kept)
                if known is None:
                    continue
                scored = score(identity, known)
                if best is None or scored.weight > best[0].weight:
                    best = (scored, other)
        if best is None:
            return None
        scored, other = best
        verdict = scored.verdict(thresholds)
        if verdict is Verdict.NONE:
            return None
        body: dict[str, Any] = {
            "linked_participant_id": other,
            "weight": round(scored.weight, 3),
            "levels": [f"{name}={level}" for name, level in scored.levels],
            "token_kinds": sorted({k for t, k in tokens.items() if other in self.index.holders(t)}),
        }
        if verdict is Verdict.MATCH:
            body["basis"] = "AUTOMATIC"
        event_type = LINKED if verdict is Verdict.MATCH else SUSPECTED
        return Finding(event_type, participant, body, linkage_event_id(referral), referral)

    def _open(self, participant: str, kept: bytes) -> Identity | None:
        return self.open_identity(participant, kept[:NONCE], kept[NONCE:])
