"""The linker: following the log's referrals, links and erasures, and answering a referral
with a link, a task or nothing. Identities "as on the log" are stood in for by fields
whose nonce is a handle a dictionary opens (the worker opens them with data keys: that is
tested end to end in tests/e2e/test_outside_agency.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from random import Random
from typing import Any

from hub.domain import Linker, Links, Thresholds
from hub.domain.linkage.linker import LINKED, SUSPECTED, linkage_event_id
from hub.events import Identity
from producers.variants import namesake, person, variant

SECRET = b"test linkage secret"
FIRST, SECOND, THIRD = "P-first", "P-second", "P-third"


class Vault:
    """Stands in for the data keys: a handle per identity, None once erased."""

    def __init__(self) -> None:
        self.held: dict[str, Identity] = {}

    def seal(self, identity: Identity) -> Mapping[str, Any]:
        """An identity field's shape, its nonce the handle."""
        handle = str(len(self.held)).encode().rjust(12, b"0")  # a nonce's length
        self.held[handle] = identity
        return {"plaintext_type": "IDENTITY", "key_id": "dk-0", "nonce": handle, "ciphertext": b""}

    def open(self, participant: str, nonce: bytes, ciphertext: bytes) -> Identity | None:
        return self.held.get(nonce)


def referred(linker: Linker, vault: Vault, participant: str, identity: Identity) -> Any:
    """A referral reaches the log: the linker's answer when it is decided; then both are
    folded, as they follow each other on the log."""
    sealed = vault.seal(identity)
    answer = linker.decide(uuid.uuid4(), participant, sealed, Thresholds())
    linker.follow(participant, "referral_made", {"identity": sealed})
    if answer is not None:
        linker.follow(participant, answer.event_type, answer.body)
    return answer


def fresh() -> tuple[Linker, Vault]:
    vault = Vault()
    return Linker(SECRET, vault.open), vault


def test_a_nickname_referral_is_linked_with_its_evidence_and_no_value() -> None:
    linker, vault = fresh()
    rng = Random(7)
    first = person(rng)
    assert referred(linker, vault, FIRST, first) is None  # nobody to be yet
    again = variant(rng, first, "nickname")
    referral = uuid.uuid4()
    sealed = vault.seal(again)
    found = linker.decide(referral, SECOND, sealed, Thresholds())
    assert found is not None and found.event_type == LINKED
    assert found.participant_id == SECOND and found.cause == referral
    assert found.event_id == linkage_event_id(referral)  # once per referral, on any worker
    assert found.body["linked_participant_id"] == FIRST and found.body["basis"] == "AUTOMATIC"
    assert found.body["weight"] >= Thresholds().match
    assert "given=nickname" in found.body["levels"] or "given=alias" in found.body["levels"]
    assert set(found.body["token_kinds"]) <= {"gd", "fd", "gsy", "ssd"}
    text = repr(found.body).lower()
    for value in (first.given_name, first.family_name, again.given_name):
        assert value.lower() not in text


def test_a_namesake_is_never_linked_and_a_referral_never_matches_itself() -> None:
    rng = Random(11)
    for _ in range(50):
        linker, vault = fresh()
        first = person(rng)
        referred(linker, vault, FIRST, first)
        other = referred(linker, vault, SECOND, namesake(rng, first))
        assert other is None or other.event_type == SUSPECTED
        # the same id referred again (its own tokens are in the index) is no one else
        assert referred(linker, vault, FIRST, first) is None


def test_a_probable_match_is_a_task_and_a_pair_is_answered_once() -> None:
    linker, vault = fresh()
    rng = Random(3)
    first = person(rng)
    referred(linker, vault, FIRST, first)
    strict = Thresholds(match=1000.0, probable=12.0)
    sealed = vault.seal(variant(rng, first, "typo"))
    task = linker.decide(uuid.uuid4(), SECOND, sealed, strict)
    assert task is not None and task.event_type == SUSPECTED and "basis" not in task.body
    linker.follow(SECOND, SUSPECTED, task.body)
    assert linker.decide(uuid.uuid4(), SECOND, sealed, strict) is None  # asked already
    # the reviewer confirms: still nothing more to ask; told apart: never asked again
    linker.follow(SECOND, LINKED, {**task.body, "basis": "CONFIRMED"})
    assert linker.decide(uuid.uuid4(), SECOND, sealed, Thresholds()) is None
    linker.follow(FIRST, "participants_unlinked", {"linked_participant_id": SECOND})
    assert linker.decide(uuid.uuid4(), SECOND, sealed, Thresholds()) is None
    # a third id for the same person is still found
    third = linker.decide(uuid.uuid4(), THIRD, vault.seal(first), Thresholds())
    assert third is not None and third.body["linked_participant_id"] in {FIRST, SECOND}


def test_erasure_removes_the_tokens_and_the_person_is_no_longer_matched() -> None:
    linker, vault = fresh()
    first = person(Random(5))
    referred(linker, vault, FIRST, first)
    assert linker.index.tokens_of(FIRST)
    linker.follow(FIRST, "participant_erased", {})
    assert not linker.index.tokens_of(FIRST) and len(linker.index) == 0
    assert FIRST not in linker.identities
    assert referred(linker, vault, SECOND, first) is None


def test_an_identity_that_no_longer_opens_is_neither_indexed_nor_answered() -> None:
    vault = Vault()
    linker = Linker(SECRET, lambda participant, nonce, ciphertext: None)  # every key erased
    first = person(Random(9))
    assert referred(linker, vault, FIRST, first) is None
    assert len(linker.index) == 0
    assert linker.decide(uuid.uuid4(), SECOND, None, Thresholds()) is None


def test_links_make_groups_and_an_unlink_parts_only_its_pair() -> None:
    def link(a: str, b: str) -> tuple[str, str, dict[str, str]]:
        return a, LINKED, {"linked_participant_id": b}

    chain = [
        link(SECOND, FIRST),
        link(THIRD, SECOND),
        (FIRST, SUSPECTED, {"linked_participant_id": "P-x"}),
    ]
    links = Links.of(chain)
    assert links.group(FIRST) == links.group(THIRD) == {FIRST, SECOND, THIRD}
    assert links.group("P-x") == {"P-x"}  # a suspicion joins nothing
    links.apply(SECOND, "participants_unlinked", {"linked_participant_id": THIRD})
    assert links.group(FIRST) == {FIRST, SECOND} and links.group(THIRD) == {THIRD}
