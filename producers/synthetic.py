"""The made-up values every synthetic event is built from: names of invented syllables,
instants in 2025, random staff and record numbers. Nothing here is or resembles a real
person, and every value is a pure function of the ``rng`` state, so a seed reproduces a
run byte for byte."""

import datetime as dt
import uuid
from collections.abc import Iterable
from random import Random
from typing import TypeVar

from hub.events import models as m

_E = TypeVar("_E")

SYLLABLES = ["ka", "lo", "mir", "ten", "va", "zu", "ri", "bel", "no", "sha", "dre", "quo"]
EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NOTES = [
    "Met at the drop-in centre; talked about getting an ID card.",
    "Went together to the benefits office; application submitted.",
    "Phone check-in; wants to look at a treatment program next week.",
    "Could not find them at the usual spot; left a message with outreach.",
]


def random_uuid(rng: Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def made_up_name(rng: Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def instant(rng: Random) -> dt.datetime:
    """A whole-second instant in 2025 (timestamp-micros round-trips it exactly)."""
    return EPOCH + dt.timedelta(seconds=rng.randrange(365 * 24 * 3600))


def day(rng: Random) -> dt.date:
    return instant(rng).date()


def staff_id(rng: Random, prefix: str) -> str:
    return f"{prefix}-{rng.randrange(1000, 9999)}"


def choice(rng: Random, options: Iterable[_E]) -> _E:
    return rng.choice(list(options))


def sample_of(rng: Random, options: Iterable[_E], low: int = 0) -> list[_E]:
    """A random subset, in declaration order (stable and unique)."""
    pool = list(options)
    picked = set(rng.sample(range(len(pool)), rng.randint(low, len(pool))))
    return [item for i, item in enumerate(pool) if i in picked]


def identity(rng: Random) -> m.Identity:
    family = made_up_name(rng)
    return m.Identity(
        given_name=made_up_name(rng),
        family_name=family,
        middle_name=made_up_name(rng)[0] if rng.random() < 0.4 else None,
        aliases=[made_up_name(rng) for _ in range(rng.randint(0, 2))],
        date_of_birth=dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365)),
        local_record_numbers=[
            m.LocalRecordNumber(system="bpd-rms", value=f"R{rng.randrange(10**7):07d}"),
            m.LocalRecordNumber(system="hmis", value=f"H{rng.randrange(10**6):06d}"),
        ],
    )
