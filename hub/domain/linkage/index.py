"""Which participants share a blocking token: the only index linkage keeps. It maps opaque
keyed tokens to participant ids (and back, so erasure removes a person's tokens); it holds
no name, no birth date and nothing an attacker without the secret can reverse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class TokenIndex:
    _by_token: dict[bytes, set[str]] = field(default_factory=dict)
    _by_participant: dict[str, frozenset[bytes]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._by_participant)

    def tokens_of(self, participant: str) -> frozenset[bytes]:
        return self._by_participant.get(participant, frozenset())

    def add(self, participant: str, tokens: Iterable[bytes]) -> None:
        """Keep ``tokens`` for ``participant`` (with any it already has: a person's later
        referrals add their variants)."""
        new = frozenset(tokens) - self.tokens_of(participant)
        self._by_participant[participant] = self.tokens_of(participant) | new
        for token in new:
            self._by_token.setdefault(token, set()).add(participant)

    def remove(self, participant: str) -> int:
        """Erasure: the participant's tokens are gone; how many."""
        tokens = self._by_participant.pop(participant, frozenset())
        for token in tokens:
            holders = self._by_token[token]
            holders.discard(participant)
            if not holders:
                del self._by_token[token]
        return len(tokens)

    def candidates(self, tokens: Iterable[bytes]) -> set[str]:
        """Everyone sharing at least one of ``tokens``."""
        found: set[str] = set()
        for token in tokens:
            found |= self._by_token.get(token, set())
        return found
