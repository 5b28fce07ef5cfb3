"""The webhook relay's signature and endpoint rules (its deliveries, against a real local
receiver with real notices: tests/e2e/test_lead_story.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.webhook import endpoint, signature, verify

SECRET = b"a secret shared with the endpoint"


@given(st.binary(max_size=256), st.uuids(), st.integers(1_700_000_000, 1_900_000_000))
def test_a_signature_verifies_and_nothing_else_does(body: bytes, delivery: object, at: int) -> None:
    headers = {
        "X-LeadHub-Signature": signature(SECRET, str(delivery), body, at),
        "x-leadhub-delivery": str(delivery),  # header names in any case
    }
    assert verify(SECRET, headers, body, at)
    assert not verify(SECRET, headers, body + b"!", at)  # another body
    assert not verify(b"another secret, same length!!!!!", headers, body, at)
    assert not verify(SECRET, headers, body, at + 301)  # too old: a replay
    moved = {**headers, "x-leadhub-delivery": f"{delivery}x"}
    assert not verify(SECRET, moved, body, at)  # another delivery's signature
    assert not verify(SECRET, {}, body, at)


@pytest.mark.parametrize("url", ["http://agency.example/hook", "ftp://x", "file:///etc/passwd"])
def test_an_endpoint_is_https_or_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="must be https"):
        endpoint(url)
    assert endpoint("https://agency.example/hook") and endpoint("http://127.0.0.1:8080/x")
