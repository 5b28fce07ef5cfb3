"""Participant ids: every id issued passes its check, and the errors people make typing one
(a wrong symbol, two neighbours swapped) never do."""

from __future__ import annotations

import random
import secrets

from hypothesis import given
from hypothesis import strategies as st

from hub.domain import issue_participant_id, read_participant_id
from hub.domain.participant_ids import ALPHABET, LENGTH, PREFIX, is_participant_id

random_ids = st.binary(min_size=7, max_size=7).map(lambda b: issue_participant_id(lambda n: b[:n]))


@given(random_ids)
def test_an_issued_id_is_valid_and_reads_back(pid: str) -> None:
    assert len(pid) == LENGTH and pid.startswith(PREFIX)
    assert is_participant_id(pid)
    assert read_participant_id(pid) == pid


@given(random_ids, st.data())
def test_every_single_symbol_error_is_caught(pid: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(len(PREFIX), LENGTH - 1))
    wrong = data.draw(st.sampled_from([c for c in ALPHABET if c != pid[at]]))
    assert not is_participant_id(pid[:at] + wrong + pid[at + 1 :])


@given(random_ids, st.data())
def test_every_swap_of_two_different_neighbours_is_caught(pid: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(len(PREFIX), LENGTH - 2))
    swapped = pid[:at] + pid[at + 1] + pid[at] + pid[at + 2 :]
    assert swapped == pid or not is_participant_id(swapped)


def test_every_single_error_of_one_id_exhaustively() -> None:
    pid = issue_participant_id(random.Random(7).randbytes)
    for at in range(len(PREFIX), LENGTH):
        for c in ALPHABET:
            typed = pid[:at] + c + pid[at + 1 :]
            assert is_participant_id(typed) == (typed == pid)


def test_what_people_type_is_read_as_they_meant() -> None:
    pid = issue_participant_id(random.Random(11).randbytes)
    body = pid[len(PREFIX) :]
    assert read_participant_id(pid.lower()) == pid
    assert read_participant_id(f" {body[:4]}-{body[4:8]} {body[8:]} ") == pid
    if "1" in body or "0" in body:
        assert read_participant_id(body.replace("1", "l").replace("0", "o")) == pid
    assert read_participant_id(pid[:-1]) is None
    assert read_participant_id("") is None


def test_what_is_not_an_id() -> None:
    pid = issue_participant_id(random.Random(3).randbytes)
    for other in ("SYSTEM", "P-", pid + "0", pid.lower(), "Q" + pid[1:], pid.replace("-", "_")):
        assert not is_participant_id(other), other


def test_a_seeded_source_gives_the_same_ids_and_secrets_different_ones() -> None:
    assert issue_participant_id(random.Random(1).randbytes) == issue_participant_id(
        random.Random(1).randbytes
    )
    assert len({issue_participant_id(secrets.token_bytes) for _ in range(1000)}) == 1000
