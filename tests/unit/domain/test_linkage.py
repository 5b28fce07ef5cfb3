"""Record linkage's pure core: name and birth-date forms, keyed blocking tokens, the token
index and Fellegi-Sunter scoring, on synthetic people and their re-referrals
(producers.variants)."""

from __future__ import annotations

import datetime as dt
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.linkage.index import TokenIndex
from hub.domain.linkage.names import dob_key, family_parts, fold, given_forms
from hub.domain.linkage.scoring import Thresholds, Verdict, score
from hub.domain.linkage.tokens import TOKEN_BYTES, blocking_tokens, token_keys
from producers.variants import KINDS, namesake, person, variant

SECRET = b"test linkage secret"
seeds = st.integers(0, 2**32 - 1)


def test_forms_of_names_and_birth_dates() -> None:
    assert fold("  O'Brien-Núñez ") == "o brien nunez"
    assert {"robert", "bob"} <= given_forms("Bob") and "robert" in given_forms("Robert")
    assert family_parts("Smith-Jones") == {"smithjones", "smith", "jones"}
    assert dob_key(dt.date(1980, 3, 4)) == dob_key(dt.date(1980, 4, 3)) == "19800304"
    assert dob_key(dt.date(1980, 3, 4)) != dob_key(dt.date(1981, 3, 4))


@settings(max_examples=60, deadline=None)
@given(seeds, st.binary(min_size=16, max_size=64))
def test_a_token_depends_on_the_identity_and_the_secret_alone(seed: int, secret: bytes) -> None:
    """The same identity gives the same tokens whatever else differs (its record numbers,
    which agency refers it, when); another secret gives none of them; no token carries
    any readable part of the name."""
    someone = person(Random(seed))
    elsewhere = someone.model_copy(update={"local_record_numbers": [], "middle_name": None})
    tokens = blocking_tokens(someone, secret)
    assert tokens == blocking_tokens(elsewhere, secret)
    assert all(0 <= t < 1 << (8 * TOKEN_BYTES) for t in tokens)
    assert not tokens & blocking_tokens(someone, secret + b"!")
    name = fold(someone.family_name).encode()
    assert not any(name[:4] in t.to_bytes(TOKEN_BYTES, "big") for t in tokens)


@settings(max_examples=300, deadline=None)
@given(seeds, st.sampled_from(KINDS))
def test_a_variant_of_a_person_always_shares_a_token_with_the_original(
    seed: int, kind: str
) -> None:
    rng = Random(seed)
    first = person(rng)
    again = variant(rng, first, kind)
    shared = token_keys(first) & token_keys(again)
    assert shared, (first, again)
    assert blocking_tokens(first, SECRET) & blocking_tokens(again, SECRET)


@settings(max_examples=300, deadline=None)
@given(seeds, st.sampled_from(KINDS))
def test_a_variant_scores_at_least_probable_and_scoring_is_symmetric(seed: int, kind: str) -> None:
    rng = Random(seed)
    first = person(rng)
    again = variant(rng, first, kind)
    scored = score(first, again)
    assert scored.verdict(Thresholds()) is not Verdict.NONE, scored
    assert scored.weight == pytest.approx(score(again, first).weight)


def test_each_kind_of_difference_is_its_level() -> None:
    rng = Random(7)
    first = person(rng).model_copy(
        update={"given_name": "Robert", "date_of_birth": dt.date(1984, 3, 9)}
    )
    levels = {
        kind: dict(score(first, variant(Random(1), first, kind)).levels)
        for kind in ("same", "nickname", "swapped_dob", "new_family", "double")
    }
    assert levels["same"]["given"] == levels["same"]["family"] == levels["same"]["dob"] == "exact"
    assert levels["nickname"]["given"] == "nickname"
    assert levels["swapped_dob"]["dob"] == "swapped"
    assert levels["new_family"]["family"] == "differ"
    assert levels["double"]["family"] == "part"
    assert score(first, first).verdict(Thresholds()) is Verdict.MATCH


@settings(max_examples=200, deadline=None)
@given(seeds)
def test_a_namesake_with_other_record_numbers_is_never_linked(seed: int) -> None:
    """Another person with the same name and birth year, known by another record number
    of the same system: at most a task for a person to look at, never a link."""
    rng = Random(seed)
    first = person(rng)
    other = namesake(rng, first)
    assert score(first, other).verdict(Thresholds()) is not Verdict.MATCH


def test_the_index_finds_candidates_and_erasure_removes_every_token() -> None:
    rng = Random(3)
    people = {f"P{i}": person(rng) for i in range(50)}
    index = TokenIndex()
    for pid, someone in people.items():
        index.add(pid, blocking_tokens(someone, SECRET))
    again = variant(rng, people["P7"], "nickname")
    assert "P7" in index.candidates(blocking_tokens(again, SECRET))
    kept = len(index.tokens_of("P7"))
    assert index.remove("P7") == kept > 0
    assert "P7" not in index.candidates(blocking_tokens(people["P7"], SECRET))
    assert index.tokens_of("P7") == frozenset() and len(index) == 49


def test_thresholds_must_be_in_order() -> None:
    with pytest.raises(ValueError, match="probable threshold"):
        Thresholds(match=10.0, probable=12.0)
