"""Dead letters keep the original record whole and say why, where and when."""

from __future__ import annotations

from datetime import UTC, datetime

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
