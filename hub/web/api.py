"""The agency API: submit events to the gatekeeper, read what the hub disclosed to you, and
(for oversight) the auditor's checks. Errors are RFC 9457 problem details with a reason
code. Authentication comes first on every route and fails the same way whatever was
asked, so a refused caller learns nothing about any participant.
"""

import asyncio
import base64
import binascii
import json
import secrets
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from hub.domain import issue_participant_id
from hub.errors import HubError
from hub.events import (
    EVENT_MODELS,
    Envelope,
    EventError,
    ViewKind,
    cloudevents_headers,
    decode_envelope,
    encode_envelope,
)
from hub.web.auth import Unauthenticated
from hub.web.context import WebContext
from hub.web.shown import Shown
from hub.web.view import as_json

log = structlog.get_logger(__name__)

AVRO = "application/vnd.leadhub.envelope+avro"
PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details, with the hub's reason code."""

    type: str = "about:blank"
    title: str
    status: int
    reason: str
    detail: str | None = None


class ApiProblem(Exception):
    def __init__(self, status: int, reason: str, title: str, detail: str | None = None) -> None:
        super().__init__(title)
        self.problem = Problem(
            type=f"https://leadhub.example/problems/{reason.lower().replace('_', '-')}",
            title=title,
            status=status,
            reason=reason,
            detail=detail,
        )


def problem_response(p: ApiProblem) -> JSONResponse:
    headers = {"WWW-Authenticate": "LEAD-Ed25519"} if p.problem.status == 401 else None
    return JSONResponse(
        p.problem.model_dump(), status_code=p.problem.status, media_type=PROBLEM, headers=headers
    )


UNAUTHENTICATED = ApiProblem(
    401, "UNAUTHENTICATED", "authentication required", "sign the request with your agency key"
)
NOTHING_DISCLOSED = ApiProblem(
    404, "NOTHING_DISCLOSED", "nothing disclosed to you about this participant"
)
NOT_AUDITOR = ApiProblem(403, "NOT_AN_AUDITOR", "auditor endpoints are for oversight agencies")
NOT_A_REFERRER = ApiProblem(
    403,
    "NOT_A_REFERRER",
    "participant ids are issued to agencies that refer people",
    "your agency may not emit referral_made (deploy/agencies.yaml)",
)


class SubmittedEvent(BaseModel):
    """An event in JSON: the hub encodes ``body`` against the event type's schema (Avro
    binary, deterministic) and the signature must verify over those bytes, exactly as if
    the agency had sent the Avro envelope itself."""

    event_id: uuid.UUID
    event_type: str
    key_id: str
    participant_id: str
    occurred_at: datetime
    causation_id: uuid.UUID | None = None
    correlation_id: uuid.UUID | None = None
    body: dict[str, Any]
    signature: str = Field(description="base64 Ed25519 signature over the signing input")


class IntakeKeyOut(BaseModel):
    key_id: str = Field(examples=["ik-20261203T000000Z"])
    public_key: str = Field(description="the raw 32-byte X25519 public key, base64")
    starts: datetime
    ends: datetime = Field(description="seal to a newer key from here on")
    destroyed_at: datetime = Field(description="the hub destroys the private key then")


class IntakeKeySet(BaseModel):
    keys: list[IntakeKeyOut] = Field(description="every key the hub holds, newest first")
    note: str = Field(
        description="the same keys as a C2SP signed note, signed by the hub's key under the "
        "log's origin (docs/protocol.md 16.2): check it before sealing to a key"
    )


class IssuedParticipant(BaseModel):
    participant_id: str = Field(
        description="P- and twelve Crockford base-32 symbols, the last a check symbol",
        examples=["P-7KQ2M9XR4TQF"],
    )


class Verdict(BaseModel):
    status: Literal["accepted", "submitted"]
    event_id: str | None = None
    ingest: str = Field(description="topic/partition/offset of the ingest record")
    detail: str | None = None


class TimelineEntry(BaseModel):
    event_id: str
    event_type: str
    source: str
    participant_id: str
    occurred_at: str
    recorded_at: str
    seen: str = Field(description="'own event', or the rule that permitted the disclosure")
    notice_id: str | None
    fields: dict[str, Any]


class Timeline(BaseModel):
    participant_id: str
    agency: str
    view_id: str = Field(description="request_id of the records_viewed logged for this read")
    linked_ids: list[str] = Field(
        default_factory=list,
        description="the other participant ids you were told are the same person "
        "(participants_linked): their events are in entries too, each under its own id",
    )
    entries: list[TimelineEntry]


class Inbox(BaseModel):
    agency: str
    view_id: str | None
    notices: list[TimelineEntry]
    acknowledged: list[str]


class Rows(BaseModel):
    rows: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM: {}}} for code in (400, 401, 403, 404, 422)
}


def envelope_of(submitted: SubmittedEvent, ctx: WebContext, agency: str) -> Envelope:
    """Encode the JSON body as the agency would have; the gatekeeper checks the rest."""
    model = EVENT_MODELS.get(submitted.event_type)
    if model is None:
        raise ApiProblem(422, "UNKNOWN_SCHEMA", "no such event type", submitted.event_type)
    try:
        body = model.model_validate(submitted.body)
        signature = base64.b64decode(submitted.signature, validate=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(record)"
        raise ApiProblem(
            422, "INVALID_EVENT", "body does not fit the schema", f"{where}: {first['msg']}"
        ) from None
    except binascii.Error:
        raise ApiProblem(422, "MISSING_SIGNATURE", "signature is not base64") from None
    payload = ctx.codec.encode(submitted.event_type, body.model_dump())
    facts: dict[str, Any] = {
        "event_id": submitted.event_id,
        "event_type": submitted.event_type,
        "source": agency,
        "key_id": submitted.key_id,
        "participant_id": submitted.participant_id,
        "occurred_at": submitted.occurred_at,
        "causation_id": submitted.causation_id,
        "correlation_id": submitted.correlation_id,
        "schema_fingerprint": payload[2:10],
        "payload": payload,
    }
    return Envelope(**facts, signature=signature)


def trace_context() -> list[tuple[str, bytes]]:
    """The request's trace context as Kafka headers, so the trace goes on into the agents."""
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(k, v.encode()) for k, v in carrier.items()]


def router(ctx: WebContext) -> APIRouter:
    api = APIRouter(prefix="/v1", responses=ERRORS)

    async def agency(request: Request) -> str:
        body = await request.body()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            return ctx.requests.agency(
                request.headers.get("authorization"), request.method, target, body
            )
        except Unauthenticated:
            raise UNAUTHENTICATED from None

    async def auditor(who: Annotated[str, Depends(agency)]) -> str:
        if who not in ctx.auditors:
            raise NOT_AUDITOR
        return who

    Agency = Annotated[str, Depends(agency)]
    Auditor = Annotated[str, Depends(auditor)]

    @api.post(
        "/events",
        response_model=Verdict,
        status_code=201,
        responses={202: {"model": Verdict, "description": "on the log; verdict pending"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    AVRO: {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"$ref": "#/components/schemas/SubmittedEvent"}},
                },
            }
        },
    )
    async def submit(request: Request, who: Agency) -> Any:
        """Submit one signed event; the gatekeeper's verdict, or 202 if it is not yet known.
        A rejected event is on lead.rejected, whole, with the reason given here."""
        raw = await request.body()
        if len(raw) > ctx.settings.web.max_body_bytes:
            raise ApiProblem(413, "OVERSIZED", "request body too large")
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        key: bytes | None = None
        headers: list[tuple[str, bytes]] = []
        if kind == "application/json":
            try:
                submitted = SubmittedEvent.model_validate_json(raw)
            except ValidationError as exc:
                detail = exc.errors(include_url=False, include_input=False)[0]["msg"]
                raise ApiProblem(400, "MALFORMED", "not a JSON event", detail) from None
            envelope = envelope_of(submitted, ctx, who)
            value = encode_envelope(envelope, ctx.codec)
            key, headers = envelope.participant_id.encode(), cloudevents_headers(envelope)
        elif kind == AVRO:
            value = raw
            try:  # routing hints only; the gatekeeper decides, and keeps what it refuses
                envelope = decode_envelope(raw, ctx.codec)
                key, headers = envelope.participant_id.encode(), cloudevents_headers(envelope)
            except EventError:
                pass
        else:
            raise ApiProblem(415, "UNSUPPORTED_MEDIA", f"send {AVRO} or application/json")
        (topic, partition, offset), verdict = await ctx.submit(
            who, key, value, [*headers, *trace_context()]
        )
        ingest = f"{topic}/{partition}/{offset}"
        if verdict is None:
            return JSONResponse(
                Verdict(status="submitted", ingest=ingest).model_dump(), status_code=202
            )
        if not verdict.accepted:
            raise ApiProblem(422, verdict.reason or "REJECTED", "event rejected", verdict.detail)
        return Verdict(
            status="accepted", event_id=verdict.event_id, ingest=ingest, detail=verdict.detail
        )

    @api.post("/participants", response_model=IssuedParticipant, status_code=201)
    async def issue_participant(who: Agency) -> IssuedParticipant:
        """A new participant id, for the person your agency is about to refer: random (55
        bits; no sequence, date or agency in it), with a check symbol the gatekeeper tests,
        so a mistyped id is refused (INVALID_PARTICIPANT_ID) instead of starting a second
        timeline. Issued to agencies that may emit referral_made; the hub keeps no list,
        so an id unused costs nothing."""
        if not ctx.agencies.may_emit(who, "referral_made"):
            raise NOT_A_REFERRER
        log.info("participant_id_issued", agency=who)
        return IssuedParticipant(participant_id=issue_participant_id(secrets.token_bytes))

    @api.get("/intake-keys", response_model=IntakeKeySet)
    async def intake_keys(who: Agency) -> IntakeKeySet:
        """The keys to seal an identity or a note to (sealed_identity, sealed_note), so your
        agency needs no secret shared with the hub. Seal to the newest key; one past its
        epoch is still opened until its destroyed_at."""
        keys, note = ctx.hub.intake_key_set()
        return IntakeKeySet(
            keys=[
                IntakeKeyOut(
                    key_id=k.key_id,
                    public_key=base64.b64encode(k.raw_public).decode(),
                    starts=k.starts,
                    ends=k.ends,
                    destroyed_at=k.destroyed_at,
                )
                for k in keys
            ],
            note=note,
        )

    @api.get("/participants/{participant_id}/timeline", response_model=Timeline)
    async def timeline(participant_id: str, who: Agency, as_of: datetime | None = None) -> Timeline:
        """What the hub disclosed to you about the participant (and your own events), with
        the permitted fields only. The read itself is logged before it is answered."""
        shown = ctx.view.timeline(participant_id, who, as_of)
        if not shown:
            raise NOTHING_DISCLOSED
        # each event's read is logged under the id it was recorded under (a joined timeline)
        view_id = await log_views(ctx, who, ViewKind.TIMELINE, shown)
        return Timeline(
            participant_id=participant_id,
            agency=who,
            view_id=str(view_id),
            linked_ids=ctx.view.person(participant_id, who, as_of)[1:],
            entries=[TimelineEntry(**as_json(s)) for s in shown],
        )

    @api.get("/notices", response_model=Inbox)
    async def notices(
        who: Agency,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        event_type: str | None = None,
    ) -> Inbox:
        """Your inbox: the notices the hub sent you, newest first, and which you acked."""
        inbox = [s for s in ctx.view.inbox(who) if event_type in (None, s.event_type)][:limit]
        view_id = await log_views(ctx, who, ViewKind.INBOX, inbox)
        acked = [str(s.notice_id) for s in inbox if s.notice_id in ctx.view.acknowledged]
        return Inbox(
            agency=who,
            view_id=view_id,
            notices=[TimelineEntry(**as_json(s)) for s in inbox],
            acknowledged=acked,
        )

    @api.get("/audit/verify", response_model=Rows)
    async def audit_verify(who: Auditor) -> Rows:
        """The auditor's integrity checks over the live log: checkpoints, witnesses,
        inclusion and consistency proofs."""
        return Rows(rows=await audit(ctx, lambda a: a.verify()))

    @api.get("/audit/participants/{participant_id}/disclosures", response_model=Rows)
    async def audit_disclosures(participant_id: str, who: Auditor) -> Rows:
        """The accounting of disclosures for one participant (42 CFR 2.25, HIPAA)."""
        return Rows(rows=await audit(ctx, lambda a: a.disclosures(participant_id)))

    @api.get("/audit/participants/{participant_id}/timeline", response_model=Rows)
    async def audit_timeline(
        participant_id: str,
        who: Auditor,
        as_of: datetime,
        as_seen_by: str | None = None,
    ) -> Rows:
        """The participant's timeline as the hub had it at ``as_of``, optionally as one
        agency had been shown it."""
        return Rows(rows=await audit(ctx, lambda a: a.timeline(participant_id, as_of, as_seen_by)))

    return api


async def log_views(ctx: WebContext, who: str, kind: ViewKind, shown: list[Shown]) -> str | None:
    by_participant: dict[str, list[uuid.UUID]] = defaultdict(list)
    for s in shown:
        by_participant[s.participant_id].append(s.event_id)
    if not by_participant:
        return None
    return str(await ctx.record_views(who, kind, by_participant))


async def audit(ctx: WebContext, view: Any) -> list[dict[str, Any]]:
    """An auditor's view over the live log, off the event loop (it reads the whole log)."""
    from hub.audit import Auditor, read_log

    def run() -> list[dict[str, Any]]:
        log = read_log(ctx.settings, "kafka", ctx.bootstrap)
        return [json.loads(json.dumps(r, default=str)) for r in view(Auditor(ctx.hub, log))]

    try:
        return await asyncio.to_thread(run)
    except HubError as exc:
        raise ApiProblem(404, "NOT_FOUND", "nothing to show", str(exc)) from None
