"""Who is asking: agency systems sign each request, people carry a session the hub signed.

An agency system signs ``method, path with query, timestamp, SHA-256 of the body`` with the
same Ed25519 key it signs its events with, so the hub needs no second credential and an
API key cannot leak from a config file the agency keys do not also guard. The header:

    Authorization: LEAD-Ed25519 agency=sao,key=<key id>,ts=<unix seconds>,sig=<base64>

A request more than ``skew`` seconds from the hub's clock is refused, so a captured one is
useless minutes later; within that window a replay only repeats a read (events carry
their own ids and the gatekeeper drops a repeat).

People sign in to the pages with a link the hub's operator issues (``leadhub web login``):
a token of agency and expiry signed with the hub's key, kept in an HttpOnly cookie. Every
failure is the same answer, so nothing tells a caller which part was wrong, let alone
whether a participant exists.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from dataclasses import dataclass

from hub.crypto import PublicKeys, SigningKey

SCHEME = "LEAD-Ed25519"
SESSION_COOKIE = "leadhub_session"


class Unauthenticated(Exception):
    """Deliberately without detail: the caller learns only that it was refused."""


def request_signing_input(method: str, target: str, ts: int, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"leadhub-request-v1\n{method.upper()}\n{target}\n{ts}\n{digest}".encode()


def sign_request(key: SigningKey, method: str, target: str, body: bytes = b"") -> str:
    """The Authorization header value for one request (what the SDK and tests send)."""
    ts = int(time.time())
    sig = base64.b64encode(key.sign(request_signing_input(method, target, ts, body))).decode()
    return f"{SCHEME} agency={key.agency},key={key.key_id},ts={ts},sig={sig}"


@dataclass(frozen=True)
class RequestVerifier:
    keys: PublicKeys
    skew_s: int = 300

    def agency(self, header: str | None, method: str, target: str, body: bytes) -> str:
        """The authenticated agency, or Unauthenticated."""
        if not header or not header.startswith(SCHEME + " "):
            raise Unauthenticated
        try:
            parts = dict(p.split("=", 1) for p in header[len(SCHEME) + 1 :].split(","))
            agency, key_id, ts = parts["agency"], parts["key"], int(parts["ts"])
            sig = base64.b64decode(parts["sig"], validate=True)
        except (KeyError, ValueError, binascii.Error) as exc:
            raise Unauthenticated from exc
        if abs(time.time() - ts) > self.skew_s:
            raise Unauthenticated
        if not self.keys.verify(
            agency, key_id, sig, request_signing_input(method, target, ts, body)
        ):
            raise Unauthenticated
        return agency


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_session(hub_key: SigningKey, agency: str, hours: float) -> str:
    claims = json.dumps({"agency": agency, "exp": int(time.time() + hours * 3600)}).encode()
    message = b"leadhub-session-v1\n" + claims
    return f"{_b64(claims)}.{_b64(hub_key.sign(message))}"


@dataclass(frozen=True)
class SessionVerifier:
    keys: PublicKeys
    hub_key_id: str
    agencies: frozenset[str]

    def agency(self, token: str | None) -> str:
        if not token or token.count(".") != 1:
            raise Unauthenticated
        try:
            claims_b64, sig_b64 = token.split(".")
            claims, sig = _unb64(claims_b64), _unb64(sig_b64)
            if not self.keys.verify("hub", self.hub_key_id, sig, b"leadhub-session-v1\n" + claims):
                raise Unauthenticated
            data = json.loads(claims)
            agency, exp = str(data["agency"]), int(data["exp"])
        except (KeyError, ValueError, TypeError, binascii.Error) as exc:
            raise Unauthenticated from exc
        if exp < time.time() or agency not in self.agencies:
            raise Unauthenticated
        return agency
