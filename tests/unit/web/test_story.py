"""Each event type reads as one plain sentence, from whatever fields its viewer was shown:
no code names, no empty values, no field=value, times in the site's zone."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.events import EVENT_MODELS
from hub.web.story import TEMPLATES, Story, words
from producers.samples import sample_event
from tests.support.fakes import fake_seal

STORY = Story("America/Los_Angeles")
RAW = re.compile(r"\b[A-Z]{2,}_[A-Z_]+\b|=|\bNone\b|[{}]|<\w+\.")


def test_every_event_type_has_its_sentence() -> None:
    assert set(TEMPLATES) == set(EVENT_MODELS)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(EVENT_MODELS)), st.integers(0, 2**32), st.data())
def test_a_sentence_reads_as_words_whatever_fields_were_shown(
    event_type: str, seed: int, data: st.DataObject
) -> None:
    """The sample's fields, or any subset of them (a rule discloses only some)."""
    body = sample_event(event_type, random.Random(seed), fake_seal).model_dump()
    shown = data.draw(st.sets(st.sampled_from(sorted(body) or [""])), label="shown")
    for fields in (body, {k: v for k, v in body.items() if k in shown}, {}):
        sentence = STORY.sentence(event_type, fields)
        assert sentence and sentence[0].isupper(), sentence
        assert not RAW.search(sentence), sentence
        assert "  " not in sentence and not sentence.endswith((",", ";", ":"))


def test_times_are_in_the_sites_zone_and_withheld_fields_are_left_out() -> None:
    held = {
        "case_ref": "SAO-1",
        "charge_category": "DRUG_POSSESSION",
        "intake_deadline": datetime(2026, 9, 15, 7, 0, tzinfo=UTC),
    }
    assert STORY.sentence("charges_held", held) == (
        "Charges held (case SAO-1) for drug possession; intake due by 2026-09-15 00:00"
    )
    assert Story("UTC").sentence("charges_held", {"case_ref": "SAO-1"}) == (
        "Charges held (case SAO-1)"
    )
    referral = {"door": "SOCIAL_CONTACT", "offence_category": "NONE", "catchment_area": "western"}
    assert STORY.sentence("referral_made", referral) == (
        "Referred by police after a social contact, western district"
    )


@pytest.mark.parametrize(
    ("identity", "says"),
    [
        (
            {
                "plaintext_type": "IDENTITY",
                "plaintext": {
                    "given_name": "Ann",
                    "family_name": "Oak",
                    "date_of_birth": datetime(1990, 1, 2).date(),
                },
            },
            "; Ann Oak, born 1990-01-02",
        ),
        ({"plaintext_type": "IDENTITY", "erased": True}, "; identity erased"),
        ({"plaintext_type": "IDENTITY", "unreadable": True}, "; identity unreadable"),
        (
            {"plaintext_type": "IDENTITY", "key_id": "dk-1", "nonce": b"", "ciphertext": b""},
            "; identity sealed",
        ),
    ],
)
def test_an_identity_reads_as_what_became_of_it(identity: dict, says: str) -> None:
    sentence = STORY.sentence("referral_made", {"door": "COMMUNITY", "identity": identity})
    assert sentence.startswith("Referred by a community partner" + says)


def test_codes_read_as_words_and_acronyms_stay() -> None:
    assert words("NO_RECENT_CONTACT") == "no recent contact"
    assert words(["SNAP", "SSI_SSDI", "ID_DOCUMENT"]) == "SNAP, SSI SSDI, ID document"
    assert words("P-7KQ2M9XR4TQF") == "P-7KQ2M9XR4TQF"  # an id is not a code
    assert words(True) == "yes"
