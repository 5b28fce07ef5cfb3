"""The agency-side publishing SDK: build a typed event, encode it, sign it, publish it.

An agency system needs only this (or, without Python, docs/protocol.md): the body is
encoded once, those bytes are signed, and the record goes to the agency's own ingest
topic keyed by participant, with CloudEvents headers for routers that do not read Avro.
The publishers are the hub's own (``hub.log.publishing``): one implementation of sealing
and sending, whoever sends. ``ReceiptReader`` waits for the hub's signed receipt of what
was sent (accepted, or rejected and why: docs/protocol.md 16.3).
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.crypto import IntakeKey, NoteError, SigningKey, current_key, read_key_set
from hub.errors import HubError
from hub.events import Envelope, EventBody
from hub.log import AsyncPublisher, Publisher, ReceiptReader
from hub.web import sign_request

__all__ = ["AsyncPublisher", "HubApi", "Publisher", "ReceiptReader", "json_submission"]


class HubApi:
    """The hub's HTTP API as an agency system calls it: each request signed with the
    agency's event-signing key (docs/protocol.md, section 17.1). Standard library only."""

    def __init__(
        self,
        base_url: str,
        key: SigningKey,
        *,
        timeout_s: float = 10.0,
        context: ssl.SSLContext | None = None,
    ) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise HubError(f"the hub's API is http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout_s = timeout_s
        self.context = context

    def new_participant_id(self) -> str:
        """A participant id the hub issued, for a person the agency is about to refer
        (POST /v1/participants): use it in the referral and every event after it."""
        answer = self._call("POST", "/v1/participants")
        return str(answer["participant_id"])

    def intake_key(
        self, origin: str, hub_public: Ed25519PublicKey, now: datetime | None = None
    ) -> IntakeKey:
        """The hub's intake key to seal identity and notes to now (GET /v1/intake-keys),
        from the key set's signed note: ``hub_public`` is the hub's Ed25519 key that signs
        its checkpoints under ``origin`` (the log's origin), obtained out of band."""
        answer = self._call("GET", "/v1/intake-keys")
        try:
            keys = read_key_set(str(answer["note"]), origin, hub_public)
            return current_key(keys, now or datetime.now(UTC))
        except (KeyError, ValueError, NoteError) as exc:
            raise HubError(f"GET /v1/intake-keys: {exc}") from None

    def _call(self, method: str, path: str, body: bytes = b"") -> dict[str, object]:
        target = urllib.parse.urlsplit(self.base_url).path + path
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked at __init__)
            self.base_url + path,
            data=body,
            method=method,
            headers={"Authorization": sign_request(self.key, method, target, body)},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 (as above)
                request, timeout=self.timeout_s, context=self.context
            ) as r:
                answer: dict[str, object] = json.load(r)
                return answer
        except urllib.error.HTTPError as exc:
            try:
                problem = json.loads(exc.read() or b"{}")
            except ValueError:  # not a problem document: a proxy's page, say
                problem = {}
            if not isinstance(problem, dict):
                problem = {}
            status = f"{exc.code} {problem.get('reason', '')}".strip()
            detail = problem.get("detail") or problem.get("title") or exc.reason
            raise HubError(f"{method} {path}: {status}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise HubError(f"{method} {path}: cannot reach the hub: {reason}") from None
        except ValueError:
            raise HubError(f"{method} {path}: the answer is not JSON") from None


def json_submission(envelope: Envelope, body: EventBody) -> dict[str, object]:
    """The JSON form of a sealed event for the hub's HTTP API (POST /v1/events): the body
    in JSON, which the hub encodes against the schema into the same bytes ``seal`` signed,
    so the signature carries over unchanged."""
    import base64

    return {
        "event_id": str(envelope.event_id),
        "event_type": envelope.event_type,
        "key_id": envelope.key_id,
        "participant_id": envelope.participant_id,
        "occurred_at": envelope.occurred_at.isoformat(),
        "causation_id": str(envelope.causation_id) if envelope.causation_id else None,
        "correlation_id": str(envelope.correlation_id) if envelope.correlation_id else None,
        "body": body.model_dump(mode="json"),
        "signature": base64.b64encode(envelope.signature).decode(),
    }
