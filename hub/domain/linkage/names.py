"""How two records of one person can differ, as comparable forms of a name and a birth
date: folded to lower-case ASCII letters, a given name with every name it is a nickname or
diminutive of, a family name's parts (a hyphenated or double name, one part changed on
marriage), phonetic codes, and the birth date with its day and month in either order.

Pure and deterministic: the same identity always gives the same forms, on every worker and
in every replay, so the keyed tokens made from them (``tokens``) compare across time."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache

import jellyfish
from nicknames import NickNamer

_NOT_LETTERS = re.compile(r"[^a-z]+")


def fold(text: str) -> str:
    """Lower-case ASCII letters, words separated by one space: accents dropped, apostrophes,
    hyphens and punctuation as separators ("O'Brien-Núñez" -> "o brien nunez")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_LETTERS.sub(" ", plain.lower()).strip()


def joined(text: str) -> str:
    return fold(text).replace(" ", "")


@cache
def _namer() -> NickNamer:
    return NickNamer()


@cache
def given_forms(given: str) -> frozenset[str]:
    """The given name, and every name it is a nickname of ("bob" -> bob, robert, bobby,
    bert): a nickname and its full name share at least the full name."""
    name = joined(given)
    if not name:
        return frozenset()
    return frozenset({name, *(joined(c) for c in _namer().canonicals_of(name))})


def family_parts(family: str) -> frozenset[str]:
    """The whole family name and each of its parts ("Smith-Jones" -> smithjones, smith,
    jones): a double name and either of its halves share a part."""
    words = [w for w in fold(family).split() if len(w) > 1]
    return frozenset({"".join(words), *words}) - {""}


@cache
def sound(name: str) -> str:
    """A phonetic code (metaphone) of a folded name: spellings that sound alike agree."""
    return jellyfish.metaphone(name) if name else ""


def dob_key(born: date) -> str:
    """The birth date with day and month in either order: a transposed day and month (a
    03/04 read as 04/03) gives the same key; the year stays."""
    low, high = sorted((born.month, born.day))
    return f"{born.year:04d}{low:02d}{high:02d}"


def swapped(a: date, b: date) -> bool:
    return a != b and a.year == b.year and (a.month, a.day) == (b.day, b.month)
