"""Participant ids: random, pseudonymous, and typed by people, so they carry a check symbol.

An id is ``P-`` and twelve symbols of Crockford's base 32 (digits and capitals without
I, L, O, U, so nothing reads as another letter or spells a word): eleven random symbols
(55 bits from the caller's random source: no sequence, no date, no agency in them) and a
check symbol.

The check is Damm's algorithm over the field of 32 elements: the interim value ``r``
takes each symbol ``d`` to ``r∘d = αr ⊕ d``, where ``α`` is the field's generator (``2``,
modulo ``x⁵ + x² + 1``), and the check symbol brings the last interim to 0. This operation
is a totally anti-symmetric quasigroup (``(c∘x)∘y = (c∘y)∘x`` only if ``x = y``, because
``α ≠ 1``), so every single-symbol error and every swap of two adjacent symbols is caught;
Crockford's own mod-37 check needs five extra symbols (``*~$=U``) that an id cannot carry.
Pure: the gatekeeper, the API, the SDK and the simulator share it.
"""

from __future__ import annotations

from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "P-"
RANDOM_SYMBOLS = 11
LENGTH = len(PREFIX) + RANDOM_SYMBOLS + 1
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# how people mistype Crockford symbols (its decoding rules): read them as meant
_READS_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def _times_alpha(r: int) -> int:
    r <<= 1
    return r ^ 0b100101 if r & 0b100000 else r


def _interim(symbols: str) -> int:
    r = 0
    for c in symbols:
        r = _times_alpha(r) ^ _VALUE[c]
    return r


def check_symbol(symbols: str) -> str:
    """The symbol that, appended to ``symbols``, makes their Damm interim 0."""
    return ALPHABET[_times_alpha(_interim(symbols))]


def issue_participant_id(random_bytes: Callable[[int], bytes]) -> str:
    """A new id from ``random_bytes(n)`` (``secrets.token_bytes`` in the hub; a seeded
    generator's in the simulator, so a scenario is the same every run)."""
    n = int.from_bytes(random_bytes(7), "big") >> (56 - 5 * RANDOM_SYMBOLS)
    body = "".join(ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(RANDOM_SYMBOLS)))
    return PREFIX + body + check_symbol(body)


def is_participant_id(participant_id: str) -> bool:
    """Exactly an id this module issues: the prefix, twelve symbols, and the check holds."""
    symbols = participant_id[len(PREFIX) :]
    return (
        len(participant_id) == LENGTH
        and participant_id.startswith(PREFIX)
        and all(c in _VALUE for c in symbols)
        and _interim(symbols) == 0
    )


def read_participant_id(typed: str) -> str | None:
    """An id as a person typed it (any case, spaces or dashes between groups, I or L for
    1, O for 0): the id, or None if it fails the check."""
    symbols = "".join(typed.upper().split()).removeprefix(PREFIX).replace("-", "")
    candidate = PREFIX + symbols.translate(_READS_AS)
    return candidate if is_participant_id(candidate) else None
