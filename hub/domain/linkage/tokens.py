"""Keyed blocking tokens: which earlier participants a new identity is worth comparing with,
without any index of names. Each token is HMAC-SHA-256 (its first 8 bytes, as an integer),
under the hub's linkage secret, of one combination of forms (``names``) that a record of
the same person keeps under one common kind of difference:

- ``gd`` a given-name form with the birth date: survives a changed or misspelt family name,
  a transposed day and month, a nickname (its full name is a form of both);
- ``fd`` a family-name part with the birth date: survives a nickname or a misspelt given
  name, a double family name;
- ``gsy`` a given-name form, the family name's sound and the birth year: survives a wrong
  birth day;
- ``ssd`` both names' sounds with the birth date: survives both names misspelt alike.

So any one such difference leaves at least one token in common, and two unrelated people
rarely share one. A token depends on the identity and the secret alone; without the secret
a token reveals nothing, and with it an attacker must still guess a name and a birth date
to test one (so the secret is kept apart from the tokens, hub.crypto)."""

from __future__ import annotations

import hashlib
import hmac

from hub.domain.linkage.names import dob_key, family_parts, given_forms, joined, sound
from hub.events import Identity

# 64 bits, kept as a machine integer: among a state's few million tokens a collision is
# about one chance in a million, and it would only add a candidate to score
TOKEN_BYTES = 8


def _forms(identity: Identity) -> frozenset[str]:
    """Given-name forms of the name and of every alias (a street name met by outreach)."""
    names = [identity.given_name, *identity.aliases]
    return frozenset(form for name in names for form in given_forms(name))


def token_keys(identity: Identity) -> frozenset[str]:
    """What is hashed: exposed for the tests that check each kind of difference."""
    born = identity.date_of_birth
    dob, year = dob_key(born), f"{born.year:04d}"
    givens = _forms(identity)
    family = sound(joined(identity.family_name))
    keys = {f"gd|{g}|{dob}" for g in givens}
    keys |= {f"fd|{f}|{dob}" for f in family_parts(identity.family_name)}
    keys |= {f"gsy|{g}|{family}|{year}" for g in givens}
    keys.add(f"ssd|{sound(joined(identity.given_name))}|{family}|{dob}")
    return frozenset(keys)


def token(secret: bytes, key: str) -> int:
    digest = hmac.new(secret, key.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:TOKEN_BYTES], "big")


def kinded_tokens(identity: Identity, secret: bytes) -> dict[int, str]:
    """Each token with its kind (the evidence of a link names the kinds shared, never a
    token)."""
    return {token(secret, key): key.split("|")[0] for key in token_keys(identity)}


def blocking_tokens(identity: Identity, secret: bytes) -> frozenset[int]:
    return frozenset(kinded_tokens(identity, secret))
