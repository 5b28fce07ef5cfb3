"""Server-rendered pages for people: the case manager's caseload and a participant's
timeline, the prosecutor's notice inbox, the Operational Work Group packet, the auditor's
checks. Every page is built from the same per-agency view as the API (hub.web.view), so a
page shows exactly what that agency's notices carried, and every page that shows facts
about participants logs the reading first (records_viewed).
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hub.domain import time_left
from hub.events import ViewKind
from hub.web.api import ApiProblem, audit, log_views
from hub.web.auth import SESSION_COOKIE, Unauthenticated
from hub.web.caseload import SORTS
from hub.web.caseload import Query as CaseQuery
from hub.web.context import WebContext
from hub.web.shown import Shown
from hub.web.story import words
from hub.web.view import deadline_of, redacted, reminded_of

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
PACKET_DAYS = 14


class SignIn(Exception):
    """No valid session: send the browser to the sign-in page."""


def router(ctx: WebContext) -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    story = ctx.story
    when = story.when

    def _entry(s: Shown, acknowledged: set[Any] | None = None) -> dict[str, Any]:
        """One event as a page shows it: a sentence, when (in the site's zone), from whom,
        and why the viewer may see it (its own record, or the rule and the consent)."""
        return {
            "participant_id": s.participant_id,
            "event_type": s.event_type,
            "source": s.source,
            "source_name": ctx.agencies[s.source].name if s.source in ctx.agencies else s.source,
            "recorded_at": when(s.recorded_at),
            "occurred_at": when(s.occurred_at),
            "says": story.sentence(s.event_type, s.fields),
            "seen": s.seen,
            "consent_id": str(s.consent_id) if s.consent_id else None,
            "fields": redacted(
                {k: when(v) if isinstance(v, datetime) else v for k, v in s.fields.items()}
            ),
            "notice_id": str(s.notice_id) if s.notice_id else None,
            "acknowledged": acknowledged is not None and s.notice_id in acknowledged,
        }

    def session(request: Request) -> str:
        try:
            return ctx.sessions.agency(request.cookies.get(SESSION_COOKIE))
        except Unauthenticated:
            raise SignIn from None

    Agency = Annotated[str, Depends(session)]

    def render(request: Request, name: str, who: str | None, **values: Any) -> HTMLResponse:
        agency_name = ctx.agencies[who].name if who else ""
        return TEMPLATES.TemplateResponse(
            request,
            name,
            {
                "agency": who,
                "agency_name": agency_name,
                "is_auditor": who in ctx.auditors,
                "now": when(ctx.view.now),
                "zone": story.zone_name,
                **values,
            },
        )

    @pages.get("/login")
    async def login(request: Request, token: str | None = None) -> Response:
        if token is None:
            return render(request, "login.html", None, title="Sign in", refused=False)
        try:
            ctx.sessions.agency(token)
        except Unauthenticated:
            return render(request, "login.html", None, title="Sign in", refused=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(ctx.settings.web.session_hours * 3600),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @pages.get("/logout")
    async def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @pages.get("/")
    async def home(who: Agency) -> Response:
        start = "/audit" if who in ctx.auditors else "/caseload" if who == "cm" else "/inbox"
        return RedirectResponse(start, status_code=303)

    @pages.get("/caseload", response_class=HTMLResponse)
    async def caseload(
        request: Request,
        who: Agency,
        q: Annotated[str, Query(max_length=100)] = "",
        status: Annotated[str, Query(pattern="^(|ACTIVE|INACTIVE|unknown)$")] = "",
        area: Annotated[str, Query(max_length=60)] = "",
        hold: bool = False,
        unseen: Annotated[str, Query(pattern=r"^([1-9][0-9]{0,3})?$")] = "",  # a form's empty
        sort: Annotated[str, Query(pattern=f"^({'|'.join(SORTS)})$")] = "action",
        page: Annotated[int, Query(ge=1)] = 1,
        per: Annotated[int, Query(ge=10, le=500)] = 50,
    ) -> HTMLResponse:
        """Who needs something done first; search, filters, sort and pages over the
        index the view keeps (hub.web.caseload)."""
        asked = CaseQuery(q, status, area, hold, int(unseen) if unseen else None, sort, page, per)
        now = ctx.now()
        found = ctx.view.caseload(who, asked, now)
        pages_count = max(1, -(-len(found) // per))
        shown_rows = found[(page - 1) * per : page * per]
        rows = [
            {
                "participant_id": r.ids[0],
                "also": r.ids[1:],
                "name": r.name,
                "status": words(r.status) if r.status else None,
                "area": r.area,
                "count": r.count,
                "latest": _entry(r.latest),
                "last_contact": when(r.last_contact) if r.last_contact else None,
                "deadline": when(r.deadline[0]) if r.deadline else None,
                "consent_expires": when(r.consent_expires) if r.consent_expires else None,
                "needs": r.needs,
            }
            for r in shown_rows
        ]
        await log_views(ctx, who, ViewKind.CASELOAD, [s for r in shown_rows for s in r.shown])
        areas = sorted({c.area for c in ctx.view.cases.get(who, {}).values() if c.area})

        def link(**change: Any) -> str:
            values: dict[str, Any] = {"q": q, "status": status, "area": area, "unseen": unseen}
            values |= {"hold": hold or "", "sort": sort, "page": page, "per": per, **change}
            return "/caseload?" + urlencode(
                {k: v for k, v in values.items() if v not in ("", None)}
            )

        return render(
            request,
            "caseload.html",
            who,
            title="Caseload",
            rows=rows,
            total=len(found),
            asked=asked,
            areas=areas,
            sorts=SORTS,
            page=page,
            pages=pages_count,
            previous=link(page=page - 1) if page > 1 else None,
            next=link(page=page + 1) if page < pages_count else None,
        )

    @pages.get("/participants/{participant_id}", response_class=HTMLResponse)
    async def participant(request: Request, participant_id: str, who: Agency) -> HTMLResponse:
        shown = ctx.view.timeline(participant_id, who)
        if not shown:
            return render(
                request,
                "timeline.html",
                who,
                title="Participant",
                participant_id=participant_id,
                entries=[],
                view_id="none: nothing disclosed to you about this participant",
            )
        view_id = await log_views(ctx, who, ViewKind.TIMELINE, shown)
        return render(
            request,
            "timeline.html",
            who,
            title=f"Participant {participant_id}",
            participant_id=participant_id,
            also=ctx.view.person(participant_id, who)[1:],
            # in the order things happened (a lapse is recorded after its deadline)
            entries=[_entry(s) for s in sorted(shown, key=lambda s: s.occurred_at)],
            view_id=view_id,
        )

    @pages.get("/inbox", response_class=HTMLResponse)
    async def inbox(request: Request, who: Agency) -> HTMLResponse:
        acked = ctx.view.acknowledged
        notices = ctx.view.inbox(who)
        holds = ctx.view.open_holds(who)
        lapses = [s for s in notices if s.event_type == "intake_window_expired"]
        reminders = ctx.view.reminders(who)
        latest = notices[:100]
        await log_views(ctx, who, ViewKind.INBOX, [*latest, *holds, *lapses, *reminders])
        now = ctx.now()
        return render(
            request,
            "inbox.html",
            who,
            title="Notice inbox",
            notices=[_entry(s, acked) for s in latest],
            total=len(notices),
            acked=sum(1 for s in notices if s.notice_id in acked),
            holds=[
                {**_entry(s), "left": time_left(d, now) if (d := deadline_of(s)) else ""}
                for s in holds
            ],
            lapses=[_entry(s) for s in lapses],
            reminders=[
                {**_entry(s), "due": when(reminded_of(s)), "left": time_left(reminded_of(s), now)}
                for s in reminders
            ],
        )

    @pages.post("/inbox/notices/{notice}/acknowledge")
    async def acknowledge(notice: uuid.UUID, who: Agency) -> Response:
        """Acknowledge one of the agency's notices from the inbox (protocol 17.6). The
        session cookie is SameSite=Strict, so no other site can post this for a person."""
        found = next((s for s in ctx.view.inbox(who) if s.notice_id == notice), None)
        if found is None:
            raise ApiProblem(404, "NO_SUCH_NOTICE", "no notice with that id was sent to you")
        if notice not in ctx.view.acknowledged:
            verdict = await ctx.acknowledge(who, found)
            if verdict is not None and not verdict.accepted:
                raise ApiProblem(
                    422, verdict.reason or "REJECTED", "not acknowledged", verdict.detail
                )
            # the inbox shows it once the worker has folded it: a moment, not a promise
            for _ in range(40):
                if notice in ctx.view.acknowledged:
                    break
                await asyncio.sleep(0.05)
        return RedirectResponse("/inbox#notices", status_code=303)

    @pages.get("/packet", response_class=HTMLResponse)
    async def packet(
        request: Request,
        who: Agency,
        days: Annotated[int, Query(ge=1, le=366)] = PACKET_DAYS,
    ) -> HTMLResponse:
        since = ctx.view.now - timedelta(days=days) if ctx.view.now else None
        participants, shown = [], []
        for ids in ctx.view.people(who):  # a person under linked ids once
            participant = ids[0]
            recent = [
                s
                for s in ctx.view.timeline(participant, who)
                if since is None or s.recorded_at >= since
            ]
            if recent:
                participants.append(
                    {"participant_id": participant, "entries": [_entry(s) for s in recent]}
                )
                shown += recent
        await log_views(ctx, who, ViewKind.MEETING_PACKET, shown)
        return render(
            request,
            "packet.html",
            who,
            title="Meeting packet",
            participants=participants,
            days=days,
        )

    def auditor(who: Agency) -> str:
        if who not in ctx.auditors:
            raise ApiProblem(403, "NOT_AN_AUDITOR", "the audit pages are for oversight agencies")
        return who

    Auditor = Annotated[str, Depends(auditor)]

    @pages.get("/audit", response_class=HTMLResponse)
    async def audit_page(request: Request, who: Auditor) -> HTMLResponse:
        return render(request, "audit.html", who, title="Audit")

    def rows_fragment(request: Request, name: str, rows: list[dict[str, Any]], empty: str) -> Any:
        columns = list(dict.fromkeys(k for r in rows for k in r))
        return TEMPLATES.TemplateResponse(
            request, "_rows.html", {"name": name, "rows": rows, "columns": columns, "empty": empty}
        )

    @pages.get("/audit/verify", response_class=HTMLResponse)
    async def audit_verify(request: Request, who: Auditor) -> Any:
        rows = await audit(ctx, lambda a: a.verify())
        return rows_fragment(request, "verify", rows, "nothing to verify yet")

    @pages.get("/audit/disclosures", response_class=HTMLResponse)
    async def audit_disclosures(
        request: Request, who: Auditor, participant: Annotated[str, Query(min_length=1)]
    ) -> Any:
        try:
            rows = await audit(ctx, lambda a: a.disclosures(participant))
        except ApiProblem as exc:
            return rows_fragment(request, "disclosures", [], exc.problem.detail or "none")
        return rows_fragment(request, "disclosures", rows, "no disclosures")

    @pages.get("/audit/timeline", response_class=HTMLResponse)
    async def audit_timeline(
        request: Request,
        who: Auditor,
        participant: Annotated[str, Query(min_length=1)],
        as_of: datetime,
        as_seen_by: str | None = None,
    ) -> Any:
        moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
        try:
            rows = await audit(ctx, lambda a: a.timeline(participant, moment, as_seen_by or None))
        except ApiProblem as exc:
            return rows_fragment(request, "timeline", [], exc.problem.detail or "none")
        return rows_fragment(request, "timeline", rows, "nothing recorded by then")

    return pages
