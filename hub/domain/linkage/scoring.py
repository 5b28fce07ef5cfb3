"""Fellegi-Sunter scoring of a candidate pair, on the two decrypted identities (inside the
hub only): each field is compared to an agreement level, each level weighs log2(m/u), where
m is how often the level occurs between two records of one person and u how often between
two different people, and the weights add up. The sum is classified against the site's
thresholds: a match (linked without asking), a probable match (a task for case management
to confirm or dismiss), or none.

The m and u figures are the project's estimates for a LEAD population (re-referrals by
another agency, nicknames, misspellings, changed family names; names and birth dates of a
city's adults), not fitted to any real data; ``bench.linkage`` measures what they give
against the simulator's truth."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import jellyfish

from hub.domain.linkage.names import family_parts, given_forms, joined, sound, swapped
from hub.events import Identity

# field -> level -> (m, u)
PROBABILITIES: dict[str, dict[str, tuple[float, float]]] = {
    "given": {
        "exact": (0.80, 0.005),
        "nickname": (0.09, 0.002),
        "alias": (0.03, 0.001),
        "typo": (0.05, 0.003),
        "sound": (0.01, 0.01),
        "differ": (0.02, 0.979),
    },
    "family": {
        "exact": (0.78, 0.002),
        "part": (0.06, 0.001),
        "typo": (0.06, 0.002),
        "sound": (0.01, 0.005),
        "differ": (0.09, 0.99),
    },
    "dob": {
        "exact": (0.90, 0.0001),
        "swapped": (0.05, 0.0001),
        "year": (0.02, 0.025),
        "differ": (0.02, 0.98),
    },
    "middle": {"agree": (0.30, 0.05), "differ": (0.03, 0.12), "missing": (0.67, 0.83)},
    # the same system's number for two people differs always; for one person rarely (a
    # duplicate record in that system)
    "records": {"agree": (0.30, 0.00001), "differ": (0.03, 0.60), "missing": (0.67, 0.39999)},
}
WEIGHTS = {
    name: {level: math.log2(m / u) for level, (m, u) in levels.items()}
    for name, levels in PROBABILITIES.items()
}


class Verdict(StrEnum):
    MATCH = "MATCH"
    PROBABLE = "PROBABLE"
    NONE = "NONE"


@dataclass(frozen=True)
class Thresholds:
    match: float = 20.0
    probable: float = 12.0

    def __post_init__(self) -> None:
        if self.probable > self.match:
            raise ValueError("linkage: the probable threshold is above the match threshold")


@dataclass(frozen=True)
class Scored:
    levels: tuple[tuple[str, str], ...]
    weight: float

    def verdict(self, thresholds: Thresholds) -> Verdict:
        if self.weight >= thresholds.match:
            return Verdict.MATCH
        return Verdict.PROBABLE if self.weight >= thresholds.probable else Verdict.NONE


def _close(a: str, b: str) -> bool:
    return jellyfish.damerau_levenshtein_distance(a, b) <= 1 or (
        jellyfish.jaro_winkler_similarity(a, b) >= 0.92
    )


def _given(a: Identity, b: Identity) -> str:
    ga, gb = joined(a.given_name), joined(b.given_name)
    if ga == gb:
        return "exact"
    if given_forms(a.given_name) & given_forms(b.given_name):
        return "nickname"
    aliases_a = {f for n in (a.given_name, *a.aliases) for f in given_forms(n)}
    aliases_b = {f for n in (b.given_name, *b.aliases) for f in given_forms(n)}
    if aliases_a & aliases_b:
        return "alias"
    if _close(ga, gb):
        return "typo"
    return "sound" if sound(ga) == sound(gb) else "differ"


def _family(a: Identity, b: Identity) -> str:
    fa, fb = joined(a.family_name), joined(b.family_name)
    if fa == fb:
        return "exact"
    if family_parts(a.family_name) & family_parts(b.family_name):
        return "part"
    if _close(fa, fb):
        return "typo"
    return "sound" if sound(fa) == sound(fb) else "differ"


def _dob(a: Identity, b: Identity) -> str:
    da, db = a.date_of_birth, b.date_of_birth
    if da == db:
        return "exact"
    if swapped(da, db):
        return "swapped"
    return "year" if da.year == db.year else "differ"


def _middle(a: Identity, b: Identity) -> str:
    ma, mb = joined(a.middle_name or ""), joined(b.middle_name or "")
    if not ma or not mb:
        return "missing"
    return "agree" if ma[0] == mb[0] else "differ"


def _records(a: Identity, b: Identity) -> str:
    ra = {(r.system, r.value) for r in a.local_record_numbers}
    rb = {(r.system, r.value) for r in b.local_record_numbers}
    if ra & rb:
        return "agree"
    shared_systems = {s for s, _ in ra} & {s for s, _ in rb}
    return "differ" if shared_systems else "missing"


def score(a: Identity, b: Identity) -> Scored:
    levels = (
        ("given", _given(a, b)),
        ("family", _family(a, b)),
        ("dob", _dob(a, b)),
        ("middle", _middle(a, b)),
        ("records", _records(a, b)),
    )
    return Scored(levels, sum(WEIGHTS[field][level] for field, level in levels))
