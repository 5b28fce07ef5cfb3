"""Synthetic people referred again, with the differences real re-referrals show, and the
truth of who is whom: for measuring record linkage (bench.linkage) and testing it.

Given names come from the English nickname table the hub's linkage uses (a first name is no
one's personal data), so that a nickname is a real one ("Robert" referred again as "Bob");
family names are invented syllables, birth dates random: no one here is a real person. Each
re-referral differs from the first record in one way, as happens when another officer, an
outreach worker or the person themself gives the name: the same record, a nickname, one typo
in the given or family name, day and month of birth transposed, a changed family name, a
double family name. And a share of different people who share a name and birth year."""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from functools import cache
from random import Random

from nicknames import NickNamer

from hub.events import models as m
from producers.synthetic import made_up_name

KINDS = ("same", "nickname", "typo_given", "typo_family", "swapped_dob", "new_family", "double")


@cache
def _given_names() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Full given names with the nicknames the table knows for them (three or more letters)."""
    table = NickNamer().nickname_lookup
    return tuple(
        (name, tuple(sorted(n for n in nicks if len(n) > 2)))
        for name, nicks in sorted(table.items())
        if len(name) > 3 and any(len(n) > 2 for n in nicks)
    )


def person(rng: Random) -> m.Identity:
    given, _ = rng.choice(_given_names())
    return m.Identity(
        given_name=given.capitalize(),
        family_name=made_up_name(rng),
        middle_name=rng.choice(string.ascii_uppercase) if rng.random() < 0.4 else None,
        aliases=[],
        date_of_birth=dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365)),
        local_record_numbers=[
            m.LocalRecordNumber(system="bpd-rms", value=f"R{rng.randrange(10**7):07d}"),
            m.LocalRecordNumber(system="hmis", value=f"H{rng.randrange(10**6):06d}"),
        ],
    )


def typo(rng: Random, word: str) -> str:
    """One keying error: a letter dropped, doubled, replaced, or two neighbours swapped."""
    i = rng.randrange(len(word))
    kind = rng.choice(("drop", "double", "replace", "swap") if len(word) > 3 else ("replace",))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i + 1 < len(word) and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    other = rng.choice([c for c in string.ascii_lowercase if c != word[i].lower()])
    return word[:i] + (other.upper() if i == 0 else other) + word[i + 1 :]


def variant(rng: Random, first: m.Identity, kind: str) -> m.Identity:
    """``first`` as a later referral records it, different in the one way ``kind`` says;
    the agency referring again knows its own record number in half the cases."""
    change: dict[str, object] = {}
    if kind == "nickname":
        nicks = dict(_given_names()).get(first.given_name.lower(), ())
        change["given_name"] = rng.choice(nicks).capitalize() if nicks else first.given_name
    elif kind == "typo_given":
        change["given_name"] = typo(rng, first.given_name)
    elif kind == "typo_family":
        change["family_name"] = typo(rng, first.family_name)
    elif kind == "swapped_dob":
        born = first.date_of_birth
        if born.day <= 12 and born.day != born.month:
            change["date_of_birth"] = born.replace(month=born.day, day=born.month)
        else:  # not transposable: a keying error in the family name instead
            change["family_name"] = typo(rng, first.family_name)
    elif kind == "new_family":
        change["family_name"] = made_up_name(rng)
    elif kind == "double":
        change["family_name"] = f"{first.family_name}-{made_up_name(rng)}"
    numbers = [r for r in first.local_record_numbers if rng.random() < 0.5]
    change["local_record_numbers"] = numbers
    if rng.random() < 0.3:
        change["middle_name"] = None  # not asked this time
    return first.model_copy(update=change)


def namesake(rng: Random, first: m.Identity) -> m.Identity:
    """A different person with the same name, born the same year on another day."""
    born = first.date_of_birth
    other = born
    while other == born or (other.month, other.day) == (born.day, born.month):
        other = dt.date(born.year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    fresh = person(rng)
    return fresh.model_copy(
        update={
            "given_name": first.given_name,
            "family_name": first.family_name,
            "date_of_birth": other,
        }
    )


@dataclass(frozen=True)
class Referral:
    """One referral in order: its identity, and (truth) the person it is."""

    identity: m.Identity
    person: int
    kind: str  # "first" for a person's first referral, else the kind of difference


def referrals(
    rng: Random, people: int, again: float = 0.1, namesakes: float = 0.01
) -> list[Referral]:
    """``people`` first referrals; then a share ``again`` of them referred again with one
    kind of difference each (kinds in turn), and ``namesakes`` new people sharing an earlier
    person's name and birth year, in random order after the first referrals."""
    firsts = [person(rng) for _ in range(people)]
    found = [Referral(identity, i, "first") for i, identity in enumerate(firsts)]
    later = []
    for n, i in enumerate(rng.sample(range(people), int(people * again))):
        kind = KINDS[n % len(KINDS)]
        later.append(Referral(variant(rng, firsts[i], kind), i, kind))
    for j, i in enumerate(rng.sample(range(people), int(people * namesakes))):
        later.append(Referral(namesake(rng, firsts[i]), people + j, "namesake"))
    rng.shuffle(later)
    return found + later
