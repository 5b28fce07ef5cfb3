"""The ASGI application the worker serves: API, pages, static files, metrics, health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hub.web import api, pages
from hub.web.api import PROBLEM, ApiProblem, problem_response
from hub.web.context import WebContext

STATIC = Path(__file__).parent / "static"


def create_asgi(ctx: WebContext, registry: CollectorRegistry | None = None) -> FastAPI:
    app = FastAPI(
        title="LEAD Hub",
        version="1",
        description=(
            "Interagency data sharing for LEAD. Agencies sign each request with their "
            "Ed25519 key (Authorization: LEAD-Ed25519 agency=..,key=..,ts=..,sig=..); "
            "see docs/protocol.md, HTTP API."
        ),
        docs_url="/docs",
        redoc_url=None,
    )
    app.include_router(api.router(ctx))
    app.include_router(pages.router(ctx))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(ApiProblem)
    async def on_problem(request: Request, exc: ApiProblem) -> Response:
        if not request.url.path.startswith("/v1/"):
            code = exc.problem.status
            return PlainTextResponse(f"{code} {exc.problem.title}", status_code=code)
        return problem_response(exc)

    @app.exception_handler(pages.SignIn)
    async def on_sign_in(request: Request, exc: pages.SignIn) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        return JSONResponse(
            {
                "type": "https://leadhub.example/problems/bad-request",
                "title": "bad request",
                "status": 400,
                "reason": "BAD_REQUEST",
                "detail": f"{where}: {first.get('msg', 'invalid')}",
            },
            status_code=400,
            media_type=PROBLEM,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "log_time": ctx.view.now.isoformat() if ctx.view.now else None}

    if registry is not None:

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
