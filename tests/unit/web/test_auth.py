"""Request signatures and page sessions: what verifies, and that anything else is refused
the same way (never another exception a caller could tell apart)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.crypto.signing import PublicKeys, SigningKey
from hub.web.auth import (
    RequestVerifier,
    SessionVerifier,
    Unauthenticated,
    issue_session,
    sign_request,
)

TARGET = "/v1/participants/P-1/timeline?as_of=2026-09-01T00:00:00Z"


def test_a_signed_request_names_its_agency(
    agency_keys: dict[str, SigningKey], public_keys: PublicKeys
) -> None:
    header = sign_request(agency_keys["sao"], "GET", TARGET)
    assert RequestVerifier(public_keys).agency(header, "GET", TARGET, b"") == "sao"


@pytest.mark.parametrize(
    ("method", "target", "body"),
    [("POST", TARGET, b""), ("GET", "/v1/notices", b""), ("GET", TARGET, b"x")],
)
def test_a_signature_covers_method_target_and_body(
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
    method: str,
    target: str,
    body: bytes,
) -> None:
    header = sign_request(agency_keys["sao"], "GET", TARGET)
    with pytest.raises(Unauthenticated):
        RequestVerifier(public_keys).agency(header, method, target, body)


def test_another_agencys_key_or_an_old_request_is_refused(
    agency_keys: dict[str, SigningKey], public_keys: PublicKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = RequestVerifier(public_keys, skew_s=300)
    as_cm = sign_request(agency_keys["sao"], "GET", TARGET).replace("agency=sao", "agency=cm")
    with pytest.raises(Unauthenticated):
        verifier.agency(as_cm, "GET", TARGET, b"")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 301)
    old = sign_request(agency_keys["sao"], "GET", TARGET)
    monkeypatch.setattr(time, "time", lambda: now)
    with pytest.raises(Unauthenticated):
        verifier.agency(old, "GET", TARGET, b"")


@given(st.text(max_size=300))
def test_any_other_header_is_refused_the_same_way(header: str) -> None:
    verifier = RequestVerifier(PublicKeys({}))
    with pytest.raises(Unauthenticated):
        verifier.agency(header, "GET", TARGET, b"")
    with pytest.raises(Unauthenticated):
        verifier.agency("LEAD-Ed25519 " + header, "GET", TARGET, b"")


def test_sessions_expire_and_only_the_hub_can_issue_them(
    agency_keys: dict[str, SigningKey], public_keys: PublicKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = agency_keys["hub"]
    sessions = SessionVerifier(public_keys, hub.key_id, frozenset(agency_keys))
    token = issue_session(hub, "cm", hours=1)
    assert sessions.agency(token) == "cm"
    forged = issue_session(agency_keys["cm"], "cm", hours=1)  # signed, but not by the hub
    claims, signature = token.split(".")
    other_claims = issue_session(hub, "sao", hours=1).split(".")[0]
    for bad in (forged, f"{other_claims}.{signature}", f"{claims}.", "", "a.b.c", None):
        with pytest.raises(Unauthenticated):
            sessions.agency(bad)
    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthenticated):
        sessions.agency(token)


@given(st.text(max_size=200))
def test_any_other_token_is_refused(token: str) -> None:
    sessions = SessionVerifier(PublicKeys({}), "k", frozenset({"cm"}))
    with pytest.raises(Unauthenticated):
        sessions.agency(token)
