"""Dead letters keep the original record whole and say why, where and when."""

from __future__ import annotations

from datetime import UTC, datetime

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.rejections import Rejection, parse
from hub.events.errors import Reason


def test_round_trip_keeps_the_original_headers() -> None:
    original = [("ce_id", b"abc"), ("content-type", b"application/avro")]
    rejection = Rejection(
        Reason.BAD_SIGNATURE,
        "signature does not verify",
        "lead.ingest.bpd",
        2,
        41,
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    headers = rejection.headers(original)
    again, kept = parse(headers)
    assert again == rejection and kept == original
    assert dict(headers)["leadhub-reason"] == b"BAD_SIGNATURE"


def test_a_rerejected_record_does_not_pile_up_headers() -> None:
    first = Rejection(Reason.BAD_SIGNATURE, "x", "lead.ingest.bpd", 0, 1, datetime.now(UTC))
    second = Rejection(Reason.DUPLICATE, "y", "lead.ingest.bpd", 0, 9, datetime.now(UTC))
    headers = second.headers(first.headers([("ce_id", b"1")]))
    assert [k for k, _ in headers].count("leadhub-reason") == 1
    assert parse(headers)[0].reason is Reason.DUPLICATE


def test_ids_are_stable_per_source_position() -> None:
    at = datetime.now(UTC)
    a = Rejection(Reason.MALFORMED, "", "lead.ingest.cm", 1, 5, at)
    assert (
        a.rejection_id == Rejection(Reason.DUPLICATE, "z", "lead.ingest.cm", 1, 5, at).rejection_id
    )
    assert (
        a.rejection_id != Rejection(Reason.MALFORMED, "", "lead.ingest.cm", 1, 6, at).rejection_id
    )


AT = datetime(2026, 3, 1, tzinfo=UTC)
FULL = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"3f0b8c52-6a7e-4d21-9b43-5c8e1f2a7d90"),
    ("ce_source", b"/leadhub/agencies/sao"),
    ("ce_type", b"org.leadhub.charges_held"),
    ("ce_time", b"2026-11-03T09:15:00.250001+00:00"),
    ("content-type", b"application/avro"),
]


def _dead_letter(original: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return Rejection(Reason.HEADER_MISMATCH, "x", "lead.ingest.sao", 0, 7, AT).headers(original)


def test_a_dead_letter_is_a_cloudevent_exactly_when_the_refused_record_was() -> None:
    assert [h for h in _dead_letter(FULL) if h[0].startswith("ce_")] == FULL[:5]
    partial = [("ce_id", b"abc"), ("traceparent", b"00-ab-cd-01")]
    headers = _dead_letter(partial)
    assert not any(k.startswith("ce_") for k, _ in headers)
    assert ("leadhub-original-ce_id", b"abc") in headers
    assert parse(headers)[1] == partial, "re-driven with its own headers, in order"
    again = Rejection(Reason.DUPLICATE, "y", "lead.ingest.sao", 0, 9, AT).headers(headers)
    assert parse(again)[1] == partial, "refused again: still its own headers"


HEADER_VALUES = st.one_of(
    st.sampled_from([b"", b"1.0", b"0.3", b"x", b"not a time", b"2026-11-03T09:15:00Z", b"\xff"]),
    st.binary(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type", "x"]
            ),
            HEADER_VALUES,
        ),
        max_size=8,
    )
)
def test_every_dead_letter_is_a_cloudevent_to_the_sdk_or_claims_to_be_none(
    original: list[tuple[str, bytes]],
) -> None:
    """Checked with the CloudEvents SDK's own Kafka binding, on any headers at all; and
    each original header comes back, in order, for a re-drive."""
    headers = _dead_letter(original)
    if any(k.startswith("ce_") for k, _ in headers):
        event = from_binary(KafkaMessage(dict(headers), b"P-1", b"\x00"), JSONFormat())
        assert event.get_id() == dict(headers)["ce_id"].decode()
    assert parse(headers)[1] == original
