"""Which participants share a blocking token: the only index linkage keeps. It maps opaque
keyed tokens to participant ids; it holds no name, no birth date and nothing an attacker
without the secret can reverse.

Kept compact, as every worker holds every participant's tokens: a token is a machine
integer, and most tokens have one holder, so a token maps to that id itself, and to a
tuple only when shared. There is no map back from a participant to their tokens: erasure,
which is rare, finds them by a pass over the index."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

Holders = str | tuple[str, ...]


def _ids(holders: Holders) -> tuple[str, ...]:
    return (holders,) if isinstance(holders, str) else holders


@dataclass
class TokenIndex:
    _by_token: dict[int, Holders] = field(default_factory=dict)

    def __len__(self) -> int:
        """How many participants hold a token (a pass over the index: for figures)."""
        return len({p for holders in self._by_token.values() for p in _ids(holders)})

    def holders(self, token: int) -> tuple[str, ...]:
        return _ids(self._by_token.get(token, ()))

    def tokens_of(self, participant: str) -> frozenset[int]:
        """A pass over the index: for erasure and tests."""
        return frozenset(t for t, h in self._by_token.items() if participant in _ids(h))

    def add(self, participant: str, tokens: Iterable[int]) -> None:
        """Keep ``tokens`` for ``participant`` (with any it already has: a person's later
        referrals add their variants)."""
        for token in set(tokens):
            holders = self._by_token.get(token)
            if holders is None:
                self._by_token[token] = participant
            elif participant not in _ids(holders):
                self._by_token[token] = (*_ids(holders), participant)

    def remove(self, participant: str) -> int:
        """Erasure: the participant's tokens are gone; how many."""
        tokens = self.tokens_of(participant)
        for token in tokens:
            left = tuple(p for p in _ids(self._by_token[token]) if p != participant)
            if not left:
                del self._by_token[token]
            else:
                self._by_token[token] = left[0] if len(left) == 1 else left
        return len(tokens)

    def candidates(self, tokens: Iterable[int]) -> set[str]:
        """Everyone sharing at least one of ``tokens``."""
        found: set[str] = set()
        for token in tokens:
            holders = self._by_token.get(token)
            if holders is not None:
                found.update(_ids(holders))
        return found
